"""Bench 9's sync ratio, A/B in one run: scheduling modes for the followers process (and the
receiver), taken in turn message by message, so that load from outside the benchmark falls on
every mode alike (the box is shared: a run's idle p99 moves 3-50 ms with it).

Same set-up as bench 9 (push_delivery.py); the owner posts one ``@channel`` message in each of
ROUNDS x len(MODES) channels, DRAIN_S apart, and before each one the benchmark sets the mode's
CPU policy on every thread of the followers process (and of the receiver) from outside, as
root may (``sched_setscheduler`` and ``setpriority`` on each thread id). A sync is filed under
the mode of the drain it overlapped (push_delivery.classify). Printed per mode: the syncs' p50,
p90 and p99, and p99 over the shared idle p99; and the push p50 and p99.

Run: ``.venv/bin/python -m bench.push_ab [MODE ...]`` (default: all of MODES), as root.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from backend.followers.worker import followers_cpus
from bench.common import Device, Server, header, info, percentile
from bench.push_delivery import DRAIN_S, IDLE_S, LISTENERS, PER_LISTENER, Receiver, notify, setup
from bench.push_probe import IDLE, PROBE_GAP_S, Probe, classify
from bench.report import percentile_at
from sync_protocol.collections import read_id

ROUNDS = int(os.environ.get("TT_BENCH_ROUNDS", "10"))


def _threads(pid: int) -> list[int]:
    try:
        return [int(t.name) for t in Path(f"/proc/{pid}/task").iterdir()]
    except FileNotFoundError:
        return []


def _schedstat(pid: int) -> tuple[int, int]:
    """(ns on CPU, ns waiting for a CPU) summed over the process's threads."""
    on = wait = 0
    for tid in _threads(pid):
        try:
            fields = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()
        except FileNotFoundError:
            continue
        on, wait = on + int(fields[0]), wait + int(fields[1])
    return on, wait


#: A sync's (server ns on CPU, server ns waiting for a CPU, this process's ns waiting for a CPU).
Stat = tuple[int, int, int]


#: Whether the prober writes now (the modes "writes" and "empty" set it): every other sync then
#: carries one change, the device's read cursor, as bench 9's prober does (push_probe.prober).
WRITING = [False]


async def traced_prober(
    device: Device,
    server: int,
    probes: list[Probe],
    stats: list[Stat],
    stop: asyncio.Event,
    writes: list[Probe] | None = None,
    channel: str = "",
) -> None:
    """push_delivery.prober, noting each sync's scheduler figures (schedstat) beside it. While
    WRITING, every other sync writes and is filed in ``writes`` instead (the empty ones are
    compared across modes)."""
    me = os.getpid()
    n = 0
    while not stop.is_set():
        n += 1
        writing = WRITING[0] and writes is not None and n % 2 == 0
        changes = []
        if writing:
            fields = {"channel": channel, "user": device.user_id, "n": n}
            changes = [device.mutation("reads", read_id(device.user_id, channel), fields)]
        s0, m0 = _schedstat(server), _schedstat(me)
        start = time.perf_counter_ns()
        status, content = await device.post_sync(device.body(changes, limit=100))
        end = time.perf_counter_ns()
        s1, m1 = _schedstat(server), _schedstat(me)
        device.check(status, content)
        if writing and writes is not None:
            writes.append((IDLE, start, end))
        else:
            probes.append((IDLE, start, end))
            stats.append((s1[0] - s0[0], s1[1] - s0[1], m1[1] - m0[1]))
        await asyncio.sleep(PROBE_GAP_S)


#: Before the first message with the modes "writes" and "empty": windows of this long, in turn.
COST_WINDOW_S = 1.0
COST_WINDOWS = 6


async def idle_cost(server: int, followers: int, probes: list[Probe], writes: list[Probe]) -> None:
    """What a writing sync costs when no push drains, prober writing and not in turn: the CPU of the
    server and of the followers process per second and per writing sync (issue 10: did each
    commit's Head line wake the followers for nothing?)."""
    spent: dict[bool, list[float]] = {True: [0.0, 0.0, 0.0, 0.0], False: [0.0, 0.0, 0.0, 0.0]}
    for i in range(COST_WINDOWS):
        writing = i % 2 == 0
        WRITING[0] = writing
        s0, f0, n0 = _schedstat(server)[0], _schedstat(followers)[0], len(writes)
        await asyncio.sleep(COST_WINDOW_S)
        s1, f1, n1 = _schedstat(server)[0], _schedstat(followers)[0], len(writes)
        total = spent[writing]
        total[0] += (s1 - s0) / 1e6
        total[1] += (f1 - f0) / 1e6
        total[2] += n1 - n0
        total[3] += COST_WINDOW_S
    WRITING[0] = True
    w, e = spent[True], spent[False]
    info(
        f"no drain, prober writing / empty only ({COST_WINDOWS // 2} x {COST_WINDOW_S:.0f} s each): CPU ms per s "
        f"server {w[0] / w[3]:.1f} / {e[0] / e[3]:.1f}, followers {w[1] / w[3]:.2f} / {e[1] / e[3]:.2f}; "
        f"per writing sync ({w[2]:.0f}): followers {(w[1] - e[1] * w[3] / e[3]) / max(w[2], 1) * 1e3:.0f} us, "
        f"server {(w[0] - e[0] * w[3] / e[3]) / max(w[2], 1) * 1e3:.0f} us more than an empty one's share"
    )


