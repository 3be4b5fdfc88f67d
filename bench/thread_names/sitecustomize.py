"""Names each Python thread's OS thread after it (``PR_SET_NAME``, 15 bytes), so a scheduler trace
(perf's ``comm``, ``top -H``) says which thread woke: Python 3.11 leaves them all "python".

Bench only, loaded by putting this directory on ``PYTHONPATH`` (the server inherits it), e.g. for
``bench/push_writes.py``'s per-thread wake-up counts.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

_PR_SET_NAME = 15
_libc = ctypes.CDLL(None)
_bootstrap_inner: Any = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]


def _named(self: threading.Thread) -> None:
    try:
        _libc.prctl(_PR_SET_NAME, self.name[:15].encode(), 0, 0, 0)
    except (AttributeError, OSError):  # not Linux: nothing to name
        pass
    _bootstrap_inner(self)


threading.Thread._bootstrap_inner = _named  # type: ignore[attr-defined]
