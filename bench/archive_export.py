"""Archive export at scale (benchmark 8): `teamtalk archive export` of 100,000 messages — wall and
CPU time, the export process's peak RSS, the archive's size, and `archive verify` of it; then the
CSV and Slack (zip) formats and a filtered export, measured the same way.

The store is seeded in-process through the real push path (SyncService.push: validation, rights,
merge, numbering, the hash chain, the deletion wipe and its redaction) on a clock that runs over
100 simulated days, so the Slack layout has many daily files: 10 people in 10 channels; of the
messages, 5% are thread replies, ~10% get edited, ~3% deleted by their author, ~10% get a
reaction (a tenth of those taken back); now and then someone leaves a channel and is added back.
Each command runs as a subprocess (`python -m backend.cli archive …`); its peak RSS is the VmHWM
it reads from its own /proc/self/status as it exits, its CPU time comes from wait4.

TT_BENCH_ARCHIVE_MESSAGES changes the message count (default 100,000). The 1,000,000-message
variant is opt-in, TT_BENCH_ARCHIVE_1M=1: seeding a million messages alone takes ~2 minutes on
the reference box, and the export another ~1.5.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from backend.accounts import AccountService, CurrentSession
from backend.settings import Settings
from backend.storage.base import DeviceSession
from backend.storage.sqlite import SqliteStorage
from backend.sync_service import SyncService
from backend.tokens import ulid
from bench.common import PASSWORD, ROOT, header, info, verdict
from bench.text import FastText
from sync_protocol.collections import member_id, reaction_id
from sync_protocol.hlc import Clock
from sync_protocol.wire import Mutation, SyncRequest, Value

MESSAGES = int(os.environ.get("TT_BENCH_ARCHIVE_MESSAGES", "100000"))
MILLION = os.environ.get("TT_BENCH_ARCHIVE_1M", "") not in ("", "0")
PEOPLE = 10
CHANNELS = 10
DAYS = 100
BATCH = 500
DAY_MS = 86_400_000
#: Targets: an export's memory must not grow with the number of messages (the export of 100,000
#: messages used to peak at ~510 MB); its time should stay near what it was (~7 s per 100,000).
RSS_TARGET_MB = 150.0
WALL_TARGET_S = 10.0

Fields = dict[str, Value]


@dataclass
class Person:
    actor: CurrentSession
    clock: Clock
    mids: int = 0


class Seeder:
    """Pushes as the workspace's people, on a simulated clock that runs over DAYS days."""

    def __init__(self, data: Path, messages: int) -> None:
        self.settings = Settings(data_dir=data)
        data.mkdir(parents=True, exist_ok=True)
        self.store = SqliteStorage(self.settings.database)
        self.sync = SyncService(self.store, self.settings)
        self.messages = messages
        self.start = self.now = int(time.time() * 1000) - DAYS * DAY_MS - 60_000
        self.rng = random.Random(5)
        self.text = FastText(seed=13)
        self.people: list[Person] = []

    def push(self, person: Person, changes: list[tuple[str, str, Fields]]) -> None:
        muts = []
        for collection, record_id, fields in changes:
            person.mids += 1
            muts.append(Mutation(person.mids, collection, record_id, fields, person.clock.tick(self.now)))
        _, rejections = self.sync.push(person.actor, SyncRequest(v=1, changes=muts), self.now)
        if rejections:
            raise RuntimeError(f"seeding was refused: {rejections[:3]}")

    def seed(self) -> None:
        accounts = AccountService(self.store, self.sync, self.settings)
        for i in range(PEOPLE):
            account = accounts.create_account(f"Person {i}", f"p{i}@example.com", PASSWORD, None, self.now)
            device = f"seed{i:04d}"
            with self.store.transaction():
                self.store.add_session(DeviceSession(device, account.id, "seed", self.now, self.now), f"tok-{i}")
            self.people.append(Person(CurrentSession(account.id, device, account.role), Clock(device)))
        owner = self.people[0]
        channels = [ulid(self.now) for _ in range(CHANNELS)]
        setup: list[tuple[str, str, Fields]] = []
        for i, channel in enumerate(channels):
            setup.append(("channels", channel, {"name": f"team-{i}", "kind": "public" if i % 3 else "private"}))
            setup += [
                ("members", member_id(channel, p.actor.user_id), {"channel": channel, "user": p.actor.user_id})
                for p in self.people
            ]
        self.push(owner, setup)
        recent: dict[str, list[tuple[str, str]]] = {p.actor.user_id: [] for p in self.people}  # (id, channel)
        tops: list[tuple[str, str]] = []
        sent = 0
        rng = self.rng
        while sent < self.messages:
            person = self.people[(sent // BATCH) % PEOPLE]
            mine = recent[person.actor.user_id]
            batch: list[tuple[str, str, Fields]] = []
            while len(batch) < BATCH - 3 and sent < self.messages:
                channel = rng.choice(channels)
                mid = ulid(self.now)
                fields: Fields = {"channel": channel, "text": self.text()}
                parents = [t for t in tops[-50:] if t[1] == channel]
                if parents and rng.random() < 0.05:
                    fields["thread"] = parents[-1][0]
                else:
                    tops.append((mid, channel))
                batch.append(("messages", mid, fields))
                sent += 1
                roll = rng.random()
                if mine and roll < 0.10:
                    batch.append(("messages", rng.choice(mine[-200:])[0], {"text": self.text()}))
                elif len(mine) > 20 and roll < 0.13:
                    victim = mine.pop(rng.randrange(len(mine) - 20, len(mine)))
                    batch.append(("messages", victim[0], {"deleted": True}))
                    tops = [t for t in tops[-100:] if t[0] != victim[0]]
                elif roll < 0.23 and len(tops) > 1:
                    target, where = tops[-2]
                    emoji = rng.choice("👍🎉👀")
                    rid = reaction_id(target, person.actor.user_id, emoji)
                    batch.append(
                        (
                            "reactions",
                            rid,
                            {
                                "message": target,
                                "channel": where,
                                "user": person.actor.user_id,
                                "emoji": emoji,
                                "on": True,
                            },
                        )
                    )
                    if rng.random() < 0.1:
                        batch.append(("reactions", rid, {"on": False}))
                mine.append((mid, channel))
                del mine[:-400]
            self.push(person, batch)
            if rng.random() < 0.2:  # someone leaves a channel and is added back a little later
                who = rng.choice(self.people[1:])
                channel = rng.choice(channels)
                self.push(who, [("members", member_id(channel, who.actor.user_id), {"left": True})])
                self.now += 1
                self.push(owner, [("members", member_id(channel, who.actor.user_id), {"left": False})])
            self.now = max(self.now + 1, self.start + sent * DAYS * DAY_MS // self.messages)
            if sent % 100_000 == 0:
                info(f"seeded {sent:,} messages")
        # A running server's followers keep the hash chain within a moment of the log
        # (backend/followers/chainer.py); seeded in-process, the chain is brought up here, so the
        # export below is timed as it runs beside a server, not hashing the whole log first.
        self.store.head_hash()
        self.store.close()


#: Runs `python -m backend.cli ARGS` and, as it exits, writes its own peak RSS (VmHWM of
#: /proc/self/status, in KB) to the file named by TT_BENCH_HWM.
_PROBE = """
import os, runpy, sys
try:
    runpy.run_module("backend.cli", run_name="__main__", alter_sys=True)
finally:
    with open("/proc/self/status") as status, open(os.environ["TT_BENCH_HWM"], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM:")).split()[1])
"""


@dataclass
class Run:
    seconds: float
    #: The child's own user + system CPU time: less disturbed than wall time by other work on the box.
    cpu: float
    rss_mb: float
    said: str

    def __str__(self) -> str:
        return f"{self.seconds:.1f} s ({self.cpu:.1f} s CPU), peak RSS {self.rss_mb:.0f} MB"


def run_cli(*args: str | Path) -> Run:
    """`python -m backend.cli ARGS` as a subprocess, timed, with its peak RSS and CPU time.

    The peak is the child's own VmHWM, read by the child itself as it exits: the ru_maxrss that
    wait4 or getrusage(RUSAGE_CHILDREN) report starts from the parent's RSS (the child is forked
    from this process, whose seeding made it ~100 MB), which would hide a smaller peak."""
    with tempfile.TemporaryDirectory() as tmp:
        hwm, out, err = Path(tmp) / "hwm", Path(tmp) / "out", Path(tmp) / "err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            started = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, "-c", _PROBE, *map(str, args)],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                env={**os.environ, "TT_BENCH_HWM": str(hwm)},
            )
            _, status, usage = os.wait4(proc.pid, 0)  # reaped here, for its CPU times
            seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, args))} exited {proc.returncode}: {err.read_text()[-2000:]}")
        return Run(seconds, usage.ru_utime + usage.ru_stime, int(hwm.read_text()) / 1024, out.read_text().strip())


