"""What the server did around each live message: reads a ``TT_TRACE_LOOP`` file (bench/trace_server.py).

    TT_BENCH_TRACE=1 TT_TRACE_LOOP=/tmp/loop.txt TT_BENCH_OFFLINE=0 .venv/bin/python -m bench.browser_hotpath
    .venv/bin/python -m bench.trace_loop /tmp/loop.txt

For every labelled push, each server step (push decoded -> group commit starts -> BEGIN done ->
COMMIT starts -> committed -> live frame handed to B's socket) split by the event loop thread's
scheduler counters into *run* (on a CPU: our Python, SQLite), *wait* (runnable, waiting for a
core: someone else had both) and *blocked* (neither: the WAL's fsync, the GIL held by another
thread, the store's lock). Printed as p50 / p99 per step, then the slowest 5% by decoded -> frame
handed against the rest: what each part of their time was, and what else happened in their
window (other pushes' group commits, e.g. the read cursors' ``reads``; WAL checkpoints; Head lines
to the followers process; other threads' and the followers process's CPU).
"""

from __future__ import annotations

import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

STEPS = ["arrive", "drain", "begun", "committing", "commit", "sent"]
NAMES = {
    "drain": "decoded -> group commit starts",
    "begun": "-> BEGIN done",
    "committing": "-> COMMIT starts",
    "commit": "-> committed",
    "sent": "-> frame to B",
}


@dataclass
class Message:
    label: str
    at: dict[str, tuple[float, int, int]] = field(default_factory=dict)  # step -> (ms, run ns, wait ns)
    threads: dict[str, dict[str, int]] = field(default_factory=dict)  # arrive/reply -> thread -> run ns

    @property
    def window(self) -> float:
        return self.at["sent"][0] - self.at["arrive"][0]


@dataclass
class Trace:
    messages: dict[str, Message]
    groups: list[tuple[float, float, int, int, str]]  # start, end, run ns, wait ns, what
    checkpoints: list[tuple[float, float, str, float]]  # start, end, kind, ms holding the store's lock
    heads: list[float]


def read(path: Path) -> Trace:
    messages: dict[str, Message] = {}
    groups, checkpoints, heads = [], [], []
    for line in path.read_text().splitlines():
        kind, at, *rest = line.split()
        t = float(at)
        if kind == "S":
            step, label, run, wait = rest[:4]
            if label == "-":
                continue
            if step == "sent" and rest[4] != "/api/live":
                step = "answer"  # A's answer over its sync socket
            msg = messages.setdefault(label, Message(label))
            msg.at.setdefault(step, (t, int(run), int(wait)))
        elif kind == "G":
            groups.append((t, float(rest[0]), int(rest[1]), int(rest[2]), rest[3]))
        elif kind == "C":
            checkpoints.append((t, float(rest[0]), rest[1], float(rest[2])))
        elif kind == "H" and rest[0] == "Head":
            heads.append(t)
        elif kind == "T":
            when, label, *parts = rest
            found = {}
            for part in parts:
                name, _, counters = part.rpartition("=")
                who, _task, comm = name.split(":", 2)
                key = f"{who}:{comm}"
                found[key] = found.get(key, 0) + int(counters.split(":")[0])
            messages.setdefault(label, Message(label)).threads.setdefault(when, found)
    whole = {k: m for k, m in messages.items() if all(s in m.at for s in STEPS)}
    return Trace(whole, groups, checkpoints, heads)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def parts(msg: Message, step: str) -> tuple[float, float, float, float]:
    """(wall, run, wait, blocked) ms of the step ending at ``step``."""
    before = STEPS[STEPS.index(step) - 1]
    t0, r0, w0 = msg.at[before]
    t1, r1, w1 = msg.at[step]
    wall, run, wait = t1 - t0, (r1 - r0) / 1e6, (w1 - w0) / 1e6
    return wall, run, wait, wall - run - wait


