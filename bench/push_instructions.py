"""Instructions per pushed message, counted by valgrind: a figure that machine load cannot move.

On the shared 2-core box the wall-clock and CPU-time figures of bench 2 swing by ±20% or more
with what else runs (at load 8-15 an A/B of a 2-7% change is invisible). Valgrind's instruction
count (cachegrind, no cache simulation) is the same run after run, so an A/B of two trees in one
sitting says which one does less work per message. It is not time: cache misses, fsync and the
other processes are left out, so confirm a win with bench 2 on a quiet machine.

Four workloads (``TT_WORKLOADS="push push_one"`` picks some), in-process on tmpfs, each run twice
(FEW and MANY units of work over the same messages) so that start-up cancels:
- ``push``: SyncService.sync with 100 new messages into #general plus the device's cursors and
  ``limit: 100``, the reply encoded (bench 2a's request, without HTTP); the collector set as
  ``teamtalk serve`` sets it. The mutations are made before the counted pushes, the same number
  in both runs, so the figure is the server's work only. Since issue 15's sixth pass ``sync``
  replies with the push's own changes from memory, as ``sync_async`` (the HTTP path) always did;
  before, this workload also read them back from the log (~16k instructions per message).
- ``push_async``: the same pushes through ``SyncService.sync_async``, the call the HTTP handler
  makes (the group commit on the event loop).
- ``push_one``: single-message pushes through ``sync_async`` (1,200 against 200), per message:
  what a person sending one message at a time costs the server.
- ``index``: the search indexer's ``_index`` over units of 100 new messages (what the followers
  process does per push at one device's pace).

    .venv/bin/python -m bench.push_instructions          # needs valgrind (apt-get install valgrind)
    TT_WORKLOADS="push_async push_one" .venv/bin/python -m bench.push_instructions   # the HTTP path
    cd <other tree> && PYTHONPATH=. <this venv>/bin/python -m bench.push_instructions   # the A/B side

The text is drawn from a fixed word list with a fixed seed, so both trees index the same words.
"""

from __future__ import annotations

import gc
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

FEW, MANY = 2, 12
BATCH = 100
_WORDS = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
    "quebec romeo sierra tango uniform victor whiskey xray yankee zulu meeting budget roadmap release"
).split()


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(12))


def _push(units: int, batch: int = BATCH, via_http_path: bool = False) -> None:
    import asyncio

    import msgspec

    from backend.accounts import CurrentSession
    from backend.app import build_services
    from backend.settings import Settings
    from backend.storage.base import DeviceSession
    from backend.tokens import ulid
    from sync_protocol.hlc import Clock
    from sync_protocol.wire import PROTOCOL_VERSION, Mutation, SyncRequest

    class _NoHash:  # argon2 is start-up work, and slow under valgrind
        def hash(self, password: str) -> str:
            return "not-a-hash"

    services = build_services(Settings(data_dir=Path(tempfile.mkdtemp(dir=_tmp()))))
    services.accounts.hasher = _NoHash()  # type: ignore[assignment]
    now = 1_764_900_000_000
    account = services.accounts.create_account("Owner", "owner@example.com", "correct horse 9", None, now)
    with services.store.transaction():
        services.store.add_session(DeviceSession("benchdev", account.id, "bench", now, now), "token")
    actor = CurrentSession(account.id, "benchdev", account.role)
    clock, rng, encode = Clock("benchdev"), random.Random(7), msgspec.msgpack.Encoder().encode
    general = services.store.channels_of(account.id)[0]
    cursors = services.sync.sync(actor, SyncRequest(v=PROTOCOL_VERSION, changes=[], cursors={}), now).cursors
    # The mutations are made first, MANY units' worth in every run, as a device makes them before
    # it sends (bench 2's prepare): the difference of two runs is then the server's work alone
    # (making them, ids and text, was ~94k instructions per message inside the count before).
    batches: list[list[Mutation]] = []
    mid = 0
    for i in range(MANY * BATCH // batch):
        changes = []
        for _ in range(batch):
            mid += 1
            fields = {"channel": general, "text": _text(rng)}
            changes.append(Mutation(mid, "messages", ulid(), fields, clock.tick(now + i)))  # type: ignore[arg-type]
        batches.append(changes)
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)  # as `teamtalk serve` (backend/cli.py)

    async def pushes() -> None:
        nonlocal cursors
        for i, changes in enumerate(batches[:units]):
            request = SyncRequest(v=PROTOCOL_VERSION, changes=changes, cursors=cursors, limit=BATCH)
            if via_http_path:
                reply = await services.sync.sync_async(actor, request, now + i)
            else:
                reply = services.sync.sync(actor, request, now + i)
            encode(reply)
            cursors = reply.cursors

    asyncio.run(pushes())
    services.store.close()


def _index(units: int) -> None:
    from backend.feed import Committed
    from backend.search_index import SearchIndex
    from backend.search_store import Writer, open_index
    from backend.tokens import ulid
    from sync_protocol.wire import Change

    indexer = SearchIndex.__new__(SearchIndex)  # only _index and its writer: no feed, no thread
    indexer._writer = Writer()
    index = open_index(Path(tempfile.mkdtemp(dir=_tmp())) / "search.db")
    rng, channel, seq = random.Random(3), ulid(), 0
    for _ in range(units):
        changes = []
        for _ in range(BATCH):
            seq += 1
            fields = {"channel": channel, "text": _text(rng), "author": "u1", "at": 1_764_900_000_000, "n": seq}
            changes.append(Change(seq, "c:" + channel, "messages", ulid(), f"{seq:016d}-0000-dev", "u1", fields))  # type: ignore[arg-type]
        indexer._index(index, [Committed(changes)], seq)
    index.close()


def _tmp() -> str:
    return "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()


def _count(workload: str, units: int) -> int:
    """Instructions of one run of ``workload`` over ``units`` pushes, under cachegrind."""
    out = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "bench.push_instructions",
            "--run",
            workload,
            str(units),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=os.getcwd(),
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind:\n{out.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--run":
        WORKLOADS[sys.argv[2]][0](int(sys.argv[3]))
        return
    print(f"tree {os.getcwd()} (instructions per message: runs of {MANY} and {FEW} units, differenced)")
    for workload in os.environ.get("TT_WORKLOADS", "push index").split():
        per_unit = WORKLOADS[workload][1]
        start = time.perf_counter()
        few, many = FEW * BATCH // per_unit, MANY * BATCH // per_unit  # the same messages in every workload
        per = (_count(workload, many) - _count(workload, few)) / ((many - few) * per_unit)
        print(f"  {workload}: {per / 1000:.1f}k instructions per message ({time.perf_counter() - start:.0f} s)")


#: name: (the run, messages per unit).
WORKLOADS: dict[str, tuple[Callable[[int], None], int]] = {
    "push": (_push, BATCH),
    "push_async": (lambda units: _push(units, via_http_path=True), BATCH),
    "push_one": (lambda units: _push(units, batch=1, via_http_path=True), 1),
    "index": (_index, BATCH),
}


if __name__ == "__main__":
    main()
