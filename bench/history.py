"""Benchmark 3: a new device fetching history — one channel's 10,000 messages, and a full
100,000-message bootstrap.

Seeding (not timed as a target): 10 people post 100,000 messages of 60-100 characters of
chat-like text into 10 public channels (10,000 each, #general among them) through
POST /api/sync in pushes of 500, the most a push may carry.

A new device is a fresh sign-in (a new session) with empty cursors. It syncs with
`limit: 5000` (the server's page cap) until `more` is false, through httpx with
`Accept-Encoding: gzip`, decoding every reply. Figures: the wall time of that whole paged
sync (the sign-in before it is not counted), and the bytes on the wire: the response bodies as
sent, compressed (httpx's `num_bytes_downloaded`; response headers, ~0.6 KB per page, excluded).

- 10,000 messages: a person who is only in #general. Targets: ≤ 0.5 s and ≤ 1.5 MB.
- 100,000 messages: a person in all 10 channels. Target: ≤ 5 s.
"""

from __future__ import annotations

import asyncio
import time

from backend.tokens import ulid
from bench.common import (
    Device,
    Failed,
    Server,
    cpu_meter,
    header,
    info,
    median,
    verdict,
    workspace,
)
from bench.text import TextMaker
from sync_protocol.replica import Replica
from sync_protocol.wire import SyncResponse

AUTHORS = 10
CHANNELS = 10
PER_CHANNEL = 10_000
PUSH = 500
RUNS_10K = 5
RUNS_100K = 3
TARGET_10K_S = 0.5
TARGET_10K_MB = 1.5
TARGET_100K_S = 5.0


