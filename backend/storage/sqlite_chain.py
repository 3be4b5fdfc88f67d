"""The change log's hash chain (chain.py), kept in a file of its own beside the database.

Rules:

Rule 1. The chain is derived from the log as stored: entry N's hash is ``chain.entry_hash`` over
        entry N-1's hash and row N of ``changes`` (chain.py, Rules 1-3). A value redacted from a
        row counts by the digest the redaction kept (chain.py, Rule 2), so an entry hashed
        before its redaction and one hashed after get the same hash.
Rule 2. Whoever needs the chain's head brings the chain there (``ChainFile.extend``): the
        followers process keeps it a moment behind the log (followers/chainer.py), and the head
        hash (``GET /api/admin/chain``) and a snapshot that reads hashes (exports, ``archive
        verify --live``) extend whatever is left themselves, so nothing waits for the followers.
        Two processes extending at once take turns on the file's write lock, and each goes on
        from the head it finds inside its transaction: every entry is hashed once.
Rule 3. Entries written with their hash in ``changes.hash`` (before the chain had a file of its
        own) keep that hash: the file takes it as it is and the chain goes on from it. Entries
        written since store ``''`` there.
Rule 4. The file is derived: delete it and the next ``extend`` rebuilds it from the log, the
        same hashes for the same rows. A file ahead of the log (the two restored from different
        times) is refused, never used: its hashes past the log's head are of other entries. Its
        commits are ``synchronous=NORMAL`` (no fsync each): a crash can lose the last ones,
        which the next ``extend`` hashes again.

Why the chain is not computed in the push's transaction any more (issue 15): its three SHA-256 per
change were ~10% of the server's CPU per pushed message on the one core the event loop runs on,
and nothing on the write path reads a hash. What the chain proves is unchanged: an entry's hash
covers the row the log committed, and a head hash an admin published still pins every entry up
to it (whoever can rewrite the log could always rewrite the hashes beside it as well).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from backend.storage import chain
from backend.storage.sqlite_snapshot import connect_readonly

#: Entries hashed per transaction of the chain file (~10-20 ms of CPU).
BATCH = 2000

_SCHEMA = "CREATE TABLE IF NOT EXISTS chain (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL)"
_decode = chain.row_from_sql


def chain_path(database: Path | str) -> Path:
    """Where the chain of the log in ``database`` lives: ``teamtalk.db`` -> ``teamtalk.chain.db``."""
    path = Path(database)
    return path.with_name(f"{path.stem}.chain.db")


class ChainFile:
    """The chain of one log (Rules 1-4). Thread-safe; one per process and database."""

    def __init__(self, database: Path | str) -> None:
        self.database = str(database)
        self.path = chain_path(database)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # Rule 4
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute(_SCHEMA)
        self._log: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if self._log is not None:
                self._log.close()
            self._db.close()

    def head(self) -> tuple[int, str]:
        """The chain's last entry as the file holds it now (it may be behind the log)."""
        with self._lock:
            return self._head()

    def extend(self, up_to: int | None = None) -> tuple[int, str]:
        """Hash the log's entries the file does not hold yet, up to ``up_to`` (every committed one
        when None), and return the chain's head there (Rule 2)."""
        with self._lock:
            target = self._log_head() if up_to is None else up_to
            head = self._head()
            if up_to is None and head[0] > target:
                raise sqlite3.IntegrityError(
                    f"{self.path.name} holds entries up to {head[0]} but the log ends at {target}: restored from"
                    f" different times? Delete {self.path.name} (the server stopped) to rebuild it from the log"
                )
            while head[0] < target:
                head = self._extend_batch(target)
            return head

    def _extend_batch(self, target: int) -> tuple[int, str]:
        """One transaction of at most BATCH entries towards ``target``: the head after it."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            seq, digest = self._head()  # inside the write lock: another process may have gone on
            if seq < target:
                rows = self._reader().execute(
                    f"SELECT {chain.ROW_COLUMNS} FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                    (seq, min(BATCH, target - seq)),
                )
                hashed = list(chained((seq, digest), rows))
                if not hashed:
                    raise sqlite3.IntegrityError(f"the change log has no entry {seq + 1} (asked up to {target})")
                db.executemany("INSERT INTO chain (seq, hash) VALUES (?, ?)", hashed)
                seq, digest = hashed[-1]
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return seq, digest

    def _head(self) -> tuple[int, str]:
        row = self._db.execute("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else (0, chain.GENESIS)

    def _log_head(self) -> int:
        row = self._reader().execute("SELECT seq FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
        return int(row[0]) if row else 0

    def _reader(self) -> sqlite3.Connection:
        """A read-only connection to the log; each statement outside a transaction reads the
        latest commit."""
        if self._log is None:
            self._log = connect_readonly(self.database)
        return self._log


def chained(head: tuple[int, str], rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[int, str]]:
    """(seq, hash) of each stored row (``SELECT chain.ROW_COLUMNS``, in seq order) after ``head``:
    Rule 1, and Rule 3 for a row that kept its hash."""
    seq, digest = head
    for row in rows:
        if row[0] != seq + 1:
            raise sqlite3.IntegrityError(f"the change log has no entry {seq + 1} (next: {row[0]})")
        seq = row[0]
        digest = row[11] or chain.row_hash(digest, _decode(row))
        yield seq, digest
