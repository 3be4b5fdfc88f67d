"""The change log, its hash chain, records and transactions."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from backend.storage import chain
from backend.storage.base import (
    Account,
    DeviceSession,
    NewChange,
    Storage,
    StoredRecord,
    iter_pages,
)
from sync_protocol import merge
from sync_protocol.merge import RecordState
from sync_protocol.wire import Value
from tests.integration.storage_contract.entries import _change, _rows


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


def test_a_record_created_with_its_change_reads_back_as_one_put_apart(store: Storage) -> None:
    """write_change(created=True) shares the change's encoding with the record's row; the record
    and the log read back as put_record + append_change leave them."""
    fields: dict[str, Value] = {"channel": "a", "text": 'héllo "quoted"', "n": 7, "thread": None}
    change = NewChange("c:a", "messages", "m1", "1764172800000-00000-dev", "u1", "dev", 1, 1, fields)
    with store.transaction():
        seq = store.write_change(change, StoredRecord("c:a", merge.apply(None, fields, change.hlc)), created=True)
        later = NewChange("c:a", "messages", "m1", "1764172800001-00000-dev", "u1", "dev", 2, 1, {"text": "edit"})
        store.write_change(later, StoredRecord("c:a", merge.apply(None, {"x": 1}, "h")))  # replaced below
        edited = merge.apply(merge.apply(None, fields, change.hlc), later.fields, later.hlc)
        store.put_record("messages", "m1", StoredRecord("c:a", edited))
        store.write_change(
            NewChange("c:a", "messages", "m2", change.hlc, "u1", "dev", 3, 1, fields),
            StoredRecord("c:a", merge.apply(None, fields, change.hlc)),
            created=True,
        )
    assert seq == 1 and [c.fields for c in store.changes_after("c:a", 0, 10)] == [fields, {"text": "edit"}, fields]
    assert store.get_record("messages", "m2") == StoredRecord("c:a", merge.apply(None, fields, change.hlc))
    assert store.get_record("messages", "m1") == StoredRecord("c:a", edited)
    assert chain.first_mismatch(_rows(store)) is None


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
    assert store.snapshots("messages", ["m1"])[0].clocks == state.clocks


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
        store.put_record("tasks", "t1", StoredRecord("c:a", RecordState({"channel": "a", "title": "do"}, {})))
        store.index_message("m1", state.fields)
        store.append_change(_change("c:a", "m1", "hi"))
        assert [r.id for r in store.records_in_scope("c:a")] == ["t1"], "messages are read by position"
        assert [r.id for r in store.snapshots("messages", ["m1"])] == ["m1"]
        assert store.message_ids_before("a", None, 10) == ["m1"]
        assert [c.id for c in store.changes_after("c:a", 0, 10)] == ["m1"]
        assert [c.id for c in store.record_history("messages", "m1")] == ["m1"]
        assert store.head_hash()[0] == 1 and store.log_head() == 1 and store.scope_head("c:a") == 1


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
