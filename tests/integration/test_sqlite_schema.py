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
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
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
