"""Group commit (backend/storage/group_commit.py): pushes queued together share one COMMIT, a caller
hears of its result only once it is durable, and one push's failure never touches another's."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from backend.accounts import GENERAL_SETTING, CurrentSession
from backend.app import build_services
from backend.errors import ApiError
from backend.http.context import Services
from backend.settings import Settings
from backend.storage import chain, open_readonly
from backend.storage.base import DeviceSession, NewChange
from backend.storage.group_commit import AfterCommit, GroupCommit
from backend.storage.sqlite import SqliteStorage
from sync_protocol.hlc import Clock
from sync_protocol.wire import Mutation, SyncRequest, Value
from tests.integration.storage_contract.entries import _rows


class CountingStore(SqliteStorage):
    """Counts outermost transactions; ``fail_next_commit`` makes the next one fail as COMMIT would."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.transactions = 0
        self.fail_next_commit = False

    @contextmanager
    def transaction(self) -> Iterator[None]:
        outermost = not self._mine()
        with super().transaction():
            yield
            if outermost:
                self.transactions += 1
                if self.fail_next_commit:
                    self.fail_next_commit = False
                    raise sqlite3.OperationalError("disk I/O error")


def _entry(store: SqliteStorage, record_id: str) -> Callable[[], tuple[int, AfterCommit]]:
    change = NewChange("c:a", "messages", record_id, "1764172800000-00000-dev", "u1", "dev", 1, 1, {"text": "x"})
    return lambda: (store.append_change(change), lambda: None)


def _logged(store: SqliteStorage) -> list[tuple[int, str]]:
    return [(c.seq, c.id) for c in store.changes_after("c:a", 0, 100)]


def _chain_verifies(path: Path) -> bool:
    """The log is gap-free and its chain (extended from the rows as stored) verifies."""
    store = open_readonly(path)
    try:
        return chain.first_mismatch(_rows(store)) is None
    finally:
        store.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CountingStore]:
    made = CountingStore(tmp_path / "t.db")
    yield made
    made.close()


async def test_pushes_queued_together_share_one_commit(store: CountingStore) -> None:
    writes = GroupCommit(store)
    seqs = await asyncio.gather(*(writes.run(_entry(store, f"m{i}")) for i in range(5)))
    assert seqs == [1, 2, 3, 4, 5] and store.transactions == 1
    assert await writes.run(_entry(store, "m5")) == 6 and store.transactions == 2


async def test_a_group_holds_at_most_its_weight_of_changes(store: CountingStore) -> None:
    writes = GroupCommit(store, max_weight=10)
    await asyncio.gather(*(writes.run(_entry(store, f"m{i}"), weight=4) for i in range(3)))
    assert store.transactions == 2, "4 + 4 in one group, the third 4 in the next"
    await writes.run(_entry(store, "big"), weight=50)  # never less than one job
    assert store.transactions == 3


async def test_a_failing_job_rolls_back_alone(tmp_path: Path, store: CountingStore) -> None:
    writes = GroupCommit(store)

    def boom() -> tuple[int, AfterCommit]:
        store.append_change(NewChange("c:a", "messages", "lost", "1764172800000-00000-dev", "u1", "dev", 1, 1, {}))
        raise RuntimeError("a bug in one push")

    results = await asyncio.gather(
        writes.run(_entry(store, "m0")), writes.run(boom), writes.run(_entry(store, "m2")), return_exceptions=True
    )
    assert results[0] == 1 and isinstance(results[1], RuntimeError) and results[2] == 2
    assert store.transactions == 1
    assert _logged(store) == [(1, "m0"), (2, "m2")], "nothing of the failed job, and no gap"
    assert _chain_verifies(tmp_path / "t.db")


async def test_a_lone_job_that_raises_stores_nothing(store: CountingStore) -> None:
    writes = GroupCommit(store)

    def boom() -> tuple[int, AfterCommit]:
        _entry(store, "lost")()
        raise RuntimeError("a bug in the only push")

    with pytest.raises(RuntimeError):
        await writes.run(boom)
    assert _logged(store) == [] and await writes.run(_entry(store, "m1")) == 1


async def test_a_failed_commit_fails_every_job_of_its_group(store: CountingStore) -> None:
    writes = GroupCommit(store)
    ran: list[str] = []

    def job(name: str) -> Callable[[], tuple[str, AfterCommit]]:
        return lambda: (_entry(store, name)() and name, lambda: ran.append(name))

    store.fail_next_commit = True
    results = await asyncio.gather(writes.run(job("a")), writes.run(job("b")), return_exceptions=True)
    assert all(isinstance(r, sqlite3.OperationalError) for r in results)
    assert _logged(store) == [] and ran == [], "nothing stored, nothing fanned out"
    assert await writes.run(job("c")) == "c" and _logged(store) == [(1, "c")] and ran == ["c"]


