"""bench/trace_loop.py: a message's server steps split into run, waiting for a core and blocked,
and what else happened in its window, from a trace file of the shape bench/trace_server.py writes."""

from __future__ import annotations

from pathlib import Path

from bench.trace_loop import around, parts, read, report

MS = 1_000_000  # ns


def _trace(tmp_path: Path) -> Path:
    lines = [
        # hotpath-1: decoded at 1000; 1 ms of waiting for a core lands in its COMMIT, 2 ms blocked.
        "S 1000.000 arrive hotpath-1 0 0",
        f"S 1000.500 drain hotpath-1 {MS // 2} 0",
        f"S 1000.600 begun hotpath-1 {MS // 2 + MS // 10} 0",
        f"S 1001.600 committing hotpath-1 {MS + MS // 10} 0",
        f"S 1005.100 commit hotpath-1 {MS + MS // 2 + MS // 10} {MS}",
        # A's answer on its sync socket may go out first: the window ends at B's live frame.
        f"S 1005.150 sent hotpath-1 {MS + MS // 2 + MS // 5} {MS} /api/sync/socket 300",
        f"S 1005.200 sent hotpath-1 {MS + MS // 2 + MS // 5} {MS} /api/live 120",
        f"G 1000.500 1005.100 {MS} {MS} messages:hotpath-1",
        # Another push's group (A's read cursor) and a checkpoint inside hotpath-1's window; a Head line.
        f"G 1002.000 1003.000 {MS // 2} 0 reads",
        "C 1003.000 1004.000 catch-up 0.700",
        "H 1005.150 Head",
        # A message that never reached its frame is left out.
        "S 2000.000 arrive hotpath-2 0 0",
    ]
    path = tmp_path / "loop.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_step_splits_into_run_wait_and_blocked(tmp_path: Path) -> None:
    trace = read(_trace(tmp_path))
    assert list(trace.messages) == ["hotpath-1"]
    msg = trace.messages["hotpath-1"]
    wall, run, wait, blocked = parts(msg, "commit")
    assert (round(wall, 3), round(run, 3), round(wait, 3), round(blocked, 3)) == (3.5, 0.5, 1.0, 2.0)
    assert round(msg.window, 3) == 5.2  # to B's live frame, not A's answer on its socket


def test_what_else_happened_in_the_window_is_named(tmp_path: Path) -> None:
    trace = read(_trace(tmp_path))
    found = around(trace, trace.messages["hotpath-1"])
    assert found["other commits (n)"] == 1  # not its own group
    assert found["... of them read cursors (n)"] == 1
    assert found["checkpoints (n)"] == 1
    assert found["catch-up under the store's lock (ms)"] == 0.7
    assert found["Head lines (n)"] == 1
    assert any("wait for a core 1.00" in line for line in report(trace))
