"""The hash chain in a file of its own (backend/storage/sqlite_chain.py): the push's transaction
no longer hashes; whoever needs the head extends the chain from the log as stored. Real SQLite
files, real threads."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from backend.storage import chain
from backend.storage.sqlite import SqliteStorage
from backend.storage.sqlite_chain import BATCH, ChainFile, chain_path
from tests.integration.storage_contract.entries import _change, _rows


def _stored_hashes(store: SqliteStorage) -> list[str]:
    """``changes.hash`` as the log itself holds it."""
    with sqlite3.connect(store.path) as db:
        return [row[0] for row in db.execute("SELECT hash FROM changes ORDER BY seq")]


def _write(store: SqliteStorage, count: int, start: int = 0) -> None:
    with store.transaction():
        for i in range(start, start + count):
            store.append_change(_change("c:a", f"m{i}", f"text {i}"))


def test_a_commit_leaves_the_hash_to_the_chain_file_which_extends_to_a_verified_head(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "teamtalk.db")
    _write(store, 5)
    assert _stored_hashes(store) == [""] * 5  # nothing hashed on the write path
    assert store.chain_file().head() == (0, chain.GENESIS)
    head = store.head_hash()  # brings the chain to the log's head
    rows = _rows(store)
    assert chain.first_mismatch(rows) is None
    assert head == (5, rows[-1].hash) == store.chain_file().head()
    assert chain_path(store.path) == tmp_path / "teamtalk.chain.db"
    store.close()


def test_the_chain_is_the_same_however_often_and_by_whom_it_is_extended(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "teamtalk.db")
    for i in range(4):  # extended after every commit
        _write(store, 3, start=3 * i)
        store.head_hash()
    stepwise = [r.hash for r in _rows(store)]
    store.close()

    chain_path(tmp_path / "teamtalk.db").unlink()  # derived: gone, and rebuilt in one go
    again = SqliteStorage(tmp_path / "teamtalk.db")
    assert again.head_hash() == (12, stepwise[-1])
    assert [r.hash for r in _rows(again)] == stepwise
    again.close()


def test_a_value_redacted_before_it_is_chained_keeps_its_place_in_the_chain(tmp_path: Path) -> None:
    early = SqliteStorage(tmp_path / "early.db")
    late = SqliteStorage(tmp_path / "late.db")
    for store in (early, late):
        with store.transaction():
            store.append_change(_change("c:a", "m1", "secret words"))
            store.append_change(_change("c:a", "m2", "other"))
    early.head_hash()  # hashed while the text was there
    for store in (early, late):
        with store.transaction():
            store.redact("messages", "m1", ["text"])
    assert late.head_hash() == early.head_hash()  # late hashed only the digest the redaction kept
    assert "secret words" not in str(_rows(late))
    assert chain.first_mismatch(_rows(late)) is None
    early.close()
    late.close()


def test_entries_that_kept_their_hash_in_the_log_keep_it_and_the_chain_goes_on_from_them(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "teamtalk.db")
    _write(store, 3)
    chained = [r.hash for r in _rows(store)]
    store.close()
    # The log as a store that hashed in its transaction left it: every hash in changes.hash.
    with sqlite3.connect(tmp_path / "teamtalk.db") as db:
        db.executemany("UPDATE changes SET hash = ? WHERE seq = ?", [(h, i + 1) for i, h in enumerate(chained)])
    chain_path(tmp_path / "teamtalk.db").unlink()
    store = SqliteStorage(tmp_path / "teamtalk.db")
    _write(store, 2, start=3)
    rows = _rows(store)
    assert [r.hash for r in rows[:3]] == chained
    assert chain.first_mismatch(rows) is None and len(rows) == 5
    store.close()


def test_two_processes_extending_at_once_hash_every_entry_once(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "teamtalk.db")
    _write(store, 2 * BATCH + 7)
    mine, theirs = store.chain_file(), ChainFile(store.path)  # two connections, as two processes
    heads: list[tuple[int, str]] = []
    threads = [threading.Thread(target=lambda f=f: heads.append(f.extend())) for f in (mine, theirs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = _rows(store)
    assert heads[0] == heads[1] == (len(rows), rows[-1].hash)
    assert chain.first_mismatch(rows) is None
    theirs.close()
    store.close()


def test_inside_a_transaction_the_head_includes_its_own_entries(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "teamtalk.db")
    _write(store, 2)
    with store.transaction():
        store.append_change(_change("c:a", "m9", "uncommitted"))
        inside = store.head_hash()
        assert store.chain_file().head()[0] == 2  # the file holds committed entries only
    assert store.head_hash() == inside and inside[0] == 3
    store.close()


def test_a_snapshot_hashes_up_to_its_own_head_only_when_a_hash_is_read(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "teamtalk.db")
    _write(store, 3)
    with store.snapshot() as snapshot:
        assert store.chain_file().head()[0] == 0  # begun, nothing read that needs a hash yet
        _write(store, 2, start=3)
        later = store.head_hash()  # the log and the chain move on past the snapshot
        assert later[0] == 5
        rows = [chain.row_from_sql(r) for r in snapshot.stored_log()]
        assert snapshot.head_seq == 3 and snapshot.head_hash == rows[-1].hash and len(rows) == 3
        assert chain.first_mismatch(rows) is None
    assert [r.hash for r in _rows(store)][:3] == [r.hash for r in rows]
    store.close()


def test_a_chain_file_ahead_of_its_log_is_refused_and_rebuilt_once_deleted(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "teamtalk.db")
    _write(store, 2)
    store.head_hash()
    store.close()
    backup = (tmp_path / "teamtalk.db").read_bytes()  # the log with 2 entries (WAL checkpointed at close)
    store = SqliteStorage(tmp_path / "teamtalk.db")
    _write(store, 3, start=2)
    store.head_hash()  # the chain file now holds 5
    store.close()
    (tmp_path / "teamtalk.db").write_bytes(backup)  # the log restored alone, from before
    store = SqliteStorage(tmp_path / "teamtalk.db")
    with pytest.raises(sqlite3.IntegrityError, match="holds entries up to 5 but the log ends at 2"):
        store.head_hash()
    store.close()
    chain_path(tmp_path / "teamtalk.db").unlink()
    store = SqliteStorage(tmp_path / "teamtalk.db")
    rows = _rows(store)
    assert store.head_hash() == (2, rows[-1].hash) and chain.first_mismatch(rows) is None
    store.close()


def test_the_log_head_is_read_without_hashing_anything(tmp_path: Path) -> None:
    """What a search, the feed and the followers' resumes ask for: no hashing on their paths."""
    store = SqliteStorage(tmp_path / "teamtalk.db")
    _write(store, 5)
    assert store.log_head() == 5
    assert store.chain_file().head() == (0, chain.GENESIS)
    store.close()
