"""The SQLite store's schema migrations: an older database opens and is brought up to date."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from backend.storage.sqlite import SqliteStorage
from backend.storage.sqlite_schema import SCHEMA_VERSION


def _indexes(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        db.close()


def test_a_version_2_database_loses_the_unused_index_on_message_times(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    SqliteStorage(path).close()
    db = sqlite3.connect(path)
    db.execute("CREATE INDEX message_index_by_at ON message_index (at)")
    db.execute("PRAGMA user_version=2")
    db.close()
    store = SqliteStorage(path)
    store.close()
    assert "message_index_by_at" not in _indexes(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    db.close()


def test_a_version_3_database_keeps_its_message_positions_in_a_table_without_rowid(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    SqliteStorage(path).close()
    db = sqlite3.connect(path)
    db.executescript(
        """
        DROP TABLE message_index;
        CREATE TABLE message_index (
            rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, channel TEXT NOT NULL, thread TEXT,
            author TEXT NOT NULL, at INTEGER NOT NULL, n INTEGER, tn INTEGER
        );
        CREATE INDEX message_index_by_n ON message_index (channel, n) WHERE n IS NOT NULL;
        CREATE INDEX message_index_by_thread ON message_index (thread, tn) WHERE thread IS NOT NULL;
        INSERT INTO message_index (id, channel, thread, author, at, n, tn) VALUES
            ('m1', 'c1', NULL, 'u1', 10, 1, NULL),
            ('m2', 'c1', NULL, 'u1', 20, 2, NULL),
            ('r1', 'c1', 'm1', 'u2', 30, NULL, 1);
        PRAGMA user_version = 3;
        """
    )
    db.close()
    store = SqliteStorage(path)
    try:
        assert store.message_ids_before("c1", None, 10) == ["m2", "m1"]
        assert store.reply_ids("m1") == ["r1"]
    finally:
        store.close()
    db = sqlite3.connect(path)
    try:
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'message_index'").fetchone()[0]
        assert "WITHOUT ROWID" in sql
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert {"message_index_by_n", "message_index_by_thread"} <= _indexes(path)
    finally:
        db.close()


def test_a_version_4_database_indexes_records_by_scope_without_messages(tmp_path: Path) -> None:
    """Nothing reads messages by scope (they are read by position), so a pushed message writes no
    entry in records_by_scope (issue 15); records_in_scope still answers from the index."""
    path = tmp_path / "t.db"
    SqliteStorage(path).close()
    db = sqlite3.connect(path)
    db.executescript(
        """
        DROP INDEX records_by_scope;
        CREATE INDEX records_by_scope ON records (scope, collection);
        INSERT INTO records (collection, id, scope, fields, clocks) VALUES
            ('messages', 'm1', 'c:a', '{"text":"hi"}', '{"*":"h"}'),
            ('tasks', 't1', 'c:a', '{"title":"do"}', '{"*":"h"}');
        PRAGMA user_version = 4;
        """
    )
    db.close()
    store = SqliteStorage(path)
    try:
        reader = store._db  # this thread's read-only connection: what records_in_scope reads with
        queries: list[str] = []
        reader.set_trace_callback(queries.append)
        assert [r.id for r in store.records_in_scope("c:a", skip=["reads"])] == ["t1"]
        reader.set_trace_callback(None)
        plan = reader.execute("EXPLAIN QUERY PLAN " + queries[-1]).fetchall()
        assert "records_by_scope" in " ".join(str(row[-1]) for row in plan), plan
    finally:
        store.close()
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'records_by_scope'").fetchone()[0]
        assert sql.endswith("WHERE collection <> 'messages'"), "messages have no entries in the index"
    finally:
        db.close()
