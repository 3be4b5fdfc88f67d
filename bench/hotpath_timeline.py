"""The live message's path step by step, for `TT_BENCH_TRACE=1` (bench/browser_hotpath.py): the
server's marks (bench/trace_server.py) and B's page's, put on one clock and told as the p50 of
each step."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from playwright.sync_api import Page

from bench.browser_steps import pct


def clock_offset(page: Page) -> float:
    """The page's clock (timeOrigin + now) minus the server's (time.time()), in ms: the median of
    a few readings taken between two readings of ours."""
    readings = []
    for _ in range(15):
        before = time.time() * 1000
        theirs = page.evaluate("() => performance.timeOrigin + performance.now()")
        after = time.time() * 1000
        readings.append(theirs - (before + after) / 2)
    return statistics.median(readings)


def trace_steps(
    b: Page,
    trace_file: Path,
    posted: list[float],
    sent: list[float] | None = None,
    worker: list[list[float]] | None = None,
) -> list[str]:
    """Each message's path, step by step (TT_BENCH_TRACE=1): the click and A's send worker (asked,
    its write committed, the request left) when `sent` and `worker` are given; the server has the
    push, has committed it, has handed its frame to B's socket; B's page hears the frame, its
    replica has it, its store has it, its list shows it. Told as p50 / p99 of each step, then the
    same steps for the slowest 2% of messages by click -> B's replica (where the tail goes)."""
    offset = clock_offset(b)
    server: dict[str, dict[str, float]] = {}
    for line in trace_file.read_text().splitlines():
        step_name, label, at = line.split()
        server.setdefault(step_name, {}).setdefault(label, float(at) + offset)
    frames = dict(b.evaluate("() => [...window.__frames.entries()]"))
    arrived = dict(b.evaluate("() => [...window.__arrived.entries()]"))
    replica = dict(b.evaluate("() => [...window.__replica.entries()]"))
    patched = dict(b.evaluate("() => [...window.__patched.entries()]"))
    screen = dict(b.evaluate("() => [...window.__screen.entries()]"))
    order = [
        ("server has the request", server.get("request", {})),
        ("server has the push", server.get("arrive", {})),
        ("its group commit starts", server.get("drain", {})),
        ("its transaction has begun", server.get("begun", {})),
        ("its COMMIT starts", server.get("committing", {})),
        ("committed", server.get("commit", {})),
        ("frame on B's socket", server.get("sent", {})),
        ("B's page hears it", frames),
        ("B's applyLive starts", arrived),
        ("B's replica has it", replica),
        ("B's store has it", patched),
        ("B's list shows it", screen),
    ]
    # Per message: its steps in order, each the time from the one before.
    rows: dict[str, dict[str, float]] = {}
    for label, at_arrive in server.get("arrive", {}).items():
        row: dict[str, float] = {}
        # The request leaving A: the last one before the push's arrival (A's clock = B's).
        leaving = max((t for t in posted if t <= at_arrive + 5), default=None)
        previous: float | None = leaving
        index = int(label.rsplit("-", 1)[1])
        if sent is not None and index < len(sent) and leaving is not None:
            click = sent[index]
            job = min((w for w in worker or [] if w[0] >= click), default=None, key=lambda w: w[0])
            if job is not None and job[2] == leaving:
                row["A: click -> worker asked"] = job[0] - click
                row["A: worker's write commits"] = job[1] - job[0]
                row["A: request leaves"] = job[2] - job[1]
            elif leaving >= click:
                row["A: click -> request leaves"] = leaving - click
        for name, times in order:
            at = times.get(label)
            if at is None or previous is None:
                previous = None
                continue
            row[name] = at - previous
            previous = at
        if sent is not None and label in replica and index < len(sent):
            row["(click -> B's replica)"] = replica[label] - sent[index]
        rows[label] = row
    names = list(dict.fromkeys(name for row in rows.values() for name in row))
    deltas = {name: [row[name] for row in rows.values() if name in row] for name in names}
    lines = [f"-> {name} {statistics.median(values):.1f} / {pct(values, 0.99):.1f}" for name, values in deltas.items()]
    total = "(click -> B's replica)"
    if total in deltas and len(deltas[total]) >= 10:
        cut = pct(deltas[total], 0.98)
        slow = [row for row in rows.values() if row.get(total, 0) >= cut]
        # Where the slowest 5% lose their time: each step's excess over its own p50, summed over
        # those messages, as a share of their total excess (a tail spread over steps says load).
        # (The steps up to B's replica, whose sum the total is; B's store and list come after.)
        tail = [row for row in rows.values() if row.get(total, 0) >= pct(deltas[total], 0.95)]
        middle = {name: statistics.median(values) for name, values in deltas.items()}
        before = names[: names.index("B's replica has it") + 1] if "B's replica has it" in names else names
        excess = {name: sum(row[name] - middle[name] for row in tail if name in row) for name in before}
        whole = sum(row[total] - middle[total] for row in tail) or 1.0
        lines.append(
            f"the slowest {len(tail)} lose {whole / len(tail):.1f} ms each over the p50; by step: "
            + ", ".join(f"{name} {100 * value / whole:.0f}%" for name, value in excess.items())
        )
        lines.append(f"slowest {len(slow)} (click -> B's replica >= {cut:.1f} ms), each step:")
        for row in sorted(slow, key=lambda r: -r[total]):
            lines.append("  " + ", ".join(f"{name} {value:.1f}" for name, value in row.items()))
    return [*lines, f"(clock offset page - server {offset:.1f} ms)"]
