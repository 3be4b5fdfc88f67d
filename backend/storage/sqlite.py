"""The embedded default store: one SQLite file in WAL mode (its tables: sqlite_schema.py).

Durability: ``synchronous=FULL`` makes every COMMIT reach the disk before ``transaction()``
returns, so an acked push survives ``kill -9`` and power loss alike. One connection serves the
whole (single-threaded, asyncio) server; WAL lets the CLI and Datasette read alongside it.

Write-behind: inside a transaction, records, log entries and message positions are kept in
memory and written with a few multi-row INSERTs per table (``_insert_rows``) when the transaction
or a savepoint ends, or earlier, before any query that could see them. ``get_record`` answers
from what the transaction has already read or written, so a push reads each record at most once.
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import msgspec

from backend.storage import chain
from backend.storage.base import NewChange, ReadOnlyStore, Snapshot, StoredRecord
from backend.storage.sqlite_accounts import AccountTables
from backend.storage.sqlite_calendar import CalendarTables
from backend.storage.sqlite_files import FileTables
from backend.storage.sqlite_push import PushTables
from backend.storage.sqlite_schema import open_database, pack_clocks, unpack_clocks
from backend.storage.sqlite_snapshot import SqliteSnapshot, connect_readonly
from sync_protocol.merge import RecordState
from sync_protocol.wire import Change, RecordSnapshot, Value

#: Messages past their channel's retention_days, by the time the server accepted them.
_EXPIRED = """
SELECT m.id FROM records m
JOIN records c ON c.collection = 'channels' AND c.id = json_extract(m.fields, '$.channel')
WHERE m.collection = 'messages'
  AND json_extract(c.fields, '$.retention_days') > 0
  AND json_extract(m.fields, '$.text') IS NOT NULL
  AND json_extract(m.fields, '$.at') < :now - json_extract(c.fields, '$.retention_days') * 86400000
