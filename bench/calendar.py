"""The calendar's targets (issue 12), on a real server and in real Chromium.

    .venv/bin/python -m bench.calendar          # needs frontend/dist (make build)

1. ICS feed: one person with 5,000 events (a third of them weekly series) in their personal
   calendar. GET of the feed (built in full) and the conditional GET that answers 304, timed from
   the client over loopback: the round trip bounds the server's time from above.
   Targets: feed ≤ 200 ms, 304 ≤ 5 ms.
2. Month view from the local replica: 2,000 events (a third weekly series) written through the
   app's own actions, then the page reloaded so the view draws from IndexedDB. First render of
   the month (from the route change to the frame after the grid is in the DOM) and switching to
   the next/previous month. Targets: first render ≤ 100 ms, month switch ≤ 50 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from datetime import date, timedelta

import httpx
from playwright.sync_api import sync_playwright

from backend.tokens import ulid
from bench.browser_hotpath import CHROMIUM, FLAGS, PASSWORD
from bench.browser_steps import pct, step, synced, until
from bench.common import ROOT, Device, Server, header, info, run_child, verdict

FEED_EVENTS = 5000
MONTH_EVENTS = 2000
FEED_GETS = 30
CONDITIONAL_GETS = 300
SWITCHES = 20


def _event(calendar: str, i: int, first: date) -> dict[str, object]:
    day = first + timedelta(days=(i * 7) % 90)
    fields: dict[str, object] = {
        "calendar": calendar,
        "title": f"Shift {i}",
        "start": f"{day.isoformat()}T{8 + i % 9:02d}:00",
        "end": f"{day.isoformat()}T{9 + i % 9:02d}:00",
        "tz": "Europe/Berlin",
        "location": "Site B",
    }
    if i % 3 == 0:
        fields["rrule"] = "FREQ=WEEKLY;COUNT=12"
    return fields


async def _seed_feed(server: Server) -> str:
    ada = await Device(server.base_url).sign_up("Ada", "ada@example.com")
    calendar = f"u:{ada.user_id}"
    first = date.today().replace(day=1)
    for start in range(0, FEED_EVENTS, 500):
        await ada.sync([ada.mutation("events", ulid(), _event(calendar, i, first)) for i in range(start, start + 500)])
    feed = await ada.post_json("/api/calendar/feeds", {})
    await ada.close()
    return str(feed["https"])


def _feed(server: Server) -> tuple[list[float], list[float], int]:
    url = asyncio.run(_seed_feed(server))
    path = "/" + url.split("/", 3)[3]
    full: list[float] = []
    conditional: list[float] = []
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        size = len(client.get(path).content)
        for _ in range(FEED_GETS):
            t0 = time.perf_counter()
            reply = client.get(path)
            full.append((time.perf_counter() - t0) * 1000)
        etag = reply.headers["etag"]
        for _ in range(CONDITIONAL_GETS):
            t0 = time.perf_counter()
            reply = client.get(path, headers={"If-None-Match": etag})
            conditional.append((time.perf_counter() - t0) * 1000)
            assert reply.status_code == 304
    return full, conditional, size


SEED = r"""
async ({count, first}) => {
  const app = teamtalk.app;
  const calendar = `u:${app.queries.me.value}`;
  const day0 = Date.parse(`${first}T00:00Z`);
  for (let start = 0; start < count; start += 250) {
    const changes = [];
    for (let i = start; i < Math.min(count, start + 250); i++) {
      const day = new Date(day0 + ((i * 5) % 92) * 86400000).toISOString().slice(0, 10);
      const h = String(8 + (i % 9)).padStart(2, '0');
      const fields = { calendar, title: `Visit ${i}`, start: `${day}T${h}:00`, end: `${day}T${h}:45` };
      fields.tz = 'Europe/Berlin';
      if (i % 3 === 0) fields.rrule = 'FREQ=WEEKLY;COUNT=10';
      changes.push({ collection: 'events', id: `bench${String(i).padStart(6, '0')}`, fields });
    }
    await app.actions.writeChanges(changes);
  }
}
"""

FIRST_RENDER = r"""
async () => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const t0 = performance.now();
  location.hash = '#/calendar';
  while (!document.querySelector('.cal-month')) await new Promise((r) => setTimeout(r, 1));
  await frame();
  return [performance.now() - t0, document.querySelectorAll('.cal-month .cal-item').length];
}
"""

SWITCH = r"""
async (label) => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const title = document.querySelector('.cal-toolbar__title').textContent;
  const button = document.querySelector(`.cal-toolbar__nav button[aria-label="${label}"]`);
  const t0 = performance.now();
  button.click();
  const heading = document.querySelector('.cal-toolbar__title');
  while (heading.textContent === title) await new Promise((r) => setTimeout(r, 0));
  await frame();
  return performance.now() - t0;
}
"""


def _month(server: Server) -> tuple[list[float], list[float], int]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 800}, locale="en-US")
        page = context.new_page()
        page.goto("/")
        page.get_by_label("Name").fill("Bob Babbage")
        page.get_by_label("Email").fill("bob@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        synced(page)
        step(f"month: writing {MONTH_EVENTS} events through the app's actions")
        page.evaluate(SEED, {"count": MONTH_EVENTS, "first": date.today().replace(day=1).isoformat()})
        synced(page)
        firsts: list[float] = []
        shown = 0
        for _ in range(5):  # a reload each time: the view draws from the replica IndexedDB holds
            # A goto that changes only the hash is not a reload (the page stays, its calendar still
            # in the DOM, and its router then races FIRST_RENDER's own route change): reload it.
            page.goto("/#/")
            page.reload()
            until(page, "document.querySelector('[role=status]') && !document.querySelector('.cal-month')")
            ms, shown = page.evaluate(FIRST_RENDER)
            firsts.append(ms)
        switches = [page.evaluate(SWITCH, "Next" if i % 2 == 0 else "Previous") for i in range(SWITCHES)]
        browser.close()
    return firsts, switches, shown


def main() -> int:
    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        print("frontend/dist is missing: run `make build` first", file=sys.stderr)
        return 2
    for part in ("feed", "month"):  # a fresh server (and workspace) for each
        server = Server(f"calendar-{part}")
        server.start()
        try:
            if part == "feed":
                step(f"feed: {FEED_EVENTS} events")
                full, conditional, size = _feed(server)
            else:
                firsts, switches, shown = _month(server)
        finally:
            server.stop()
    header("Calendar (issue 12): ICS feed and month view")
    mb = size / 1e6
    info(
        f"feed of {FEED_EVENTS} events ({mb:.1f} MB): p50 {statistics.median(full):.1f} / p95 {pct(full, 0.95):.1f} ms"
    )
    p50, p95, p99 = statistics.median(conditional), pct(conditional, 0.95), pct(conditional, 0.99)
    info(f"304: p50 {p50:.2f} / p95 {p95:.2f} / p99 {p99:.2f} ms")
    renders = ", ".join(f"{x:.0f}" for x in firsts)
    info(f"month view, {MONTH_EVENTS} events, {shown} items drawn: first renders {renders} ms")
    info(f"month switch: p50 {statistics.median(switches):.1f} / p95 {pct(switches, 0.95):.1f} ms")
    verdict("  ICS feed, 5,000 events (round trip)", statistics.median(full), 200, "ms", False)
    verdict("  ICS feed 304 (round trip)", statistics.median(conditional), 5, "ms", False)
    verdict("  month view first render", statistics.median(firsts), 100, "ms", False)
    verdict("  month switch", statistics.median(switches), 50, "ms", False)
    return 0


async def run() -> None:
    """For bench.run_all: the sync Playwright API runs in its own process."""
    await run_child("bench.calendar", ROOT)


if __name__ == "__main__":
    sys.exit(main())
