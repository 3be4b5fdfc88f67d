"""The push tables of the SQLite store: each device's Web Push subscription, and the durable
queue of notifications waiting to leave (backend/push/).

A mixin of SqliteStorage, on its connection and inside its transactions. Subscriptions are device
secrets (the endpoint is a bearer capability): they live here, never in the change log or a replica.

Rule 1. One subscription per device and per endpoint: subscribing again replaces the old one.
Rule 2. The queue holds at most one row per subscription and topic (a conversation). A newer
        notification for the same conversation replaces the waiting one's payload and bumps its
        ``version``; it keeps the row's ``due``, so a burst coalesces into the push already waiting.
Rule 3. A row is removed only when the version that was sent is still the row's version; a row
        replaced meanwhile stays queued, due after the conversation's gap.
Rule 4. Removing a subscription (revoked, signed out, 404/410) removes its queued rows.
Rule 5. Every insert, update and delete of a subscription bumps ``push_subscriptions_version``
        (triggers, in the same transaction), so a reader that keeps subscriptions in memory
        (push/subscribers.py) reads one row to know whether they still hold.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from backend.storage.base import PushJob, PushSubscription

PUSH_SCHEMA = """
CREATE TABLE IF NOT EXISTS push_subscriptions (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, device TEXT NOT NULL UNIQUE, endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL, auth TEXT NOT NULL, lang TEXT NOT NULL, created INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS push_subscriptions_by_user ON push_subscriptions (user_id);
CREATE TABLE IF NOT EXISTS push_subscriptions_version (
    one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL
);
INSERT OR IGNORE INTO push_subscriptions_version (one, version) VALUES (1, 0);
CREATE TRIGGER IF NOT EXISTS push_subscriptions_inserted AFTER INSERT ON push_subscriptions
    BEGIN UPDATE push_subscriptions_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS push_subscriptions_updated AFTER UPDATE ON push_subscriptions
    BEGIN UPDATE push_subscriptions_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS push_subscriptions_deleted AFTER DELETE ON push_subscriptions
    BEGIN UPDATE push_subscriptions_version SET version = version + 1; END;
CREATE TABLE IF NOT EXISTS push_queue (
    subscription TEXT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    topic TEXT NOT NULL, payload TEXT NOT NULL, urgency TEXT NOT NULL, ttl INTEGER NOT NULL,
    due INTEGER NOT NULL, first INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (subscription, topic)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS push_queue_by_due ON push_queue (due);
CREATE TABLE IF NOT EXISTS push_sent (
    subscription TEXT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    topic TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (subscription, topic)
) WITHOUT ROWID;
"""

_SUB = "id, user_id, device, endpoint, p256dh, auth, lang, created"
_JOB = "subscription, topic, payload, urgency, ttl, due, first, attempts, version"


def _sub(row: Sequence[object]) -> PushSubscription:
    return PushSubscription(*row)  # type: ignore[arg-type]


def _job(row: Sequence[object]) -> PushJob:
    return PushJob(*row)  # type: ignore[arg-type]


class PushTables:
    if TYPE_CHECKING:  # SqliteStorage's: one statement inside the open transaction, or its own

        @property
        def _db(self) -> sqlite3.Connection: ...  # the writer in a transaction, else a reader

        def _write(self, sql: str, params: Sequence[object]) -> sqlite3.Cursor: ...
        def _mine(self) -> bool: ...
        def transaction(self) -> AbstractContextManager[None]: ...

    # --- subscriptions (Rules 1 and 4) -------------------------------------------------------

    def add_push_subscription(self, sub: PushSubscription) -> None:
        self._write("DELETE FROM push_subscriptions WHERE device = ? OR endpoint = ?", (sub.device, sub.endpoint))
        self._write(
            f"INSERT INTO push_subscriptions ({_SUB}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (sub.id, sub.user_id, sub.device, sub.endpoint, sub.p256dh, sub.auth, sub.lang, sub.created),
        )

    def push_subscription(self, sub_id: str) -> PushSubscription | None:
        row = self._db.execute(f"SELECT {_SUB} FROM push_subscriptions WHERE id = ?", (sub_id,)).fetchone()
        return _sub(row) if row else None

    def push_subscriptions(self, sub_ids: Sequence[str]) -> dict[str, PushSubscription]:
        found: dict[str, PushSubscription] = {}
        ids = list(dict.fromkeys(sub_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for row in self._db.execute(
                f"SELECT {_SUB} FROM push_subscriptions WHERE id IN ({','.join('?' * len(chunk))})", chunk
            ):
                found[row[0]] = _sub(row)
        return found

    def push_subscriptions_of(self, user_ids: Sequence[str]) -> list[PushSubscription]:
        if not user_ids:
            return []
        rows: list[PushSubscription] = []
        ids = list(user_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows += [
                _sub(r)
                for r in self._db.execute(
                    f"SELECT {_SUB} FROM push_subscriptions WHERE user_id IN ({','.join('?' * len(chunk))})"
                    " ORDER BY user_id, created",
                    chunk,
                )
            ]
        return rows

    def push_subscriptions_version(self) -> int:
        row = self._db.execute("SELECT version FROM push_subscriptions_version").fetchone()
        return int(row[0]) if row else 0

    def newest_push_subscriptions(self, limit: int) -> list[PushSubscription]:
        rows = self._db.execute(f"SELECT {_SUB} FROM push_subscriptions ORDER BY created DESC LIMIT ?", (limit,))
        return [_sub(r) for r in rows]

    def remove_push_subscription(self, sub_id: str) -> None:
        self._write("DELETE FROM push_subscriptions WHERE id = ?", (sub_id,))

    def remove_device_push_subscription(self, device_id: str) -> None:
        self._write("DELETE FROM push_subscriptions WHERE device = ?", (device_id,))

    def clear_push_subscriptions(self) -> None:
        self._write("DELETE FROM push_subscriptions", ())

    # --- the queue (Rules 2 and 3) -----------------------------------------------------------

    def queue_pushes(self, jobs: Sequence[PushJob]) -> None:
        self._db_many(
            f"INSERT INTO push_queue ({_JOB}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (subscription, topic) DO UPDATE SET payload = excluded.payload,"
            " urgency = excluded.urgency, ttl = excluded.ttl, version = push_queue.version + 1",
            [
                (j.subscription, j.topic, j.payload, j.urgency, j.ttl, j.due, j.first, j.attempts, j.version)
                for j in jobs
            ],
        )

    def last_pushes_sent(self, sub_ids: Sequence[str], topic: str) -> dict[str, int]:
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
        """Which of these subscriptions have a row queued for ``topic``."""
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
        # Only for subscriptions that still exist: one removed while its push was in flight (a
        # device signed out) would fail the foreign key, and with it every mark of the batch.
        self._db_many(
            "INSERT INTO push_sent (subscription, topic, at)"
            " SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM push_subscriptions WHERE id = ?1)"
            " ON CONFLICT (subscription, topic) DO UPDATE SET at = excluded.at",
            [(j.subscription, j.topic, now_ms) for j in jobs],
        )
        self._db_many(
            "DELETE FROM push_queue WHERE subscription = ? AND topic = ? AND version = ?",
            [(j.subscription, j.topic, j.version) for j in jobs],
        )
        # Rows replaced while they were being sent are still there: due after the gap (Rule 3).
        self._db_many(
            "UPDATE push_queue SET due = ?, attempts = 0 WHERE subscription = ? AND topic = ?",
            [(now_ms + gap_ms, j.subscription, j.topic) for j in jobs],
        )

    def _db_many(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        """One statement for many rows, inside the open transaction (or in its own)."""
        if not rows:
            return
        if self._mine():
            self._db.executemany(sql, rows)
        else:
            with self.transaction():
                self._db.executemany(sql, rows)

    def retry_push(self, job: PushJob, due_ms: int) -> None:
        self._write(
            "UPDATE push_queue SET due = ?, attempts = attempts + 1 WHERE subscription = ? AND topic = ?",
            (due_ms, job.subscription, job.topic),
        )

    def drop_push(self, job: PushJob) -> None:
        self._write(
            "DELETE FROM push_queue WHERE subscription = ? AND topic = ? AND version = ?",
            (job.subscription, job.topic, job.version),
        )
