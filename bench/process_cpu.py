"""CPU time spent by this benchmark's own processes during a timed part, by kind.

On a shared 2-core machine a browser benchmark's wall clock moves with everyone else's load; the
CPU its own processes spend moves much less. Coming back online (bench/browser_hotpath.py part 3)
is bound by that CPU: the server, both pages and Chromium's IndexedDB thread take turns on two
cores. So this reads, from /proc, every process descended from this one (Playwright's driver,
Chromium's browser, renderer and helper processes, the server and its followers) before and
after the part, and sums the difference by kind: an A/B can then compare CPU as well as time.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")

#: pid -> (kind, CPU seconds so far)
Snapshot = dict[int, tuple[str, float]]


def _kind(cmdline: str) -> str:
    if "backend.cli" in cmdline or "bench.trace_server" in cmdline or "bench.profile_server" in cmdline:
        return "server"
    if "--type=renderer" in cmdline:
        return "renderer"
    if "--type=" in cmdline:
        return cmdline.split("--type=", 1)[1].split()[0]
    return "browser" if "chrom" in cmdline else "other"


def snapshot() -> Snapshot:
    """User + system CPU of every process descended from this one (Linux /proc)."""
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(entry.name)] = int(fields[1])
        stats[int(entry.name)] = fields
    ours = {os.getpid()}
    grew = True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in ours and pid not in ours}
        ours |= more
        grew = bool(more)
    ours.discard(os.getpid())
    found: Snapshot = {}
    for pid in ours:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stats[pid]
        found[pid] = (_kind(cmdline), (int(fields[11]) + int(fields[12])) / CLK_TCK)
    return found


def spent(before: Snapshot, after: Snapshot) -> dict[str, float]:
    """CPU ms by kind between two snapshots; renderers also one by one (`renderer 1`, ... in pid
    order: the page opened first is the lower pid)."""
    by_kind: Counter[str] = Counter()
    renderers = 0
    for pid, (kind, seconds) in sorted(after.items()):
        ms = (seconds - before.get(pid, (kind, 0.0))[1]) * 1000
        by_kind[kind] += ms
        if kind == "renderer" and ms >= 50:
            renderers += 1
            by_kind[f"renderer {renderers}"] += ms
    return dict(by_kind)


def describe(ms: dict[str, float], floor: float = 5) -> str:
    """One line, the biggest first; kinds under ``floor`` ms are left out (to 0.1 ms when it is
    under 1)."""
    total = sum(v for k, v in ms.items() if not k.startswith("renderer "))
    digits = 1 if floor < 1 else 0
    parts = [
        f"{kind} {value:.{digits}f}" for kind, value in sorted(ms.items(), key=lambda kv: -kv[1]) if value >= floor
    ]
    return f"{total:.{digits}f} ms in all: " + ", ".join(parts)
