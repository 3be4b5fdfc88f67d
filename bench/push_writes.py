"""Where a slow *writing* sync of bench 9 spends its time while pushes drain (issue 10's tail).

A writing sync (one read cursor) commits teamtalk.db on the server's event loop: BEGIN IMMEDIATE,
COMMIT and its fdatasync (synchronous=FULL). During a drain the followers process writes push.db
(its own WAL, also synchronous=FULL) on the same disk. This reads a trace of context switches,
wake-ups and fsync/fdatasync calls taken during ``bench.push_ab writes`` and splits each writing
sync's time, for the server's and the bench's threads, into: on a CPU; waiting for a CPU (and who
held it); asleep in D (the disk); inside fsync/fdatasync (the server's own); and, beside it, how
long the followers process was inside its own fsyncs meanwhile (their queue on the same disk).
Also how many other server threads woke during each writing sync, in all and per thread name
(``woke NAME``): with ``PYTHONPATH=bench/thread_names`` each Python thread names its OS thread
(bench/thread_names/sitecustomize.py), otherwise every name is "python".

    PYTHONPATH=bench/thread_names TT_BENCH_AB_OUT=/tmp/ab.json perf record -q -k CLOCK_MONOTONIC \\
        -e sched:sched_switch -e sched:sched_wakeup -e 'syscalls:sys_enter_f*sync' -e 'syscalls:sys_exit_f*sync' \\
        -a -o /tmp/w.data -- .venv/bin/python -m bench.push_ab writes
    .venv/bin/python -m bench.push_writes /tmp/w.data /tmp/ab.json
"""

from __future__ import annotations

import bisect
import json
import re
import subprocess
import sys
from collections import defaultdict

LINE = re.compile(r"^\s*(.*?)\s+(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\w+):(\w+):\s*(.*)$")
FIELD = re.compile(r"(\w+)=(\S+)")
Span = tuple[int, int]


def overlap(a: int, b: int, lo: int, hi: int) -> int:
    return max(0, min(b, hi) - max(a, lo))