def around(trace: Trace, msg: Message) -> dict[str, float]:
    """What else happened between the push's arrival and its frame going out."""
    start, end = msg.at["arrive"][0], msg.at["sent"][0]
    found: dict[str, float] = defaultdict(float)
    for g_start, g_end, _run, _wait, what in trace.groups:
        if f":{msg.label}," in f"{what},":  # its own group
            continue
        overlap = min(end, g_end) - max(start, g_start)
        if overlap > 0:
            found["other commits (n)"] += 1
            found["other commits (ms in window)"] += overlap
            if "reads" in what:
                found["... of them read cursors (n)"] += 1
    for c_start, c_end, kind, held in trace.checkpoints:
        overlap = min(end, c_end) - max(start, c_start)
        if overlap > 0:
            found["checkpoints (n)"] += 1
            if kind == "catch-up":
                found["catch-up under the store's lock (ms)"] += held
    found["Head lines (n)"] = sum(1 for h in trace.heads if start <= h <= end)
    a, r = msg.threads.get("arrive"), msg.threads.get("reply")
    if a and r:
        for name, run in r.items():
            if name in a and not name.endswith("python") and name.startswith("srv"):
                found[f"{name} CPU (ms)"] += (run - a[name]) / 1e6
        fol = sum(run - a.get(name, run) for name, run in r.items() if name.startswith("fol"))
        found["followers process CPU (ms)"] += fol / 1e6
    return found


def report(trace: Trace) -> list[str]:
    msgs = sorted(trace.messages.values(), key=lambda m: float(m.label.rsplit("-", 1)[1]))
    lines = [f"{len(msgs)} messages with every step; ms, p50 / p99 (wall = run + wait for a core + blocked):"]
    for step in STEPS[1:]:
        cols = list(zip(*(parts(m, step) for m in msgs), strict=True))
        lines.append(
            f"  {NAMES[step]:32} "
            + "  ".join(
                f"{n} {statistics.median(c):5.2f} / {pct(list(c), 0.99):5.2f}"
                for n, c in zip(("wall", "run", "wait", "blocked"), cols, strict=True)
            )
        )
    windows = [m.window for m in msgs]
    lines.append(
        f"  decoded -> frame to B             wall {statistics.median(windows):5.2f} / {pct(windows, 0.99):5.2f}"
    )
    cut = pct(windows, 0.95)
    slow = [m for m in msgs if m.window >= cut]
    rest = [m for m in msgs if m.window < cut]
    for name, group in (("slowest 5%", slow), ("the rest", rest)):
        totals = [0.0, 0.0, 0.0, 0.0]
        for m in group:
            for step in STEPS[1:]:
                for i, v in enumerate(parts(m, step)):
                    totals[i] += v
        n = len(group) or 1
        lines.append(f"{name} ({len(group)}, window >= {cut:.1f} ms)" if group is slow else f"{name} ({len(group)})")
        lines.append(
            "  mean window {:.2f} ms = run {:.2f} + wait for a core {:.2f} + blocked {:.2f}".format(
                *(t / n for t in totals)
            )
        )
        lines.append(
            "  by step (mean wall ms): "
            + ", ".join(f"{NAMES[s].lstrip('-> ')} {sum(parts(m, s)[0] for m in group) / n:.2f}" for s in STEPS[1:])
        )
        seen: dict[str, float] = defaultdict(float)
        for m in group:
            for key, value in around(trace, m).items():
                seen[key] += value
        lines.append(
            "  around them (mean per message): " + ", ".join(f"{k} {v / n:.2f}" for k, v in sorted(seen.items()))
        )
    lines.append("slowest, one by one (step: wall run/wait/blocked):")
    for m in sorted(slow, key=lambda m: -m.window)[:12]:
        steps = "; ".join("{} {:.1f} {:.1f}/{:.1f}/{:.1f}".format(s, *parts(m, s)) for s in STEPS[1:])
        extra = ", ".join(f"{k} {v:.1f}" for k, v in around(trace, m).items() if v)
        lines.append(f"  {m.label} {m.window:.1f} ms: {steps} | {extra}")
    commits = trace.groups
    if commits:
        walls = [g[1] - g[0] for g in commits]
        runs = [g[2] / 1e6 for g in commits]
        waits = [g[3] / 1e6 for g in commits]
        lines.append(
            f"every group commit ({len(commits)}): "
            + ", ".join(
                f"{name} {statistics.median(values):.2f} / {pct(values, 0.99):.2f}"
                for name, values in (("wall", walls), ("run", runs), ("wait", waits))
            )
        )
        kinds: dict[str, int] = defaultdict(int)
        for g in commits:
            kinds["messages" if "hotpath" in g[4] else g[4].split(":")[0][:20]] += 1
        lines.append("  by what: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])))
    lines.append(
        f"checkpoints: {len(trace.checkpoints)} ({sum(1 for c in trace.checkpoints if c[2] == 'catch-up')} catch-ups); "
        f"Head lines: {len(trace.heads)}"
    )
    return lines


def main() -> int:
    print("\n".join(report(read(Path(sys.argv[1])))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
