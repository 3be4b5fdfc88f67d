"""Waiting on a condition with a deadline, never a fixed sleep: what the tests of background
threads and processes (followers, producer, workers) poll with."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(check: Callable[[], object], timeout_s: float = 20.0, every_s: float = 0.01) -> None:
    """Return once ``check()`` is true; fail with "timed out" after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every_s)
