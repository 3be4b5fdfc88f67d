"""The people tables of the SQLite store: accounts, device sessions (with each device's last
applied mutation and remembered rejections), invites and settings.

A mixin of SqliteStorage, on its connection and inside its transactions: these tables are small,
read by primary key, and never kept back (write-behind is for records and the log), so each
method is one statement. Token hashes only, never tokens (backend/tokens.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

from backend.storage.base import Account, DeviceSession

#: The people tables (SqliteStorage creates them with its own).
ACCOUNT_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL,
    password_hash TEXT NOT NULL, created INTEGER NOT NULL, deactivated INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL, created INTEGER NOT NULL, last_seen INTEGER NOT NULL,
    last_mid INTEGER NOT NULL DEFAULT 0, revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id);
CREATE TABLE IF NOT EXISTS rejections (
    device TEXT NOT NULL, mid INTEGER NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL,
    PRIMARY KEY (device, mid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS invites (
    token_hash TEXT PRIMARY KEY, created_by TEXT NOT NULL, created INTEGER NOT NULL,
    expires INTEGER NOT NULL
);
"""


class AccountTables:
    if TYPE_CHECKING:  # SqliteStorage's: one statement inside the open transaction, or its own

        @property
        def _db(self) -> sqlite3.Connection: ...  # the writer in a transaction, else a reader

        def _write(self, sql: str, params: Sequence[object]) -> sqlite3.Cursor: ...

    # --- devices -----------------------------------------------------------------------------

    def rejection(self, device_id: str, mid: int) -> tuple[str, str] | None:
        row = self._db.execute(
            "SELECT code, reason FROM rejections WHERE device = ? AND mid = ?", (device_id, mid)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def save_rejection(self, device_id: str, mid: int, code: str, reason: str) -> None:
        self._write(
            "INSERT OR REPLACE INTO rejections (device, mid, code, reason) VALUES (?, ?, ?, ?)",
            (device_id, mid, code, reason),
        )

    def set_last_mid(self, device_id: str, mid: int) -> None:
        self._write("UPDATE sessions SET last_mid = ? WHERE id = ?", (mid, device_id))

    # --- accounts, sessions, invites, settings -------------------------------------------

    def count_accounts(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM accounts").fetchone()[0])

    def add_account(self, account: Account) -> None:
        self._write(
            "INSERT INTO accounts (id, email, name, role, password_hash, created, deactivated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                account.id,
                account.email,
                account.name,
                account.role,
                account.password_hash,
                account.created,
                int(account.deactivated),
            ),
        )

    def _account(self, where: str, value: str) -> Account | None:
        row = self._db.execute(
            f"SELECT id, email, name, role, password_hash, created, deactivated FROM accounts WHERE {where} = ?",
            (value,),
        ).fetchone()
        return Account(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6])) if row else None

    def account_by_email(self, email: str) -> Account | None:
        return self._account("email", email)

    def account(self, user_id: str) -> Account | None:
        return self._account("id", user_id)

    def add_session(self, session: DeviceSession, token_hash: str) -> None:
        self._write(
            "INSERT INTO sessions (id, token_hash, user_id, name, created, last_seen, last_mid, revoked) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                session.id,
                token_hash,
                session.user_id,
                session.name,
                session.created,
                session.last_seen,
                session.last_mid,
                int(session.revoked),
            ),
        )

    _SESSION_COLUMNS = "id, user_id, name, created, last_seen, last_mid, revoked"

    def _session(self, where: str, value: str) -> DeviceSession | None:
        row = self._db.execute(f"SELECT {self._SESSION_COLUMNS} FROM sessions WHERE {where} = ?", (value,)).fetchone()
        return DeviceSession(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6])) if row else None

    def session_by_token(self, token_hash: str) -> DeviceSession | None:
        return self._session("token_hash", token_hash)

    def session(self, device_id: str) -> DeviceSession | None:
        return self._session("id", device_id)

    def sessions_of(self, user_id: str) -> list[DeviceSession]:
        rows = self._db.execute(
            f"SELECT {self._SESSION_COLUMNS} FROM sessions WHERE user_id = ? AND revoked = 0 ORDER BY created",
            (user_id,),
        ).fetchall()
        return [DeviceSession(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]

    def touch_session(self, device_id: str, now: int) -> None:
        self._write("UPDATE sessions SET last_seen = ? WHERE id = ?", (now, device_id))

    def revoke_session(self, device_id: str) -> None:
        self._write("UPDATE sessions SET revoked = 1 WHERE id = ?", (device_id,))
        # A device signed out no longer receives pushes (sqlite_push.py, Rule 4).
        self._write("DELETE FROM push_subscriptions WHERE device = ?", (device_id,))

    def add_invite(self, token_hash: str, created_by: str, created: int, expires: int) -> None:
        self._write(
            "INSERT INTO invites (token_hash, created_by, created, expires) VALUES (?, ?, ?, ?)",
            (token_hash, created_by, created, expires),
        )

    def invite_valid(self, token_hash: str, now: int) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM invites WHERE token_hash = ? AND expires > ?", (token_hash, now)
        ).fetchone()
        return row is not None

    def get_setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_setting(self, key: str, value: str) -> None:
        self._write(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
