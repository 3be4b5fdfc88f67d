"""Benchmark: device hashing (issue 9). The SHA-256 of 200 MB in the PWA's own hashing worker
(frontend/src/files/hash-worker.js, served at /hash-worker.js), in real Chromium. The bytes are
made in the page as a Blob (a 1 MiB pattern repeated), posted to the worker the way
files/hashing.js does, and timed from the post to the digest; the digest is checked here.

    .venv/bin/python -m bench.run_all files          # with the other files figures
    .venv/bin/python -m bench.files_hashing          # this figure alone

Target: ≥ 300 MB/s, the median of ROUNDS runs of the way the app hashes a 200 MB file (WebCrypto on
the whole file, hash-worker.js); the streamed way (hash-wasm, for files too large to hold) is
reported beside it.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import sys
import time

from playwright.sync_api import sync_playwright

from bench.browser_hotpath import CHROMIUM, FLAGS
from bench.browser_steps import step
from bench.common import ROOT, Server, header, info, run_child, verdict

SIZE_MB = int(os.environ.get("FILES_MB", "200"))
ROUNDS = 5
PATTERN = 1024 * 1024

#: In the page: the Blob, then each round posts it to a fresh worker (a new tab's first hash)
#: and to the same worker again; the worker's protocol is files/hashing.js's: {id, blob} in,
#: progress messages, then {id, digest}.
HASH = """
async ({ mb, rounds }) => {
  const chunk = new Uint8Array(1024 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = Math.imul(i, 2654435761) >>> 24;
  const blob = new Blob(Array.from({ length: mb }, () => chunk));
  const worker = new Worker('/hash-worker.js', { type: 'module' });
  const hash = (id, streamed) => new Promise((resolve, reject) => {
    worker.onmessage = (event) => {
      if (event.data.id !== id) return;
      if (event.data.error !== undefined) reject(new Error(event.data.error));
      else if (event.data.digest !== undefined) resolve(event.data.digest);
    };
    worker.postMessage({ id, blob, streamed });
  });
  const times = { app: [], streamed: [] };
  const digests = new Set();
  for (let round = 0; round < rounds; round++) {
    for (const way of ['app', 'streamed']) {
      const started = performance.now();
      digests.add(await hash(`${way}${round}`, way === 'streamed'));
      times[way].push(performance.now() - started);
    }
  }
  worker.terminate();
  return { times, digests: [...digests], size: blob.size };
}
"""


def expected_digest(mb: int) -> tuple[str, float]:
    """The digest the worker must reach, and how fast OpenSSL (hashlib) hashed it here: on a
    busy machine the ratio of the two says more than either figure."""
    chunk = bytes(((i * 2654435761) & 0xFFFFFFFF) >> 24 for i in range(PATTERN))
    hasher = hashlib.sha256()
    started = time.perf_counter()
    for _ in range(mb):
        hasher.update(chunk)
    return hasher.hexdigest(), mb / (time.perf_counter() - started)


def measure(server: Server) -> tuple[dict[str, list[float]], float]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_context(base_url=server.base_url).new_page()
            page.goto("/")
            step(f"hashing {SIZE_MB} MB in the hashing worker, {ROUNDS} times each way")
            result = page.evaluate(HASH, {"mb": SIZE_MB, "rounds": ROUNDS})
        finally:
            browser.close()
    expected, openssl = expected_digest(SIZE_MB)
    if result["size"] != SIZE_MB * PATTERN or result["digests"] != [expected]:
        raise AssertionError(f"the worker's digests are wrong: {result['digests']}")
    return {way: [float(t) for t in times] for way, times in result["times"].items()}, openssl


def _rates(times: list[float]) -> list[float]:
    return [SIZE_MB / (ms / 1000) for ms in times]


def main() -> int:
    if not (ROOT / "frontend" / "dist" / "hash-worker.js").exists():
        print("frontend/dist is missing: run `make build` first", file=sys.stderr)
        return 2
    server = Server("files-hashing")
    server.start()
    try:
        times, openssl = measure(server)
    finally:
        server.stop()
    header(f"files: SHA-256 of {SIZE_MB} MB in the PWA's hashing worker (Chromium)")
    for way, label in (("app", "the app's way (WebCrypto, read whole)"), ("streamed", "streamed (hash-wasm)")):
        rates = _rates(times[way])
        info(f"{label}: {', '.join(f'{ms:.0f}' for ms in times[way])} ms = {', '.join(f'{r:.0f}' for r in rates)} MB/s")
    app, streamed = statistics.median(_rates(times["app"])), statistics.median(_rates(times["streamed"]))
    info(f"medians: {app:.0f} vs {streamed:.0f} MB/s streamed ({app / streamed:.2f}x); over 512 MB a file streams")
    info(f"OpenSSL in this process just after: {openssl:.0f} MB/s (the app's way is {app / openssl:.2f}x of it)")
    verdict("files device hashing (worker, median)", app, 300, "MB/s", higher_is_better=True)
    return 0


async def run() -> None:
    """For bench.files / bench.run_all: the sync Playwright API runs in its own process."""
    await run_child("bench.files_hashing", ROOT)


if __name__ == "__main__":
    sys.exit(main())