def size_mb(path: Path) -> float:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6
    return path.stat().st_size / 1e6


def measure(messages: int, formats: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="teamtalk-bench-archive-"))
    try:
        data = work / "data"
        t0 = time.perf_counter()
        Seeder(data, messages).seed()
        database = data / "teamtalk.db"
        info(
            f"seeded {messages:,} messages over {DAYS} days in {time.perf_counter() - t0:.0f} s; "
            f"database {size_mb(database):,.0f} MB"
        )
        out = work / "archive.db"
        export = run_cli("archive", "export", out, "--data", data)
        info(f"export: {export}; archive {size_mb(out):,.0f} MB")
        verdict(
            f"8 archive export of {messages:,} messages: wall",
            export.seconds,
            WALL_TARGET_S * messages / 1e5,
            "s",
            higher_is_better=False,
        )
        verdict(
            f"8 archive export of {messages:,} messages: peak RSS",
            export.rss_mb,
            RSS_TARGET_MB,
            "MB",
            higher_is_better=False,
        )
        info(f"verify: {run_cli('archive', 'verify', out)}")
        if formats:
            for fmt, target in (("csv", work / "events.csv"), ("slack", work / "slack.zip")):
                run = run_cli("archive", "export", target, "--data", data, "--format", fmt)
                info(f"--format {fmt}: {run}; {size_mb(target):,.0f} MB")
            since = time.strftime("%Y-%m-%d", time.gmtime(time.time() - DAYS // 2 * 86_400))
            run = run_cli(
                "archive", "export", work / "half.db", "--data", data, "--since", since, "--channel", "team-1"
            )
            info(f"--since {since} --channel team-1: {run}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def run() -> None:
    header(f"Archive export: {MESSAGES:,} messages (wall time, peak RSS, size, verify)")
    measure(MESSAGES, formats=True)
    if MILLION:
        header("Archive export: 1,000,000 messages (TT_BENCH_ARCHIVE_1M=1)")
        measure(1_000_000, formats=False)
    else:
        info("the 1,000,000-message variant is opt-in: TT_BENCH_ARCHIVE_1M=1")


if __name__ == "__main__":
    asyncio.run(run())
