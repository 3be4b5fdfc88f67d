"""The figures a benchmark reports: percentiles and medians, and the lines it prints, each
target line (``verdict``) also kept in RESULTS for run_all's summary.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


#: Draws for ``percentile_at``: enough that its median moves by less than a rank between seeds.
DRAWS = 401


def percentile_at(values: Sequence[float], q: float, n: int) -> float:
    """The q-th percentile that ``n`` of ``values`` show: their own when there are ``n``, else the
    median over DRAWS draws of ``n`` of them (without replacement, a fixed seed).

    A nearest-rank p99 over n samples is the slowest one for n <= 100, the second slowest above
    that, the third near 200, and so on: which order statistic it is, and so its expected value and its spread over a
    heavy tail, depend on n. Two p99s over different counts are two different statistics, and
    their ratio moves with the counts alone; at the same ``n`` they are the same statistic.
    """
    if len(values) <= n:
        return percentile(values, q)
    draw = random.Random(0)
    return median([percentile(draw.sample(values, n), q) for _ in range(DRAWS)])


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


#: Every target line, collected so run_all can print the summary.
RESULTS: list[tuple[str, str, bool]] = []
#: Set for a benchmark that run_all runs in a process of its own (``run_child``): its target
#: lines go to this file too, one JSON array each, and the parent adds them to its RESULTS.
RESULTS_FILE_ENV = "TT_BENCH_RESULTS"


def verdict(label: str, value: float, target: float, unit: str, higher_is_better: bool) -> str:
    """`label: value unit  (target ≥/≤ t)  PASS/MISS ×ratio`; ratio > 1 means better than the target."""
    ratio = (value / target if higher_is_better else target / value) if value else float("inf")
    ok = value >= target if higher_is_better else value <= target
    sign = "≥" if higher_is_better else "≤"
    needs = "" if ok else f"; needs {1 / ratio:.2f}× better"
    line = (
        f"{label}: {fmt(value)} {unit}   target {sign} {fmt(target)} {unit}   "
        f"{'PASS' if ok else 'MISS'} ({ratio:.2f}× the target{needs})"
    )
    RESULTS.append((label, line, ok))
    if path := os.environ.get(RESULTS_FILE_ENV):
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps([label, line, ok]) + "\n")
    print("  " + line, flush=True)
    return line


def fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if value < 1 else f"{value:.2f}"


def info(text: str) -> None:
    print("  " + text, flush=True)


def header(title: str) -> None:
    print(f"\n== {title}", flush=True)


async def run_child(module: str, cwd: Path, *args: str, wrapper: Sequence[str] = (), needs: str = "") -> None:
    """For run_all: ``python -m module args`` in a process of its own (the sync Playwright API
    cannot share run_all's asyncio loop; ``wrapper`` runs it inside another command, such as a
    private network namespace), its target lines added to this process's RESULTS so that the
    summary counts them. ``needs`` says what a failure may mean."""
    with tempfile.TemporaryDirectory(prefix="teamtalk-bench-") as tmp:
        results = Path(tmp) / "results.jsonl"
        env = {**os.environ, RESULTS_FILE_ENV: str(results)}
        process = await asyncio.create_subprocess_exec(*wrapper, sys.executable, "-m", module, *args, cwd=cwd, env=env)
        code = await process.wait()
        if results.exists():
            RESULTS.extend((label, line, ok) for label, line, ok in map(json.loads, results.read_text().splitlines()))
    if code != 0:
        raise RuntimeError(f"{module} failed{f' ({needs})' if needs else ''}")
