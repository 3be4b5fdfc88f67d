"""The push queue's own file (push.db, beside teamtalk.db): the notifications waiting to leave, when
each conversation was last pushed to each device, and the push producer's position in the log.

Why a file of its own: the push producer writes a message's rows (1,000 for a channel of 1,000
subscribed devices) and offers them to the sender inside its write transaction, and the sender
marks what it sent in transactions of its own. In teamtalk.db those transactions held SQLite's
write lock ~42 ms per message (issue 10), and every write of the server (a person's send, its
group commit on the event loop) waited for them. A database file has its own write lock: here the
followers wait only for each other, and the server never waits for a push.

Rule 1. Only the followers process writes here per push (the producer, the sender), and the
        server's calendar reminders when one fires (rarely). The subscriptions stay in
        teamtalk.db (the server writes them): a row here names its subscription by id, with no
        foreign key across files. A row whose subscription is gone (revoked, signed out, keys
        rotated) is dropped by the sender when it reads it (sender.py, Rule 2), never sent.
Rule 2. The queue holds at most one row per subscription and topic (a conversation). A newer
        notification for the same conversation replaces the waiting one's payload and bumps its
        ``version``; it keeps the row's ``due``, so a burst coalesces into the push already waiting.
Rule 3. A row is removed only when the version that was sent is still the row's version; a row
        replaced meanwhile stays queued, due after the conversation's gap.
Rule 4. The producer's position (``position``) is stored in the same transaction as the rows it
        derived (producer.py, Rule 1). Durable as teamtalk.db is (``synchronous=FULL``), with
        WAL checkpoints off the write path (sqlite_checkpoints.py).
Rule 5. A queue left in teamtalk.db by an older version is moved here once (``adopt``): the rows,
        the sent marks and the position are committed here before the old tables are dropped
        there, so a crash between the two moves them again (the same rows: nothing is lost or
        doubled).
Rule 6. Losing this file loses only notifications not yet sent: a new one starts at the log's
        head (producer.py, Rule 2). teamtalk.db and the VAPID keys are what must be backed up;
        an older copy of this file must not be restored (its position would notify again about
        every message since).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from backend.storage.base import PushJob
from backend.storage.sqlite_checkpoints import Checkpointer
from backend.storage.sqlite_snapshot import ThreadReaders

SCHEMA = """
CREATE TABLE IF NOT EXISTS push_queue (
    subscription TEXT NOT NULL,
    topic TEXT NOT NULL, payload TEXT NOT NULL, urgency TEXT NOT NULL, ttl INTEGER NOT NULL,
    due INTEGER NOT NULL, first INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (subscription, topic)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS push_queue_by_due ON push_queue (due);
CREATE TABLE IF NOT EXISTS push_sent (
    subscription TEXT NOT NULL, topic TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (subscription, topic)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS position (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL);
"""
#: The setting under which teamtalk.db kept the producer's position before this file (Rule 5).
OLD_POSITION = "push_seq"
_JOB = "subscription, topic, payload, urgency, ttl, due, first, attempts, version"
_get_ident = threading.get_ident


def _job(row: Sequence[object]) -> PushJob:
    return PushJob(*row)  # type: ignore[arg-type]


class PushQueue:
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._writer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._writer.execute("PRAGMA synchronous=FULL")
        self._writer.execute("PRAGMA wal_autocheckpoint=0")  # sqlite_checkpoints.py, Rule 1
        self._writer.execute("PRAGMA busy_timeout=5000")
        self._writer.executescript(SCHEMA)
        self._lock = threading.Lock()
        self._owner: int | None = None
        # Reads outside a transaction: each thread its own read-only connection (sqlite.py's
        # ``_db`` says why). The sender's loop reads the queue while the producer holds the lock.
        self._readers = ThreadReaders(self.path)
        self.checkpoints = Checkpointer(self.path, self._lock)

    def close(self) -> None:
        self.checkpoints.close()
        self._readers.close()
        with self._lock:
            self._writer.close()

    @property
    def _db(self) -> sqlite3.Connection:
        if self._owner == _get_ident():
            return self._writer
        return self._readers.get()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; nested uses join it. Another thread's waits for it to end (the
        sender's marks wait for the producer's rows: producer.py, Rule 6)."""
        if self._owner == _get_ident():
            yield
            return
        with self._lock:
            self._owner = _get_ident()
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                try:
                    yield
                    self._writer.execute("COMMIT")
                except BaseException:
                    if self._writer.in_transaction:
                        self._writer.execute("ROLLBACK")
                    raise
            finally:
                self._owner = None
        self.checkpoints.wrote()

    def _many(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        if rows:
            with self.transaction():
                self._writer.executemany(sql, rows)

    # --- the producer's position (Rule 4) -----------------------------------------------------

    def position(self) -> int | None:
        row = self._db.execute("SELECT seq FROM position").fetchone()
        return int(row[0]) if row else None

    def set_position(self, seq: int) -> None:
        with self.transaction():
            self._writer.execute("INSERT OR REPLACE INTO position (one, seq) VALUES (1, ?)", (seq,))

    # --- the queue (Rules 2 and 3) ------------------------------------------------------------

    def queue_pushes(self, jobs: Sequence[PushJob]) -> None:
        """Queue each, or replace the payload of the push waiting for the same subscription and
        topic (keeping its ``due``, bumping its ``version``)."""
        self._many(
            f"INSERT INTO push_queue ({_JOB}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (subscription, topic) DO UPDATE SET payload = excluded.payload,"
            " urgency = excluded.urgency, ttl = excluded.ttl, version = push_queue.version + 1",
            [
                (j.subscription, j.topic, j.payload, j.urgency, j.ttl, j.due, j.first, j.attempts, j.version)
                for j in jobs
            ],
        )

    def last_pushes_sent(self, sub_ids: Sequence[str], topic: str) -> dict[str, int]:
        """When a push about ``topic`` last left for each of these subscriptions (if ever)."""
        found: dict[str, int] = {}
        ids = list(sub_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found.update(
                self._db.execute(
                    f"SELECT subscription, at FROM push_sent WHERE topic = ? AND subscription IN"
                    f" ({','.join('?' * len(chunk))})",
                    (topic, *chunk),
                ).fetchall()
            )
        return found

    def queued_pushes(self, sub_ids: Sequence[str], topic: str) -> set[str]:
        """Which of these subscriptions have a push about ``topic`` waiting in the queue."""
        found: set[str] = set()
        ids = list(sub_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found.update(
                row[0]
                for row in self._db.execute(
                    f"SELECT subscription FROM push_queue WHERE topic = ? AND subscription IN"
                    f" ({','.join('?' * len(chunk))})",
                    (topic, *chunk),
                )
            )
        return found

    def due_pushes(self, now_ms: int, limit: int) -> list[PushJob]:
        rows = self._db.execute(
            f"SELECT {_JOB} FROM push_queue WHERE due <= ? ORDER BY due LIMIT ?", (now_ms, limit)
        ).fetchall()
        return [_job(r) for r in rows]

    def next_push_due(self) -> int | None:
        row = self._db.execute("SELECT min(due) FROM push_queue").fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def pushes_sent(self, jobs: Sequence[PushJob], now_ms: int, gap_ms: int) -> None:
        """Sent: remove each unless replaced meanwhile (then it stays, due ``gap_ms`` from now)."""
        with self.transaction():
            self._many(
                "INSERT INTO push_sent (subscription, topic, at) VALUES (?, ?, ?)"
                " ON CONFLICT (subscription, topic) DO UPDATE SET at = excluded.at",
                [(j.subscription, j.topic, now_ms) for j in jobs],
            )
            self._many(
                "DELETE FROM push_queue WHERE subscription = ? AND topic = ? AND version = ?",
                [(j.subscription, j.topic, j.version) for j in jobs],
            )
            # Rows replaced while they were being sent are still there: due after the gap (Rule 3).
            self._many(
                "UPDATE push_queue SET due = ?, attempts = 0 WHERE subscription = ? AND topic = ?",
                [(now_ms + gap_ms, j.subscription, j.topic) for j in jobs],
            )

    def retry_push(self, job: PushJob, due_ms: int) -> None:
        with self.transaction():
            self._writer.execute(
                "UPDATE push_queue SET due = ?, attempts = attempts + 1 WHERE subscription = ? AND topic = ?",
                (due_ms, job.subscription, job.topic),
            )

    def drop_push(self, job: PushJob) -> None:
        with self.transaction():
            self._writer.execute(
                "DELETE FROM push_queue WHERE subscription = ? AND topic = ? AND version = ?",
                (job.subscription, job.topic, job.version),
            )

    def forget(self, sub_id: str) -> None:
        """A removed subscription's rows and marks (Rule 1)."""
        with self.transaction():
            self._writer.execute("DELETE FROM push_queue WHERE subscription = ?", (sub_id,))
            self._writer.execute("DELETE FROM push_sent WHERE subscription = ?", (sub_id,))

    # --- an older data dir (Rule 5) -----------------------------------------------------------

    def adopt(self, old: str) -> int:
        """Move the queue, the sent marks and the position that teamtalk.db at ``old`` kept before
        this file, then drop them there (Rule 5). Returns how many queued rows moved."""
        source = sqlite3.connect(old, isolation_level=None)
        try:
            source.execute("PRAGMA busy_timeout=5000")
            tables = {r[0] for r in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "push_queue" not in tables:
                return 0
            rows = source.execute(f"SELECT {_JOB} FROM push_queue").fetchall()
            sent = source.execute("SELECT subscription, topic, at FROM push_sent").fetchall()
            setting = source.execute("SELECT value FROM settings WHERE key = ?", (OLD_POSITION,)).fetchone()
            with self.transaction():
                self._writer.executemany(
                    f"INSERT OR IGNORE INTO push_queue ({_JOB}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
                self._writer.executemany(
                    "INSERT OR IGNORE INTO push_sent (subscription, topic, at) VALUES (?, ?, ?)", sent
                )
                if setting is not None and self.position() is None:
                    self._writer.execute("INSERT INTO position (one, seq) VALUES (1, ?)", (int(setting[0]),))
            source.execute("BEGIN IMMEDIATE")
            source.execute("DROP TABLE push_queue")
            source.execute("DROP TABLE IF EXISTS push_sent")
            source.execute("DELETE FROM settings WHERE key = ?", (OLD_POSITION,))
            source.execute("COMMIT")
            return len(rows)
        finally:
            source.close()