async def seed(base_url: str) -> tuple[list[Device], list[str], float]:
    """10 authors, 10 channels of PER_CHANNEL messages each; returns (authors, channel ids, seconds)."""
    authors = await workspace(base_url, AUTHORS)
    owner = authors[0]
    general = await owner.channel_id("general")
    channels = [general]
    creating = [
        owner.mutation("channels", ulid(), {"name": f"project-{i}", "kind": "public"}) for i in range(1, CHANNELS)
    ]
    channels += [m.id for m in creating]
    await owner.sync(creating, limit=1)
    for author in authors:  # everyone joins every channel (#general they are in already)
        joins = [
            author.mutation("members", f"{c}:{author.user_id}", {"channel": c, "user": author.user_id})
            for c in channels[1:]
        ]
        await author.sync(joins, limit=1)
    make_text = TextMaker(3)
    start = time.perf_counter()
    turn = 0
    for channel in channels:
        for _ in range(PER_CHANNEL // PUSH):
            author = authors[turn % AUTHORS]
            turn += 1
            batch = [author.message(channel, make_text()) for _ in range(PUSH)]
            # limit 1: the seeding devices do not need the log echoed back.
            reply = await author.sync(batch, limit=1)
            if len(reply.acks) != PUSH:
                raise Failed(f"seeding: {len(reply.acks)} of {PUSH} acked")
    return authors, channels, time.perf_counter() - start


async def bootstrap(base_url: str, email: str) -> tuple[float, int, int, int, int, list[SyncResponse]]:
    """Sign in as a new device and sync everything: (seconds, wire bytes, body bytes, changes, pages, replies)."""
    device = await Device(base_url, gzip=True).sign_in(email)  # its keep-alive connection is open now
    replies: list[SyncResponse] = []
    wire = body = changes = 0
    start = time.perf_counter()
    while True:
        response = await device.sync_httpx(device.body([], limit=5000))
        reply = device.check(response.status_code, response.content)
        wire += response.num_bytes_downloaded
        body += len(response.content)
        changes += len(reply.changes)
        replies.append(reply)
        if not reply.more:
            break
    elapsed = time.perf_counter() - start
    await device.close()
    return elapsed, wire, body, changes, len(replies), replies


async def run() -> None:
    header(
        f"3. new device: paged sync (limit 5000, MessagePack, gzip) of {PER_CHANNEL:,} and "
        f"{PER_CHANNEL * CHANNELS:,} messages"
    )
    with Server("history") as server:
        authors, channels, seconds = await seed(server.base_url)
        total = PER_CHANNEL * CHANNELS
        info(
            f"(seeded {total:,} messages in {total // PUSH} pushes of {PUSH} in {seconds:.1f} s = "
            f"{total / seconds:,.0f} accepted changes/s, with fsync)"
        )
        owner = authors[0]
        reader = await Device(server.base_url).sign_up("Reader", "reader@example.com", await owner.invite())
        everywhere = await Device(server.base_url).sign_up("Everywhere", "everywhere@example.com", await owner.invite())
        await everywhere.sync(
            [
                everywhere.mutation("members", f"{c}:{everywhere.user_id}", {"channel": c, "user": everywhere.user_id})
                for c in channels[1:]
            ],
            limit=1,
        )

        # --- one channel, 10,000 messages ------------------------------------------------------
        runs = []
        with cpu_meter(server) as used:
            for _ in range(RUNS_10K):
                runs.append(await bootstrap(server.base_url, "reader@example.com"))
        times = [r[0] for r in runs]
        _, wire, body, changes, pages, replies = runs[0]
        messages = sum(1 for reply in replies for c in reply.changes if c.collection == "messages")
        if messages != PER_CHANNEL:
            raise Failed(f"the reader got {messages} messages, expected {PER_CHANNEL}")
        verdict("3a 10k-message channel, wall time", median(times), TARGET_10K_S, "s", higher_is_better=False)
        verdict("3a 10k-message channel, bytes on the wire", wire / 1e6, TARGET_10K_MB, "MB", higher_is_better=False)
        info(
            f"median of {RUNS_10K} fresh devices: " + ", ".join(f"{t:.3f}" for t in times) + f" s; {changes:,} changes"
            f" in {pages} pages; {body / 1e6:.2f} MB of MessagePack gzipped to {wire / 1e6:.2f} MB "
            f"({wire / changes:.0f} B per change on the wire, {body / changes:.0f} B raw); server CPU "
            f"{used['server_cpu'] / RUNS_10K:.3f} s per bootstrap (sign-in's argon2 ≈ 0.2 s included)"
        )
        replica = Replica("benchdevice", "reader")
        start = time.perf_counter()
        for reply in replies:
            replica.apply_response(reply, int(time.time() * 1000))
        info(
            f"(for reference, not counted: applying those pages to the pure-Python sync_protocol.Replica "
            f"takes another {time.perf_counter() - start:.2f} s on the client)"
        )

        # --- everything, 100,000 messages ------------------------------------------------------
        runs = []
        with cpu_meter(server) as used:
            for _ in range(RUNS_100K):
                runs.append(await bootstrap(server.base_url, "everywhere@example.com"))
        times = [r[0] for r in runs]
        _, wire, body, changes, pages, replies = runs[0]
        messages = sum(1 for reply in replies for c in reply.changes if c.collection == "messages")
        if messages != total:
            raise Failed(f"the bootstrap got {messages} messages, expected {total}")
        verdict("3b 100k-message bootstrap, wall time", median(times), TARGET_100K_S, "s", higher_is_better=False)
        info(
            f"median of {RUNS_100K} fresh devices: " + ", ".join(f"{t:.2f}" for t in times) + f" s; {changes:,} "
            f"changes in {pages} pages; {wire / 1e6:.1f} MB on the wire ({body / 1e6:.1f} MB raw); server CPU "
            f"{used['server_cpu'] / RUNS_100K:.2f} s per bootstrap ({used['server_cpu'] / used['wall'] * 100:.0f}% "
            "of one core while it ran)"
        )
        for device in [*authors, reader, everywhere]:
            await device.close()


if __name__ == "__main__":
    asyncio.run(run())
