"""Bench 2a (one device, 100 pushes of 100 new messages) A/B in one sitting, sides alternating.

On the shared 2-core box one run of bench 2 against another says little: load moves changes/s
by ±20% or more between minutes. Alternating the two sides round by round (A B, B A, ...) and
comparing medians keeps the drift out of the ratio:

    TT_BENCH_BASE=/path/to/other/tree .venv/bin/python -m bench.throughput_ab   # that tree vs this one

The other tree needs only its own server and bench/throughput.py: this file runs there by path.

``TT_BENCH_ROUNDS`` (default 4) rounds; ``TT_BENCH_TMPFS=1`` puts the data on tmpfs (no fsync).
Each side runs as its own process in its own tree, so the server it starts is that tree's.

``TT_BENCH_FOLLOWERS=stop`` compares this tree with itself instead: the followers process (search
indexer, push sender) running, against it stopped (SIGSTOP) for the timed pushes only. It asks
whether the indexer, under SCHED_IDLE on the other core, still slows the server (issue 15).
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
from pathlib import Path

from bench.common import ROOT, Server, cpu_meter, percentile, workspace
from bench.text import TextMaker
from bench.throughput import SINGLE_PUSHES, prepare, pusher


def _followers(server: Server) -> list[int]:
    """The server's child processes (the followers process)."""
    return [
        int(child)
        for task in Path(f"/proc/{server.pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


async def _one(options: list[str], tmpfs: bool) -> tuple[float, float, float, float]:
    """One side, one round: changes/s, server CPU per change (µs), push round trip p50 and p99 (ms)."""
    stop = "--stop-followers" in options
    server = Server("throughput-ab", tmpfs=tmpfs)
    server.options = [option for option in options if option != "--stop-followers"]
    with server:
        owner = (await workspace(server.base_url, 1))[0]
        general = await owner.channel_id("general")
        make_text = TextMaker(2)
        await owner.pull_all()
        await pusher(owner, prepare(owner, general, 5, make_text), [])  # warm-up
        batches = prepare(owner, general, SINGLE_PUSHES, make_text)
        latencies: list[float] = []
        stopped = _followers(server) if stop else []
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        try:
            with cpu_meter(server) as used:
                accepted = await pusher(owner, batches, latencies)
        finally:
            for pid in stopped:
                os.kill(pid, signal.SIGCONT)
        await owner.close()
    return (
        accepted / used["wall"],
        used["server_cpu"] / accepted * 1e6,
        statistics.median(latencies) * 1e3,
        percentile(latencies, 99) * 1e3,
    )


def main() -> None:
    if sys.argv[1:2] == ["--side"]:  # a child: one measurement in the tree it runs in
        rate, cpu, p50, p99 = asyncio.run(_one(sys.argv[2:], os.environ.get("TT_BENCH_TMPFS") == "1"))
        print(f"{rate:.1f} {cpu:.2f} {p50:.3f} {p99:.3f}")
        return
    base = os.environ.get("TT_BENCH_BASE")
    sides: dict[str, tuple[Path, list[str]]]
    if os.environ.get("TT_BENCH_FOLLOWERS") == "stop":
        sides = {"A followers running": (ROOT, []), "B followers stopped": (ROOT, ["--stop-followers"])}
    elif base:
        sides = {"A " + base: (Path(base), []), "B this tree": (ROOT, [])}
    else:
        sys.exit("set TT_BENCH_BASE to the other tree (a checkout with its own .venv and build)")
    found: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in sides}
    for round_ in range(int(os.environ.get("TT_BENCH_ROUNDS", "4"))):
        order = list(sides.items()) if round_ % 2 == 0 else list(sides.items())[::-1]
        for name, (tree, options) in order:
            env = {**os.environ, "PYTHONPATH": str(tree)}
            # -P: the script's own folder (this tree's bench/, whose calendar.py shadows the
            # standard library's) stays off sys.path; the side imports from its tree only.
            command = [sys.executable, "-P", str(Path(__file__).resolve()), "--side", *options]
            out = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=True)
            rate, cpu, p50, p99 = map(float, out.stdout.split()[-4:])
            found[name].append((rate, cpu, p50, p99))
            print(
                f"round {round_} {name}: {rate:,.0f} changes/s, server CPU {cpu:.1f} µs per change, "
                f"push p50 {p50:.2f} ms, p99 {p99:.2f} ms (load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    for name, rows in found.items():
        print(
            f"{name}: median {statistics.median(r[0] for r in rows):,.0f} changes/s, server CPU "
            f"{statistics.median(r[1] for r in rows):.1f} µs per change, push p50 "
            f"{statistics.median(r[2] for r in rows):.2f} ms, p99 {statistics.median(r[3] for r in rows):.2f} ms"
        )


if __name__ == "__main__":
    main()
