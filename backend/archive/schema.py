"""The archive file's own tables: their columns, keys and foreign keys, its views, and the change log.

docs/archive.md describes every column; export.py creates these tables and writes their rows. The
tables of later collections (tasks, events, registry collections) are made by their own writers
(export_tasks.py, calendar.py, model.py), from the registry.
"""

from __future__ import annotations

from typing import Any

_TEXT, _INT, _BOOL = str, int, bool

SCHEMAS: dict[str, tuple[dict[str, Any], str, list[tuple[str, str, str]]]] = {
    "people": (
        {
            "id": _TEXT,
            "name": _TEXT,
            "email": _TEXT,
            "role": _TEXT,
            "kind": _TEXT,
            "created_at": _INT,
            "created_utc": _TEXT,
            "deactivated": _BOOL,
            "deleted": _BOOL,
        },
        "id",
        [],
    ),
    "channels": (
        {
            "id": _TEXT,
            "name": _TEXT,
            "kind": _TEXT,
            "topic": _TEXT,
            "created_by": _TEXT,
            "created_at": _INT,
            "created_utc": _TEXT,
            "archived": _BOOL,
            "deleted": _BOOL,
            "retention_days": _INT,
        },
        "id",
        [("created_by", "people", "id")],
    ),
    "memberships": (
        {
            "id": _TEXT,
            "channel": _TEXT,
            "user": _TEXT,
            "joined_at": _INT,
            "joined_utc": _TEXT,
            "joined_by": _TEXT,
            "joined_seq": _INT,
            "left_at": _INT,
            "left_utc": _TEXT,
            "left_by": _TEXT,
            "left_seq": _INT,
        },
        "id",
        [
            ("channel", "channels", "id"),
            ("user", "people", "id"),
            ("joined_by", "people", "id"),
            ("left_by", "people", "id"),
            ("joined_seq", "changes", "seq"),
            ("left_seq", "changes", "seq"),
        ],
    ),
    "messages": (
        {
            "id": _TEXT,
            "channel": _TEXT,
            "thread": _TEXT,
            "n": _INT,
            "tn": _INT,
            "author": _TEXT,
            "at": _INT,
            "at_utc": _TEXT,
            "text": _TEXT,
            "mentions": _TEXT,
            "pinned": _BOOL,
            "edited_at": _INT,
            "edited_utc": _TEXT,
            "edits": _INT,
            "deleted": _BOOL,
            "deleted_at": _INT,
            "deleted_utc": _TEXT,
            "deleted_by": _TEXT,
            "expired": _BOOL,
            "replies": _INT,
        },
        "id",
        [("channel", "channels", "id"), ("author", "people", "id"), ("deleted_by", "people", "id")],
    ),
    "message_versions": (
        {
            "seq": _INT,
            "message": _TEXT,
            "kind": _TEXT,
            "at": _INT,
            "at_utc": _TEXT,
            "hlc": _TEXT,
            "author": _TEXT,
            "device": _TEXT,
            "text": _TEXT,
            "text_removed": _BOOL,
            "replaces": _INT,
        },
        "seq",
        [
            ("seq", "changes", "seq"),
            ("message", "messages", "id"),
            ("author", "people", "id"),
            ("replaces", "message_versions", "seq"),
        ],
    ),
    "reactions": (
        {
            "id": _TEXT,
            "message": _TEXT,
            "channel": _TEXT,
            "user": _TEXT,
            "emoji": _TEXT,
            "active": _BOOL,
            "at": _INT,
            "at_utc": _TEXT,
        },
        "id",
        [("message", "messages", "id"), ("channel", "channels", "id"), ("user", "people", "id")],
    ),
    "files": (
        {
            "id": _TEXT,
            "channel": _TEXT,
            "message": _TEXT,
            "name": _TEXT,
            "size": _INT,
            "type": _TEXT,
            "sha256": _TEXT,
            "author": _TEXT,
            "created_at": _INT,
            "created_utc": _TEXT,
            "updated_at": _INT,
            "updated_utc": _TEXT,
        },
        "id",
        [("channel", "channels", "id")],
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

CHANGES_TABLE = (
    "CREATE TABLE changes (seq INTEGER PRIMARY KEY, scope TEXT NOT NULL, collection TEXT NOT NULL, "
    "record_id TEXT NOT NULL, hlc TEXT NOT NULL, author TEXT NOT NULL, device TEXT NOT NULL, mid INTEGER NOT NULL, "
    "received_at INTEGER NOT NULL, fields TEXT NOT NULL, hash TEXT NOT NULL, redacted TEXT)"
)
