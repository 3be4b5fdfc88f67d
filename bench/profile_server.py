"""The server under cProfile, for `TT_BENCH_PROFILE=1` (bench/server_proc.py's Server uses it).

    TT_BENCH_PROFILE=1 .venv/bin/python -m bench.run_all throughput

Runs ``python -m backend.cli`` with its arguments. The profile starts at SIGUSR2 and stops at
SIGUSR1 (``Server.profile()`` sends both around the timed part of a benchmark), then writes
``$TT_PROFILE_OUT``. The clock is the main thread's CPU time: the event loop's waits (select,
fsync) cost nothing, and the other threads' work is left out (their share shows in
``/proc/<pid>/task``). cProfile's own cost inflates every call by a few tenths of a microsecond,
so read the shares, not the absolute times.
"""

from __future__ import annotations

import cProfile
import os
import runpy
import signal
import sys
import time
from types import FrameType

_profile: cProfile.Profile | None = None


def _start(signum: int, frame: FrameType | None) -> None:
    global _profile
    _profile = cProfile.Profile(time.thread_time)
    _profile.enable()


def _stop(signum: int, frame: FrameType | None) -> None:
    if _profile is not None:
        _profile.disable()
        _profile.dump_stats(os.environ["TT_PROFILE_OUT"])


def main() -> None:
    signal.signal(signal.SIGUSR2, _start)
    signal.signal(signal.SIGUSR1, _stop)
    sys.argv = ["backend.cli", *sys.argv[1:]]
    runpy.run_module("backend.cli", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
