"""Reads for retention, exports and sign-in checks: snapshots, read-only stores, the log since a seq."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from backend.storage import chain
from backend.storage.base import (
    Account,
    DeviceSession,
    ReadOnlyStore,
    Storage,
)
from tests.integration.storage_contract.entries import DAY, _change, _log, _put, _rows
from tests.integration.storage_contract.stores import Backend


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
