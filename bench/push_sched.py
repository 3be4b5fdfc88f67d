"""Who delayed the syncs of bench 9's A/B (push_ab.py): a scheduler trace, attributed.

On the shared box the other workers' load moves the sync p99 more than anything we change, so
this reads a trace of every context switch taken during ``bench.push_ab`` and counts, for each
sync filed under a mode, how long its server's and its client's threads waited for a CPU after
being woken (wake-up to switch-in), and whose thread held that CPU until then: ours (followers,
receiver, server, bench) or another worker's ("other"). A change that keeps the followers off
the sync path shows as its share falling, whatever the other workers did meanwhile.

    TT_BENCH_AB_OUT=/tmp/ab.json perf record -q -k CLOCK_MONOTONIC -e sched:sched_switch \\
        -e sched:sched_wakeup -a -o /tmp/sched.data -- .venv/bin/python -m bench.push_ab nice5 idle
    .venv/bin/python -m bench.push_sched /tmp/sched.data /tmp/ab.json
"""

from __future__ import annotations

import bisect
import json
import re
import subprocess
import sys
from collections import defaultdict

LINE = re.compile(r"^\s*(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+sched:(sched_\w+):\s+(.*)$")
FIELD = re.compile(r"(\w+)=(\S+)")


def main(trace: str, ab: str) -> None:
    meta = json.loads(open(ab).read())
    names = {pid: name for name, pid in meta["pids"].items()}
    # Syncs of each mode's drains (push_delivery.classify: overlapping the drain, not a POST).
    posts = [p for spans in meta["spans"].values() for p, _ in spans]
    windows: list[tuple[int, int, str]] = []
    for mode, spans in meta["spans"].items():
        drains = [d for _, d in spans]
        for _, start, end in meta["probes"]:
            if any(start < b and end > a for a, b in drains) and not any(start < b and end > a for a, b in posts):
                windows.append((start, end, mode))
    first = min(a for a, _ in posts)
    windows += [(start, end, "(no drain)") for _, start, end in meta["probes"] if end <= first]
    windows.sort()
    out = subprocess.run(
        ["perf", "script", "-i", trace, "-F", "tid,pid,cpu,time,event,trace"], capture_output=True, text=True
    ).stdout
    tgid: dict[int, int] = {}
    woken: dict[int, int] = {}
    # Each CPU's run segments (start, end, tid), to share a wait out among whoever ran meanwhile.
    segments: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    since: dict[str, int] = {}
    pending: list[tuple[str, int, int, str, str, tuple[int, int]]] = []
    #: When a thread of the server or the bench went to sleep uninterruptibly (D: fsync, I/O).
    blocked: dict[int, int] = {}
    disk: list[tuple[int, int]] = []
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        pid, tid, cpu, event, rest = int(m[1]), int(m[2]), m[3], m[5], m[6]
        ns = round(float(m[4]) * 1e9)
        tgid[tid] = pid
        f = dict(FIELD.findall(rest))
        if event == "sched_wakeup":
            woken[int(f["pid"])] = ns
            if int(f["pid"]) in blocked:  # back from waiting on the disk (or a lock in the kernel)
                key_at = blocked.pop(int(f["pid"]))
                disk.append((key_at, ns))
            continue
        prev = int(f["prev_pid"])
        if f["prev_state"].startswith("D") and names.get(tgid.get(prev, -1)) in ("server", "bench"):
            blocked[prev] = ns
        if cpu in since:
            segments[cpu].append((since[cpu], ns, prev))
        since[cpu] = ns
        if f["prev_state"].startswith("R"):  # preempted: runnable from now, like a wake-up
            woken[prev] = ns
        nxt = int(f["next_pid"])
        if nxt not in woken:
            continue
        woke = woken.pop(nxt)
        who = names.get(tgid.get(nxt, -1))
        if who not in ("server", "bench"):
            continue
        i = bisect.bisect_right(windows, (woke, 1 << 62, ""))  # the sync this wait falls in, if any
        if i == 0 or windows[i - 1][1] < woke:
            continue
        window = windows[i - 1]
        pending.append((cpu, woke, ns, who, window[2], window[:2]))
    waits: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    per_sync: dict[tuple[int, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for cpu, woke, ns, who, mode, key in pending:
        runs = segments[cpu]
        j = bisect.bisect_left(runs, (woke - 1_000_000_000, 0, 0))
        for a, b, t in runs[j:]:
            if a >= ns:
                break
            overlap = min(b, ns) - max(a, woke)
            if overlap <= 0:
                continue
            culprit = "idle" if t == 0 else names.get(tgid.get(t, -1), "other")
            waits[mode][f"{who}<-{culprit}"] += overlap / 1e6
            per_sync[key][f"{who}<-{culprit}"] += overlap / 1e6
    for a, b in disk:  # uninterruptible sleeps within a sync, filed like the waits
        i = bisect.bisect_right(windows, (a, 1 << 62, ""))
        if i and windows[i - 1][1] >= a:
            waits[windows[i - 1][2]]["server/bench in D (disk)"] += (b - a) / 1e6
            per_sync[windows[i - 1][:2]]["server/bench in D (disk)"] += (b - a) / 1e6
    for mode in ["(no drain)", *meta["spans"]]:
        syncs = sum(1 for _, _, m in windows if m == mode)
        parts = sorted(waits[mode].items(), key=lambda kv: -kv[1])
        print(
            f"{mode:>10}: {syncs} syncs, waited (ms per sync): "
            + ", ".join(f"{k} {v / max(syncs, 1):.3f}" for k, v in parts if v / max(syncs, 1) >= 0.005)
        )
        # What the push work (followers, receiver) cost each sync: the tail is what a p99 of ~50 sees.
        own = sorted(
            sum(v for k, v in per_sync[(a, b)].items() if k.endswith(("followers", "receiver")))
            for a, b, m in windows
            if m == mode
        )
        if own:
            print(
                f"{'':>12}followers + receiver, per sync: p50 {own[len(own) // 2]:.2f}, p90 "
                f"{own[int(len(own) * 0.9)]:.2f}, max {own[-1]:.2f} ms; over 0.5 ms: {sum(o > 0.5 for o in own)}"
            )
        slow = sorted(((e - s) / 1e6, (s, e)) for s, e, m in windows if m == mode)[-4:]
        for ms, key in reversed(slow):
            top = sorted(per_sync[key].items(), key=lambda kv: -kv[1])[:3]
            print(f"{'':>12}{ms:.1f} ms: waited " + ", ".join(f"{k} {v:.2f}" for k, v in top))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
