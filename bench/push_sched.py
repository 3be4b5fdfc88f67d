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
    windows.sort()
    out = subprocess.run(
        ["perf", "script", "-i", trace, "-F", "tid,pid,cpu,time,event,trace"], capture_output=True, text=True
    ).stdout
    tgid: dict[int, int] = {}
    woken: dict[int, int] = {}
    waits: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    count: dict[str, int] = defaultdict(int)
    per_sync: dict[tuple[int, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    w = 0
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        pid, tid, _, t, event, rest = int(m[1]), int(m[2]), m[3], m[4], m[5], m[6]
        ns = int(round(float(t) * 1e9))
        tgid[tid] = pid
        f = dict(FIELD.findall(rest))
        if event == "sched_wakeup":
            woken[int(f["pid"])] = ns
            continue
        if f["prev_state"].startswith("R"):  # preempted: runnable from now, like a wake-up
            woken[int(f["prev_pid"])] = ns
        nxt = int(f["next_pid"])
        if nxt not in woken:
            continue
        woke = woken.pop(nxt)
        who = names.get(tgid.get(nxt, -1))
        if who not in ("server", "bench"):
            continue
        while w < len(windows) and windows[w][1] < woke:
            w += 1
        if w >= len(windows) or windows[w][0] > woke:
            continue
        mode = windows[w][2]
        culprit = names.get(tgid.get(int(f["prev_pid"]), -1), "other" if f["prev_pid"] != "0" else "idle")
        waits[mode][f"{who}<-{culprit}"] += (ns - woke) / 1e6
        per_sync[windows[w][:2]][f"{who}<-{culprit}"] += (ns - woke) / 1e6
        count[mode] += 1
    for mode in meta["spans"]:
        syncs = sum(1 for _, _, m in windows if m == mode)
        parts = sorted(waits[mode].items(), key=lambda kv: -kv[1])
        print(
            f"{mode:>10}: {syncs} syncs, {count[mode]} wake-ups, waited (ms per sync): "
            + ", ".join(f"{k} {v / max(syncs, 1):.3f}" for k, v in parts if v / max(syncs, 1) >= 0.005)
        )
        slow = sorted(((e - s) / 1e6, (s, e)) for s, e, m in windows if m == mode)[-4:]
        for ms, key in reversed(slow):
            top = sorted(per_sync[key].items(), key=lambda kv: -kv[1])[:3]
            print(f"{'':>12}{ms:.1f} ms: waited " + ", ".join(f"{k} {v:.2f}" for k, v in top))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
