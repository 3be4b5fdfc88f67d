"""Write an immutable SQLite archive with sqlite-utils.

The archive is built in a temporary file next to OUT, vacuumed, made read-only (mode 0444) and
renamed into place, so OUT is either absent or complete. Tables (docs/archive.md has every column):
people, channels, memberships, messages (+ messages_fts), message_versions, reactions, files,
tasks and events when those collections exist, changes (the hash-chained log, the live table's
columns) and archive_info (the export's head hash and filters).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import sqlite_utils

from backend.archive.model import ArchiveData, Filter, build
from backend.archive.snapshot import Progress, no_progress, read_snapshot
from backend.storage import chain

_TEXT, _INT, _BOOL = str, int, bool

SCHEMAS: dict[str, tuple[dict[str, Any], str, list[tuple[str, str, str]]]] = {
    "people": (
        {"id": _TEXT, "name": _TEXT, "email": _TEXT, "role": _TEXT, "kind": _TEXT, "created_at": _INT,
         "created_utc": _TEXT, "deactivated": _BOOL, "deleted": _BOOL},
        "id", [],
    ),
    "channels": (
        {"id": _TEXT, "name": _TEXT, "kind": _TEXT, "topic": _TEXT, "created_by": _TEXT, "created_at": _INT,
         "created_utc": _TEXT, "archived": _BOOL, "deleted": _BOOL, "retention_days": _INT},
        "id", [("created_by", "people", "id")],
    ),
    "memberships": (
        {"id": _TEXT, "channel": _TEXT, "user": _TEXT, "joined_at": _INT, "joined_utc": _TEXT, "joined_by": _TEXT,
         "joined_seq": _INT, "left_at": _INT, "left_utc": _TEXT, "left_by": _TEXT, "left_seq": _INT},
        "id", [("channel", "channels", "id"), ("user", "people", "id"), ("joined_by", "people", "id"),
               ("left_by", "people", "id"), ("joined_seq", "changes", "seq"), ("left_seq", "changes", "seq")],
    ),
    "messages": (
        {"id": _TEXT, "channel": _TEXT, "thread": _TEXT, "n": _INT, "tn": _INT, "author": _TEXT, "at": _INT,
         "at_utc": _TEXT, "text": _TEXT, "mentions": _TEXT, "pinned": _BOOL, "edited_at": _INT,
         "edited_utc": _TEXT, "edits": _INT, "deleted": _BOOL, "deleted_at": _INT, "deleted_utc": _TEXT,
         "deleted_by": _TEXT, "expired": _BOOL, "replies": _INT},
        "id", [("channel", "channels", "id"), ("author", "people", "id"), ("deleted_by", "people", "id")],
    ),
    "message_versions": (
        {"seq": _INT, "message": _TEXT, "kind": _TEXT, "at": _INT, "at_utc": _TEXT, "hlc": _TEXT, "author": _TEXT,
         "device": _TEXT, "text": _TEXT, "text_removed": _BOOL, "replaces": _INT},
        "seq", [("seq", "changes", "seq"), ("message", "messages", "id"), ("author", "people", "id"),
                ("replaces", "message_versions", "seq")],
    ),
    "reactions": (
        {"id": _TEXT, "message": _TEXT, "channel": _TEXT, "user": _TEXT, "emoji": _TEXT, "active": _BOOL,
         "at": _INT, "at_utc": _TEXT},
        "id", [("message", "messages", "id"), ("channel", "channels", "id"), ("user", "people", "id")],
    ),
    "files": (
        {"id": _TEXT, "channel": _TEXT, "message": _TEXT, "name": _TEXT, "size": _INT, "type": _TEXT,
         "sha256": _TEXT, "author": _TEXT, "created_at": _INT, "created_utc": _TEXT, "updated_at": _INT,
         "updated_utc": _TEXT},
        "id", [("channel", "channels", "id")],
    ),
}

VIEWS = {
    "message_timeline": """
        SELECT m.at_utc, c.name AS channel, p.name AS author, p.email AS author_email, m.text, m.thread,
               m.edits, m.edited_utc, m.deleted, m.deleted_utc, d.name AS deleted_by, m.id AS message
        FROM messages m JOIN channels c ON c.id = m.channel LEFT JOIN people p ON p.id = m.author
        LEFT JOIN people d ON d.id = m.deleted_by ORDER BY m.at""",
    "edits_and_deletions": """
        SELECT v.at_utc, v.kind, c.name AS channel, p.name AS by_name, p.email AS by_email, v.text,
               v.replaces, v.message, v.seq
        FROM message_versions v JOIN messages m ON m.id = v.message JOIN channels c ON c.id = m.channel
        LEFT JOIN people p ON p.id = v.author WHERE v.kind != 'created' ORDER BY v.at""",
    "membership_timeline": """
        SELECT c.name AS channel, p.name AS person, p.email, ms.joined_utc, j.name AS added_by, ms.left_utc,
               l.name AS removed_by, ms.channel AS channel_id, ms.user AS person_id
        FROM memberships ms JOIN channels c ON c.id = ms.channel JOIN people p ON p.id = ms.user
        LEFT JOIN people j ON j.id = ms.joined_by LEFT JOIN people l ON l.id = ms.left_by
        ORDER BY ms.joined_at""",
    "change_log": """
        SELECT ch.seq, strftime('%Y-%m-%dT%H:%M:%fZ', ch.received_at / 1000.0, 'unixepoch') AS received_utc,
               ch.collection, ch.record_id, p.name AS author, ch.device, ch.fields, ch.redacted, ch.hash
        FROM changes ch LEFT JOIN people p ON p.id = ch.author ORDER BY ch.seq""",
}


class ArchiveExists(FileExistsError):
    pass


def export_sqlite(
    data_db: Path, out: Path, flt: Filter | None = None, progress: Progress = no_progress, force: bool = False
) -> ArchiveData:
    """Snapshot the live store and write the archive to ``out``; returns what was written."""
    if out.exists() and not force:
        raise ArchiveExists(f"{out} exists; pass --force to replace it")
    data = build(read_snapshot(data_db, progress), flt, exported_at=int(time.time() * 1000))
    tmp = out.with_name(f".{out.name}.partial")
    tmp.unlink(missing_ok=True)
    try:
        write_archive(data, tmp, progress)
        if out.exists():
            out.unlink()
        os.chmod(tmp, 0o444)
        tmp.rename(out)
    finally:
        tmp.unlink(missing_ok=True)
    return data


def write_archive(data: ArchiveData, path: Path, progress: Progress = no_progress) -> None:
    db = sqlite_utils.Database(path)
    try:
        db.conn.execute("PRAGMA journal_mode=OFF")  # a fresh file: no crash recovery needed, we rename at the end
        _changes(db, data.changes, progress)
        tables: dict[str, list[dict[str, Any]]] = {
            "people": data.people, "channels": data.channels, "memberships": data.memberships,
            "messages": data.messages, "message_versions": data.versions, "reactions": data.reactions,
            "files": data.files,
        }
        for name, rows in tables.items():
            columns, pk, fks = SCHEMAS[name]
            db[name].create(columns, pk=pk, foreign_keys=fks, not_null=[pk])  # type: ignore[union-attr]
            _insert(db, name, rows, progress)
        for name, rows in data.extra.items():
            columns = {"id": str}
            for row in rows:
                columns.update({k: type(v) for k, v in row.items() if v is not None and k not in columns})
            db[name].create(columns, pk="id")  # type: ignore[union-attr]
            _insert(db, name, rows, progress, alter=True)
        db["archive_info"].insert_all(  # type: ignore[union-attr]
            [{"key": k, "value": None if v is None else str(v)} for k, v in data.info.items()], pk="key"
        )
        progress("full-text index", 0, 1)
        db["messages"].enable_fts(["text"], fts_version="FTS5")  # type: ignore[union-attr]
        for column in ("channel", "author", "at", "thread"):
            db["messages"].create_index([column])  # type: ignore[union-attr]
        db["message_versions"].create_index(["message"])  # type: ignore[union-attr]
        db["message_versions"].create_index(["author", "at"])  # type: ignore[union-attr]
        db["memberships"].create_index(["channel", "joined_at"])  # type: ignore[union-attr]
        db["changes"].create_index(["collection", "record_id", "seq"])  # type: ignore[union-attr]
        db["changes"].create_index(["record_id"])  # type: ignore[union-attr]
        for name, sql in VIEWS.items():
            db.create_view(name, sql)
        progress("full-text index", 1, 1)
        db.vacuum()
    finally:
        db.close()


def _changes(db: sqlite_utils.Database, rows: list[chain.ChainRow], progress: Progress) -> None:
    """The change log with the live table's columns, so ``archive verify`` recomputes it."""
    db.execute(
        "CREATE TABLE changes (seq INTEGER PRIMARY KEY, scope TEXT NOT NULL, collection TEXT NOT NULL, "
        "record_id TEXT NOT NULL, hlc TEXT NOT NULL, author TEXT NOT NULL, device TEXT NOT NULL, mid INTEGER NOT NULL, "
        "received_at INTEGER NOT NULL, fields TEXT NOT NULL, hash TEXT NOT NULL, redacted TEXT)"
    )
    total = len(rows)
    for start in range(0, total, 5000):
        batch = rows[start:start + 5000]
        db.conn.executemany(
            "INSERT INTO changes (seq, scope, collection, record_id, hlc, author, device, mid, received_at, fields, "
            "hash, redacted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (r.seq, r.scope, r.collection, r.record_id, r.hlc, r.author, r.device, r.mid, r.received_at,
                 chain.canonical(r.fields).decode(), r.hash,
                 chain.canonical(r.redacted).decode() if r.redacted else None)
                for r in batch
            ],
        )
        progress("writing the change log", min(start + 5000, total), total)
    db.conn.commit()


def _insert(
    db: sqlite_utils.Database, name: str, rows: list[dict[str, Any]], progress: Progress, alter: bool = False
) -> None:
    """Rows of the fixed tables go in with one executemany per batch (sqlite-utils' insert_all
    costs ~10x more per row, for type checks these rows do not need); free-form tables (tasks,
    events) through insert_all, which adds columns as it meets them."""
    total = len(rows)
    columns = list(SCHEMAS[name][0]) if name in SCHEMAS and not alter else []
    sql = (f"INSERT INTO [{name}] ({', '.join(f'[{c}]' for c in columns)}) "
           f"VALUES ({', '.join('?' for _ in columns)})")
    for start in range(0, max(total, 1), 5000):
        batch = rows[start:start + 5000]
        if columns:
            db.conn.executemany(sql, [tuple(row.get(c) for c in columns) for row in batch])
        else:
            db[name].insert_all(batch, alter=alter)  # type: ignore[union-attr]
        progress(f"writing {name}", min(start + 5000, total), total)
    db.conn.commit()
