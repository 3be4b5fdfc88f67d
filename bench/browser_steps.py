"""What the browser benchmarks share: progress lines, waiting on a page, percentiles."""

from __future__ import annotations

import sys
import time

from playwright.sync_api import Page


def step(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def until(page: Page, expression: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(f"async () => Boolean(await ({expression}))"):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false: {expression}")
        page.wait_for_timeout(20)


def synced(page: Page) -> None:
    until(
        page,
        "document.querySelector('[role=status]')?.textContent === 'Online'"
        " && document.querySelector('[role=status]')?.dataset.pending === '0'",
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0
