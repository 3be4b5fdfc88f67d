"""Which system calls of the push work keep a core from a waking sync (bench 9's ratio, issue 10).

With the followers process and the receiver under SCHED_IDLE, a waking server or bench thread
preempts them at once in user space; inside a system call it waits until the call sleeps or
returns, because this kernel does not preempt kernel code (PREEMPT_NONE). This reads a trace of
every context switch, wake-up, system call and softirq taken during ``bench.push_ab`` and says,
for each wait of a sync's thread (wake-up to running) on a CPU held by our push work, which call
the holder was in when the sync's thread woke, and how much softirq work (loopback TCP runs its
receiver's half in the sender's call) that CPU did meanwhile. It also lists the push work's
longest on-CPU stretches inside a call, by call.

    mkfifo /tmp/ctl
    TT_BENCH_PERF_CTL=/tmp/ctl TT_BENCH_AB_OUT=/tmp/ab.json perf record -q -D -1 --control fifo:/tmp/ctl \\
        -k CLOCK_MONOTONIC -e sched:sched_switch -e sched:sched_wakeup -e raw_syscalls:sys_enter \\
        -e raw_syscalls:sys_exit -e irq:softirq_entry -e irq:softirq_exit \\
        -e sched:sched_migrate_task -m 64M -a -o /tmp/sys.data \\
        -- .venv/bin/python -m bench.push_ab both-idle
    .venv/bin/python -m bench.push_syscalls /tmp/sys.data /tmp/ab.json
"""

from __future__ import annotations

import bisect
import json
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable

LINE = re.compile(r"^\s*(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\w+):(\w+):\s*(.*)$")
FIELD = re.compile(r"(\w+)=(\S+)")
NR = re.compile(r"NR (\d+)")
#: x86-64 numbers of the calls the push work makes (others print as their number).
NAMES = {
    0: "read", 1: "write", 3: "close", 7: "poll", 8: "lseek", 9: "mmap", 10: "mprotect", 11: "munmap",
    12: "brk", 17: "pread64", 18: "pwrite64", 20: "writev", 23: "select", 24: "sched_yield", 28: "madvise",
    42: "connect", 44: "sendto", 45: "recvfrom", 46: "sendmsg", 47: "recvmsg", 72: "fcntl", 74: "fsync",
    75: "fdatasync", 76: "truncate", 77: "ftruncate", 202: "futex", 228: "clock_gettime", 232: "epoll_wait",
    233: "epoll_ctl", 257: "openat", 262: "newfstatat", 270: "pselect6", 271: "ppoll", 281: "epoll_pwait",
    288: "accept4", 318: "getrandom", 332: "statx",
}  # fmt: skip
PUSH = ("followers", "receiver")
#: A sync thread's wait for a CPU: ms, the CPU it ran on, who held it, the holder's call at the
#: wake-up, woken at, ran at (ns), the thread, and the CPU the wake-up queued it on.
Wait = tuple[float, int, str, str, int, int, int, int]


def name(nr: int | None) -> str:
    return "user space" if nr is None else NAMES.get(nr, f"NR {nr}")


def windows(meta: dict[str, object], which: str = "probes") -> list[tuple[int, int]]:
    """The syncs that overlapped a drain and no POST (push_delivery.classify), sorted: the empty
    ones ("probes") or, from ``push_ab writes``, the writing ones ("writes")."""
    spans = meta["spans"]
    assert isinstance(spans, dict)
    posts = [p for s in spans.values() for p, _ in s]
    drains = [d for s in spans.values() for _, d in s]
    probes = meta[which]
    assert isinstance(probes, list)
    return sorted(
        (start, end)
        for _, start, end in probes
        if any(start < b and end > a for a, b in drains) and not any(start < b and end > a for a, b in posts)
    )


