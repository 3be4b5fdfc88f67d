"""An A/B of the live part of the browser hot path (issue 17): two builds, run by run.

    .venv/bin/python -m bench.hotpath_ab OLD_DIST [NEW_DIST]     # NEW_DIST: frontend/dist

Runs `bench.browser_hotpath`'s live part (TT_BENCH_OFFLINE=0) ROUNDS times for each build,
alternating (old, new, old, new, ...), so the machine's load falls on both alike; each run is a
fresh server and browser. Prints each run's p50s and, per build, the median of the runs' p50s
and the pooled p50 / p95 of every message. TT_BENCH_ROUNDS (default 3), TT_BENCH_LIVE (default
here 100) and TT_BENCH_TRACE=1 (each run's step-by-step timeline) pass through. To compare a
server change, run it from two worktrees instead: the build decides only the browser's side.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.browser_steps import pct
from bench.common import header, info

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = int(os.environ.get("TT_BENCH_ROUNDS", "3"))


def run_once(dist: Path) -> dict[str, object]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        env = {
            **os.environ,
            "TT_BENCH_OFFLINE": "0",
            "TT_BENCH_LIVE": os.environ.get("TT_BENCH_LIVE", "100"),
            "TT_BENCH_FRONTEND": str(dist),
            "TT_BENCH_JSON": out.name,
        }
        done = subprocess.run(
            [sys.executable, "-m", "bench.browser_hotpath"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"bench.browser_hotpath failed:\n{done.stdout}\n{done.stderr}")
        figures: dict[str, object] = json.loads(Path(out.name).read_text())
        return figures


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    builds = {
        "old": Path(sys.argv[1]).resolve(),
        "new": Path(sys.argv[2] if len(sys.argv) > 2 else ROOT / "frontend" / "dist").resolve(),
    }
    runs: dict[str, list[dict[str, object]]] = {name: [] for name in builds}
    header(f"Browser hot path, live part: A/B of two builds, {ROUNDS} alternating rounds")
    for round_no in range(ROUNDS):
        for name, dist in builds.items():
            figures = run_once(dist)
            runs[name].append(figures)
            replica, screen = figures["replica"], figures["screen"]
            assert isinstance(replica, list) and isinstance(screen, list)
            info(
                f"round {round_no + 1} {name}: replica p50 {statistics.median(replica):.1f} ms, "
                f"screen p50 {statistics.median(screen):.1f} ms, {figures['requests']:.2f} req/msg"
            )
            for line in figures.get("timeline") or []:  # type: ignore[union-attr]
                info(f"    {line}")
    for name, dist in builds.items():
        replica_p50s = [statistics.median(r["replica"]) for r in runs[name]]  # type: ignore[arg-type]
        screen_p50s = [statistics.median(r["screen"]) for r in runs[name]]  # type: ignore[arg-type]
        pooled_replica = [t for r in runs[name] for t in r["replica"]]  # type: ignore[attr-defined]
        pooled_screen = [t for r in runs[name] for t in r["screen"]]  # type: ignore[attr-defined]
        info(
            f"{name} ({dist}): median of p50s replica {statistics.median(replica_p50s):.1f} ms, "
            f"screen {statistics.median(screen_p50s):.1f} ms"
        )
        info(
            f"{name}: pooled replica p50 {statistics.median(pooled_replica):.1f} / "
            f"p95 {pct(pooled_replica, 0.95):.1f} / p99 {pct(pooled_replica, 0.99):.1f} ms, "
            f"screen p50 {statistics.median(pooled_screen):.1f} / p95 {pct(pooled_screen, 0.95):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
