"""An A/B of the receiving side of the browser hot path (issue 17): two builds, same messages.

    .venv/bin/python -m bench.hotpath_ab OLD_DIST [NEW_DIST]     # NEW_DIST: frontend/dist

Each run is `bench.browser_hotpath`'s live part (TT_BENCH_OFFLINE=0) with a second receiver
(TT_BENCH_COMPARE, bench/hotpath_receivers.py): every message reaches B and C at once, one build
each, so both pay for the same load. Run by run the builds swap places (B old and C new, then B
new and C old), so neither the fan-out's order nor B's service worker favours one. Prints each
run's p50s (replica, screen, when the row was painted: see bench.browser_hotpath, and each message's
step from B's replica to its list, which takes out the noise of the path before B) and, per
build, the median of its runs' p50s and the pooled p50 / p95 / p99 over every message.
TT_BENCH_ROUNDS (default 2: four runs), TT_BENCH_LIVE (default here 100) and
TT_BENCH_TRACE=1 pass through. A's side and the server are the same for both builds here: to
compare a sender or server change, run `bench.browser_hotpath` from two worktrees.
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
ROUNDS = int(os.environ.get("TT_BENCH_ROUNDS", "2"))


def run_once(at_b: Path, at_c: Path) -> dict[str, object]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        env = {
            **os.environ,
            "TT_BENCH_OFFLINE": "0",
            "TT_BENCH_LIVE": os.environ.get("TT_BENCH_LIVE", "100"),
            "TT_BENCH_FRONTEND": str(at_b),
            "TT_BENCH_COMPARE": str(at_c),
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
    old = Path(sys.argv[1]).resolve()
    new = Path(sys.argv[2] if len(sys.argv) > 2 else ROOT / "frontend" / "dist").resolve()
    keys = ("replica", "screen", "painted", "drawing", "draws")
    got: dict[str, dict[str, list[list[float]]]] = {name: {key: [] for key in keys} for name in ("old", "new")}
    header(f"Browser hot path, receiving side: {old} (old) against {new} (new), {ROUNDS * 2} runs")
    for round_no in range(ROUNDS):
        for b_name, c_name in (("old", "new"), ("new", "old")):
            figures = run_once(old if b_name == "old" else new, old if c_name == "old" else new)
            other = figures["other"]
            assert isinstance(other, dict)
            parts = ((b_name, "B", figures), (c_name, "C", other))
            line = []
            for name, where, source in parts:
                replica, screen = source["replica"], source["screen"]
                painted = source.get("painted") or [float("nan")]
                drawing = source.get("drawing") or [float("nan")]
                assert isinstance(replica, list) and isinstance(screen, list)
                assert isinstance(painted, list) and isinstance(drawing, list)
                got[name]["replica"].append(replica)
                got[name]["screen"].append(screen)
                got[name]["painted"].append(painted)
                got[name]["drawing"].append(drawing)
                draws = source.get("draws") or [float("nan")]
                assert isinstance(draws, list)
                got[name]["draws"].append(draws)
                line.append(
                    f"{name} at {where}: replica p50 {statistics.median(replica):.1f}, "
                    f"screen p50 {statistics.median(screen):.1f}, painted p50 {statistics.median(painted):.1f}, "
                    f"replica -> list p50 {statistics.median(drawing):.1f}, draws per message {draws[0]:.2f}"
                )
            info(f"round {round_no + 1}: " + "; ".join(line) + " ms")
            for key in ("timeline", "other_timeline"):
                steps = figures.get(key) or []
                assert isinstance(steps, list)
                for step_line in steps:
                    info(f"    {'B' if key == 'timeline' else 'C'} {step_line}")
    for name in ("old", "new"):
        runs = got[name]
        pooled = {key: [t for run in runs[key] for t in run] for key in runs}
        p50s = {key: statistics.median([statistics.median(run) for run in runs[key]]) for key in runs}
        info(
            f"{name}: median of the runs' p50s: replica {p50s['replica']:.1f} ms, screen {p50s['screen']:.1f} ms, "
            f"painted {p50s['painted']:.1f} ms, replica -> list {p50s['drawing']:.1f} ms, "
            f"draws per message {p50s['draws']:.2f}"
        )
        info(
            f"{name}: pooled replica p50 {statistics.median(pooled['replica']):.1f} / "
            f"p95 {pct(pooled['replica'], 0.95):.1f} / p99 {pct(pooled['replica'], 0.99):.1f} ms, "
            f"screen p50 {statistics.median(pooled['screen']):.1f} / p95 {pct(pooled['screen'], 0.95):.1f} ms, "
            f"painted p50 {statistics.median(pooled['painted']):.1f} / p95 {pct(pooled['painted'], 0.95):.1f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
