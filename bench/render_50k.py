"""Rendering a long channel in real Chromium, and offline search over what a device holds.

    .venv/bin/python -m bench.render_50k            # needs frontend/dist (make build)

Starts its own server on a free port with a fresh data directory, signs up the first owner in
Chromium (/usr/bin/chromium, headless), then seeds the device's IndexedDB replica directly from
the page: 50,000 messages in #general and 50,000 in a second channel (100,000 in all, as
confirmed records, the way a long-lived device holds them). It then measures:

1. cold start: reload -> the app has loaded the replica and #general shows its last message;
2. switching into #general from another channel until its last message is on screen;
3. scrolling #general from the bottom to the top (step = 3 screens per frame), timing every
   frame with requestAnimationFrame: frames, frames over 50 ms, p50 / p95 / max frame time,
   and rows in the DOM (windowing keeps it small); then again after a reload at 1 screen per
   frame (a fast trackpad fling: every frame still brings a screen of rows never shown);
4. offline search (the browser offline, the app's own search path) over the 100,000 messages
   with the shared query syntax: several queries, median of 5 runs each.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.browser_steps import pct, step, synced, until
from bench.common import Server, run_child

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PER_CHANNEL = int(os.environ.get("BENCH_MESSAGES", "50000"))
PASSWORD = "correct horse battery"

SEED = r"""
async ({channel, author, count, prefix, start}) => {
  const words = ['deploy', 'review', 'lunch', 'release', 'incident', 'rollback', 'metrics', 'design',
    'friday', 'coffee', 'ticket', 'budget', 'roadmap', 'customer', 'latency', 'migration', '部署', '会议'];
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open('teamtalk');
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const t0 = Date.now() - count * 60_000;
  const clock = (i) => `${String(t0 + i * 60_000).padStart(13, '0')}-00000-bench`;
  const CHUNK = 5000;
  for (let from = 0; from < count; from += CHUNK) {
    await new Promise((resolve, reject) => {
      const tx = db.transaction('records', 'readwrite');
      const store = tx.objectStore('records');
      for (let i = from; i < Math.min(count, from + CHUNK); i++) {
        const n = start + i;
        const w = (k) => words[(n * 7 + k * 13) % words.length];
        let text = `${prefix} ${n}: ${w(1)} ${w(2)} ${w(3)} the ${w(4)}`;
        if (n % 7 === 0) text += ` with **${w(5)}** and \`${w(6)}\``;
        if (n % 11 === 0) text += `\nsecond line about ${w(7)}\n- ${w(8)}\n- ${w(9)}`;
        const fields = {channel, text, author, n, at: t0 + i * 60_000};
        const hlc = clock(i);
        store.put({collection: 'messages', id: `${prefix}${String(n).padStart(8, '0')}`, scope: `c:${channel}`,
                   fields, clocks: Object.fromEntries(Object.keys(fields).map((k) => [k, hlc]))});
      }
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
  }
  db.close();
  return count;
}
"""

# Resolves once the element is in the DOM and two frames have been painted after it.
RENDERED = r"""
async (selector) => {
  const t0 = performance.now();
  while (!document.querySelector(selector)) await new Promise((r) => requestAnimationFrame(r));
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0;
}
"""

SWITCH = r"""
async ({hash, selector}) => {
  const t0 = performance.now();
  location.hash = hash;
  while (!document.querySelector(selector)) await new Promise((r) => requestAnimationFrame(r));
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0;
}
"""

SCROLL = r"""
async (screens) => {
  const el = document.querySelector('.messages');
  const frames = [];
  let rows = 0;
  let last = performance.now();
  const t0 = last;
  await new Promise((resolve) => {
    const step = () => {
      const now = performance.now();
      frames.push(now - last);
      last = now;
      rows = Math.max(rows, el.querySelectorAll('li.row').length);
      if (el.scrollTop <= 0 || now - t0 > 120_000) return resolve();
      el.scrollTop = Math.max(0, el.scrollTop - el.clientHeight * screens);
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  frames.shift();
  const first = document.querySelector('.messages li.row')?.dataset.index;
  return {frames, total: performance.now() - t0, rows, first, height: el.scrollHeight};
}
"""

SEARCH = r"""
async (queries) => {
  const out = {};
  for (const q of queries) {
    const times = [];
    let answer;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      answer = await teamtalk.app.search(q, {limit: 50});
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    out[q] = {ms: times[2], where: answer.where, shown: answer.results.length,
              total: teamtalk.app.queries.searchLocal(q, {limit: 1}).total};
  }
  return out;
}
"""


def main() -> int:
    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        print("frontend/dist is missing: run `make build` first", file=sys.stderr)
        return 2
    server = Server("render")
    server.start()
    url = server.base_url
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
            context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 800}, locale="en-US")
            page = context.new_page()
            page.goto("/")
            page.get_by_label("Name").fill("Ada Lovelace")
            page.get_by_label("Email").fill("ada@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Create account").click()
            synced(page)
            ids = page.evaluate("""async () => {
                const app = teamtalk.app, q = app.queries;
                const general = q.myChannels.value.find((c) => c.name === 'general').id;
                const other = await app.actions.createChannel({name: 'bench-archive'});
                return {general, other, me: q.me.value};
            }""")
            synced(page)
            t0 = time.perf_counter()
            page.evaluate(
                SEED, {"channel": ids["general"], "author": ids["me"], "count": PER_CHANNEL, "prefix": "G", "start": 1}
            )
            page.evaluate(
                SEED, {"channel": ids["other"], "author": ids["me"], "count": PER_CHANNEL, "prefix": "A", "start": 1}
            )
            seeded_s = time.perf_counter() - t0
            step(f"seeded in {seeded_s:.1f} s")
            last = f'[role=log] li[data-id="G{PER_CHANNEL:08d}"]'

            # 1. cold start straight into #general
            page.evaluate(f"location.hash = '#/c/{ids['general']}'")
            page.reload()
            cold_ms = page.evaluate(RENDERED, last)
            nav_ms = page.evaluate("performance.now()")
            step(f"cold start {cold_ms:.0f} ms")
            synced(page)

            # 2. switch away and back
            other_last = f'[role=log] li[data-id="A{PER_CHANNEL:08d}"]'
            page.evaluate(SWITCH, {"hash": f"#/c/{ids['other']}", "selector": other_last})
            switch_ms = page.evaluate(SWITCH, {"hash": f"#/c/{ids['general']}", "selector": last})

            step(f"switch {switch_ms:.0f} ms")
            # 3. scroll bottom -> top, 3 screens per frame, then (fresh: reloaded) 1 screen per frame
            page.wait_for_timeout(300)
            scrolls = {3: page.evaluate(SCROLL, 3)}
            step(f"scrolled {len(scrolls[3]['frames'])} frames")
            page.reload()
            page.evaluate(RENDERED, last)
            synced(page)
            page.wait_for_timeout(300)
            scrolls[1] = page.evaluate(SCROLL, 1)
            step(f"scrolled {len(scrolls[1]['frames'])} frames")
            # 4. offline search over 100,000 messages
            context.set_offline(True)
            until(page, "document.querySelector('[role=status]')?.textContent === 'Offline'")
            held = page.evaluate("teamtalk.app.queries.collection('messages').value.size")
            searches = page.evaluate(
                SEARCH,
                [
                    "rollback",
                    "deploy friday",
                    '"the budget"',
                    "in:#general 会议",
                    "from:@ada after:2000-01-01 latency",
                    "nothing-matches-this",
                ],
            )
            browser.close()
    finally:
        server.stop()

    print(f"seeded {2 * PER_CHANNEL:,} messages into IndexedDB in {seeded_s:.1f} s")
    print(
        f"cold start (reload -> #general with {PER_CHANNEL:,} messages on screen): "
        f"{cold_ms:.0f} ms after the script started, page at {nav_ms:.0f} ms since navigation"
    )
    print(f"switch into #general ({PER_CHANNEL:,} messages): {switch_ms:.0f} ms")
    for screens, scroll in scrolls.items():
        frames = scroll["frames"]
        slow = [f for f in frames if f > 50]
        print(
            f"scroll bottom -> top, {screens} screen{'s' if screens > 1 else ''} per frame: "
            f"{len(frames)} frames in {scroll['total'] / 1000:.1f} s, "
            f"{len(slow)} over 50 ms ({100 * len(slow) / max(1, len(frames)):.1f}%), "
            f"p50 {statistics.median(frames):.1f} ms, p95 {pct(frames, 0.95):.1f} ms, max {max(frames):.1f} ms; "
            f"at most {scroll['rows']} rows in the DOM; reached row index {scroll['first']}"
        )
    print(f"offline search over {held:,} local messages (median of 5, app.search while offline):")
    for query, figures in searches.items():
        print(f"  {query!r:42} {figures['ms']:7.1f} ms  {figures['total']:>6,} matches  (searched: {figures['where']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


async def run() -> None:
    """For bench.run_all: the sync Playwright API runs in its own process (it cannot share an
    asyncio loop)."""
    await run_child("bench.render_50k", ROOT)
