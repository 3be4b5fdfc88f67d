"""The live message's path step by step, for `TT_BENCH_TRACE=1` (bench/browser_hotpath.py): the
server's marks (bench/trace_server.py) and B's page's, put on one clock and told as the p50 of
each step."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from playwright.sync_api import Page


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


def trace_steps(b: Page, trace_file: Path, posted: list[float]) -> list[str]:
    """Each message's path, step by step (TT_BENCH_TRACE=1): the POST leaves A; the server has the
    push, has committed it, has handed its frame to B's socket; B's page hears the frame, its
    replica has it, its store has it, its list shows it."""
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
        ("committed", server.get("commit", {})),
        ("frame on B's socket", server.get("sent", {})),
        ("B's page hears it", frames),
        ("B's applyLive starts", arrived),
        ("B's replica has it", replica),
        ("B's store has it", patched),
        ("B's list shows it", screen),
    ]
    # The POST leaving A: the first after the push's arrival minus the wire (A's clock = B's).
    deltas: dict[str, list[float]] = {name: [] for name, _ in order}
    for label, at_arrive in server.get("arrive", {}).items():
        leaving = max((t for t in posted if t <= at_arrive + 5), default=None)
        previous = leaving
        for name, times in order:
            at = times.get(label)
            if at is None or previous is None:
                previous = None
                continue
            deltas[name].append(at - previous)
            previous = at
    return [f"-> {name} {statistics.median(values):.1f}" for name, values in deltas.items() if values] + [
        f"(clock offset page - server {offset:.1f} ms)"
    ]
