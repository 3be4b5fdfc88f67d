"""An A/B of coming back online (issue 17, bench/browser_hotpath.py part 3): two builds, run by run.

    .venv/bin/python -m bench.online_ab OLD_DIST [NEW_DIST]     # NEW_DIST: frontend/dist

Each run is `bench.browser_hotpath` on a fresh server with TT_BENCH_FRONTEND set to one build
(a short live part, TT_BENCH_LIVE default here 10, then 5,000 offline sends and back online).
The builds alternate, and swap which goes first each round, so a burst of load from elsewhere
falls on both. Prints each run's time and its processes' CPU (bench/process_cpu.py), then per
build the medians: on a shared machine the CPU figures move less than the times.
TT_BENCH_ROUNDS (default 4) rounds; other TT_BENCH_* variables pass through.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

from bench.common import header, info

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = int(os.environ.get("TT_BENCH_ROUNDS", "4"))
TIME = re.compile(r"back online with \d+ queued: all acked and applied: ([\d.]+) s")
CPU = re.compile(r"back online, CPU of this run's processes: (\d+) ms in all: (.*)")


def run_once(build: Path) -> tuple[float, dict[str, float]]:
    env = {**os.environ, "TT_BENCH_LIVE": os.environ.get("TT_BENCH_LIVE", "10"), "TT_BENCH_FRONTEND": str(build)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.browser_hotpath"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    found, cpu = TIME.search(done.stdout), CPU.search(done.stdout)
    if done.returncode != 0 or not found or not cpu:
        raise RuntimeError(f"bench.browser_hotpath failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    spent = {"all": float(cpu.group(1))}
    for part in cpu.group(2).split(", "):
        kind, _, ms = part.rpartition(" ")
        spent[kind] = float(ms)
    return float(found.group(1)), spent


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    builds = {"old": Path(sys.argv[1]), "new": Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "frontend" / "dist"}
    times: dict[str, list[float]] = {name: [] for name in builds}
    cpus: dict[str, list[dict[str, float]]] = {name: [] for name in builds}
    for round_ in range(ROUNDS):
        for name in list(builds) if round_ % 2 == 0 else list(builds)[::-1]:
            seconds, spent = run_once(builds[name])
            times[name].append(seconds)
            cpus[name].append(spent)
            print(
                f"  .. round {round_ + 1} {name}: {seconds:.2f} s, CPU {spent['all']:.0f} ms",
                file=sys.stderr,
                flush=True,
            )
    header("Back online with 5,000 queued: A/B of two builds, alternating (issue 17)")
    for name, build in builds.items():
        kinds = sorted(
            {k for spent in cpus[name] for k in spent},
            key=lambda k: -statistics.median(s.get(k, 0) for s in cpus[name]),
        )
        cpu = ", ".join(f"{k} {statistics.median(s.get(k, 0.0) for s in cpus[name]):.0f}" for k in kinds)
        info(
            f"{name} ({build}): median {statistics.median(times[name]):.2f} s "
            f"(runs {', '.join(f'{t:.2f}' for t in times[name])}); CPU ms, medians: {cpu}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