def at_equal_count(draining: list[float], idle: list[float]) -> float:
    """The p99 ratio with both sides at the smaller count (bench 9's figure: push_delivery.py)."""
    n = min(len(draining), len(idle))
    return percentile_at(draining, 99, n) / percentile_at(idle, 99, n)


def _followers(server: Server) -> int:
    for task in Path(f"/proc/{server.pid}/task").iterdir():
        children = (task / "children").read_text().split()
        if children:
            return int(children[0])
    raise RuntimeError("the server has no followers process")


def _policy(pid: int, policy: int, nice: int, cpus: set[int] | None = None) -> None:
    for tid in _threads(pid):
        try:
            os.sched_setscheduler(tid, policy, os.sched_param(0))
            if policy != os.SCHED_IDLE:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
            os.sched_setaffinity(tid, cpus or ALL_CPUS)
        except ProcessLookupError:  # the thread ended meanwhile
            continue


def _perf_control() -> Callable[[str], None]:
    """With TT_BENCH_PERF_CTL=FIFO (``perf record -D -1 --control fifo:FIFO``): switch the trace on
    after the set-up (seeding, restart, pre-keying) and off after the last message, so that a
    trace of every system call (bench/push_syscalls.py) holds only the syncs and drains."""
    path = os.environ.get("TT_BENCH_PERF_CTL")
    if not path:
        return lambda command: None
    fifo = open(path, "w")  # kept open for the run: perf reads the commands as they come

    def send(command: str) -> None:
        fifo.write(command + "\n")
        fifo.flush()

    return send


ALL_CPUS = os.sched_getaffinity(0)
#: The followers kept off the first CPU (followers/worker.py, keep_off_a_core): "pin".
PINNED = followers_cpus(ALL_CPUS)
Mode = Callable[[int, int], None]
#: name -> what to do to (followers pid, receiver pid) before a message. Every mode but "pin" and
#: "asis" lets the followers run on every CPU (the code before 2026-12-05's last pass); "pin" is
#: "both-idle" with the followers kept off the first CPU, as the code does now ("pin-local": "idle"
#: so, the receiver as any process: bench 9's "local" model).
MODES: dict[str, Mode] = {
    "nice5": lambda f, r: (_policy(f, os.SCHED_OTHER, 5), _policy(r, os.SCHED_OTHER, 0))[0],
    "nice19": lambda f, r: (_policy(f, os.SCHED_OTHER, 19), _policy(r, os.SCHED_OTHER, 0))[0],
    "idle": lambda f, r: (_policy(f, os.SCHED_IDLE, 0), _policy(r, os.SCHED_OTHER, 0))[0],
    "recv-idle": lambda f, r: (_policy(f, os.SCHED_OTHER, 5), _policy(r, os.SCHED_IDLE, 0))[0],
    "both-idle": lambda f, r: (_policy(f, os.SCHED_IDLE, 0), _policy(r, os.SCHED_IDLE, 0))[0],
    "pin": lambda f, r: (_policy(f, os.SCHED_IDLE, 0, PINNED), _policy(r, os.SCHED_IDLE, 0))[0],
    "pin-local": lambda f, r: (_policy(f, os.SCHED_IDLE, 0, PINNED), _policy(r, os.SCHED_OTHER, 0))[0],
    # The code's own scheduling (followers: SCHED_IDLE, off the first CPU), the receiver remote
    # (SCHED_IDLE); the prober writing every other sync or only empty ones (issue 10's clue).
    "writes": lambda f, r: (_policy(r, os.SCHED_IDLE, 0), WRITING.__setitem__(0, True))[0],
    "empty": lambda f, r: (_policy(r, os.SCHED_IDLE, 0), WRITING.__setitem__(0, False))[0],
    "asis": lambda f, r: None,
}


