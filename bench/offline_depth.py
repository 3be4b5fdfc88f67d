"""Keeping a whole channel offline on a new device, in real Chromium (issue 16).

    .venv/bin/python -m bench.offline_depth          # needs frontend/dist (make build)
    TT_BENCH_BIG=20000 .venv/bin/python -m bench.offline_depth    # a smaller run

Starts its own server with a fresh data directory and seeds, through POST /api/sync in pushes of
500 (not timed), #general with BIG messages (100,000) and #ten with 10,000. Then a NEW device (a
fresh browser context signing in as the owner) opens #general, and for each channel sets "Keep
offline: Everything" through the app's action (what the channel menu calls) and waits until the
device holds every message of it (lowest n held is 1, count equals the channel's last n).

Figures per channel: the wall time from the choice to the whole history local; bytes on the wire
(encoded bodies of POST /api/history/bulk, gzip as sent); requests; the IndexedDB apply rate
(messages / time inside Holdings#applyPage, which includes the merge); and for the big channel,
frame times during the backfill (requestAnimationFrame deltas while #general is on screen) and the
origin's IndexedDB usage after it (navigator.storage.estimate()).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, Request, sync_playwright

from backend.tokens import ulid
from bench.browser_steps import pct, step, synced, until
from bench.common import PASSWORD, Failed, Server, header, info, run_child, verdict, workspace
from bench.text import TextMaker

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]
BIG = int(os.environ.get("TT_BENCH_BIG", "100000"))
TEN = int(os.environ.get("TT_BENCH_TEN", "10000"))
PUSH = 500

# Instrument the page: time inside applyPage, bulk bodies' bytes, frames.
WATCH = r"""
() => {
  const app = teamtalk.app;
  window.__frames = null;
  const frame = (t) => {
    if (window.__frames) {
      if (window.__last !== undefined) window.__frames.push(t - window.__last);
      window.__last = t;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}
"""

KEEP_ALL = r"""
async (channel) => {
  const app = teamtalk.app;
  performance.clearResourceTimings();
  performance.setResourceTimingBufferSize(10000);
  window.__stats0 = { ...app.backfill.stats.value };
  window.__t0 = performance.now();
  await app.actions.setKeep(channel, 'all', { device: app.keeping.device });
}
"""

HELD = r"""
(channel) => {
  const app = teamtalk.app;
  const { low, last } = app.queries.numbers(channel);
  const held = app.queries.messages(channel).length;
  return { low, last, held, status: app.backfill?.status.value.state };
}
"""

DONE = r"""
() => {
  const ms = performance.now() - window.__t0;
  return { ms };
}
"""


async def seed(base_url: str) -> dict[str, str]:
    (owner,) = await workspace(base_url, 1)
    general = await owner.channel_id("general")
    ten = ulid()
    await owner.sync([owner.mutation("channels", ten, {"name": "ten", "kind": "public"})], limit=1)
    await owner.sync([owner.mutation("members", f"{ten}:{owner.user_id}", {"channel": ten, "user": owner.user_id})])
    make_text = TextMaker(3)
    for channel, count in ((general, BIG), (ten, TEN)):
        for start in range(0, count, PUSH):
            batch = [owner.message(channel, make_text()) for _ in range(min(PUSH, count - start))]
            reply = await owner.sync(batch, limit=1)
            if len(reply.acks) != len(batch):
                raise Failed(f"seeding: {len(reply.acks)} of {len(batch)} acked")
    await owner.close()
    return {"general": general, "ten": ten}


#: Bulk responses seen by the browser context (the page's and its worker's requests alike).
BULK: list[Request] = []


def keep_all(page: Page, channel: str, count: int, frames: bool) -> dict[str, float]:
    BULK.clear()
    if frames:
        page.evaluate("() => { window.__frames = []; window.__last = undefined; }")
    page.evaluate(KEEP_ALL, channel)
    deadline = time.monotonic() + 300
    while True:
        held = page.evaluate(HELD, channel)
        if held["low"] == 1 and held["held"] >= count:
            break
        if time.monotonic() > deadline:
            raise Failed(f"backfill did not finish: {held}")
        page.wait_for_timeout(20)
    done: dict[str, float] = page.evaluate(DONE)
    done["requests"] = len(BULK)
    done["bytes"] = sum(r.sizes()["responseBodySize"] for r in BULK)  # as sent: gzip
    done["decoded"] = sum(len(r.response().body()) for r in BULK if r.response())  # type: ignore[union-attr]
    if frames:
        done["frames"] = page.evaluate("() => { const f = window.__frames; window.__frames = null; return f; }")
    # Time inside the bulk apply (merge + IndexedDB, in the worker when there is one), from the app.
    done["apply"] = page.evaluate(
        "() => { const s = teamtalk.app.backfill.stats.value, t = window.__stats0;"
        " return { ms: s.ms - t.ms, messages: s.messages - t.messages, pages: s.pages - t.pages }; }"
    )
    return done


def rate_of(run: dict[str, object]) -> float:
    apply = run["apply"]
    assert isinstance(apply, dict)
    return float(apply["messages"]) / (float(apply["ms"]) / 1000) if apply["ms"] else 0.0


def main() -> int:
    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        print("frontend/dist is missing: run `make build` first", file=sys.stderr)
        return 2
    server = Server("offline_depth")
    server.start()
    try:
        step(f"seeding {BIG:,} + {TEN:,} messages")
        began = time.perf_counter()
        channels = asyncio.run(seed(server.base_url))
        info(f"seeded {BIG + TEN:,} messages in {time.perf_counter() - began:.1f} s (not a target)")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            context = browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 800})
            context.on("requestfinished", lambda r: "/api/history/bulk" in r.url and BULK.append(r))
            page = context.new_page()
            page.goto("/")
            page.get_by_label("Email").fill("owner@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            synced(page)
            page.evaluate(f"location.hash = '#/c/{channels['general']}'")
            until(page, "document.querySelector('[role=log] li')")
            page.evaluate(WATCH)
            step(f"#ten: keep {TEN:,} messages offline")
            ten = keep_all(page, channels["ten"], TEN, frames=False)
            step(f"#general: keep {BIG:,} messages offline, #general on screen")
            big = keep_all(page, channels["general"], BIG, frames=True)
            # The page's JS heap after the backfill: what its collector marks and moves while it runs
            # (the slow frames were its pauses; frontend/README.md, "Keep offline").
            heap = page.evaluate("() => performance.memory?.usedJSHeapSize ?? 0")
            usage = page.evaluate(
                "async () => { const e = await navigator.storage.estimate();"
                " return { usage: e.usage, idb: e.usageDetails?.indexedDB ?? null }; }"
            )
            raw = page.evaluate(RAW_PUTS, min(BIG, 20_000))  # after the usage figure: it adds a database
            browser.close()
    finally:
        server.stop()

    header(f"keep offline: a new device, 'Everything' ({BIG:,} and {TEN:,} messages)")
    for name, run, count in (("#ten", ten, TEN), ("#general", big, BIG)):
        apply = run["apply"]
        rate = apply["messages"] / (apply["ms"] / 1000) if apply["ms"] else 0.0
        info(
            f"{name}: {count:,} messages local in {run['ms'] / 1000:.2f} s; {run['requests']} bulk requests, "
            f"{run['bytes'] / 1e6:.2f} MB on the wire ({run['decoded'] / 1e6:.2f} MB decoded); "
            f"applyPage {apply['ms']:.0f} ms over {apply['pages']} pages = {rate:,.0f} msg/s"
        )
    frames = big["frames"]
    slow = sum(1 for f in frames if f > 50)
    share = 100 * slow / len(frames) if frames else 100.0
    info(
        f"frames during the {BIG:,} backfill: {len(frames)}, p50 {statistics.median(frames):.1f} ms, "
        f"p95 {pct(frames, 0.95):.1f} ms, p99 {pct(frames, 0.99):.1f} ms, max {max(frames):.0f} ms, "
        f"{slow} over 50 ms ({share:.2f}%)"
    )
    for variant in raw:
        raw_rate = variant["count"] / (variant["ms"] / 1000) if variant["ms"] else 0.0
        info(
            f"raw IndexedDB puts of {variant['count']:,} stored messages, {variant['label']}: {raw_rate:,.0f} msg/s "
            f"(the bulk path, merge included: {rate_of(big) / raw_rate:.0%} of it)"
        )
    idb = usage["idb"] if usage["idb"] is not None else usage["usage"]
    info(f"the page's JS heap after the backfill: {heap / 1e6:.1f} MB (its collector's pauses are the slow frames)")
    info(f"IndexedDB after {BIG + TEN:,} messages: {idb / 1e6:.1f} MB (origin usage {usage['usage'] / 1e6:.1f} MB)")
    rate_big = rate_of(big)
    verdict(
        f"{BIG:,} messages, 'Everything' on a new device: whole history local",
        big["ms"] / 1000,
        5.0 * BIG / 100_000,
        "s",
        higher_is_better=False,
    )
    verdict(f"{TEN:,} messages: whole history local", ten["ms"] / 1000, 0.7, "s", higher_is_better=False)
    verdict(f"frames over 50 ms during the {BIG:,} backfill", share, 1.0, "%", higher_is_better=False)
    verdict("IndexedDB apply rate in the bulk path", rate_big, 30_000, "msg/s", higher_is_better=True)
    return 0


# What IndexedDB itself costs on this machine in this run, for the same stored message records
# (no merge, no reads), one relaxed transaction per 5,000 (bench/README.md, "Keep offline"):
# one put per record in the old shape ([collection, id] key, `scope` index), without the index, a
# compact record (one string key, one clock for the fields that share it, no index), and one put
# per chunk of 500 (what replica/held.js stores).
RAW_PUTS = r"""
async (count) => {
  const held = (await teamtalk.app.replica.snapshot()).records;
  const all = held.filter((r) => r.collection === 'messages').slice(0, count);
  const compact = all.map((r) => {
    const clocks = Object.values(r.clocks);
    const one = clocks.every((c) => c === clocks[0]);
    return { k: `${r.collection}/${r.id}`, s: r.scope, f: r.fields, ...(one ? { h: clocks[0] } : { c: r.clocks }) };
  });
  const chunks = [];
  for (let i = 0; i < all.length; i += 500) {
    chunks.push({ scope: all[i].scope, bucket: i / 500, records: all.slice(i, i + 500) });
  }
  const byKey = ['collection', 'id'];
  const variants = [
    ['per record, [collection, id] key + scope index',
      (db) => db.createObjectStore('s', { keyPath: byKey }).createIndex('scope', 'scope'), all],
    ['per record, no index', (db) => db.createObjectStore('s', { keyPath: byKey }), all],
    ['compact record, string key, no index', (db) => db.createObjectStore('s', { keyPath: 'k' }), compact],
    ['chunks of 500 (held.js)', (db) => db.createObjectStore('s', { keyPath: ['scope', 'bucket'] }), chunks],
  ];
  const rates = [];
  for (const [label, upgrade, items] of variants) {
    const name = `bench-raw-${rates.length}`;
    const db = await new Promise((resolve) => {
      const r = indexedDB.open(name, 1);
      r.onupgradeneeded = () => upgrade(r.result);
      r.onsuccess = () => resolve(r.result);
    });
    const per = items === chunks ? 10 : 5000;
    const t0 = performance.now();
    for (let i = 0; i < items.length; i += per) {
      const tx = db.transaction('s', 'readwrite', { durability: 'relaxed' });
      for (const item of items.slice(i, i + per)) tx.objectStore('s').put(item);
      await new Promise((resolve) => (tx.oncomplete = resolve));
    }
    const ms = performance.now() - t0;
    db.close();
    await new Promise((resolve) => { const d = indexedDB.deleteDatabase(name); d.onsuccess = d.onerror = resolve; });
    rates.push({ label, count: all.length, ms });
  }
  return rates;
}
"""

if __name__ == "__main__":
    raise SystemExit(main())


async def run() -> None:
    """For bench.run_all: the sync Playwright API runs in its own process."""
    await run_child("bench.offline_depth", ROOT)
