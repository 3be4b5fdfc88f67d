"""Server CPU per single-message push as history grows (issue 17): flat within 1.3x from an empty
workspace to one with 1,000,000 stored messages.

In-process, so the figure is the server's own work and nothing else: the sync core
(SyncService.sync: validation, rights, merge, numbering, hash chain, commit, the pull of the reply)
and everything that follows the feed (the search indexer, now in the followers process, whose CPU
is added). History is seeded through the same push path in batches of 500, spread over 200
channels; at each level the device sends PUSHES single-message round trips, one at a time
PAUSE_S apart, each carrying its cursors like the app, and the process CPU (every thread:
time.process_time) over them and the indexer's catching up is divided by their count. Levels
are measured in growing order in one run, alternating channels.

    .venv/bin/python -m bench.push_cost                   # levels 0, 100,000, 1,000,000
    TT_BENCH_LEVELS=0,20000 .venv/bin/python -m bench.push_cost
    TT_PROFILE=1 ...                                       # also print the top functions per level
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import os
import pstats
import random
import tempfile
import time
from pathlib import Path

from backend.accounts import CurrentSession
from backend.app import build_services
from backend.settings import Settings
from backend.storage.base import DeviceSession
from backend.tokens import ulid
from bench.common import cpu_seconds, header, info, median, verdict
from bench.text import FastText
from sync_protocol.collections import member_id
from sync_protocol.hlc import Clock
from sync_protocol.wire import Mutation, SyncRequest

CHANNELS = 200
LEVELS = [int(x) for x in os.environ.get("TT_BENCH_LEVELS", "0,100000,1000000").split(",")]
PUSHES = int(os.environ.get("TT_BENCH_PUSHES", "200"))
#: Between two sends, as from a person typing (the search indexer batches what arrives within
#: search_index.COALESCE_S; set this above it to measure each message indexed alone).
PAUSE_S = float(os.environ.get("TT_BENCH_PAUSE_S", "0.08"))
ROUNDS = 3
BATCH = 500


class Workspace:
    """One owner with a device, CHANNELS channels, and a way to push as that device."""

    def __init__(self, data: Path) -> None:
        self.services = build_services(Settings(data_dir=data))
        self.services.followers.start()  # the search indexer runs in the followers process
        now = int(time.time() * 1000)
        account = self.services.accounts.create_account("Owner", "owner@example.com", "correct horse 9", None, now)
        with self.services.store.transaction():
            self.services.store.add_session(DeviceSession("benchdev", account.id, "bench", now, now), "bench-token")
        self.actor = CurrentSession(account.id, "benchdev", account.role)
        self.clock = Clock("benchdev")
        self.mid = 0
        self.cursors: dict[str, int] = {}
        self.stored = 0
        self.channels = [ulid() for _ in range(CHANNELS)]
        self.text = FastText(seed=17)
        self.rng = random.Random(5)
        for start in range(0, CHANNELS, 100):
            batch = []
            for i, channel in enumerate(self.channels[start : start + 100], start=start):
                batch.append(("channels", channel, {"name": f"team-{i:03d}", "kind": "public"}))
                batch.append(("members", member_id(channel, account.id), {"channel": channel, "user": account.id}))
            self.push(batch)
        # The device holds everything so far: its round trips then pull only what is new.
        self.catch_up()

    def push(self, changes: list[tuple[str, str, dict[str, str | int | bool | None]]]) -> None:
        stamp = int(time.time() * 1000)
        muts = []
        for collection, record_id, fields in changes:
            self.mid += 1
            muts.append(Mutation(self.mid, collection, record_id, fields, self.clock.tick(stamp)))
        self.services.sync.push(self.actor, SyncRequest(v=1, changes=muts), stamp)

    def catch_up(self) -> None:
        more = True
        while more:
            reply = self.services.sync.sync(self.actor, SyncRequest(v=1, cursors=self.cursors, limit=5000), 0)
            self.cursors.update(reply.cursors)
            more = reply.more

    def grow(self, to: int) -> None:
        while self.stored < to:
            size = min(BATCH, to - self.stored)
            self.push(
                [
                    ("messages", ulid(), {"channel": self.rng.choice(self.channels), "text": self.text()})
                    for _ in range(size)
                ]
            )
            self.stored += size
        self.catch_up()
        self.settle()

    def settle(self) -> None:
        head = self.services.store.log_head()
        if not self.services.search.wait(head, timeout_s=1800):
            raise RuntimeError("the search index did not catch up")

    def followers_cpu(self) -> float:
        """CPU seconds of the followers process (the search indexer) so far."""
        pid = self.services.followers.status().pid
        return cpu_seconds(pid) if pid is not None else 0.0

    def round_trip(self, i: int) -> None:
        """One send as the app makes it: one new message, the cursors, the reply applied."""
        stamp = int(time.time() * 1000)
        self.mid += 1
        fields: dict[str, str | int | bool | None] = {"channel": self.channels[i % CHANNELS], "text": self.text()}
        change = Mutation(self.mid, "messages", ulid(), fields, self.clock.tick(stamp))
        reply = self.services.sync.sync(self.actor, SyncRequest(v=1, changes=[change], cursors=self.cursors), stamp)
        self.cursors.update(reply.cursors)

    def measure(self) -> tuple[float, float]:
        """CPU ms per push (all threads, the indexer's catching up included) and main-thread ms."""
        self.settle()
        cpu0, main0, followers0 = time.process_time(), time.thread_time(), self.followers_cpu()
        for i in range(PUSHES):
            self.round_trip(i)
            time.sleep(PAUSE_S)
        main = time.thread_time() - main0
        self.settle()
        cpu = time.process_time() - cpu0 + self.followers_cpu() - followers0
        self.stored += PUSHES
        return cpu * 1000 / PUSHES, main * 1000 / PUSHES


def profile(workspace: Workspace) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    workspace.measure()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue()


async def run() -> None:
    header(f"Server CPU per single-message push at {', '.join(f'{n:,}' for n in LEVELS)} stored messages")
    with tempfile.TemporaryDirectory(prefix="tt-push-cost-") as tmp:
        workspace = Workspace(Path(tmp))
        figures: dict[int, float] = {}
        try:
            for level in LEVELS:
                t0 = time.perf_counter()
                workspace.grow(level)
                info(f"{workspace.stored:,} messages stored (seeded in {time.perf_counter() - t0:.0f} s)")
                totals, mains = [], []
                for _ in range(ROUNDS):
                    total, main = workspace.measure()
                    totals.append(total)
                    mains.append(main)
                figures[level] = median(totals)
                info(
                    f"at {level:>9,}: CPU per push {median(totals):.2f} ms (all threads), "
                    f"{median(mains):.2f} ms on the request thread; rounds {', '.join(f'{t:.2f}' for t in totals)}"
                )
                if os.environ.get("TT_PROFILE"):
                    print(profile(workspace), flush=True)
        finally:
            workspace.services.close()
        base = figures[LEVELS[0]]
        for level in LEVELS[1:]:
            ratio = figures[level] / base
            verdict(f"push CPU at {level:,} vs {LEVELS[0]:,} stored (ratio)", ratio, 1.3, "x", higher_is_better=False)


if __name__ == "__main__":
    asyncio.run(run())
