"""The push tables of the SQLite store: each device's Web Push subscription (backend/push/). The
queue of notifications waiting to leave lives in a file of its own (push_queue.py, push.db).

A mixin of SqliteStorage, on its connection and inside its transactions. Subscriptions are device
secrets (the endpoint is a bearer capability): they live here, never in the change log or a replica.

Rule 1. One subscription per device and per endpoint: subscribing again replaces the old one.
Rule 4. Removing a subscription (revoked, signed out, 404/410) is all it takes to stop its
        queued rows: the sender drops a row whose subscription is gone (push_queue.py, Rule 1).
Rule 5. Every insert, update and delete of a subscription bumps ``push_subscriptions_version``
        (triggers, in the same transaction), so a reader that keeps subscriptions in memory
        (push/subscribers.py) reads one row to know whether they still hold.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from backend.storage.base import PushSubscription

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
"""

_SUB = "id, user_id, device, endpoint, p256dh, auth, lang, created"


def _sub(row: Sequence[object]) -> PushSubscription:
    return PushSubscription(*row)  # type: ignore[arg-type]


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
