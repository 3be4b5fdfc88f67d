"""run_all's summary holds the target lines of benchmarks run in a process of their own
(bench/report.py, ``run_child``): the Playwright benchmarks print PASS or MISS in a child, and
before this the summary after them read "0 PASS, 0 MISS"."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench import report

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
from bench.report import verdict
verdict("fast enough", 2.0, 1.0, "x", higher_is_better=True)
verdict("small enough", 2.0, 1.0, "x", higher_is_better=False)
"""


def _run(module: str, cwd: Path) -> None:
    # The child finds the repository's bench package as run_all's children do (cwd = ROOT there).
    asyncio.run(report.run_child(module, cwd, wrapper=["env", f"PYTHONPATH={ROOT}"]))


def test_a_child_benchmarks_verdicts_reach_the_summary(tmp_path: Path) -> None:
    (tmp_path / "child_bench.py").write_text(CHILD)
    before = len(report.RESULTS)
    try:
        _run("child_bench", tmp_path)
        assert [(label, ok) for label, _, ok in report.RESULTS[before:]] == [
            ("fast enough", True),
            ("small enough", False),
        ]
    finally:
        del report.RESULTS[before:]


def test_a_child_that_fails_raises_with_its_name(tmp_path: Path) -> None:
    (tmp_path / "broken_bench.py").write_text("raise SystemExit(3)\n")
    with pytest.raises(RuntimeError, match="broken_bench failed"):
        _run("broken_bench", tmp_path)