def main(trace: str, ab: str, which: str = "probes") -> None:
    meta = json.loads(open(ab).read())
    who_pid = {pid: who for who, pid in meta["pids"].items()}
    syncs = windows(meta, which)
    proc = subprocess.Popen(
        ["perf", "script", "-i", trace, "-F", "tid,pid,cpu,time,event,trace"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    tgid: dict[int, int] = {}
    in_call: dict[int, tuple[int, int]] = {}  # tid -> (nr, entered ns)
    on_since: dict[int, int] = {}  # tid -> switched in at (ns)
    woken: dict[int, tuple[int, dict[int, tuple[int, int | None]], int]] = {}
    running: dict[int, int] = {}  # cpu -> tid
    soft_since: dict[int, int] = {}
    softirqs: dict[int, list[tuple[int, int, str]]] = defaultdict(list)  # cpu -> (start, end, vec)
    stretches: dict[tuple[str, str], list[float]] = defaultdict(list)
    waits: list[Wait] = []
    #: Each CPU's switches (ns, previous tid, its state, next tid), and migrations (ns, tid, from, to).
    switches: dict[int, list[tuple[int, int, str, int]]] = defaultdict(list)
    moves: list[tuple[int, int, int, int]] = []

    def who(tid: int) -> str:
        return "idle" if tid == 0 else who_pid.get(tgid.get(tid, -1), "other")

    # Where each runnable sync thread (server, bench) is queued: tid -> [cpu, queued there at,
    # woke at, the call of the push thread running there as it was queued (None: not push)].
    queued: dict[int, list[int | str | None]] = {}
    seg_start: dict[int, int] = {}  # cpu -> when its running thread was switched in
    #: Per sync thread's wait (woke at): ms behind push work it did not preempt (by call), ms
    #: behind push work picked while it waited, ms behind anything else.
    tally: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def account(tid: int, upto: int) -> None:
        """Charge a queued sync thread's wait on its CPU, up to ``upto``, to whoever runs there."""
        cpu, since, woke, call = queued[tid]
        assert isinstance(cpu, int) and isinstance(since, int) and isinstance(woke, int)
        start = max(since, seg_start.get(cpu, since))
        holder = who(running.get(cpu, 0))
        if upto > start:
            if holder in PUSH:
                how = f"held in {call}" if seg_start.get(cpu, 0) < since else "picked ahead"
                kind = f"{holder} {how} of {who(tid)} on cpu {cpu}"
            else:
                kind = holder
            tally[woke][kind] += (upto - start) / 1e6
        queued[tid][1] = upto

    def enqueue(tid: int, cpu: int, ns: int, woke: int) -> None:
        t = running.get(cpu, 0)
        call = name(in_call.get(t, (None, 0))[0]) if who(t) in PUSH else None
        queued[tid] = [cpu, ns, woke, call]

    def stretch(tid: int, now: int) -> None:
        """A push thread leaves the CPU or its call: its on-CPU time inside that call."""
        if tid in in_call and tid in on_since and who(tid) in PUSH:
            nr, entered = in_call[tid]
            stretches[(who(tid), name(nr))].append((now - max(entered, on_since[tid])) / 1e6)

    for line in proc.stdout:
        m = LINE.match(line)
        if not m:
            continue
        pid, tid, cpu, event, rest = int(m[1]), int(m[2]), int(m[3]), m[6], m[7]
        ns = round(float(m[4]) * 1e9)
        tgid[tid] = pid
        if event == "sys_enter":
            nr = NR.search(rest)
            if nr:
                in_call[tid] = (int(nr[1]), ns)
        elif event == "sys_exit":
            stretch(tid, ns)
            in_call.pop(tid, None)
        elif event == "softirq_entry":
            soft_since[cpu] = ns
        elif event == "softirq_exit" and cpu in soft_since:
            vec = dict(FIELD.findall(rest)).get("action", "?")
            softirqs[cpu].append((soft_since.pop(cpu), ns, vec))
        elif event == "sched_wakeup":
            woke = int(dict(FIELD.findall(rest))["pid"])
            if who(woke) in ("server", "bench"):
                enqueue(woke, int(dict(FIELD.findall(rest))["target_cpu"]), ns, ns)
                i = bisect.bisect_right(syncs, (ns, 1 << 62))
                if i and syncs[i - 1][1] >= ns:
                    # What each CPU's current thread was doing as the sync's thread woke.
                    now = {c: (t, in_call.get(t, (None, 0))[0]) for c, t in running.items()}
                    woken[woke] = (ns, now, int(dict(FIELD.findall(rest))["target_cpu"]))
        elif event == "sched_migrate_task":
            f = dict(FIELD.findall(rest))
            moves.append((ns, int(f["pid"]), int(f["orig_cpu"]), int(f["dest_cpu"])))
            if int(f["pid"]) in queued:
                account(int(f["pid"]), ns)
                woke_at = queued[int(f["pid"])][2]
                assert isinstance(woke_at, int)
                enqueue(int(f["pid"]), int(f["dest_cpu"]), ns, woke_at)
        elif event == "sched_switch":
            f = dict(FIELD.findall(rest))
            prev, nxt = int(f["prev_pid"]), int(f["next_pid"])
            switches[cpu].append((ns, prev, f["prev_state"], nxt))
            for q, where in list(queued.items()):
                if where[0] == cpu:
                    account(q, ns)
            queued.pop(nxt, None)
            seg_start[cpu] = ns
            if f["prev_state"].startswith("R") and who(prev) in ("server", "bench"):
                running[cpu] = nxt
                enqueue(prev, cpu, ns, ns)  # preempted: waits from now, like a wake-up
            stretch(prev, ns)
            on_since.pop(prev, None)
            on_since[nxt] = ns
            running[cpu] = nxt
            if nxt in woken:
                at, calls, target = woken.pop(nxt)
                holder = who(prev)
                held = calls.get(cpu)
                # The call it was in as the sync's thread woke ("?" if it came to this CPU since).
                call = "-" if holder not in PUSH else name(held[1]) if held and held[0] == prev else "?"
                waits.append(((ns - at) / 1e6, cpu, holder, call, at, ns, nxt, target))
    proc.wait()
    report(syncs, stretches, waits, softirqs)
    timelines(waits, switches, moves, who, tally)
    shares(meta, tally)


def shares(meta: dict[str, object], tally: dict[int, dict[str, float]]) -> None:
    """The sync threads' CPU waits, per sync, in each mode's drain syncs and in idle ones (before
    the first POST)."""
    spans = meta["spans"]
    probes = meta["probes"]
    assert isinstance(spans, dict) and isinstance(probes, list)
    posts = [p for s in spans.values() for p, _ in s]
    first = min(p[0] for p in posts)
    groups = {"(no drain)": sorted((start, end) for _, start, end in probes if end <= first)}
    for mode, mine in spans.items():
        drains = [d for _, d in mine]
        groups[mode] = sorted(
            (start, end)
            for _, start, end in probes
            if any(start < b and end > a for a, b in drains) and not any(start < b and end > a for a, b in posts)
        )
    for label, syncs in groups.items():
        per: dict[tuple[int, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for woke, kinds in tally.items():
            i = bisect.bisect_right(syncs, (woke, 1 << 62))
            if i and syncs[i - 1][1] >= woke:
                for kind, ms in kinds.items():
                    per[syncs[i - 1]][kind] += ms
        total: dict[str, float] = defaultdict(float)
        for kinds in per.values():
            for kind, ms in kinds.items():
                total[kind] += ms
        n = max(1, len(syncs))
        print(
            f"{label}: {len(syncs)} syncs; CPU wait per sync (ms) behind: "
            + ", ".join(f"{k} {v / n:.3f}" for k, v in sorted(total.items(), key=lambda kv: -kv[1]) if v / n >= 0.001)
        )
        push = sorted(sum(v for k, v in kinds.items() if k.startswith(PUSH)) for kinds in per.values())
        if push:
            print(
                f"   behind push work, per sync: max {push[-1]:.2f} ms; over 0.2 ms: {sum(p > 0.2 for p in push)}, "
                f"over 0.5 ms: {sum(p > 0.5 for p in push)}"
            )


def timelines(
    waits: list[Wait],
    switches: dict[int, list[tuple[int, int, str, int]]],
    moves: list[tuple[int, int, int, int]],
    who: Callable[[int], str],
    tally: dict[int, dict[str, float]],
) -> None:
    """The longest waits in which push work ran on the CPU the sync's thread ran on: what ran on
    each CPU from the wake-up to the switch, and the thread's migrations."""
    print("Timelines of the longest waits with push work on the CPU (us from the wake-up):")
    ahead = sorted(waits, key=lambda w: -sum(v for k, v in tally[w[4]].items() if "ahead" in k))[:6]
    for ms, cpu, _, _, at, ran, tid, target in sorted((w for w in waits if w[2] in PUSH), reverse=True)[:4] + ahead:
        print(
            f"  {who(tid)} thread {tid} woke queued on cpu {target}, ran on cpu {cpu} after {ms:.2f} ms; "
            + ", ".join(f"{k} {v:.2f}" for k, v in tally[at].items())
        )
        for c in sorted(switches):
            runs = switches[c]
            i = bisect.bisect_left(runs, (at - 200_000, 0, "", 0))
            line = [
                f"{(ns - at) / 1e3:.0f}:{who(p)}({p_state})->{who(n)}" for ns, p, p_state, n in runs[i:] if ns <= ran
            ]
            print(f"    cpu {c}: " + " ".join(line[-30:]))
        print(
            "    moves: "
            + " ".join(f"{(ns - at) / 1e3:.0f}:{a}->{b}" for ns, t, a, b in moves if t == tid and at <= ns <= ran)
        )


def report(
    syncs: list[tuple[int, int]],
    stretches: dict[tuple[str, str], list[float]],
    waits: list[Wait],
    softirqs: dict[int, list[tuple[int, int, str]]],
) -> None:
    print(f"{len(syncs)} syncs while draining; {len(waits)} wake-ups of their server and bench threads")
    by: dict[tuple[str, str], list[float]] = defaultdict(list)
    for ms, _, holder, call, *_ in waits:
        by[(holder, call)].append(ms)
    print("CPU waits by who held the CPU and the call it was in at the wake-up (ms: count, total, max, > 0.2):")
    for (holder, call), ms in sorted(by.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {holder:>9} {call:<12} {len(ms):5d} {sum(ms):8.2f} {max(ms):6.2f} {sum(x > 0.2 for x in ms):4d}")
    print("The longest waits behind push work, with the softirq time on that CPU meanwhile:")
    for ms, cpu, holder, call, at, ran, *_ in sorted((w for w in waits if w[2] in PUSH), reverse=True)[:15]:
        soft: dict[str, float] = defaultdict(float)
        runs = softirqs[cpu]
        for a, b, vec in runs[bisect.bisect_left(runs, (at - 10_000_000, 0, "")) :]:
            if a >= ran:
                break
            if b > at:
                soft[vec] += (min(b, ran) - max(a, at)) / 1e6
        print(
            f"  {ms:6.2f} ms on cpu {cpu}, {holder} in {call}; softirq "
            + (", ".join(f"{v} {t:.2f}" for v, t in sorted(soft.items())) or "none")
        )
    print("Push work's on-CPU stretches inside a call (ms: count, total, p99, max, > 0.2):")
    for (holder, call), ms in sorted(stretches.items(), key=lambda kv: -sum(kv[1]))[:20]:
        ms.sort()
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        print(
            f"  {holder:>9} {call:<12} {len(ms):7d} {sum(ms):8.1f} {p99:6.3f} {ms[-1]:6.2f}"
            f" {sum(x > 0.2 for x in ms):5d}"
        )


if __name__ == "__main__":
    main(*sys.argv[1:4])