async def test_callers_hear_only_after_the_commit_and_in_commit_order(tmp_path: Path, store: CountingStore) -> None:
    writes = GroupCommit(store)
    heard: list[tuple[str, int]] = []

    def committed() -> int:
        other = sqlite3.connect(tmp_path / "t.db")  # another connection sees only committed rows
        try:
            return int(other.execute("SELECT count(*) FROM changes").fetchone()[0])
        finally:
            other.close()

    def job(name: str) -> Callable[[], tuple[str, AfterCommit]]:
        def work() -> tuple[str, AfterCommit]:
            _entry(store, name)()
            return name, lambda: heard.append((name, committed()))

        return work

    async def push(name: str) -> str:
        result = await writes.run(job(name))
        heard.append((f"{name} resumed", committed()))
        return result

    assert list(await asyncio.gather(push("a"), push("b"), push("c"))) == ["a", "b", "c"]
    assert heard[:3] == [("a", 3), ("b", 3), ("c", 3)], "every after-commit step runs before any caller resumes"
    assert sorted(heard[3:]) == [("a resumed", 3), ("b resumed", 3), ("c resumed", 3)]


# --- through the sync service ----------------------------------------------------------------------


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    made = build_services(Settings(data_dir=tmp_path, frontend_dir=tmp_path / "no-frontend"))
    yield made
    made.close()


def _device(services: Services, name: str) -> tuple[CurrentSession, Clock]:
    now = int(time.time() * 1000)
    account = services.accounts.create_account(name, f"{name.lower()}@example.com", "correct horse battery", None, now)
    device = f"dev{name.lower()}"
    with services.store.transaction():
        services.store.add_session(DeviceSession(device, account.id, "test", now, now), f"token-{device}")
    return CurrentSession(account.id, device, account.role), Clock(device)


def _push(clock: Clock, *changes: tuple[int, str, dict[str, Value]]) -> SyncRequest:
    now = int(time.time() * 1000)
    mutations = [Mutation(mid, "messages", rid, fields, clock.tick(now)) for mid, rid, fields in changes]
    return SyncRequest(v=1, changes=mutations)


async def test_one_devices_failing_push_leaves_the_rest_of_its_group(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ada, ada_clock), (bob, bob_clock), (cat, cat_clock) = (_device(services, n) for n in ("Ada", "Bob", "Cat"))
    general = services.store.get_setting(GENERAL_SETTING)
    assert general is not None
    sync, now = services.sync, int(time.time() * 1000)
    real_apply = sync.changes.apply

    def apply_with_a_bug(*args: object, **kwargs: object) -> object:
        if args[5] == "01BOOM":
            raise RuntimeError("a bug while applying one change")
        return real_apply(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sync.changes, "apply", apply_with_a_bug)
    hello: dict[str, Value] = {"channel": general, "text": "hello"}
    results = await asyncio.gather(
        sync.push_async(ada, _push(ada_clock, (1, "01ADA1", hello)), now),
        sync.push_async(bob, _push(bob_clock, (1, "01BOB1", hello), (2, "01BOOM", hello)), now),
        sync.push_async(cat, _push(cat_clock, (1, "01CAT1", {"channel": general, "text": 5})), now),
        sync.push_async(cat, _push(cat_clock, (2, "01CAT2", hello)), now),
        return_exceptions=True,
    )
    assert results[0] == ([1], [])
    assert isinstance(results[1], RuntimeError)
    assert isinstance(results[2], ApiError) and results[2].status == 400, "a malformed batch is refused whole"
    assert results[3] == ([2], [])
    store = services.store
    assert store.get_record("messages", "01BOB1") is None, "the failed push left nothing behind"
    assert store.session(bob.device_id).last_mid == 0  # type: ignore[union-attr]
    assert store.get_record("messages", "01CAT1") is None
    numbers = {store.get_record("messages", m).state.fields["n"] for m in ("01ADA1", "01CAT2")}  # type: ignore[union-attr]
    assert numbers == {1, 2}, "channel numbers stay gap-free"
    assert _chain_verifies(tmp_path / "teamtalk.db")

    monkeypatch.undo()
    retried = _push(bob_clock, (1, "01BOB1", hello), (2, "01BOOM", hello))
    assert await sync.push_async(bob, retried, now) == ([1, 2], [])
    assert await sync.push_async(bob, retried, now) == ([1, 2], []), "a retry is acked again"
