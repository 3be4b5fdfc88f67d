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
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    db.close()
