"""Benchmark 1: single-message sends, one POST /api/sync round trip each.

One device over one keep-alive connection sends one message per request (MessagePack, with its
cursors, as the app does) and waits for the reply before the next: messages/s = sends / wall
time, and the latency of each round trip. The reply carries the device's own message back
(seq, n), exactly as for a real device. Target: ≥ 1,000 messages/s (a Matrix homeserver on
SQLite manages 51/s on this kind of test).

Every send is one SQLite transaction made durable (synchronous=FULL) before the reply, so the
disk's commit latency is part of each round trip. To tell disk from CPU the benchmark also
times a bare SQLite commit on the same filesystem, and repeats a shorter run with the data on
tmpfs, where fsync costs nothing.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.common import (
    Device,
    Failed,
    Server,
    commit_probe,
    cpu_meter,
    header,
    info,
    median,
    percentile,
    verdict,
)
from bench.text import TextMaker

SENDS = 3000
ROUNDS = 3
WARMUP = 200
HTTPX_SENDS = 300
TMPFS_SENDS = 1000
TARGET_PER_S = 1000.0


async def measure(server: Server, rounds: int, per_round: int, httpx_sends: int = 0) -> dict[str, Any]:
    owner = await Device(server.base_url).sign_up("Owner", "owner@example.com")
    general = await owner.channel_id("general")
    await owner.pull_all()
    make_text = TextMaker()
    texts = [make_text() for _ in range(WARMUP + rounds * per_round + httpx_sends)]

    async def send(text: str) -> float:
        body = owner.body([owner.message(general, text)])
        start = time.perf_counter()
        status, content = await owner.post_sync(body)
        elapsed = time.perf_counter() - start
        if len(owner.check(status, content).acks) != 1:
            raise Failed("a send was not acked")
        return elapsed

    for text in texts[:WARMUP]:
        await send(text)
    latencies: list[float] = []
    rates: list[float] = []
    with cpu_meter(server) as used:
        for r in range(rounds):
            start = time.perf_counter()
            for text in texts[WARMUP + r * per_round : WARMUP + (r + 1) * per_round]:
                latencies.append(await send(text))
            rates.append(per_round / (time.perf_counter() - start))
    result: dict[str, Any] = {
        "rates": rates,
        "latencies": latencies,
        "cpu_per_send": used["server_cpu"] / (rounds * per_round),
    }
    if httpx_sends:
        # The same through httpx, for comparison: its client CPU is ~1.5-2 ms per request here.
        httpx_lat: list[float] = []
        start = time.perf_counter()
        for text in texts[WARMUP + rounds * per_round :]:
            body = owner.body([owner.message(general, text)])
            t0 = time.perf_counter()
            reply = await owner.sync_httpx(body)
            httpx_lat.append(time.perf_counter() - t0)
            owner.check(reply.status_code, reply.content)
        result["httpx_rate"] = httpx_sends / (time.perf_counter() - start)
        result["httpx_lat"] = httpx_lat
    await owner.close()
    return result


def _latency(latencies: list[float]) -> str:
    return (
        f"p50 {percentile(latencies, 50) * 1e3:.2f} ms   p90 {percentile(latencies, 90) * 1e3:.2f} ms   "
        f"p99 {percentile(latencies, 99) * 1e3:.2f} ms   max {max(latencies) * 1e3:.1f} ms"
    )


async def run(sends: int = SENDS) -> None:
    header(
        f"1. single-message sends: {sends:,} × POST /api/sync with one change (MessagePack, one keep-alive "
        "connection, one at a time)"
    )
    per_round = sends // ROUNDS
    with Server("sends") as server:
        disk = commit_probe(server.data)
        result = await measure(server, ROUNDS, per_round, HTTPX_SENDS)
    rates = result["rates"]
    verdict("1 sends/s (one at a time)", median(rates), TARGET_PER_S, "msg/s", higher_is_better=True)
    info(f"median of {ROUNDS} rounds of {per_round:,}: " + ", ".join(f"{r:,.0f}" for r in rates) + " msg/s")
    info("round trip " + _latency(result["latencies"]))
    per_send = result["cpu_per_send"]
    info(
        f"server CPU {per_send * 1e3:.2f} ms per send (user+sys, the commit's write and fsync syscalls included) "
        f"-> at most {1 / per_send:,.0f}/s on one core with no client cost and no I/O wait"
    )
    info(
        f"disk (a bare SQLite WAL commit, synchronous=FULL, same filesystem, timed just before): p50 "
        f"{disk['p50']:.2f} ms, p99 {disk['p99']:.2f} ms, mean {disk['mean']:.2f} ms -> at most "
        f"{disk['per_s']:,.0f} durable commits/s one after another"
    )
    info(
        f"through httpx.AsyncClient instead ({HTTPX_SENDS} sends): {result['httpx_rate']:,.0f} msg/s, "
        + _latency(result["httpx_lat"])
        + " (httpx's own CPU per request exceeds the server's)"
    )
    with Server("sends-tmpfs", tmpfs=True) as server:
        control = await measure(server, 1, TMPFS_SENDS)
    info(
        f"control with the data on tmpfs (fsync free; {TMPFS_SENDS:,} sends): {control['rates'][0]:,.0f} msg/s, "
        + _latency(control["latencies"])
        + f", server CPU {control['cpu_per_send'] * 1e3:.2f} ms per send"
    )


if __name__ == "__main__":
    asyncio.run(run())
