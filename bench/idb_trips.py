"""What a live frame's IndexedDB transaction costs in Chromium, by shape and durability (issue 17).

    .venv/bin/python -m bench.idb_trips            # TT_BENCH_ROUNDS (default 300) per shape

B's `Replica#applyLive` (frontend/src/replica/replies.js) takes two round trips to the browser's
IndexedDB backend: it reads the scope's cursor, the clock's meta entries and the message's record,
then puts the merged record with the meta and commits. An apply of one round trip (every request
made at once, with `commit()`, guarded by a write that fails by itself, e.g. an `add`) would need
the cursor and the clock kept where such a guard can check them: a schema change for every writer
of the clock. This bench measures what that would buy before anyone builds it, and what the
transaction's durability costs, with plain IndexedDB in one page (the shapes alternate, so they
share the machine's load):

- "two trips": 5 meta gets and a record get, awaited; then 5 puts and `commit()` (today's apply);
- "one trip": a get, an `add` and 4 puts with `commit()` at once (the ceiling of a one-trip apply);
- "two trips" with `durability` 'relaxed' and 'strict' beside the default.

It runs twice: in an off-the-record context, as Playwright's contexts are (the hot-path bench's:
IndexedDB is in memory there, so durability cannot show), and in a profile on disk.
Measured 2026-12-05 on the shared 2-core box (Chromium 156, p50 of three runs, load 5-12): in
memory two trips 1.6-2.8 ms, one trip 1.0-1.9 (0.5-0.9 ms less); on disk default 1.9, relaxed
1.8-1.9, strict 2.4 (Chromium's default is relaxed), one trip 1.3.
"""

from __future__ import annotations

import os
import statistics
import tempfile

from playwright.sync_api import Page, sync_playwright

from bench.browser_steps import pct
from bench.common import header, info

CHROMIUM = "/usr/bin/chromium"
ROUNDS = int(os.environ.get("TT_BENCH_ROUNDS", "300"))
ORIGIN = "http://bench.local/"

SHAPES = r"""
async (rounds) => {
  const open = () => new Promise((resolve, reject) => {
    const request = indexedDB.open('trips', 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore('records', { keyPath: ['collection', 'id'] }).createIndex('scope', 'scope');
      db.createObjectStore('meta');
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const db = await open();
  const done = (tx) => new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onabort = () => reject(tx.error);
  });
  const got = (request) => new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const META = ['cursors', 'offset', 'device', 'hlc', 'hlcSeen'];
  {
    const tx = db.transaction('meta', 'readwrite');
    const meta = tx.objectStore('meta');
    const values = { cursors: { 'c:C1': 0 }, offset: 0, device: 'dev1', hlc: 'h', hlcSeen: 'h' };
    for (const [key, value] of Object.entries(values)) meta.put(value, key);
    await done(tx);
  }
  const record = (i) => ({
    collection: 'messages', id: `M${String(i).padStart(8, '0')}`, scope: 'c:C1',
    fields: { channel: 'C1', text: `hello ${i}`, author: 'U2', n: i },
    clocks: { channel: 'h', text: 'h', author: 'h', n: 'h' },
  });
  const twoTrips = (durability) => async (i) => {
    const tx = db.transaction(['records', 'meta'], 'readwrite', durability ? { durability } : undefined);
    const meta = tx.objectStore('meta');
    const records = tx.objectStore('records');
    const [cursors, , , last, seen] = await Promise.all([
      ...META.map((key) => got(meta.get(key))),
      got(records.get(['messages', record(i).id])),
    ]);
    records.put(record(i));
    meta.put(last, 'hlc');
    meta.put(`t${i}`, 'stamp');
    meta.put(seen, 'hlcSeen');
    meta.put({ ...cursors, 'c:C1': i }, 'cursors');
    tx.commit();
    await done(tx);
  };
  const oneTrip = async (i) => {
    const tx = db.transaction(['records', 'meta'], 'readwrite');
    const meta = tx.objectStore('meta');
    meta.get('cursors');
    tx.objectStore('records').add(record(i));
    meta.put('h', 'hlc');
    meta.put(`t${i}`, 'stamp');
    meta.put('h', 'hlcSeen');
    meta.put({ 'c:C1': i }, 'cursors');
    tx.commit();
    await done(tx);
  };
  const shapes = {
    'two trips (default durability)': twoTrips(null),
    'two trips, relaxed': twoTrips('relaxed'),
    'two trips, strict': twoTrips('strict'),
    'one trip (default durability)': oneTrip,
  };
  const times = Object.fromEntries(Object.keys(shapes).map((name) => [name, []]));
  let i = 1;
  for (let round = 0; round < rounds; round++) {
    for (const [name, shape] of Object.entries(shapes)) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      const t0 = performance.now();
      await shape(i++);
      times[name].push(performance.now() - t0);
    }
  }
  return times;
}
"""


def measure(page: Page, where: str) -> None:
    blank = "<!doctype html><title>trips</title>"
    page.route(ORIGIN, lambda route: route.fulfill(body=blank, content_type="text/html"))
    page.goto(ORIGIN)
    times: dict[str, list[float]] = page.evaluate(SHAPES, ROUNDS)
    for name, values in times.items():
        info(f"{where}: {name}: p50 {statistics.median(values):.2f} / p90 {pct(values, 0.9):.2f} ms")


def main() -> int:
    header(f"IndexedDB: a live frame's transaction by shape and durability, {ROUNDS} rounds (issue 17)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        measure(browser.new_context().new_page(), "off the record (in memory)")
        browser.close()
        with tempfile.TemporaryDirectory(prefix="tt-idb-") as profile:
            context = p.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            measure(context.new_page(), "profile on disk")
            context.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
