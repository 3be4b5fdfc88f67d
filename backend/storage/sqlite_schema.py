"""The SQLite store's file: its tables (the people tables come from sqlite_accounts.py, the push
tables from sqlite_push.py), how an older file is brought up to date, and how a record's
per-field clocks are packed into a row.
"""

from __future__ import annotations

import sqlite3

import msgspec

from backend.storage.sqlite_accounts import ACCOUNT_SCHEMA
from backend.storage.sqlite_calendar import CALENDAR_SCHEMA
from backend.storage.sqlite_files import FILES_SCHEMA
from backend.storage.sqlite_push import PUSH_SCHEMA
from sync_protocol.wire import Value

SCHEMA_VERSION = 5

SCHEMA = (
    ACCOUNT_SCHEMA
    + PUSH_SCHEMA
    + FILES_SCHEMA
    + """
CREATE TABLE IF NOT EXISTS records (
    collection TEXT NOT NULL, id TEXT NOT NULL, scope TEXT NOT NULL,
    fields TEXT NOT NULL, clocks TEXT NOT NULL,
    PRIMARY KEY (collection, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_channel_name ON records (json_extract(fields, '$.name'))
    WHERE collection = 'channels';
-- A scope's records, messages left out: nothing reads messages by scope (they are read by
-- position, message_index), and every pushed message paid a B-tree insert for it (issue 15).
-- A query uses it only when it carries the same term (records_in_scope).
CREATE INDEX IF NOT EXISTS records_by_scope ON records (scope, collection) WHERE collection <> 'messages';
CREATE INDEX IF NOT EXISTS records_reaction_message ON records (json_extract(fields, '$.message'))
    WHERE collection = 'reactions';
-- Messages by position (derived from records); full-text search lives in search.db (search_index.py).
-- Keyed by id alone (no rowid): one b-tree fewer per pushed message, and the position indexes
-- hold the id they are read for.
CREATE TABLE IF NOT EXISTS message_index (
    id TEXT PRIMARY KEY, channel TEXT NOT NULL, thread TEXT,
    author TEXT NOT NULL, at INTEGER NOT NULL, n INTEGER, tn INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS message_index_by_n ON message_index (channel, n) WHERE n IS NOT NULL;
CREATE INDEX IF NOT EXISTS message_index_by_thread ON message_index (thread, tn) WHERE thread IS NOT NULL;
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY,              -- gap-free: rowids, never deleted, inserted in transactions
    scope TEXT NOT NULL, collection TEXT NOT NULL, record_id TEXT NOT NULL,
    hlc TEXT NOT NULL, author TEXT NOT NULL, device TEXT NOT NULL, mid INTEGER NOT NULL,
    received_at INTEGER NOT NULL, fields TEXT NOT NULL,
    hash TEXT NOT NULL,                   -- chain.entry_hash over the previous entry's hash
    redacted TEXT                         -- JSON {field: digest} of values removed by redaction
);
CREATE INDEX IF NOT EXISTS changes_by_scope ON changes (scope, seq);
CREATE INDEX IF NOT EXISTS changes_by_record ON changes (collection, record_id, seq);
CREATE TABLE IF NOT EXISTS scope_heads (scope TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS channel_numbers (channel TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS memberships (
    channel TEXT NOT NULL, user TEXT NOT NULL, PRIMARY KEY (channel, user)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memberships_by_user ON memberships (user, channel);
"""
    + CALENDAR_SCHEMA
)

_encode = msgspec.json.encode
_clocks_decoder = msgspec.json.Decoder(dict[str, str])


def pack_clocks(clocks: dict[str, str], fields: dict[str, Value]) -> bytes:
    """Most fields of a record share the clock of the change that created it: store that clock once
    under "*" and only the fields whose clock differs (a third off the records table). Only when
    every field has a clock, as merged records do; otherwise the clocks are stored as they are."""
    if not clocks or clocks.keys() != fields.keys():
        return _encode(clocks)
    distinct = set(clocks.values())
    if len(distinct) == 1:  # a record written by one change: the common case
        return _encode({"*": distinct.pop()})
    common = max(distinct, key=list(clocks.values()).count)
    return _encode({"*": common, **{name: clock for name, clock in clocks.items() if clock != common}})


def unpack_clocks(packed: str | bytes, fields: dict[str, Value]) -> dict[str, str]:
    stored = _clocks_decoder.decode(packed)
    common = stored.pop("*", None)
    if common is None:
        return stored
    return {name: stored.get(name, common) for name in fields}


def open_database(path: str) -> sqlite3.Connection:
    """The server's connection: durable commits (module doc of sqlite.py), no checkpoints of its
    own, the schema created or brought up to SCHEMA_VERSION."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    # Checkpoints run on a thread of their own (sqlite_checkpoints.py), never in a COMMIT.
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("PRAGMA busy_timeout=5000")
    db.execute("PRAGMA foreign_keys=ON")
    _migrate(db)
    db.executescript(SCHEMA)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    return db


def _migrate(db: sqlite3.Connection) -> None:
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version == 1:  # search moved to its own file (search_index.py)
        db.execute("DROP TABLE IF EXISTS message_search")
        db.execute("ALTER TABLE message_index DROP COLUMN folded")
    if version in (1, 2):  # its only reader, search by date, moved with it; every insert paid for it
        db.execute("DROP INDEX IF EXISTS message_index_by_at")
    if version in (1, 2, 3):  # message_index without its rowid (issue 15: 0.6 us per pushed message)
        db.executescript(_MESSAGE_INDEX_WITHOUT_ROWID)
    if version in (1, 2, 3, 4):  # records_by_scope without messages: SCHEMA creates it again
        db.execute("DROP INDEX IF EXISTS records_by_scope")


#: The copy, the swap and the version in one transaction: a crash leaves the old file as it was.
_MESSAGE_INDEX_WITHOUT_ROWID = """
BEGIN IMMEDIATE;
CREATE TABLE message_index_v4 (
    id TEXT PRIMARY KEY, channel TEXT NOT NULL, thread TEXT,
    author TEXT NOT NULL, at INTEGER NOT NULL, n INTEGER, tn INTEGER
) WITHOUT ROWID;
INSERT INTO message_index_v4 (id, channel, thread, author, at, n, tn)
    SELECT id, channel, thread, author, at, n, tn FROM message_index;
DROP TABLE message_index;
ALTER TABLE message_index_v4 RENAME TO message_index;
PRAGMA user_version = 4;
COMMIT;
"""
