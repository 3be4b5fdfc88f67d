"""SqliteSnapshot: one consistent read of the live SQLite store, streamed (base.Snapshot).

Rule 1. Everything is read inside ONE read transaction on a separate, read-only connection. In
        WAL mode the first SELECT pins a snapshot: the server keeps committing, and we keep
        seeing the database as it was, so the log, the records and the accounts agree however
        long the reader takes.
Rule 2. Secrets are never read: no password hashes, no session tokens, no invites, no settings.
Rule 3. Nothing is read whole: every method is a cursor the caller consumes as it goes, in the
        order the caller needs (SQLite sorts, spilling to temporary files, when that is not the
        order of an index), so memory does not grow with the store.

While a snapshot is open the server's WAL cannot be checkpointed past it, so the WAL file grows
by what the server writes meanwhile; it shrinks back at the next checkpoint after.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import msgspec

from backend.storage import chain
from backend.storage.base import LogEntryAbout, PublicAccount, SnapshotMessage, SnapshotRecord, Timing

if TYPE_CHECKING:
    from backend.storage.sqlite_chain import ChainFile

_decode = msgspec.json.Decoder(dict[str, Any]).decode


def connect_readonly(path: Path | str) -> sqlite3.Connection:
    """A connection that cannot write, whatever SQL it is given (mode=ro + query_only)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no database at {path}")
    db = sqlite3.connect(
        f"file:{quote(str(Path(path).resolve()))}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    db.execute("PRAGMA query_only=ON")
    db.execute("PRAGMA busy_timeout=5000")
    return db


class ThreadReaders:
    """Each thread's own read-only connection to one database file, opened on its first read;
    ``close`` closes them all. A store reads through these outside its write transaction (why:
    ``SqliteStorage._db``)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        reader: sqlite3.Connection | None = getattr(self._local, "db", None)
        if reader is None:
            reader = connect_readonly(self.path)
            self._local.db = reader
            with self._lock:
                self._opened.append(reader)
        return reader

    def close(self) -> None:
        with self._lock:
            for reader in self._opened:
                reader.close()
            self._opened.clear()


#: A log row's columns (chain.ROW_COLUMNS) with its hash from the chain's file (sqlite_chain.py),
#: for ``FROM changes c`` followed by ``_HASHED``.
_COLUMNS = ", ".join(
    "h.hash" if name.strip() == "hash" else f"c.{name.strip()}" for name in chain.ROW_COLUMNS.split(",")
)
_WIDTH = len(chain.ROW_COLUMNS.split(","))
_HASHED = " LEFT JOIN chain.chain h ON h.seq = c.seq"

#: A record's first and last log entries (the live store's index on (collection, record_id, seq)).
_TIMING = """
    (SELECT received_at FROM changes c WHERE c.collection = r.collection AND c.record_id = r.id
     ORDER BY c.seq LIMIT 1) AS created,
    (SELECT author FROM changes c WHERE c.collection = r.collection AND c.record_id = r.id
     ORDER BY c.seq LIMIT 1) AS first_author,
    (SELECT received_at FROM changes c WHERE c.collection = r.collection AND c.record_id = r.id
     ORDER BY c.seq DESC LIMIT 1) AS updated
"""
#: A message's time as exports sort by it: its ``at`` when that is an integer, else 0.
_AT = "CASE json_type(r.fields, '$.at') WHEN 'integer' THEN json_extract(r.fields, '$.at') ELSE 0 END"

#: What log() tells of each entry's record (base.LogEntryAbout).
_ABOUT = """CASE c.collection
    WHEN 'messages' THEN (SELECT json_type(r.fields, '$.deleted') = 'true' FROM records r
                          WHERE r.collection = 'messages' AND r.id = c.record_id)
    WHEN 'members' THEN (SELECT json_extract(r.fields, '$.channel') FROM records r
                         WHERE r.collection = 'members' AND r.id = c.record_id)
    WHEN 'users' THEN EXISTS (SELECT 1 FROM records r WHERE r.collection = 'users' AND r.id = c.record_id)
END"""


def _entry(row: Sequence[Any]) -> chain.ChainRow:
    seq, scope, collection, record_id, hlc, author, device, mid, received_at, fields, redacted, digest = row
    return chain.ChainRow(
        seq,
        scope,
        collection,
        record_id,
        hlc,
        author,
        device,
        mid,
        received_at,
        _decode(fields),
        _decode(redacted) if redacted else None,
        digest,
    )


class SqliteSnapshot:
    """The live store as it was when the snapshot began (Rule 1). Use as a context manager."""

    def __init__(self, path: Path | str, chain_file: ChainFile) -> None:
        """``chain_file``: the log's hash chain, brought up to this snapshot's head when a hash is
        first read (sqlite_chain.py, Rule 2); a snapshot that reads none (the meetings ended at
        start) hashes nothing."""
        self._db = connect_readonly(path)
        try:
            # Before the read transaction: SQLite refuses an ATTACH inside one.
            self._db.execute("ATTACH DATABASE ? AS chain", (f"file:{quote(str(chain_file.path.resolve()))}?mode=ro",))
            self._db.execute("BEGIN")
            head = self._db.execute("SELECT seq FROM changes ORDER BY seq DESC LIMIT 1").fetchone()  # pins the log
        except sqlite3.Error:
            self._db.close()
            raise
        self.head_seq = int(head[0]) if head else 0
        self._chain_file: ChainFile | None = chain_file
        self._head_hash = chain.GENESIS

    def _chained(self) -> None:
        """Extend the chain's file to the head, then pin it: the chain's first read in this read
        transaction takes the file as it is now, at or past the log's head."""
        if self._chain_file is None:
            return
        self._chain_file.extend(self.head_seq)
        self._chain_file = None
        found = self._db.execute("SELECT hash FROM chain.chain WHERE seq = ?", (self.head_seq,)).fetchone()
        if found:
            self._head_hash = str(found[0])

    @property
    def head_hash(self) -> str:
        self._chained()
        return self._head_hash

    def __enter__(self) -> SqliteSnapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()  # ends the read transaction

    def count(self, collection: str) -> int:
        return int(self._db.execute("SELECT count(*) FROM records WHERE collection = ?", (collection,)).fetchone()[0])

    def records(self, collection: str, by_creation: bool = False) -> Iterator[SnapshotRecord]:
        order = "coalesce(created, 0), r.id" if by_creation else "r.id"
        sql = f"SELECT r.id, r.scope, r.fields, {_TIMING} FROM records r WHERE r.collection = ? ORDER BY {order}"
        for rid, scope, fields, created, author, updated in self._db.execute(sql, (collection,)):
            yield SnapshotRecord(rid, scope, _decode(fields), Timing(created, author, updated))

    def accounts(self) -> Iterator[PublicAccount]:
        for r in self._db.execute("SELECT id, email, name, role, created, deactivated FROM accounts"):
            yield PublicAccount(r[0], r[1], r[2], r[3], int(r[4]), bool(r[5]))

    def wrote(self, author: str) -> bool:
        return self._db.execute("SELECT 1 FROM changes WHERE author = ? LIMIT 1", (author,)).fetchone() is not None

    def messages(
        self, channels: Sequence[str] | None = None, since_ms: int | None = None, until_ms: int | None = None
    ) -> Iterator[SnapshotMessage]:
        where = ["r.collection = 'messages'"]
        params: dict[str, str | int] = {}
        if channels is not None:
            where.append("json_extract(r.fields, '$.channel') IN (SELECT value FROM json_each(:channels))")
            params["channels"] = msgspec.json.encode(list(channels)).decode()
        if since_ms is not None:
            where.append(f"{_AT} >= :since")
            params["since"] = since_ms
        if until_ms is not None:
            where.append(f"{_AT} < :until")
            params["until"] = until_ms
        sql = (
            f"SELECT r.id, r.fields, {_COLUMNS} FROM records r "
            f"LEFT JOIN changes c ON c.collection = 'messages' AND c.record_id = r.id {_HASHED} "
            f"WHERE {' AND '.join(where)} ORDER BY {_AT}, r.id, c.hlc, c.seq"
        )
        current: str | None = None
        fields: dict[str, Any] = {}
        entries: list[chain.ChainRow] = []
        self._chained()
        for row in self._db.execute(sql, params):
            if row[0] != current:
                if current is not None:
                    yield SnapshotMessage(current, fields, entries)
                current, fields, entries = row[0], _decode(row[1]), []
            if row[2] is not None:
                entries.append(_entry(row[2:]))
        if current is not None:
            yield SnapshotMessage(current, fields, entries)

    def entries_by_record(self, collection: str) -> Iterator[tuple[str, list[chain.ChainRow]]]:
        sql = f"SELECT {_COLUMNS} FROM changes c{_HASHED} WHERE c.collection = ? ORDER BY c.record_id, c.seq"
        current: str | None = None
        entries: list[chain.ChainRow] = []
        self._chained()
        for row in self._db.execute(sql, (collection,)):
            if row[3] != current:
                if current is not None:
                    yield current, entries
                current, entries = row[3], []
            entries.append(_entry(row))
        if current is not None:
            yield current, entries

    def log(self) -> Iterator[tuple[chain.ChainRow, LogEntryAbout]]:
        self._chained()
        for row in self._db.execute(f"SELECT {_COLUMNS}, {_ABOUT} FROM changes c{_HASHED} ORDER BY c.seq"):
            yield _entry(row[:_WIDTH]), row[_WIDTH]

    def stored_log(self) -> Iterator[tuple[Any, ...]]:
        self._chained()
        yield from self._db.execute(f"SELECT {_COLUMNS} FROM changes c{_HASHED} ORDER BY c.seq")

    def stored_entry(self, seq: int) -> tuple[Any, ...] | None:
        self._chained()
        row: tuple[Any, ...] | None = self._db.execute(
            f"SELECT {_COLUMNS} FROM changes c{_HASHED} WHERE c.seq = ?", (seq,)
        ).fetchone()
        return row
