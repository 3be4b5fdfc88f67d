"""Chat at scale (issue 3): server search over 1,000,000 messages, and a new device's first usable
channel list with 200 channels and 1,000,000 messages on the server.

The data set is seeded in-process through the real push path (SyncService.push: validation, rights,
merge, numbering, hash chain, search index — everything a device's push does), then a real server
subprocess answers over HTTP. TT_BENCH_MESSAGES scales the message count (default 1,000,000).
"""

from __future__ import annotations

import asyncio
import os
import random
import time

import msgspec

from backend.accounts import CurrentSession
from backend.app import build_services
from backend.settings import Settings
from backend.storage.base import DeviceSession
from backend.tokens import ulid
from bench.common import PASSWORD, Device, Server, header, info, median, percentile, verdict
from bench.text import FastText
from sync_protocol.collections import member_id
from sync_protocol.hlc import Clock
from sync_protocol.wire import Mutation, SyncRequest

CHANNELS = 200
MESSAGES = int(os.environ.get("TT_BENCH_MESSAGES", "1000000"))
BATCH = 500
QUERIES = 200


def seed(server: Server) -> tuple[str, float]:
    """Owner, 200 channels, MESSAGES messages spread over them. Returns (owner email, seconds)."""
    services = build_services(Settings(data_dir=server.data / "db"))
    services.followers.start()  # the search indexer runs in the followers process
    now = int(time.time() * 1000)
    account = services.accounts.create_account("Owner", "owner@example.com", PASSWORD, None, now)
    with services.store.transaction():
        services.store.add_session(DeviceSession("seedseed", account.id, "seed", now, now), "seed-token")
    actor = CurrentSession(account.id, "seedseed", account.role)
    clock = Clock("seedseed")
    mids = iter(range(1, 10**9))

    def push(changes: list[tuple[str, str, dict[str, str | int | bool | None]]]) -> None:
        stamp = int(time.time() * 1000)
        muts = [Mutation(next(mids), c, i, f, clock.tick(stamp)) for c, i, f in changes]
        services.sync.push(actor, SyncRequest(v=1, changes=muts), stamp)

    start = time.perf_counter()
    channels = [ulid() for _ in range(CHANNELS)]
    for chunk in range(0, CHANNELS, 100):
        batch: list[tuple[str, str, dict[str, str | int | bool | None]]] = []
        for i, channel in enumerate(channels[chunk : chunk + 100], start=chunk):
            batch.append(("channels", channel, {"name": f"team-{i:03d}", "kind": "public"}))
            batch.append(("members", member_id(channel, account.id), {"channel": channel, "user": account.id}))
        push(batch)
    text = FastText(seed=11)
    rng = random.Random(3)
    sent = 0
    while sent < MESSAGES:
        size = min(BATCH, MESSAGES - sent)
        push([("messages", ulid(), {"channel": rng.choice(channels), "text": text()}) for _ in range(size)])
        sent += size
        if sent % 100_000 == 0:
            info(f"seeded {sent:,} messages ({sent / (time.perf_counter() - start):,.0f}/s in-process)")
    seeded = time.perf_counter() - start
    head = services.store.head_hash()[0]
    if not services.search.wait(head, timeout_s=1800):
        raise RuntimeError("the search index did not catch up within 30 minutes")
    info(f"search index caught up {time.perf_counter() - start - seeded:.1f} s after the last push")
    services.close()
    return "owner@example.com", seeded


async def first_channel_list(base_url: str, email: str) -> tuple[float, float, int, int]:
    """Sign in as a new device; time from the first sync request to a reply holding the channel list,
    and to the end of the whole recent-first bootstrap."""
    device = await Device(base_url, gzip=True).sign_in(email)
    try:
        t0 = time.perf_counter()
        reply = await device.sync_httpx(msgspec.msgpack.encode(SyncRequest(v=1, cursors={}, limit=5000, recent=50)))
        first = time.perf_counter() - t0
        decoded = device.check(reply.status_code, reply.content)
        channels = sum(1 for c in decoded.changes if c.collection == "channels")
        replies, more = 1, decoded.more
        while more:
            body = msgspec.msgpack.encode(SyncRequest(v=1, cursors=device.cursors, limit=5000, recent=50))
            reply = await device.sync_httpx(body)
            decoded = device.check(reply.status_code, reply.content)
            replies, more = replies + 1, decoded.more
        return first, time.perf_counter() - t0, channels, replies
    finally:
        await device.close()


async def search_latency(base_url: str, email: str) -> dict[str, list[float]]:
    device = await Device(base_url).sign_in(email)
    queries = {
        "rare word": ["invoice contract", "candidate interview", "holiday flight", "proposal sales"],
        "common word": ["the", "deploy", "thanks", "meeting"],
        "phrase": ['"release notes"', '"looks good"', '"on friday"', '"the build"'],
        "with filters": ["in:#team-007 deploy", "deploy after:2020-01-01", "in:#team-123 the", "from:@owner lunch"],
        "two letters": ["ok", "pr", "10", "no"],
    }
    timings: dict[str, list[float]] = {kind: [] for kind in queries}
    try:
        for i in range(QUERIES):
            kind = list(queries)[i % len(queries)]
            q = queries[kind][(i // len(queries)) % len(queries[kind])]
            t0 = time.perf_counter()
            reply = await device.http.get("/api/search", params={"q": q, "limit": 50})
            timings[kind].append((time.perf_counter() - t0) * 1000)
            if reply.status_code != 200:
                raise RuntimeError(f"search {q!r}: {reply.status_code} {reply.text}")
    finally:
        await device.close()
    return timings


async def run() -> None:
    header(f"Chat at scale: {CHANNELS} channels, {MESSAGES:,} messages (search, first channel list)")
    server = Server("scale")
    try:
        email, seconds = seed(server)
        info(f"seeded in {seconds:.0f} s ({MESSAGES / seconds:,.0f} messages/s through SyncService.push in-process)")
        info(f"database: {sum(f.stat().st_size for f in (server.data / 'db').iterdir()) / 1e6:,.0f} MB")
        server.start()
        first, whole, channels, replies = await first_channel_list(server.base_url, email)
        info(f"first reply carried {channels} channels; recent-first bootstrap finished in {replies} replies")
        verdict("new device: usable channel list (first reply)", first, 1.0, "s", higher_is_better=False)
        info(f"whole recent-first bootstrap (50 newest messages of each of {CHANNELS} channels): {whole:.2f} s")
        timings = await search_latency(server.base_url, email)
        every = [t for values in timings.values() for t in values]
        for kind, values in timings.items():
            info(f"search {kind:13s} p50 {median(values):7.1f} ms   p99 {percentile(values, 99):7.1f} ms")
        info(f"search, all {len(every)} queries: p50 {median(every):.1f} ms, p99 {percentile(every, 99):.1f} ms")
        verdict("search p50 over all queries", median(every), 100.0, "ms", higher_is_better=False)
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(run())