async def run(names: list[str]) -> None:
    subs = LISTENERS * PER_LISTENER
    header(f"9 A/B: sync p99 while {subs:,} pushes drain, modes {', '.join(names)} in turn, {ROUNDS} rounds")
    receiver = await Receiver.start()
    # TT_BENCH_TMPFS=1: the data in /dev/shm (fsync free), to tell the disk's share of a writing sync.
    server = Server("push-ab", tmpfs=os.environ.get("TT_BENCH_TMPFS") == "1")
    server.options = ["--push-test-mode"]
    try:
        devices, channels, _ = await setup(server, receiver, ROUNDS * len(names) + 1)
        owner, probe = devices[0], devices[1]
        followers = _followers(server)
        probes: list[Probe] = []
        stop = asyncio.Event()
        stats: list[Stat] = []
        control = _perf_control()
        control("enable")
        writes: list[Probe] = []
        WRITING[0] = "writes" in names  # the idle baseline as bench 9 takes it
        probing = asyncio.create_task(traced_prober(probe, server.pid, probes, stats, stop, writes, channels[0]))
        if "writes" in names and "empty" in names:
            await idle_cost(server.pid, followers, probes, writes)
        await asyncio.sleep(IDLE_S)
        spans: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = {n: [] for n in names}
        latencies: dict[str, list[float]] = {n: [] for n in names}
        #: CPU ms of the server, the followers, the receiver and this process, per message.
        cpu: dict[str, list[list[float]]] = {n: [] for n in names}
        for i, channel in enumerate(channels):
            name = names[(i - 1) % len(names)] if i else "warm-up"
            if i:
                MODES[name](followers, receiver.proc.pid)
            cpu0 = [_schedstat(pid)[0] for pid in (server.pid, followers, receiver.proc.pid, os.getpid())]
            start, accepted, seen = await notify(owner, receiver, channel, subs)
            cpu1 = [_schedstat(pid)[0] for pid in (server.pid, followers, receiver.proc.pid, os.getpid())]
            if i:
                cpu[name].append([(b - a) / 1e6 for a, b in zip(cpu0, cpu1, strict=True)])
                spans[name].append(((start, accepted), (accepted, max(seen))))
                latencies[name] += [(ns - start) / 1e6 for ns in seen]
            await asyncio.sleep(max(0.0, DRAIN_S - (max(seen) - start) / 1e9))
        stop.set()
        await probing
        control("disable")
        all_posts = [p for n in names for p, _ in spans[n]]
        idle = classify(probes, all_posts, [d for n in names for _, d in spans[n]])[IDLE]
        idle_p99 = percentile(idle, 99)
        info(f"idle sync p99 {idle_p99:.2f} ms")
        idle_slow = sorted(
            (((e - s) / 1e6, st) for (_, s, e), st in zip(probes, stats, strict=True) if e <= all_posts[0][0]),
            reverse=True,
        )[:5]
        info(
            "   idle slowest: "
            + "; ".join(
                f"{ms:.1f} ms (server cpu {c / 1e6:.1f} wait {w / 1e6:.1f}, bench wait {m / 1e6:.1f})"
                for ms, (c, w, m) in idle_slow
            )
        )
        for name in names:
            # The other modes' drains count as posts here, so that only this mode's drains are "draining".
            others = [d for n in names if n != name for _, d in spans[n]]
            rtts = classify(probes, all_posts + others, [d for _, d in spans[name]])["draining"]
            mine = [d for _, d in spans[name]]
            slow = sorted(
                (
                    ((e - s) / 1e6, st)
                    for (_, s, e), st in zip(probes, stats, strict=True)
                    if any(s < b and e > a for a, b in mine) and not any(s < b and e > a for a, b in all_posts + others)
                ),
                reverse=True,
            )[:5]
            info(
                "   slowest: "
                + "; ".join(
                    f"{ms:.1f} ms (server cpu {c / 1e6:.1f} wait {w / 1e6:.1f}, bench wait {m / 1e6:.1f})"
                    for ms, (c, w, m) in slow
                )
            )
            info(
                f"{name:>10}: {len(rtts)} syncs while draining, p50 {percentile(rtts, 50):.2f} p90 "
                f"{percentile(rtts, 90):.2f} p99 {percentile(rtts, 99):.2f} ms, p99/idle "
                f"{percentile(rtts, 99) / idle_p99:.2f}x (at one count, as bench 9: "
                f"{at_equal_count(rtts, idle):.2f}x)"
                f"; push p50 {percentile(latencies[name], 50):.1f} p99 "
                f"{percentile(latencies[name], 99):.1f} ms"
            )
            written = classify(writes, all_posts + others, [d for _, d in spans[name]])["draining"] if writes else []
            if written:
                info(
                    f"   writing syncs while draining: {len(written)}, p50 {percentile(written, 50):.2f} "
                    f"p99 {percentile(written, 99):.2f} ms"
                )
            cols = list(zip(*cpu[name], strict=True))
            info(
                "   CPU ms per message (POST to the last push + up to 50 ms): "
                + ", ".join(
                    f"{who} {percentile(c, 50):.0f}"
                    for who, c in zip(("server", "followers", "receiver", "bench"), cols, strict=True)
                )
            )
        out = os.environ.get("TT_BENCH_AB_OUT")
        if out:  # for a scheduler trace taken meanwhile (perf record -k CLOCK_MONOTONIC): who was where
            pids = {"server": server.pid, "followers": followers, "receiver": receiver.proc.pid, "bench": os.getpid()}
            Path(out).write_text(json.dumps({"pids": pids, "spans": spans, "probes": probes, "writes": writes}))
        for device in devices:
            await device.close()
    finally:
        server.stop()
        await receiver.stop()


if __name__ == "__main__":
    started = time.monotonic()
    asyncio.run(run(sys.argv[1:] or list(MODES)[:-1]))
    info(f"{time.monotonic() - started:.0f} s")
