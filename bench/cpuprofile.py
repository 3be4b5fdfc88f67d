"""A page's CPU profile (DevTools' sampling profiler), taken by a browser benchmark, summed up.

    .venv/bin/python -m bench.cpuprofile FILE.cpuprofile [TOP]

`bench.browser_hotpath` with TT_BENCH_PROFILE=DIR profiles A's and B's pages while they come back
online. This prints where each page's main thread spent its time: self time by function (with its
script and line: build the app unminified to read the names), then inclusive time of the functions
that hold the most, which is the split to look at first (apply, refresh, render, decode). A sample
every 250 us: the profiler's own cost is small next to the 5-10 ms steps looked for.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, CDPSession, Page

INTERVAL_US = 250


def start(context: BrowserContext, page: Page) -> CDPSession:
    session = context.new_cdp_session(page)
    session.send("Profiler.enable")
    session.send("Profiler.setSamplingInterval", {"interval": INTERVAL_US})
    session.send("Profiler.start")
    return session


def stop(session: CDPSession, path: Path) -> None:
    profile = session.send("Profiler.stop")["profile"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(profile))
    session.detach()


def _label(node: dict[str, Any]) -> str:
    frame = node["callFrame"]
    url = frame["url"].rsplit("/", 1)[-1]
    return f"{frame['functionName'] or '(anonymous)'} {url}:{frame['lineNumber'] + 1}" if url else frame["functionName"]


def summarize(profile: dict[str, Any], top: int) -> list[str]:
    nodes = {node["id"]: node for node in profile["nodes"]}
    parent: dict[int, int] = {}
    for node in profile["nodes"]:
        for child in node.get("children", []):
            parent[child] = node["id"]
    deltas = profile["timeDeltas"]
    self_ms: Counter[str] = Counter()
    total_ms: Counter[str] = Counter()
    for sample, delta in zip(profile["samples"], [*deltas[1:], 0], strict=True):
        ms = delta / 1000
        self_ms[_label(nodes[sample])] += ms
        seen: set[str] = set()
        at: int | None = sample
        while at is not None:  # each function once per sample, however deep it recurses
            label = _label(nodes[at])
            if label not in seen:
                total_ms[label] += ms
                seen.add(label)
            at = parent.get(at)
    wall = (profile["endTime"] - profile["startTime"]) / 1000
    busy = wall - self_ms["(idle)"]
    lines = [f"profile of {wall:.0f} ms: idle {self_ms['(idle)']:.0f}, busy {busy:.0f} ms"]
    # The garbage collector's pauses: runs of consecutive GC samples (a sample every 250 us).
    pauses: list[float] = []
    run = 0.0
    for sample, delta in zip(profile["samples"], [*deltas[1:], 0], strict=True):
        if nodes[sample]["callFrame"]["functionName"] == "(garbage collector)":
            run += delta / 1000
        elif run:
            pauses.append(run)
            run = 0.0
    if run:
        pauses.append(run)
    pauses.sort(reverse=True)
    lines.append(
        f"garbage collector {sum(pauses):.1f} ms in {len(pauses)} pauses; longest "
        + ", ".join(f"{ms:.1f}" for ms in pauses[:5])
        + f" ms; {sum(1 for ms in pauses if ms >= 2)} of 2 ms or more"
    )
    lines.append("self time:")
    lines += [f"  {ms:7.1f} ms  {label}" for label, ms in self_ms.most_common(top)]
    lines.append("inclusive time:")
    skip = {"(root)", "(idle)", "(program)", "(garbage collector)"}
    held = [(label, ms) for label, ms in total_ms.most_common(top + len(skip)) if label not in skip]
    lines += [f"  {ms:7.1f} ms  {label}" for label, ms in held[:top]]
    return lines


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    for line in summarize(json.loads(Path(sys.argv[1]).read_text()), top):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
