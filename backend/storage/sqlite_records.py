"""Records and the change log of the SQLite store: the push's hot path (get_record, put_record,
append_change) and the reads of the log that sync, history and the hash chain make.

A mixin of SqliteStorage, on its connection and inside its transactions (sqlite.py). Inside a
transaction nothing here writes a row: a record put, or a change appended, is kept in the
store's write-behind (``_unwritten``, ``_log``) and written when the transaction or a savepoint
ends, or before a query that could see it (``_reading``). ``get_record`` answers from what the
transaction has already read or written (``_known``), so a push reads each record at most once.

The per-change methods ask "is this my transaction?" inline (``self._owner != _get_ident()``)
rather than through ``_mine()``: five calls per pushed change (bench/push_instructions.py).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from itertools import repeat
from typing import TYPE_CHECKING

import msgspec

from backend.storage import chain
from backend.storage.base import NewChange, StoredRecord
from backend.storage.sqlite_chain import chained
from backend.storage.sqlite_schema import unpack_clocks
from sync_protocol.merge import RecordState
from sync_protocol.wire import Change, RecordSnapshot, Value

if TYPE_CHECKING:
    from backend.storage.sqlite_chain import ChainFile

#: A row of ``changes`` kept back until the transaction writes it: (seq, scope, collection,
#: record_id, hlc, author, device, mid, received_at, fields, hash).
LogRow = tuple[int, str, str, str, str, str, str, int, int, bytes | bytearray, str]
#: A row of ``records`` already encoded (a record its change created): (collection, id, scope,
#: fields, clocks). The write-behind holds either this or a StoredRecord, encoded at flush.
RecordRow = tuple[str, str, str, bytearray, bytearray]

_fields_decoder = msgspec.json.Decoder(dict[str, Value])
_digests_decoder = msgspec.json.Decoder(dict[str, str])  # a log entry's redacted values
_encode = msgspec.json.encode
#: A log entry's fields (and a created record's) are encoded into a bytearray, which sqlite3 binds
#: as it is: ``bytes`` goes through its adapter lookup first (~1 us per value bound).
_encode_into = msgspec.json.Encoder().encode_into
_get_ident = threading.get_ident  # bound once: see the module doc


def _in_chunks(ids: Sequence[str], size: int = 500) -> Iterator[tuple[list[str], str]]:
    """``ids`` in chunks small enough for one ``IN (...)``, each with its placeholders."""
    for start in range(0, len(ids), size):
        chunk = list(ids[start : start + size])
        yield chunk, ",".join("?" * len(chunk))


def _last_seq(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT seq FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
    return int(row[0]) if row else 0


def _stored(scope: str, fields_json: str | bytes, clocks_json: str | bytes) -> StoredRecord:
    fields = _fields_decoder.decode(fields_json)
    return StoredRecord(scope, RecordState(fields, unpack_clocks(clocks_json, fields)))


class RecordTables:
    if TYPE_CHECKING:  # SqliteStorage's transaction state and plumbing (sqlite.py)
        _owner: int | None  # the thread inside a transaction, if any
        _head: int | None  # the log's last seq within this transaction
        _scope_heads: dict[str, int]
        _known: dict[tuple[str, str], StoredRecord | None]
        _unwritten: dict[tuple[str, str], StoredRecord | RecordRow]
        _log: list[LogRow]

        @property
        def _db(self) -> sqlite3.Connection: ...  # the writer in a transaction, else a reader

        def _reading(self) -> sqlite3.Connection: ...  # _db, with the rows kept back written first
        def _write(self, sql: str, params: Sequence[object]) -> sqlite3.Cursor: ...
        def _mine(self) -> bool: ...
        def chain_file(self) -> ChainFile: ...
        def transaction(self) -> AbstractContextManager[None]: ...

    # --- records, read by scope or by id ----------------------------------------------------

    def records_in_scope(self, scope: str, skip: Sequence[str] = ()) -> list[RecordSnapshot]:
        """A scope's records but its messages (and the collections in ``skip``): messages are read
        by position (``message_ids_before``, ``snapshots``). The ``collection <> 'messages'`` term
        is the one of the ``records_by_scope`` index, which SQLite uses only for a query that
        carries it (sqlite_schema.py)."""
        db = self._reading()
        marks = ",".join("?" * len(skip))
        rows = db.execute(
            "SELECT collection, id, fields, clocks FROM records "
            f"WHERE scope = ? AND collection <> 'messages' AND collection NOT IN ({marks})",
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

    # --- the push: one record at a time, and the log entries it appends --------------------

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
        known = self._known
        # Keyed as _known is, duplicates dropped: one pass, no per-id Python frame.
        wanted = [key for key in dict.fromkeys(zip(repeat(collection), record_ids)) if key not in known]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            known.update(dict.fromkeys(chunk))
            marks = ",".join("?" * len(chunk))
            for record_id, scope, fields, clocks in self._db.execute(
                f"SELECT id, scope, fields, clocks FROM records WHERE collection = ? AND id IN ({marks})",
                (collection, *[record_id for _, record_id in chunk]),
            ):
                known[(collection, record_id)] = _stored(scope, fields, clocks)

    def put_record(self, collection: str, record_id: str, record: StoredRecord) -> None:
        if self._owner != _get_ident():
            with self.transaction():
                return self.put_record(collection, record_id, record)
        key = (collection, record_id)
        self._unwritten[key] = record
        self._known[key] = record

    def append_change(self, change: NewChange) -> int:
        return self.write_change(change, None)

    def write_change(self, change: NewChange, record: StoredRecord | None, created: bool = False) -> int:
        """Append ``change`` to the log and, with ``record``, put the record it produced (one call
        per pushed change instead of two). ``created``: the record is new and its state is this
        change alone (``merge.apply(None, change.fields, change.hlc)``), so its row is the
        change's own encoding of the fields and one clock for all of them (``pack_clocks``'s
        ``{"*": hlc}``): the text is encoded once, not once for the log and once for the record."""
        if self._owner != _get_ident():
            with self.transaction():
                return self.write_change(change, record, created)
        if self._head is None:  # nothing logged yet in this transaction: nothing kept back
            self._head = _last_seq(self._db)
        seq = self._head = self._head + 1
        scope, collection, record_id, fields = change.scope, change.collection, change.id, change.fields
        encoded = bytearray()
        _encode_into(fields, encoded)
        # No hash: the chain follows the log in a file of its own (sqlite_chain.py, Rule 3).
        self._log.append(
            (
                seq,
                scope,
                collection,
                record_id,
                change.hlc,
                change.author,
                change.device,
                change.mid,
                change.received_at,
                encoded,
                "",
            )
        )
        self._scope_heads[scope] = seq
        if record is not None:
            key = (collection, record_id)
            self._known[key] = record
            if created and fields:
                clocks = bytearray()
                _encode_into({"*": change.hlc}, clocks)
                self._unwritten[key] = (collection, record_id, record.scope, encoded, clocks)
            else:
                self._unwritten[key] = record
        return seq

    # --- the log ----------------------------------------------------------------------------

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

    def log_head(self) -> int:
        return _last_seq(self._reading())

    def head_hash(self) -> tuple[int, str]:
        """The last entry's seq and hash: what an admin publishes or notes down. The chain's file
        is brought up to the last committed entry first (sqlite_chain.py, Rule 2); inside a
        transaction its own entries are chained on from there, in memory, as they stand."""
        head = self.chain_file().extend()
        if self._owner == _get_ident():
            rows = self._reading().execute(
                f"SELECT {chain.ROW_COLUMNS} FROM changes WHERE seq > ? ORDER BY seq", (head[0],)
            )
            for entry in chained(head, rows):
                head = entry
        return head

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
