"""Benchmark 4: live delivery latency, push to receipt, with 1,000 WebSocket clients in one
channel; and (bench.memory, benchmark 5) the server's RSS idle and with those connections.

51 accounts: a sender and 50 listeners, all in #general. The 1,000 connections to
/api/live?format=msgpack use the listeners' sessions, 20 sockets per session (a sign-in costs
~0.2 s of argon2 on the server, so 1,000 real sign-ins would take minutes; the server keeps one
hub entry per socket either way). They run in one separate process (bench.fleet), which
timestamps each frame when its bytes arrive.

The sender pushes one message per POST /api/sync, one every 50 ms; the clock starts just
before the POST. Latency = arrival of the `changes` frame carrying that message at each socket
minus that start (CLOCK_MONOTONIC in both processes). First with 100 sockets (control), then
with 1,000. Targets: p50 ≤ 5 ms and p99 ≤ 20 ms over all (push, socket) deliveries.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from bench.common import (
    ROOT,
    Device,
    Failed,
    Server,
    cpu_meter,
    header,
    info,
    percentile,
    verdict,
    workspace,
)
from bench.memory import MemoryLog
from bench.text import TextMaker

LISTENERS = 50
SOCKETS = 1000
CONTROL_SOCKETS = 100
PUSHES = 100
CONTROL_PUSHES = 50
SPACING_S = 0.05
TARGET_P50_MS = 5.0
TARGET_P99_MS = 20.0


class FleetProcess:
    """bench.fleet in a subprocess, one JSON command per line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, port: int, tokens: list[str]) -> FleetProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.fleet",
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=256 << 20,
        )
        fleet = cls(proc)
        await fleet.send({"port": port, "tokens": tokens})
        return fleet

    async def send(self, command: dict[str, Any], timeout: float = 120.0) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(command).encode() + b"\n")
        await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            raise Failed("the fleet process ended")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def connect(self, n: int) -> dict[str, Any]:
        answer = await self.send({"cmd": "connect", "n": n})
        if answer["failed"]:
            raise Failed(f"{answer['failed']} of {n} live connections failed")
        return answer

    async def stop(self) -> None:
        if self.proc.returncode is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write(b'{"cmd": "quit"}\n')
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def phase(
    server: Server, fleet: FleetProcess, sender: Device, channel: str, pushes: int, make_text: TextMaker
) -> dict[str, Any]:
    """`pushes` one-message pushes, SPACING_S apart; the deliveries as the fleet saw them."""
    await fleet.send({"cmd": "reset"})
    started: dict[str, int] = {}
    round_trips: list[float] = []
    due = time.perf_counter()
    with cpu_meter(server) as used:
        for _ in range(pushes):
            mutation = sender.message(channel, make_text())
            body = sender.body([mutation], limit=10)
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            due += SPACING_S
            start = time.perf_counter_ns()
            status, content = await sender.post_sync(body)
            round_trips.append((time.perf_counter_ns() - start) / 1e6)
            sender.check(status, content)
            started[mutation.id] = start
        await asyncio.sleep(0.5)  # the last frames land
    result = await fleet.send({"cmd": "dump", "t0": started})
    per_push = [[us / 1000 for us in lat] for lat in result["lat_us"].values()]
    result["all_ms"] = [ms for lat in per_push for ms in lat]
    result["last_ms"] = [max(lat) for lat in per_push if lat]
    result["first_ms"] = [min(lat) for lat in per_push if lat]
    result["rtt_ms"] = round_trips
    result["server_cpu"] = used["server_cpu"]
    result["pushes"] = pushes
    if result["missing"] or result["closed"]:
        raise Failed(f"{result['missing']} deliveries missing, {result['closed']} sockets closed")
    return result


def describe(result: dict[str, Any]) -> str:
    every, last = result["all_ms"], result["last_ms"]
    return (
        f"p50 {percentile(every, 50):.1f} ms, p99 {percentile(every, 99):.1f} ms over {len(every):,} deliveries; "
        f"the last socket of a push got it after p50 {percentile(last, 50):.1f} ms / "
        f"p99 {percentile(last, 99):.1f} ms, the first after p50 {percentile(result['first_ms'], 50):.1f} ms; "
        f"POST round trip p50 {percentile(result['rtt_ms'], 50):.1f} ms"
    )


async def run(sockets: int = SOCKETS, pushes: int = PUSHES) -> None:
    header(
        f"4. live delivery, push -> `changes` frame at each of {sockets:,} WebSockets in #general "
        f"(one push every {SPACING_S * 1000:.0f} ms)   + 5. server RSS"
    )
    with Server("live") as server:
        memory = MemoryLog(server)
        memory.mark("fresh server")
        start = time.perf_counter()
        devices = await workspace(server.base_url, LISTENERS + 1)
        sender, listeners = devices[0], devices[1:]
        general = await sender.channel_id("general")
        await sender.pull_all()
        info(
            f"(setup: {LISTENERS + 1} accounts in {time.perf_counter() - start:.1f} s; {sockets // LISTENERS} "
            "sockets per listener session)"
        )
        await asyncio.sleep(1.0)
        memory.mark("idle, accounts made")
        fleet = await FleetProcess.start(server.port, [d.token for d in listeners])
        try:
            make_text = TextMaker(4)
            await fleet.connect(CONTROL_SOCKETS)
            control = await phase(server, fleet, sender, general, CONTROL_PUSHES, make_text)
            opened = await fleet.connect(sockets - CONTROL_SOCKETS)
            await asyncio.sleep(1.0)
            memory.mark(f"{opened['connected']:,} connections open, idle")
            result = await phase(server, fleet, sender, general, pushes, make_text)
            memory.mark(f"{opened['connected']:,} connections, after {pushes} pushes")
        finally:
            await fleet.stop()
        every = result["all_ms"]
        verdict(
            f"4 live delivery p50, {sockets:,} sockets",
            percentile(every, 50),
            TARGET_P50_MS,
            "ms",
            higher_is_better=False,
        )
        verdict(
            f"4 live delivery p99, {sockets:,} sockets",
            percentile(every, 99),
            TARGET_P99_MS,
            "ms",
            higher_is_better=False,
        )
        info(f"{sockets:,} sockets: " + describe(result))
        per_push = result["server_cpu"] / pushes
        info(
            f"server CPU {per_push * 1e3:.1f} ms per push (≈ {per_push / sockets * 1e6:.0f} µs per socket, "
            f"the push itself included) = {per_push / SPACING_S * 100:.0f}% of one core at one push per "
            f"{SPACING_S * 1e3:.0f} ms"
        )
        info(f"control, {CONTROL_SOCKETS} sockets ({CONTROL_PUSHES} pushes): " + describe(control))
        frames = max(result["frames"], 1)
        info(
            f"receivers (bench.fleet, one process): {result['cpu_s'] / result['wall_s'] * 100:.0f}% of one core "
            f"during the pushes, {result['cpu_s'] / frames * 1e6:.1f} µs of CPU per frame received -> "
            f"{sockets:,} frames take it ≈ {result['cpu_s'] / frames * sockets * 1e3:.1f} ms per push, spread "
            "over the time the server needs to send them (see the first-to-last spread above)"
        )
        memory.report(sockets)
        for device in devices:
            await device.close()


if __name__ == "__main__":
    asyncio.run(run())