def main(trace: str, ab: str) -> None:
    meta = json.loads(open(ab).read())
    names = {pid: name for name, pid in meta["pids"].items()}
    posts = [p for spans in meta["spans"].values() for p, _ in spans]
    drains = [d for spans in meta["spans"].values() for _, d in spans]
    first = min(a for a, _ in posts)
    kinds: list[tuple[int, int, str]] = []
    for _, s, e in meta["writes"]:
        if any(s < b and e > a for a, b in posts):
            continue
        if any(s < b and e > a for a, b in drains):
            kinds.append((s, e, "draining"))
        elif e <= first:
            kinds.append((s, e, "idle"))
    kinds.sort()
    out = subprocess.run(
        ["perf", "script", "-i", trace, "-F", "comm,tid,pid,cpu,time,event,trace"], capture_output=True, text=True
    ).stdout
    tgid: dict[int, int] = {}
    comm: dict[int, str] = {}
    woken: dict[int, int] = {}
    since: dict[int, int] = {}
    segments: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # cpu -> (from, to, tid)
    waits: list[tuple[int, int, int, int]] = []  # (woke, ran, tid, cpu)
    dsleep: dict[int, int] = {}
    dspans: list[tuple[int, int, int]] = []
    entered: dict[int, int] = {}
    fsyncs: list[tuple[int, int, int]] = []  # (enter, exit, tid)
    server = meta["pids"]["server"]
    helper_wakes: list[int] = []  # a server thread other than the event loop's woke (ns)
    helper_names: list[str] = []  # the woken thread's name (comm), beside helper_wakes
    loop_preempted: list[int] = []  # the loop's thread left runnable (R) for another server thread
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        pid, tid, cpu, ns = int(m[2]), int(m[3]), int(m[4]), round(float(m[5]) * 1e9)
        event, rest = m[7], m[8]
        tgid[tid], comm[tid] = pid, m[1]
        if event.startswith("sys_enter_f"):
            entered[tid] = ns
            continue
        if event.startswith("sys_exit_f"):
            if tid in entered:
                fsyncs.append((entered.pop(tid), ns, tid))
            continue
        f = dict(FIELD.findall(rest))
        if event == "sched_wakeup":
            t = int(f["pid"])
            woken[t] = ns
            if tgid.get(t) == server and t != server:
                helper_wakes.append(ns)
                helper_names.append(f.get("comm", "?"))
            if t in dsleep:
                dspans.append((dsleep.pop(t), ns, t))
            continue
        if event != "sched_switch":
            continue
        prev, nxt = int(f["prev_pid"]), int(f["next_pid"])
        if cpu in since:
            segments[cpu].append((since[cpu], ns, prev))
        since[cpu] = ns
        state = f["prev_state"]
        if state.startswith("R"):
            woken[prev] = ns
            if prev == server and tgid.get(nxt) == server:
                loop_preempted.append(ns)
        elif state.startswith("D"):
            dsleep[prev] = ns
        if nxt in woken:
            waits.append((woken.pop(nxt), ns, nxt, cpu))

    def who(t: int) -> str:
        return "idle" if t == 0 else names.get(tgid.get(t, -1), "other")

    ours = ("server", "bench")
    rows: dict[str, list[tuple[float, dict[str, float], dict[str, float]]]] = defaultdict(list)
    starts = [s for s, _, _ in kinds]
    per: list[tuple[dict[str, float], dict[str, float]]] = [(defaultdict(float), defaultdict(float)) for _ in kinds]

    def each(a: int, b: int) -> list[int]:  # indexes of the syncs overlapping [a, b)
        got = []
        for j in range(max(0, bisect.bisect_left(starts, a) - 1), len(kinds)):
            if kinds[j][0] >= b:
                break
            if kinds[j][1] > a:
                got.append(j)
        return got

    for segs in segments.values():
        for a, b, t in segs:
            if who(t) in ours:
                for j in each(a, b):
                    per[j][0][f"run {who(t)}"] += overlap(a, b, *kinds[j][:2]) / 1e6
    by_cpu = {cpu: ([s[0] for s in segs], segs) for cpu, segs in segments.items()}
    for woke, ran, t, cpu in waits:
        if who(t) not in ours:
            continue
        for j in each(woke, ran):
            lo, hi = max(woke, kinds[j][0]), min(ran, kinds[j][1])
            if hi <= lo:
                continue
            per[j][0][f"cpu wait {who(t)}"] += (hi - lo) / 1e6
            froms, segs = by_cpu.get(cpu, ([], []))
            k = max(0, bisect.bisect_left(froms, lo) - 1)
            for a, b, h in segs[k:]:
                if a >= hi:
                    break
                per[j][1][f"{who(t)}<-{who(h)}"] += overlap(a, b, lo, hi) / 1e6
    for a, b, t in dspans:
        if who(t) in ours:
            for j in each(a, b):
                per[j][0][f"D {who(t)}"] += overlap(a, b, *kinds[j][:2]) / 1e6
    for a, b, t in fsyncs:
        w = who(t)
        for j in each(a, b):
            o = overlap(a, b, *kinds[j][:2]) / 1e6
            if w in ours:
                per[j][0][f"fsync {w} ({comm.get(t, t)})"] += o
            elif w == "followers":
                per[j][0]["followers in fsync"] += o
            elif w == "other":
                per[j][0]["others in fsync"] += o
    for label, times in (
        ("server helper wake-ups (n)", helper_wakes),
        ("loop preempted by own thread (n)", loop_preempted),
    ):
        for ns in times:
            for j in each(ns, ns + 1):
                per[j][0][label] += 1
    for ns, name in zip(helper_wakes, helper_names, strict=True):
        for j in each(ns, ns + 1):
            per[j][0][f"woke {name} (n)"] += 1
    for (s, e, kind), (parts, holders) in zip(kinds, per, strict=True):
        rows[kind].append(((e - s) / 1e6, parts, holders))
    calls: dict[tuple[str, str], list[float]] = defaultdict(list)
    for a, b, t in fsyncs:
        calls[(who(t), comm.get(t, str(t)))].append((b - a) / 1e6)
    print(
        "fsync/fdatasync calls over the whole trace (ms): "
        + "; ".join(
            f"{w}/{c}: {len(v)}, p50 {sorted(v)[len(v) // 2]:.2f} max {max(v):.2f}"
            for (w, c), v in sorted(calls.items())
            if w != "other" or len(v) > 20
        )
    )
    for kind in ("idle", "draining"):
        got = sorted(rows[kind], key=lambda r: r[0])
        if not got:
            continue
        keys = sorted({part for _, p, _ in got for part in p})
        n = len(got)
        print(
            f"\n{kind}: {n} writing syncs, p50 {got[n // 2][0]:.2f} p90 {got[int(n * 0.9)][0]:.2f} "
            f"p99 {got[min(n - 1, int(n * 0.99))][0]:.2f} max {got[-1][0]:.2f} ms"
        )
        for part in keys:
            v = sorted(p.get(part, 0.0) for _, p, _ in got)
            print(f"   {part:>32}: mean {sum(v) / n:.3f} p50 {v[n // 2]:.3f} p90 {v[int(n * 0.9)]:.3f} max {v[-1]:.3f}")
        print("   slowest:")
        for ms, parts, holders in reversed(got[-8:]):
            top = sorted(holders.items(), key=lambda kv: -kv[1])[:3]
            print(
                f"   {ms:6.2f} ms: "
                + ", ".join(f"{k} {v:.2f}" for k, v in sorted(parts.items()) if v >= 0.01)
                + " | CPU held by: "
                + ", ".join(f"{k} {v:.2f}" for k, v in top)
            )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
