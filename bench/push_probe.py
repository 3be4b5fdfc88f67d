"""Bench 9's prober (push_delivery.py, push_ab.py): a device syncing in a loop, its syncs filed
by what they overlapped, and the quiet stretches between drains that count as idle (the module
doc of push_delivery.py says why).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Sequence
from pathlib import Path

from bench.common import Device, Server
from sync_protocol.collections import read_id

#: The pause between the prober's syncs: 2 ms (the lead's denser probe; 10 ms until 2026-12-05
#: evening), for ~150-400 syncs while draining per receiver model instead of ~55 (push_delivery.py).
PROBE_GAP_S = float(os.environ.get("TT_BENCH_PROBE_GAP_MS", "2")) / 1000
#: After a drain, the followers process pre-keys the subscriptions again (keyer.py); it counts as
#: quiet again (an idle stretch until the next message) once it spent under QUIET_CPU_S of CPU per
#: QUIET_POLL_S for QUIET_AFTER_S.
QUIET_POLL_S = 0.02
QUIET_CPU_S = 0.002
QUIET_AFTER_S = 0.1


#: The prober's phases: before the first message (the idle baseline until 2026-12-05 evening),
#: during the owner's POST, while a message's pushes drain, between drains while the sender
#: pre-keys the subscriptions again (keyer.py), and between drains once the followers process is
#: quiet again (idle too, since then: push_delivery.py).
IDLE, POSTING, DRAINING, BETWEEN, QUIET = "idle", "posting", "draining", "between", "quiet"
#: A sync: the phase it started in, and when it started and ended (ns).
Probe = tuple[str, int, int]


async def prober(
    device: Device,
    phase_now: list[str],
    probes: list[Probe],
    stop: asyncio.Event,
    writes: list[Probe] | None = None,
    channel: str = "",
) -> None:
    """Sync round trips in a loop. With ``writes``, every other sync carries one change (the
    device's read cursor in ``channel``) and is filed there: an empty sync never takes SQLite's
    write lock, so only a writing one waits when something else holds it (push_delivery.py)."""
    n = 0
    while not stop.is_set():
        phase = phase_now[0]
        writing = writes is not None and n % 2 == 1
        n += 1
        changes = []
        if writing:
            fields = {"channel": channel, "user": device.user_id, "n": n}
            changes = [device.mutation("reads", read_id(device.user_id, channel), fields)]
        start = time.perf_counter_ns()
        status, content = await device.post_sync(device.body(changes, limit=100))
        device.check(status, content)
        (writes if writing and writes is not None else probes).append((phase, start, time.perf_counter_ns()))
        await asyncio.sleep(PROBE_GAP_S)


def classify(
    probes: list[Probe],
    posts: list[tuple[int, int]],
    drains: list[tuple[int, int]],
    quiet: Sequence[tuple[int, int]] = (),
) -> dict[str, list[float]]:
    """Round trips (ms) by what they overlapped (push_delivery.py): the owner's POST, else a drain,
    else idle (before the first message), quiet (wholly inside a ``quiet`` stretch between
    drains) or between drains."""
    rtts: dict[str, list[float]] = {IDLE: [], POSTING: [], DRAINING: [], BETWEEN: [], QUIET: []}
    first = posts[0][0]
    for _, start, end in probes:
        if any(start < b and end > a for a, b in posts):
            phase = POSTING
        elif any(start < b and end > a for a, b in drains):
            phase = DRAINING
        elif end <= first:
            phase = IDLE
        else:
            phase = QUIET if any(a <= start and end <= b for a, b in quiet) else BETWEEN
        rtts[phase].append((end - start) / 1e6)
    return rtts


def followers_now(server: Server) -> tuple[int, bool]:
    """CPU ns the server's child processes (the followers process) spent, summed over threads,
    and whether any of their threads is runnable now (state R: running, or waiting for a CPU)."""
    total, runnable = 0, False
    for task in Path(f"/proc/{server.pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(FileNotFoundError):  # a thread or process that ended meanwhile
                for thread in Path(f"/proc/{child}/task").iterdir():
                    total += int((thread / "schedstat").read_text().split()[0])
                    runnable |= (thread / "stat").read_text().rpartition(")")[2].split()[0] == "R"
    return total, runnable


async def quiet_from(server: Server, until: float) -> int | None:
    """When (perf_counter ns) the followers process went quiet after a drain, once it has been
    for QUIET_AFTER_S; None if it was not so before ``until`` (monotonic s). Quiet is little CPU
    *and* no thread runnable: under SCHED_IDLE on a loaded box the pre-keying can be starved of
    CPU while it still has work, and its syncs must not pass for idle ones."""
    used, since = followers_now(server)[0], time.perf_counter_ns()
    while time.monotonic() < until:
        await asyncio.sleep(QUIET_POLL_S)
        now, runnable = followers_now(server)
        if runnable or now - used > QUIET_CPU_S * 1e9:
            since = time.perf_counter_ns()
        elif time.perf_counter_ns() - since >= QUIET_AFTER_S * 1e9:
            return since
        used = now
    return None
