"""The storage conformance suite: every Storage implementation must pass it.

SQLite runs it now; the PostgreSQL store of the scale-out mode will be added to STORES, with
how to open it for writing and read-only (the same data: what the first writes, the second reads).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from backend.storage import chain, open_readonly
from backend.storage.base import (
    Account,
    DeviceSession,
    NewChange,
    PushJob,
    PushSubscription,
    ReadOnlyStore,
    Storage,
    StoredRecord,
    iter_pages,
)
from backend.storage.sqlite import SqliteStorage
from sync_protocol.merge import RecordState
from sync_protocol.wire import Value


class Backend(NamedTuple):
    open: Callable[[Path], Storage]
    open_readonly: Callable[[Path], Storage]


STORES: dict[str, Backend] = {
    "sqlite": Backend(lambda d: SqliteStorage(d / "t.db"), lambda d: open_readonly(d / "t.db")),
}


@pytest.fixture(params=sorted(STORES))
def backend(request: pytest.FixtureRequest) -> Backend:
    return STORES[request.param]


@pytest.fixture
def store(backend: Backend, tmp_path: Path) -> Iterator[Storage]:
    made = backend.open(tmp_path)
    yield made
    made.close()


@pytest.fixture
def reader(store: Storage, backend: Backend, tmp_path: Path) -> Iterator[Storage]:
    """The same store, opened read-only (as the CLI and the Datasette sign-in open it)."""
    made = backend.open_readonly(tmp_path)
    yield made
    made.close()


def _change(scope: str, record_id: str, text: str = "x") -> NewChange:
    return NewChange(scope, "messages", record_id, "1764172800000-00000-dev", "u1", "dev", 1, 1, {"text": text})


def test_the_change_log_is_gap_free_and_ordered_per_scope(store: Storage) -> None:
    with store.transaction():
        seqs = [store.append_change(_change("c:a" if i % 2 else "c:b", f"m{i}")) for i in range(6)]
    assert seqs == [1, 2, 3, 4, 5, 6]
    assert [c.seq for c in store.changes_after("c:a", 0, 10)] == [2, 4, 6]
    assert [c.seq for c in store.changes_after("c:a", 2, 10)] == [4, 6]
    assert [c.seq for c in store.changes_after("c:a", 0, 2)] == [2, 4]
    assert store.scope_head("c:a") == 6 and store.scope_head("c:b") == 5 and store.scope_head("c:none") == 0
    assert store.scope_heads(["c:a", "c:none"]) == {"c:a": 6, "c:none": 0}


def test_scope_heads_inside_a_transaction_see_its_own_changes(store: Storage) -> None:
    with store.transaction():
        store.append_change(_change("c:a", "m1"))
    with store.transaction():
        store.append_change(_change("c:b", "m2"))
        assert store.scope_heads(["c:a", "c:b"]) == {"c:a": 1, "c:b": 2}
    assert store.scope_heads(["c:a", "c:b", "c:c"]) == {"c:a": 1, "c:b": 2, "c:c": 0}


def test_the_greatest_clock_and_which_mutations_changed_a_record(store: Storage) -> None:
    assert store.greatest_clock() is None
    late = NewChange("c:a", "messages", "m2", "1764172899999-00003-dev", "u1", "dev", 2, 1, {"text": "y"})
    with store.transaction():
        store.append_change(late)
        store.append_change(_change("c:a", "m1"))  # later in the log, earlier by its clock
    assert store.greatest_clock() == "1764172899999-00003-dev"
    assert store.mutation_applied("dev", 1, "messages", "m1")
    assert store.mutation_applied("dev", 2, "messages", "m2")
    assert not store.mutation_applied("dev", 2, "messages", "m1")
    assert not store.mutation_applied("other", 1, "messages", "m1")


def test_a_rolled_back_transaction_leaves_nothing_and_no_gap(store: Storage) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.append_change(_change("c:a", "m1"))
        store.put_record("messages", "m1", StoredRecord("c:a", RecordState({"text": "x"}, {})))
        raise RuntimeError("boom")
    assert store.changes_after("c:a", 0, 10) == [] and store.get_record("messages", "m1") is None
    with store.transaction():
        assert store.append_change(_change("c:a", "m2")) == 1


def test_after_commit_callbacks_run_only_after_a_commit(store: Storage) -> None:
    ran: list[str] = []
    with pytest.raises(RuntimeError), store.transaction():
        store.after_commit(lambda: ran.append("rolled back"))
        raise RuntimeError("boom")
    with store.transaction():
        with store.transaction():  # nested: joins the outer one
            store.after_commit(lambda: ran.append("inner"))
        assert ran == []
    assert ran == ["inner"]


def test_records_round_trip_with_their_clocks(store: Storage) -> None:
    state = RecordState({"text": "héllo", "n": 3, "deleted": False, "topic": None}, {"text": "h1", "n": "h2"})
    with store.transaction():
        store.put_record("messages", "m1", StoredRecord("c:a", state))
    got = store.get_record("messages", "m1")
    assert got is not None and got.scope == "c:a" and got.state == state


def test_message_numbers_count_per_channel(store: Storage) -> None:
    with store.transaction():
        numbers = [store.next_message_number(c) for c in ("a", "a", "b", "a")]
    assert numbers == [1, 2, 1, 3]


def test_memberships(store: Storage) -> None:
    with store.transaction():
        store.set_membership("c1", "u1", True)
        store.set_membership("c2", "u1", True)
        store.set_membership("c1", "u2", True)
        store.set_membership("c2", "u1", False)
    assert store.channels_of("u1") == ["c1"] and store.members_of("c1") == ["u1", "u2"]
    assert store.is_member("c1", "u2") and not store.is_member("c2", "u1")


def test_accounts_sessions_and_rejections(store: Storage) -> None:
    with store.transaction():
        store.add_account(Account("u1", "a@b.c", "Ada", "owner", "hash", 1))
        store.add_session(DeviceSession("d1", "u1", "Firefox", 1, 1), "tokenhash")
        store.save_rejection("d1", 4, "forbidden", "no")
        store.set_last_mid("d1", 4)
    assert store.account_by_email("a@b.c") == store.account("u1")
    session = store.session_by_token("tokenhash")
    assert session is not None and session.id == "d1" and session.last_mid == 4
    assert store.rejection("d1", 4) == ("forbidden", "no") and store.rejection("d1", 3) is None
    with store.transaction():
        store.revoke_session("d1")
    assert store.sessions_of("u1") == []


def test_pages_cover_a_scope_exactly_once(store: Storage) -> None:
    with store.transaction():
        for i in range(25):
            store.append_change(_change("c:a", f"m{i}"))
    pages = list(iter_pages(store, "c:a", 0, 10))
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [c.id for p in pages for c in p] == [f"m{i}" for i in range(25)]


def _rows(store: Storage) -> list[chain.ChainRow]:
    with store.snapshot() as snapshot:
        return [chain.row_from_sql(r) for r in snapshot.stored_log()]


def test_the_change_log_is_hash_chained_and_verifies(store: Storage) -> None:
    with store.transaction():
        for i in range(5):
            store.append_change(_change("c:a", f"m{i}", f"text {i}"))
    rows = _rows(store)
    assert chain.first_mismatch(rows) is None
    assert store.head_hash() == (5, rows[-1].hash)
    assert rows[0].hash != rows[1].hash


def test_altering_one_value_breaks_the_chain_at_that_entry(store: Storage) -> None:
    with store.transaction():
        for i in range(5):
            store.append_change(_change("c:a", f"m{i}", f"text {i}"))
    rows = _rows(store)
    rows[2] = rows[2]._replace(fields={"text": "text 2!"})
    assert chain.first_mismatch(rows) == 3
    assert chain.first_mismatch([r for r in _rows(store) if r.seq != 4]) == 4, "a missing entry is named"


def test_redaction_removes_the_value_and_the_chain_still_verifies(store: Storage) -> None:
    with store.transaction():
        store.append_change(_change("c:a", "m1", "secret words"))
        store.append_change(_change("c:a", "m2", "other"))
        assert store.redact("messages", "m1", ["text"]) == 1
    rows = _rows(store)
    assert "secret words" not in str(rows)
    assert rows[0].fields == {} and rows[0].redacted is not None and "text" in rows[0].redacted
    assert chain.first_mismatch(rows) is None
    assert [c.fields for c in store.changes_after("c:a", 0, 10)] == [{}, {"text": "other"}]


def test_records_keep_per_field_clocks_when_most_fields_share_one(store: Storage) -> None:
    state = RecordState(
        {"text": "b", "channel": "c", "n": 1, "deleted": None},
        {"text": "h2", "channel": "h1", "n": "h1", "deleted": "h3"},
    )
    with store.transaction():
        store.put_record("messages", "m1", StoredRecord("c:c", state))
    got = store.get_record("messages", "m1")
    assert got is not None and got.state == state
    assert store.records_in_scope("c:c")[0].clocks == state.clocks


def test_a_savepoint_that_raises_rolls_back_alone(store: Storage) -> None:
    kept = StoredRecord("c:a", RecordState({"text": "kept"}, {"text": "h1"}))
    with store.transaction():
        assert store.append_change(_change("c:a", "m1")) == 1
        store.put_record("messages", "m1", kept)
        assert store.next_message_number("a") == 1
        with pytest.raises(RuntimeError), store.savepoint():
            assert store.append_change(_change("c:a", "m2")) == 2
            store.put_record("messages", "m1", StoredRecord("c:a", RecordState({"text": "lost"}, {"text": "h2"})))
            store.put_record("messages", "m2", kept)
            assert store.next_message_number("a") == 2
            store.set_membership("a", "u1", True)
            store.after_commit(lambda: pytest.fail("a rolled-back part's callback ran"))
            raise RuntimeError("boom")
        with store.savepoint():  # a part that succeeds stays
            assert store.append_change(_change("c:b", "m3")) == 2, "no gap after a rolled-back part"
        assert store.get_record("messages", "m2") is None and store.get_record("messages", "m1") == kept
        assert store.next_message_number("a") == 2 and not store.is_member("a", "u1")
    assert [c.id for c in store.changes_after("c:a", 0, 10)] == ["m1"]
    assert [(c.seq, c.id) for c in store.changes_after("c:b", 0, 10)] == [(2, "m3")]
    assert store.scope_head("c:a") == 1 and store.scope_head("c:b") == 2
    assert chain.first_mismatch(_rows(store)) is None


def test_queries_inside_a_transaction_see_its_own_writes(store: Storage) -> None:
    state = RecordState({"channel": "a", "text": "hi", "n": 1, "at": 5, "author": "u1"}, {})
    with store.transaction():
        store.put_record("messages", "m1", StoredRecord("c:a", state))
        store.index_message("m1", state.fields)
        store.append_change(_change("c:a", "m1", "hi"))
        assert [r.id for r in store.records_in_scope("c:a")] == ["m1"]
        assert [r.id for r in store.snapshots("messages", ["m1"])] == ["m1"]
        assert store.message_ids_before("a", None, 10) == ["m1"]
        assert [c.id for c in store.changes_after("c:a", 0, 10)] == ["m1"]
        assert [c.id for c in store.record_history("messages", "m1")] == ["m1"]
        assert store.head_hash()[0] == 1 and store.scope_head("c:a") == 1


def _inside(thread: threading.Thread, function: str) -> bool:
    """Is ``thread`` running ``function`` (somewhere on its stack) right now?"""
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        if frame.f_code.co_name == function:
            return True
        frame = frame.f_back
    return False


def test_a_transaction_on_another_thread_waits_for_the_open_one(store: Storage) -> None:
    order: list[str] = []
    entered = threading.Event()

    def other() -> None:
        with store.transaction():
            entered.set()
            order.append("other")
            store.append_change(_change("c:a", "m2"))

    with store.transaction():
        store.append_change(_change("c:a", "m1"))
        thread = threading.Thread(target=other)
        thread.start()
        # Wait until the other thread is inside transaction() (waiting, if the store is right) or
        # got in anyway (then the order below is wrong and the test fails).
        deadline = time.monotonic() + 10
        while not (entered.is_set() or _inside(thread, "transaction")) and time.monotonic() < deadline:
            time.sleep(0.001)
        assert time.monotonic() < deadline, "the other thread never reached transaction()"
        order.append("first")
    thread.join(10)
    assert order == ["first", "other"]
    assert [c.id for c in store.changes_after("c:a", 0, 10)] == ["m1", "m2"]


def test_a_large_transaction_writes_every_row_once_in_order(store: Storage) -> None:
    count = 64 + 64 + 16 + 4 + 2 + 1  # every statement shape the SQLite store uses for a flush
    with store.transaction():
        seqs = [store.append_change(_change("c:a", f"m{i:03d}", f"text {i}")) for i in range(count)]
        for i in range(count):
            state = RecordState({"channel": "a", "text": f"t{i}", "n": i + 1}, {"text": "h1"})
            store.put_record("messages", f"m{i:03d}", StoredRecord("c:a", state))
            store.index_message(f"m{i:03d}", {**state.fields, "author": "u1", "at": 1})
        store.index_message("m000", {"channel": "a", "author": "u1", "n": 500, "at": 1})  # the second write wins
    assert seqs == list(range(1, count + 1))
    assert [c.id for c in store.changes_after("c:a", 0, 1000)] == [f"m{i:03d}" for i in range(count)]
    assert chain.first_mismatch(_rows(store)) is None
    assert store.get_record("messages", f"m{count - 1:03d}") is not None
    newest = store.message_ids_before("a", None, 3)
    assert newest == ["m000", f"m{count - 1:03d}", f"m{count - 2:03d}"]


# --- reads for retention, exports and sign-in checks ------------------------------------------

DAY = 86_400_000


def _put(store: Storage, collection: str, record_id: str, fields: dict[str, Value], scope: str = "c:a") -> None:
    store.put_record(collection, record_id, StoredRecord(scope, RecordState(dict(fields), {})))


def _log(
    store: Storage,
    collection: str,
    record_id: str,
    hlc: str,
    author: str,
    at: int,
    fields: dict[str, Value] | None = None,
) -> int:
    return store.append_change(NewChange("c:a", collection, record_id, hlc, author, "dev", 1, at, fields or {"x": 1}))


def test_expired_messages_are_those_past_their_channels_retention_oldest_first(store: Storage) -> None:
    now = 100 * DAY
    with store.transaction():
        _put(store, "channels", "short", {"retention_days": 2})
        _put(store, "channels", "keep", {"retention_days": 0})
        _put(store, "channels", "plain", {})
        for rid, channel, age, text in [
            ("m3", "short", 5, "old"),
            ("m1", "short", 9, "older"),
            ("m2", "short", 1, "new"),
            ("m4", "short", 7, None),
            ("m5", "keep", 50, "kept"),
            ("m6", "plain", 50, "kept"),
        ]:
            _put(store, "messages", rid, {"channel": channel, "at": now - age * DAY, "text": text})
    assert store.expired_message_ids(now, 10) == ["m1", "m3"]
    assert store.expired_message_ids(now, 1) == ["m1"]
    assert store.expired_message_ids(now - 4 * DAY, 10) == ["m1"]


def test_a_snapshot_sees_the_store_as_it_was_when_it_began(store: Storage) -> None:
    with store.transaction():
        _put(store, "messages", "m1", {"channel": "a", "at": 1})
        _log(store, "messages", "m1", "h1", "u1", 10)
        store.add_account(Account("u1", "a@b.c", "Ada", "owner", "secret hash", 1))
    with store.snapshot() as snapshot:
        with store.transaction():  # the server keeps writing while a snapshot is read
            _put(store, "messages", "m2", {"channel": "a", "at": 2})
            _log(store, "messages", "m2", "h2", "u2", 20)
            store.add_account(Account("u2", "b@b.c", "Bo", "member", "hash", 2))
        assert (snapshot.head_seq, snapshot.head_hash) == (1, _rows(store)[0].hash)
        assert snapshot.count("messages") == 1
        assert [r.id for r in snapshot.records("messages")] == ["m1"]
        assert [a.id for a in snapshot.accounts()] == ["u1"]
        assert [row.seq for row, _ in snapshot.log()] == [1]
        assert not snapshot.wrote("u2") and snapshot.wrote("u1")
    with store.snapshot() as later:
        assert later.head_seq == 2 and later.count("messages") == 2


def test_snapshot_records_carry_their_timing_and_accounts_no_password(store: Storage) -> None:
    with store.transaction():
        for rid, created in (("b", 5), ("a", 30), ("c", None)):
            _put(store, "tasks", rid, {"title": rid}, scope=f"c:{rid}")
            if created is not None:
                _log(store, "tasks", rid, "h1", f"first-{rid}", created)
                _log(store, "tasks", rid, "h2", "later", created + 100)
        store.add_account(Account("u1", "a@b.c", "Ada", "auditor", "secret hash", 7, deactivated=True))
    with store.snapshot() as snapshot:
        by_id = list(snapshot.records("tasks"))
        assert [r.id for r in by_id] == ["a", "b", "c"]
        assert by_id[1].scope == "c:b" and by_id[1].fields == {"title": "b"}
        assert (by_id[1].timing.created, by_id[1].timing.author, by_id[1].timing.updated) == (5, "first-b", 105)
        assert by_id[2].timing.created is None and by_id[2].timing.updated is None
        assert [r.id for r in snapshot.records("tasks", by_creation=True)] == ["c", "b", "a"]
        (account,) = snapshot.accounts()
        assert (account.id, account.email, account.role, account.created, account.deactivated) == (
            "u1",
            "a@b.c",
            "auditor",
            7,
            True,
        )
        assert "secret hash" not in repr(account)


def test_snapshot_messages_come_oldest_first_with_their_entries_in_merge_order(store: Storage) -> None:
    with store.transaction():
        _put(store, "messages", "m1", {"channel": "a", "at": 300})
        _put(store, "messages", "m2", {"channel": "b", "at": 100})
        _put(store, "messages", "m3", {"channel": "a", "at": "not a number"})  # sorts as 0
        _put(store, "messages", "m4", {"channel": "a", "at": 200})  # no entries
        _log(store, "messages", "m1", "h9", "u1", 1)  # seq 1, but the later clock
        _log(store, "messages", "m1", "h1", "u2", 2)  # seq 2
        _log(store, "messages", "m2", "h5", "u1", 3)
    with store.snapshot() as snapshot:
        found = list(snapshot.messages())
        assert [m.id for m in found] == ["m3", "m2", "m4", "m1"]
        assert [(e.seq, e.hlc) for e in found[3].entries] == [(2, "h1"), (1, "h9")]
        assert found[2].entries == [] and found[3].fields == {"channel": "a", "at": 300}
        assert [m.id for m in snapshot.messages(channels=["a"])] == ["m3", "m4", "m1"]
        assert [m.id for m in snapshot.messages(since_ms=100, until_ms=300)] == ["m2", "m4"]
        assert [m.id for m in snapshot.messages(channels=[], since_ms=0)] == []


def test_snapshot_entries_by_record_and_the_log_with_what_it_says_of_each_record(store: Storage) -> None:
    with store.transaction():
        _put(store, "messages", "gone", {"deleted": True})
        _put(store, "messages", "here", {"deleted": False})
        _put(store, "members", "mb", {"channel": "ch1"})
        _put(store, "users", "u1", {"name": "Ada"})
        _log(store, "members", "mb", "h1", "u1", 1)
        _log(store, "messages", "gone", "h1", "u1", 2)
        _log(store, "messages", "here", "h1", "u1", 3)
        _log(store, "users", "u1", "h1", "u1", 4)
        _log(store, "users", "nobody", "h1", "u1", 5)
        _log(store, "members", "ma", "h1", "u1", 6)
        _log(store, "tasks", "t1", "h1", "u1", 7)
        _log(store, "members", "mb", "h2", "u1", 8)
    with store.snapshot() as snapshot:
        assert [(rid, [e.seq for e in entries]) for rid, entries in snapshot.entries_by_record("members")] == [
            ("ma", [6]),
            ("mb", [1, 8]),
        ]
        log = list(snapshot.log())
        assert [row.seq for row, _ in log] == list(range(1, 9))
        assert log == [
            (row, about) for row, about in zip(_rows(store), ["ch1", 1, 0, 1, 0, None, None, "ch1"], strict=True)
        ]


def test_snapshot_gives_the_log_as_stored_for_verifying(store: Storage) -> None:
    with store.transaction():
        for i in range(3):
            _log(store, "messages", f"m{i}", "h1", "u1", i, {"text": f"t{i}"})
        store.redact("messages", "m1", ["text"])
    with store.snapshot() as snapshot:
        stored = list(snapshot.stored_log())
        assert [chain.row_from_sql(r) for r in stored] == _rows(store)
        assert isinstance(stored[1][9], str | bytes), "fields come undecoded"
        assert snapshot.stored_entry(2) == stored[1] and snapshot.stored_entry(9) is None
    assert chain.first_mismatch(chain.row_from_sql(r) for r in stored) is None


def test_a_read_only_store_reads_everything_and_writes_nothing(store: Storage, reader: Storage) -> None:
    with store.transaction():
        store.add_account(Account("u1", "a@b.c", "Ada", "owner", "hash", 1))
        store.add_session(DeviceSession("d1", "u1", "Firefox", 1, 1), "tokenhash")
        store.append_change(_change("c:a", "m1"))
    session = reader.session_by_token("tokenhash")
    assert session is not None and session.user_id == "u1" and reader.account("u1") == store.account("u1")
    assert [c.id for c in reader.changes_after("c:a", 0, 10)] == ["m1"]
    with reader.snapshot() as snapshot:
        assert snapshot.head_seq == 1
    for write in (lambda: reader.revoke_session("d1"), lambda: reader.append_change(_change("c:a", "m2"))):
        with pytest.raises(ReadOnlyStore):
            write()
    with pytest.raises(ReadOnlyStore), reader.transaction():
        pass
    assert [c.id for c in store.changes_after("c:a", 0, 10)] == ["m1"]


def test_a_read_only_store_is_never_created(backend: Backend, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        backend.open_readonly(tmp_path / "nothing here")
    assert list(tmp_path.iterdir()) == []


def test_changes_since_reads_the_whole_log_in_seq_order_after_a_seq(store: Storage) -> None:
    with store.transaction():
        for i in range(5):
            store.append_change(_change("c:a" if i % 2 else "c:b", f"m{i}", f"text {i}"))
        assert [c.seq for c in store.changes_since(3, 10)] == [4, 5], "its own transaction's changes"
    assert [(c.seq, c.scope, c.id) for c in store.changes_since(0, 10)] == [
        (1, "c:b", "m0"),
        (2, "c:a", "m1"),
        (3, "c:b", "m2"),
        (4, "c:a", "m3"),
        (5, "c:b", "m4"),
    ]
    assert [c.seq for c in store.changes_since(1, 2)] == [2, 3]
    assert store.changes_since(5, 10) == []
    assert store.changes_since(0, 1)[0].fields == {"text": "text 0"}


def test_changes_since_on_another_thread_sees_only_committed_changes(store: Storage) -> None:
    with store.transaction():
        store.append_change(_change("c:a", "m1"))
    written, read = threading.Event(), threading.Event()
    seen: list[list[int]] = []

    def writer() -> None:
        with store.transaction():
            store.append_change(_change("c:a", "m2"))
            assert len(store.changes_after("c:a", 0, 10)) == 2  # a store that writes behind has now written it
            written.set()
            read.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert written.wait(10)
        seen.append([c.seq for c in store.changes_since(0, 10)])
    finally:
        read.set()
        thread.join(10)
    assert seen == [[1]], "a change that could still roll back is not read back"
    assert [c.seq for c in store.changes_since(0, 10)] == [1, 2]


# --- Web Push subscriptions and the queue (sqlite_push.py's rules) -----------------------------


def _sub(sub_id: str, device: str, user: str = "u1", endpoint: str | None = None) -> PushSubscription:
    return PushSubscription(sub_id, user, device, endpoint or f"https://push.example/{sub_id}", "key", "auth", "en", 1)


def _job(sub_id: str, topic: str, payload: str, due: int = 10) -> PushJob:
    return PushJob(sub_id, topic, payload, "high", 60, due, due)


def test_one_push_subscription_per_device_and_endpoint(store: Storage) -> None:
    with store.transaction():
        store.add_account(Account("u1", "a@b.c", "Ada", "owner", "hash", 1))
        store.add_session(DeviceSession("d1", "u1", "Phone", 1, 1), "t1")
        store.add_session(DeviceSession("d2", "u1", "Laptop", 1, 1), "t2")
        store.add_push_subscription(_sub("s1", "d1"))
        store.add_push_subscription(_sub("s2", "d2"))
        store.add_push_subscription(_sub("s3", "d1"))  # the browser rotated d1's subscription
        store.add_push_subscription(_sub("s4", "d3", user="u2", endpoint="https://push.example/s2"))
    assert [s.id for s in store.push_subscriptions_of(["u1"])] == ["s3"]
    assert [s.id for s in store.push_subscriptions_of(["u1", "u2"])] == ["s3", "s4"]
    assert store.push_subscription("s1") is None and store.push_subscription("s3") == _sub("s3", "d1")
    found = store.push_subscriptions(["s1", "s3", "s4", "s3"])
    assert found == {"s3": _sub("s3", "d1"), "s4": store.push_subscription("s4")}
    with store.transaction():
        store.revoke_session("d1")  # signing a device out revokes its subscription
        store.remove_push_subscription("s4")
    assert store.push_subscriptions_of(["u1", "u2"]) == []


def test_the_newest_push_subscriptions_come_first(store: Storage) -> None:
    with store.transaction():
        for i, made in enumerate((30, 10, 20)):
            store.add_push_subscription(
                PushSubscription(f"s{i}", "u1", f"d{i}", f"https://p.example/{i}", "k", "a", "en", made)
            )
    assert [s.id for s in store.newest_push_subscriptions(2)] == ["s0", "s2"]
    assert [s.id for s in store.newest_push_subscriptions(10)] == ["s0", "s2", "s1"]


def test_the_push_queue_coalesces_per_topic_and_keeps_a_row_replaced_while_sending(store: Storage) -> None:
    with store.transaction():
        store.add_push_subscription(_sub("s1", "d1"))
        store.queue_pushes([_job("s1", "t", "one", due=10)])
        # Same conversation: replaces, keeps due.
        store.queue_pushes([_job("s1", "t", "two", due=99), _job("s1", "u", "other", due=20)])
    assert store.next_push_due() == 10
    due = store.due_pushes(15, 10)
    assert [(j.topic, j.payload, j.version) for j in due] == [("t", "two", 2)]
    with store.transaction():
        store.queue_pushes([_job("s1", "t", "three")])  # arrives while "two" is being sent
        store.pushes_sent(due, now_ms=15, gap_ms=100)
    assert store.last_pushes_sent(["s1", "s9"], "t") == {"s1": 15} and store.last_pushes_sent(["s1"], "u") == {}
    waiting = [(j.topic, j.payload, j.due) for j in store.due_pushes(1000, 10)]
    assert waiting == [("u", "other", 20), ("t", "three", 115)]
    job = store.due_pushes(1000, 10)[1]
    with store.transaction():
        store.pushes_sent([job], now_ms=200, gap_ms=100)
        store.retry_push(store.due_pushes(1000, 10)[0], 500)
    assert [(j.topic, j.due, j.attempts) for j in store.due_pushes(1000, 10)] == [("u", 500, 1)]
    with store.transaction():
        store.drop_push(store.due_pushes(1000, 10)[0])
    assert store.next_push_due() is None


def test_removing_a_subscription_removes_its_queued_pushes(store: Storage) -> None:
    with store.transaction():
        store.add_push_subscription(_sub("s1", "d1"))
        store.queue_pushes([_job("s1", "t", "one")])
        store.remove_push_subscription("s1")
    assert store.due_pushes(10**15, 10) == []
    with store.transaction():
        store.add_push_subscription(_sub("s2", "d2"))
        store.queue_pushes([_job("s2", "t", "one")])
        store.clear_push_subscriptions()
    assert store.push_subscriptions_of(["u1"]) == [] and store.due_pushes(10**15, 10) == []
