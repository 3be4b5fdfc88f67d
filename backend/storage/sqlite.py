"""The embedded default store: one SQLite file in WAL mode (its tables: sqlite_schema.py).

Durability: ``synchronous=FULL`` makes every COMMIT reach the disk before ``transaction()``
returns, so an acked push survives ``kill -9`` and power loss alike. One connection serves the
whole (single-threaded, asyncio) server; WAL lets the CLI and Datasette read alongside it. The
WAL is copied into the database file by a thread beside the writer, not by a COMMIT
(sqlite_checkpoints.py); that changes when pages reach the file, never what an ack means.

Write-behind: inside a transaction, records, log entries and message positions are kept in
memory and written with a few multi-row INSERTs per table (``_insert_rows``) when the transaction
or a savepoint ends, or earlier, before any query that could see them. ``get_record`` answers
from what the transaction has already read or written, so a push reads each record at most once.

This module holds the connections, the transactions and that write-behind; the tables' methods
are mixins on the same connection and transactions, one module per kind of table:
sqlite_records.py (records and the change log: the push's hot path), sqlite_channels.py
(message positions and numbers, memberships), sqlite_accounts.py, sqlite_push.py,
sqlite_files.py and sqlite_calendar.py.
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import msgspec

from backend.storage.base import ReadOnlyStore, Snapshot, StoredRecord
from backend.storage.sqlite_accounts import AccountTables
from backend.storage.sqlite_calendar import CalendarTables
from backend.storage.sqlite_chain import ChainFile
from backend.storage.sqlite_channels import ChannelTables, PositionRow, TopPositionRow
from backend.storage.sqlite_checkpoints import Checkpointer
from backend.storage.sqlite_files import FileTables
from backend.storage.sqlite_push import PushTables
from backend.storage.sqlite_records import LogRow, RecordRow, RecordTables
from backend.storage.sqlite_schema import open_database, pack_clocks
from backend.storage.sqlite_snapshot import SqliteSnapshot, ThreadReaders, connect_readonly

_encode = msgspec.json.encode
# The sqlite3 module binds int, float, str and bytearray as they are, but sends bytes (our JSON
# columns: msgspec encodes to bytes) and None (a message's absent thread) through its adapter
# lookup first: a registry miss, then a failed __adapt__ lookup on its protocol type that builds and
# drops an AttributeError (~0.4 us per bytes value, ~0.2 per None; ~1.6 us per pushed message).
# Adapters that return the value itself bind the same BLOB or NULL, straight from the registry.
# Both are C calls with no argument parsing (a lambda was a Python frame per NULL bound).
sqlite3.register_adapter(bytes, bytes.__bytes__)  # b.__bytes__() is b for exact bytes
sqlite3.register_adapter(type(None), {None: None}.get)
#: Bound once: ``_mine()`` is asked on every statement of a transaction.
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
#: Top-level messages (no thread, no tn) leave the two NULL columns out: sqlite3 sends every None
#: it binds through its adapter lookup (a tuple built, a dict probed, a call), twice per message.
_TOP_POSITIONS = (
    "INSERT INTO message_index (id, channel, author, at, n)",
    5,
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


class SqliteStorage(RecordTables, ChannelTables, AccountTables, PushTables, FileTables, CalendarTables):
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
        self._readers = ThreadReaders(self.path)
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._savepoints = 0
        self._on_commit: list[Callable[[], None]] = []
        self.checkpoints: Checkpointer | None = None if readonly else Checkpointer(self.path, self._lock)
        #: The log's hash chain, in its file (sqlite_chain.py): opened when first asked for.
        self._chain: ChainFile | None = None
        self._chain_lock = threading.Lock()
        # Within one write transaction nobody else writes, so the log's head and the message
        # counters can be kept in memory; they are forgotten at every transaction's end.
        self._head: int | None = None
        self._numbers: dict[str, int] = {}
        self._scope_heads: dict[str, int] = {}
        # Write-behind (see the module doc): records read or written in this transaction, and
        # the rows not yet written.
        self._known: dict[tuple[str, str], StoredRecord | None] = {}
        self._unwritten: dict[tuple[str, str], StoredRecord | RecordRow] = {}
        self._positions: list[PositionRow] = []
        self._top_positions: list[TopPositionRow] = []
        self._log: list[LogRow] = []

    def close(self) -> None:
        # The checkpointer and the read-only connections first: the last connection to close
        # checkpoints the WAL into the database file, and a read-only one cannot.
        if self.checkpoints is not None:
            self.checkpoints.close()
        self._readers.close()
        with self._chain_lock:
            if self._chain is not None:
                self._chain.close()
        with self._lock:  # let a transaction running on another thread finish first
            self._writer.close()

    def chain_file(self) -> ChainFile:
        """The log's hash chain (sqlite_chain.py). A read-only store extends it too: the file is
        derived from the log, which stays untouched."""
        with self._chain_lock:
            if self._chain is None:
                self._chain = ChainFile(self.path)
            return self._chain

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
        return self._readers.get()

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
                if self.checkpoints is not None:
                    self.checkpoints.wrote()
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
            self._known, self._unwritten, self._positions, self._top_positions, self._log = {}, {}, [], [], []
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
        self._top_positions = []
        self._log = []

    def _flush(self) -> None:
        """Write the rows kept back so far (write-behind), a few statements per table."""
        if self._unwritten:
            self._insert_rows(
                _RECORDS,
                [
                    record
                    if isinstance(record, tuple)  # encoded already (write_change, ``created``)
                    else (
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
        if self._top_positions:
            self._insert_rows(_TOP_POSITIONS, self._top_positions)
            self._top_positions = []
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

    def snapshot(self) -> Snapshot:
        """A read transaction on a connection of its own (sqlite_snapshot.py): WAL lets the
        server go on committing while it is read, and it sees none of that."""
        return SqliteSnapshot(self.path, self.chain_file())
