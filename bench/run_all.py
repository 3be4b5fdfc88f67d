"""`make bench`: every benchmark in turn, then a summary of the targets.

    .venv/bin/python -m bench.run_all                 # all of them (~7-9 minutes)
    .venv/bin/python -m bench.run_all live history    # some of them, by name

Each benchmark starts its own server (a subprocess on 127.0.0.1 with a fresh data directory)
and stops it at the end. The load generator runs on the same machine as the server.
"""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

from bench import (
    archive_export,
    browser_hotpath,
    calendar,
    files,
    history,
    live_fanout,
    meetings,
    offline_depth,
    push_cost,
    push_delivery,
    render_50k,
    send_latency,
    server_scale,
    tasks_board,
    throughput,
)
from bench.common import RESULTS, ROOT, cpu_probe

BENCHMARKS: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {
    "sends": send_latency.run,
    "throughput": throughput.run,
    "history": history.run,
    "live": live_fanout.run,
    "render": render_50k.run,
    "scale": server_scale.run,
    "archive": archive_export.run,
    "push": push_delivery.run,
    "hotpath": browser_hotpath.run,
    "pushcost": push_cost.run,
    "offline": offline_depth.run,
    "files": files.run,
    "tasks": tasks_board.run,
    "calendar": calendar.run,
    "meetings": meetings.run,
}


def _busy_jiffies() -> int:
    """CPU time the whole machine spent busy (all cores), in clock ticks."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq + steal


def _ours() -> float:
    """CPU seconds of this process and its finished children (the servers, the fleet)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _machine() -> str:
    model = "?"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        mem_gib = int(meminfo.readline().split()[1]) / (1 << 20)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "backend", "sync_protocol"], cwd=ROOT, capture_output=True, text=True
    )
    code = commit.stdout.strip() or "? (not a git checkout)"
    return (
        f"{os.cpu_count()} cores ({model}), {mem_gib:.0f} GiB, Linux {platform.release()}, "
        f"Python {platform.python_version()}; code at {code}"
        f"{' + uncommitted changes in backend/ or sync_protocol/' if dirty.stdout.strip() else ''}"
    )


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    print(f"TeamTalk benchmarks — {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"machine: {_machine()}")
    print(
        "The load generator and the server share this machine (127.0.0.1); client CPU is not free, so each\n"
        "benchmark also prints the server's own CPU time per operation, and the CPU probe (bench/cpu_probe.py:\n"
        "a fixed loop, ~11-12 ms on the reference VM in its usual minutes, 15-19 ms in its slow ones)."
    )
    failed = []
    began = time.perf_counter()
    ticks = os.sysconf("SC_CLK_TCK")
    cores = os.cpu_count() or 1
    for name in chosen:
        probe0 = cpu_probe()
        busy0, ours0, wall0 = _busy_jiffies(), _ours(), time.perf_counter()
        try:
            asyncio.run(BENCHMARKS[name]())
        except Exception:  # one broken benchmark must not hide the others' figures
            failed.append(name)
            print(f"  ERROR in {name}:")
            traceback.print_exc(file=sys.stdout)
        wall = time.perf_counter() - wall0
        other = (_busy_jiffies() - busy0) / ticks - (_ours() - ours0)
        share = max(0.0, other) / (wall * cores) * 100
        note = "  <- other work on this machine competed; figures may be pessimistic" if share > 10 else ""
        print(
            f"  ({name}: {wall:.0f} s; processes outside the benchmark used {share:.0f}% of the machine; "
            f"CPU probe {probe0:.1f} ms before, {cpu_probe():.1f} ms after){note}",
            flush=True,
        )
    print(f"\n== summary ({time.perf_counter() - began:.0f} s)")
    for _, line, _ok in RESULTS:
        print("  " + line)
    misses = sum(1 for *_, ok in RESULTS if not ok)
    print(
        f"  {len(RESULTS) - misses} PASS, {misses} MISS"
        + (f", {len(failed)} ERROR ({', '.join(failed)})" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