ORDER BY json_extract(m.fields, '$.at')
LIMIT :limit
"""

_fields_decoder = msgspec.json.Decoder(dict[str, Value])
_digests_decoder = msgspec.json.Decoder(dict[str, str])  # a log entry's redacted values


def _in_chunks(ids: Sequence[str], size: int = 500) -> Iterator[tuple[list[str], str]]:
    """``ids`` in chunks small enough for one ``IN (...)``, each with its placeholders."""
    for start in range(0, len(ids), size):
        chunk = list(ids[start : start + size])
        yield chunk, ",".join("?" * len(chunk))


_encode = msgspec.json.encode
# The sqlite3 module binds int, float, str and bytearray as they are, but sends bytes (our JSON
# columns: msgspec encodes to bytes) and None (a message's absent thread) through its adapter
# lookup first: a registry miss, then a failed __adapt__ lookup on its protocol type that builds and
# drops an AttributeError (~0.4 us per bytes value, ~0.2 per None; ~1.6 us per pushed message).
# Adapters that return the value itself bind the same BLOB or NULL, straight from the registry.
sqlite3.register_adapter(bytes, bytes)  # bytes(b) is b for exact bytes
sqlite3.register_adapter(type(None), lambda value: value)
#: Bound once: the per-change methods below ask "is this my transaction?" inline rather than
#: through ``_mine()`` (five calls per pushed change).
_get_ident = threading.get_ident
#: The write-behind tables, as (INSERT head, columns per row, tail): see _insert_rows.
_RECORDS = (
    "INSERT INTO records (collection, id, scope, fields, clocks)",
    5,
    " ON CONFLICT (collection, id) DO UPDATE SET fields = excluded.fields, clocks = excluded.clocks",
)
_POSITIONS = (
    "INSERT INTO message_index (id, channel, thread, author, at, n, tn)",
    7,
    " ON CONFLICT (id) DO UPDATE SET n = excluded.n, tn = excluded.tn",
)
_LOG = (
    "INSERT INTO changes (seq, scope, collection, record_id, hlc, author, device, mid, received_at, fields, hash)",
    11,
    "",
)
#: Most rows in one INSERT statement (and the statement shapes: 64, 32, 16 ... 1 rows).
ROWS_PER_STATEMENT = 64


@functools.cache
def _values_sql(head: str, width: int, tail: str, rows: int) -> str:
    one = "(" + ", ".join("?" * width) + ")"
    return f"{head} VALUES {', '.join([one] * rows)}{tail}"


def _last_entry(db: sqlite3.Connection) -> tuple[int, str]:
    row = db.execute("SELECT seq, hash FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else (0, chain.GENESIS)


def _stored(scope: str, fields_json: str | bytes, clocks_json: str | bytes) -> StoredRecord:
    fields = _fields_decoder.decode(fields_json)
    return StoredRecord(scope, RecordState(fields, unpack_clocks(clocks_json, fields)))


class SqliteStorage(AccountTables, PushTables, FileTables, CalendarTables):
    def __init__(self, path: Path | str, readonly: bool = False) -> None:
        """Open (creating or migrating) the store at ``path``; with ``readonly`` open an existing
        one on a connection that cannot write (FileNotFoundError when there is none)."""
        self.path = str(path)
        self._readonly = readonly
        self._writer = connect_readonly(self.path) if readonly else open_database(self.path)
        # A push's savepoint (group_commit.py) keeps the pages it changes in a sub-journal: in
        # memory, not a temporary file (~1.7 us per change on disk, bench 2 with 50 devices 1.07x).
        self._writer.execute("PRAGMA temp_store=MEMORY")
        # Reads outside a transaction: each thread its own read-only connection (``_db``).
        self._readers = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._savepoints = 0
        self._on_commit: list[Callable[[], None]] = []
        # Within one write transaction nobody else writes, so the log's head and the message
        # counters can be kept in memory; they are forgotten at every transaction's end.
        self._head: tuple[int, str] | None = None
        self._numbers: dict[str, int] = {}
        self._scope_heads: dict[str, int] = {}
        # Write-behind (see the module doc): records read or written in this transaction, and
        # the rows not yet written.
        self._known: dict[tuple[str, str], StoredRecord | None] = {}
        self._unwritten: dict[tuple[str, str], StoredRecord] = {}
        self._positions: list[tuple[str, Value, Value, Value, Value, Value, Value]] = []
        self._log: list[tuple[int, str, str, str, str, str, str, int, int, bytes, str]] = []

    def close(self) -> None:
        # The read-only connections first: the last connection to close checkpoints the WAL into
        # the database file, and a read-only one cannot.
        with self._opened_lock:
            for reader in self._opened:
                reader.close()
            self._opened.clear()
        with self._lock:  # let a transaction running on another thread finish first
            self._writer.close()

    # --- transactions ----------------------------------------------------------------------

    def _mine(self) -> bool:
        """Is the calling thread inside a transaction of this store?"""
        return self._owner == _get_ident()

    @property
    def _db(self) -> sqlite3.Connection:
        """Inside this thread's transaction, the writer; anywhere else, this thread's own
        read-only connection, which sees committed rows only.

        Why not the writer for every thread: a statement one thread is still reading pins that
        connection's snapshot, and when another thread's BEGIN IMMEDIATE starts on the same
        connection after a second process (the followers) has committed, SQLite answers
        "database is locked" at once, busy timeout or not (the snapshot cannot be upgraded). A
        reader on the writer would also see another thread's uncommitted rows."""
        if self._owner == threading.get_ident() or self._readonly:
            return self._writer
        reader: sqlite3.Connection | None = getattr(self._readers, "db", None)
        if reader is None:
            reader = connect_readonly(self.path)
            self._readers.db = reader
            with self._opened_lock:
                self._opened.append(reader)
        return reader

    def _reading(self) -> sqlite3.Connection:
        """The connection for a query of records, the log or message positions: inside a
        transaction the rows kept back are written first, so the query sees them."""
        if self._owner == threading.get_ident():
            self._flush()
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; nested uses join the outer one. Commits durably or rolls back.
        Another thread's transaction waits for this one to end."""
        if self._mine():
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        if self._readonly:
            raise ReadOnlyStore(f"{self.path} was opened read-only")
        with self._lock:
            self._owner = threading.get_ident()
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._depth = 1
                try:
                    yield
                    self._flush()
                    self._flush_numbers()
                    self._db.execute("COMMIT")
                except BaseException:
                    self._on_commit.clear()
                    if self._db.in_transaction:  # also when COMMIT itself failed
                        self._db.execute("ROLLBACK")
                    raise
                callbacks, self._on_commit = self._on_commit, []
            finally:
                self._end_transaction()
                self._owner = None
        for callback in callbacks:
            callback()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a transaction: a part that, when it raises, rolls back alone (the database and
        this store's memory of the transaction) while the rest of the transaction goes on."""
        if not self._mine():
            raise RuntimeError("a savepoint lives inside a transaction")
        self._flush()
        self._savepoints += 1
        name = f"part{self._savepoints}"
        kept = (self._head, dict(self._numbers), dict(self._scope_heads), len(self._on_commit))
        self._db.execute(f"SAVEPOINT {name}")
        try:
            yield
            self._flush()
        except BaseException:
            self._db.execute(f"ROLLBACK TO {name}")
            self._db.execute(f"RELEASE {name}")
            self._head, self._numbers, self._scope_heads = kept[0], kept[1], kept[2]
            del self._on_commit[kept[3] :]
            # What this part read or kept back may be gone: forget it all, re-read what is needed.
            self._known, self._unwritten, self._positions, self._log = {}, {}, [], []
            raise
        else:
            self._db.execute(f"RELEASE {name}")
        finally:
            self._savepoints -= 1

    def _end_transaction(self) -> None:
        self._depth = 0
        self._savepoints = 0
        self._head = None
        self._numbers = {}
        self._scope_heads = {}
        self._known = {}
        self._unwritten = {}
        self._positions = []
        self._log = []

    def _flush(self) -> None:
        """Write the rows kept back so far (write-behind), a few statements per table."""
        if self._unwritten:
            self._insert_rows(
                _RECORDS,
                [
                    (
                        collection,
                        record_id,
                        record.scope,
                        _encode(record.state.fields),
                        pack_clocks(record.state.clocks, record.state.fields),
                    )
                    for (collection, record_id), record in self._unwritten.items()
                ],
            )
            self._unwritten = {}
        if self._positions:
            self._insert_rows(_POSITIONS, self._positions)
            self._positions = []
        if self._log:
            self._insert_rows(_LOG, self._log)
            self._log = []

    def _insert_rows(self, table: tuple[str, int, str], rows: Sequence[Sequence[object]]) -> None:
        """Insert rows with multi-row VALUES statements of 64, 32, 16 ... rows (few shapes, each
        prepared once). Not executemany: sqlite3 gives the GIL up and takes it back around every
        row it steps, and while the search indexer's thread wants the GIL every row can hand it
        over. Measured on bench 2 against executemany: one device 1.25x, 50 devices 1.15x, server
        CPU 94 -> 76 us per change; alone, a statement of 64 rows also binds ~30% faster."""
        head, width, tail = table
        start, left = 0, len(rows)
        while left:
            count = ROWS_PER_STATEMENT if left >= ROWS_PER_STATEMENT else 1 << (left.bit_length() - 1)
            params = list(itertools.chain.from_iterable(rows[start : start + count]))
            self._db.execute(_values_sql(head, width, tail, count), params)
            start, left = start + count, left - count

    def _flush_numbers(self) -> None:
        self._db.executemany(
            "INSERT INTO channel_numbers (channel, n) VALUES (?, ?) ON CONFLICT (channel) DO UPDATE SET n = excluded.n",
            list(self._numbers.items()),
        )
        self._db.executemany(
            "INSERT INTO scope_heads (scope, seq) VALUES (?, ?) ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq",
            list(self._scope_heads.items()),
        )

    def _write(self, sql: str, params: Sequence[object]) -> sqlite3.Cursor:
        """One statement of a transaction (a statement made outside one is its own transaction)."""
        if self._mine():
            return self._db.execute(sql, params)
        with self.transaction():
            return self._db.execute(sql, params)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the outermost transaction has committed (dropped on rollback)."""
        if self._mine():
            self._on_commit.append(callback)
        else:
            callback()

    # --- records and the change log --------------------------------------------------------

    def records_in_scope(self, scope: str, skip: Sequence[str] = ()) -> list[RecordSnapshot]:
        db = self._reading()
        marks = ",".join("?" * len(skip))
        rows = db.execute(
            f"SELECT collection, id, fields, clocks FROM records WHERE scope = ? AND collection NOT IN ({marks})",
            (scope, *skip),
        ).fetchall()
        return [self._snapshot(scope, *row) for row in rows]

    def _snapshot(self, scope: str, collection: str, record_id: str, fields: str, clocks: str) -> RecordSnapshot:
        decoded = _fields_decoder.decode(fields)
        return RecordSnapshot(scope, collection, record_id, decoded, unpack_clocks(clocks, decoded))

    def snapshots(self, collection: str, ids: Sequence[str]) -> list[RecordSnapshot]:
        db = self._reading()
        found: list[RecordSnapshot] = []
        for chunk, marks in _in_chunks(ids):
            rows = db.execute(
                f"SELECT scope, collection, id, fields, clocks FROM records WHERE collection = ? AND id IN ({marks})",
                (collection, *chunk),
            ).fetchall()
            found.extend(self._snapshot(*row) for row in rows)
        position = {record_id: i for i, record_id in enumerate(ids)}
        return sorted(found, key=lambda snapshot: position[snapshot.id])

    def reactions_to(self, message_ids: Sequence[str]) -> list[RecordSnapshot]:
        db = self._reading()
        found: list[RecordSnapshot] = []
        for chunk, marks in _in_chunks(message_ids):
            rows = db.execute(
                "SELECT scope, collection, id, fields, clocks FROM records WHERE collection = 'reactions' "
                f"AND json_extract(fields, '$.message') IN ({marks})",
                chunk,
            ).fetchall()
            found.extend(self._snapshot(*row) for row in rows)
        return found

    # --- the message index: positions and search ----------------------------------------------

    def index_message(self, record_id: str, fields: Mapping[str, Value]) -> None:
        """Keep message_index (positions by n and tn) in step with a message record."""
        if self._owner != _get_ident():
            with self.transaction():
                return self.index_message(record_id, fields)
        self._positions.append(
            (
                record_id,
                fields.get("channel"),
                fields.get("thread"),
                fields.get("author"),
                fields.get("at") or 0,
                fields.get("n"),
                fields.get("tn"),
            )
        )

    def message_ids_before(self, channel_id: str, before_n: int | None, limit: int) -> list[str]:
        """Top-level messages of a channel with n < before_n (all when None), newest first."""
        db = self._reading()
        rows = db.execute(
            "SELECT id FROM message_index WHERE channel = ? AND n IS NOT NULL AND n < ? ORDER BY n DESC LIMIT ?",
            (channel_id, before_n if before_n is not None else 2**62, limit),
        ).fetchall()
        return [r[0] for r in rows]

    def reply_ids(self, parent_id: str) -> list[str]:
        db = self._reading()
        rows = db.execute("SELECT id FROM message_index WHERE thread = ? ORDER BY tn", (parent_id,))
        return [r[0] for r in rows]

    def latest_reply_ids(self, parent_ids: Sequence[str], limit: int) -> list[str]:
        """The newest ``limit`` replies in any of these threads (uses the by-thread index per parent)."""
        db = self._reading()
        if not parent_ids:
            return []
        marks = ",".join("?" * len(parent_ids))
        rows = db.execute(
            f"SELECT id FROM message_index WHERE thread IN ({marks}) ORDER BY at DESC, id DESC LIMIT ?",
            (*parent_ids, limit),
        ).fetchall()
        return [r[0] for r in rows]

    def record_history(self, collection: str, record_id: str) -> list[Change]:
        """Every logged change of one record, oldest first (redacted values absent)."""
        db = self._reading()
        rows = db.execute(
            "SELECT seq, scope, collection, record_id, hlc, author, fields FROM changes "
            "WHERE collection = ? AND record_id = ? ORDER BY seq",
            (collection, record_id),
        ).fetchall()
        decode = _fields_decoder.decode
        return [Change(seq, scope, col, rid, hlc, author, decode(f)) for seq, scope, col, rid, hlc, author, f in rows]

    def get_record(self, collection: str, record_id: str) -> StoredRecord | None:
        """The record as this transaction sees it. Callers must not change what they get: within a
        transaction it is the object the store keeps (put a new one instead)."""
        mine = self._owner == _get_ident()
        if mine:
            key = (collection, record_id)
            if key in self._known:
                return self._known[key]
        row = self._db.execute(
            "SELECT scope, fields, clocks FROM records WHERE collection = ? AND id = ?", (collection, record_id)
        ).fetchone()
        found = None if row is None else _stored(row[0], row[1], row[2])
        if mine:
            self._known[(collection, record_id)] = found
        return found

    def preload(self, collection: str, record_ids: Sequence[str]) -> None:
        """Read these records in one query for the ``get_record`` calls that follow in this
        transaction (a push of a hundred messages: one query instead of a hundred)."""
        if not self._mine():
            return
        wanted = list(dict.fromkeys(i for i in record_ids if (collection, i) not in self._known))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for record_id in chunk:
                self._known[(collection, record_id)] = None
            marks = ",".join("?" * len(chunk))
            for record_id, scope, fields, clocks in self._db.execute(
                f"SELECT id, scope, fields, clocks FROM records WHERE collection = ? AND id IN ({marks})",
                (collection, *chunk),
            ):
                self._known[(collection, record_id)] = _stored(scope, fields, clocks)

    def put_record(self, collection: str, record_id: str, record: StoredRecord) -> None:
        if self._owner != _get_ident():
            with self.transaction():
                return self.put_record(collection, record_id, record)
        key = (collection, record_id)
        self._unwritten[key] = record
        self._known[key] = record

    def append_change(self, change: NewChange) -> int:
        if self._owner != _get_ident():
            with self.transaction():
                return self.append_change(change)
        if self._head is None:  # nothing logged yet in this transaction: nothing kept back
            self._head = _last_entry(self._db)
        seq, prev = self._head[0] + 1, self._head[1]
        digest = chain.entry_hash(
            prev,
            seq=seq,
            scope=change.scope,
            collection=change.collection,
            record_id=change.id,
            hlc=change.hlc,
            author=change.author,
            device=change.device,
            mid=change.mid,
            received_at=change.received_at,
            digests=chain.field_digests(change.fields),
        )
        self._log.append(
            (
                seq,
                change.scope,
                change.collection,
                change.id,
                change.hlc,
                change.author,
                change.device,
                change.mid,
                change.received_at,
                _encode(change.fields),
                digest,
            )
        )
        self._head = (seq, digest)
        self._scope_heads[change.scope] = seq
        return seq

    def redact(self, collection: str, record_id: str, names: Sequence[str]) -> int:
        """Remove these fields' values from every logged change of a record, keeping their digests
        (chain.py, Rule 2). Returns how many entries changed."""
        db = self._reading()
        rows = db.execute(
            "SELECT seq, fields, redacted FROM changes WHERE collection = ? AND record_id = ?", (collection, record_id)
        ).fetchall()
        changed = 0
        for seq, fields_json, redacted_json in rows:
            fields = _fields_decoder.decode(fields_json)
            removed = {n: chain.value_digest(fields.pop(n)) for n in names if n in fields and fields[n] is not None}
            if not removed:
                continue
            kept = {**(_digests_decoder.decode(redacted_json) if redacted_json else {}), **removed}
            self._write(
                "UPDATE changes SET fields = ?, redacted = ? WHERE seq = ?", (_encode(fields), _encode(kept), seq)
            )
            changed += 1
        return changed

    def head_hash(self) -> tuple[int, str]:
        """The last entry's seq and hash: what an admin publishes or notes down."""
        return _last_entry(self._reading())

    def greatest_clock(self) -> str | None:
        """The greatest clock in the log (encoded clocks compare as strings): where the server's own
        clock resumes after a restart, so its writes never lose to a change it has already accepted."""
        row = self._reading().execute("SELECT max(hlc) FROM changes").fetchone()
        return str(row[0]) if row and row[0] is not None else None

    def mutation_applied(self, device_id: str, mid: int, collection: str, record_id: str) -> bool:
        """Did this device's mutation ``mid`` change its record? (A retry is acked again; a stale
        mutation that never applied is refused.) The record's index keeps this cheap."""
        row = (
            self._reading()
            .execute(
                "SELECT 1 FROM changes WHERE collection = ? AND record_id = ? AND device = ? AND mid = ? LIMIT 1",
                (collection, record_id, device_id, mid),
            )
            .fetchone()
        )
        return row is not None

    def scope_head(self, scope: str) -> int:
        if scope in self._scope_heads and self._owner == _get_ident():
            return self._scope_heads[scope]
        row = self._db.execute("SELECT seq FROM scope_heads WHERE scope = ?", (scope,)).fetchone()
        return int(row[0]) if row else 0

    def scope_heads(self, scopes: Sequence[str]) -> dict[str, int]:
        heads = dict.fromkeys(scopes, 0)
        # One small table (a row per scope), read whole: cheaper than an IN list of 200 scopes.
        for scope, seq in self._db.execute("SELECT scope, seq FROM scope_heads"):
            if scope in heads:
                heads[scope] = int(seq)
        if self._mine():
            heads.update((scope, seq) for scope, seq in self._scope_heads.items() if scope in heads)
        return heads

    def changes_after(self, scope: str, after: int, limit: int) -> list[Change]:
        rows = (
            self._reading()
            .execute(
                "SELECT seq, collection, record_id, hlc, author, fields FROM changes "
                "WHERE scope = ? AND seq > ? ORDER BY seq LIMIT ?",
                (scope, after, limit),
            )
            .fetchall()
        )
        decode = _fields_decoder.decode
        return [
            Change(seq, scope, col, rid, hlc, author, decode(fields)) for seq, col, rid, hlc, author, fields in rows
        ]

    def changes_since(self, after: int, limit: int) -> list[Change]:
        """The whole log after a seq. Inside this thread's transaction it sees that transaction;
        elsewhere it reads through its own connection: the shared one may be inside another
        thread's transaction, whose rows could still roll back (and their seqs be reused)."""
        sql = (
            "SELECT seq, scope, collection, record_id, hlc, author, fields FROM changes "
            "WHERE seq > ? ORDER BY seq LIMIT ?"
        )
        rows = self._reading().execute(sql, (after, limit)).fetchall()
        decode = _fields_decoder.decode
        return [
            Change(seq, scope, col, rid, hlc, author, decode(fields))
            for seq, scope, col, rid, hlc, author, fields in rows
        ]

    def next_message_number(self, channel_id: str) -> int:
        """The next number of a sequence (a channel's ``n``, a thread's ``tn``); written at COMMIT."""
        if self._owner != _get_ident():
            raise RuntimeError("message numbers are taken inside a transaction")
        n = self._numbers.get(channel_id)
        if n is None:
            row = self._db.execute("SELECT n FROM channel_numbers WHERE channel = ?", (channel_id,)).fetchone()
            n = int(row[0]) if row else 0
        self._numbers[channel_id] = n + 1
        return n + 1

    def channel_name_taken(self, name: str, except_id: str) -> bool:
        db = self._reading()
        row = db.execute(
            "SELECT 1 FROM records WHERE collection = 'channels' AND json_extract(fields, '$.name') = ? "
            "AND id != ? AND json_extract(fields, '$.kind') IN ('public', 'private') "
            "AND coalesce(json_extract(fields, '$.deleted'), 0) = 0 LIMIT 1",
            (name, except_id),
        ).fetchone()
        return row is not None

    def expired_message_ids(self, now_ms: int, limit: int) -> list[str]:
        """Messages whose bodies have expired (backend/retention.py, Rule 1), oldest first."""
        return [row[0] for row in self._reading().execute(_EXPIRED, {"now": now_ms, "limit": limit})]

    def snapshot(self) -> Snapshot:
        """A read transaction on a connection of its own (sqlite_snapshot.py): WAL lets the
        server go on committing while it is read, and it sees none of that."""
        return SqliteSnapshot(self.path)

    # --- memberships -------------------------------------------------------------------------

    def set_membership(self, channel_id: str, user_id: str, active: bool) -> None:
        if active:
            self._write("INSERT OR IGNORE INTO memberships (channel, user) VALUES (?, ?)", (channel_id, user_id))
        else:
            self._write("DELETE FROM memberships WHERE channel = ? AND user = ?", (channel_id, user_id))

    def is_member(self, channel_id: str, user_id: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM memberships WHERE channel = ? AND user = ?", (channel_id, user_id)
        ).fetchone()
        return row is not None

    def channels_of(self, user_id: str) -> list[str]:
        rows = self._db.execute("SELECT channel FROM memberships WHERE user = ? ORDER BY channel", (user_id,))
        return [r[0] for r in rows]

    def members_of(self, channel_id: str) -> list[str]:
        rows = self._db.execute("SELECT user FROM memberships WHERE channel = ? ORDER BY user", (channel_id,))
        return [r[0] for r in rows]
