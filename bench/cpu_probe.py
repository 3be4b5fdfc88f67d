"""The CPU probe: how fast this machine runs a fixed piece of Python right now, so a benchmark
can say whether a slow figure is the code's or the machine's.

On the 2-core reference VM the probe's time moves by itself, from ~11-12 ms in its usual
minutes to 15-19 ms in slow ones, with nothing else running: the host slows the guest down for
seconds to minutes at a time. It is CPU time of this thread (not wall time), so neither other
processes nor the disk enter it; only how fast the core is while it runs.
"""

from __future__ import annotations

import time

#: Iterations of the probe's loop: ~11 ms of CPU on the reference VM in a quiet minute.
PROBE_LOOPS = 200_000


def cpu_probe() -> float:
    """Milliseconds of this thread's CPU time that PROBE_LOOPS turns of a small arithmetic loop
    took (the same loop every time; lower is a faster machine)."""
    start = time.thread_time()
    total = 0
    for i in range(PROBE_LOOPS):
        total += i * 3 % 7
    return (time.thread_time() - start) * 1e3
