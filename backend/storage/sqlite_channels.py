"""The per-channel tables of the SQLite store: message positions (``message_index``: a message's
``n`` in its channel and ``tn`` in its thread), the numbers those come from (``channel_numbers``),
memberships, and the queries on channel records (names, retention).

A mixin of SqliteStorage, on its connection and inside its transactions (sqlite.py). Positions
and numbers are written the push's way: kept in the store's write-behind (``_positions``,
``_numbers``) and written when the transaction ends. Memberships are one statement each.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from sync_protocol.wire import Value

#: A row of ``message_index`` kept back until the transaction writes it:
#: (id, channel, thread, author, at, n, tn).
PositionRow = tuple[str, Value, Value, Value, Value, Value, Value]
#: ... and of a top-level message, whose thread and tn are NULL: (id, channel, author, at, n).
TopPositionRow = tuple[str, Value, Value, Value, Value]

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

#: Bound once: index_message runs once per pushed message (see sqlite_records.py).
_get_ident = threading.get_ident


class ChannelTables:
    if TYPE_CHECKING:  # SqliteStorage's transaction state and plumbing (sqlite.py)
        _owner: int | None  # the thread inside a transaction, if any
        _numbers: dict[str, int]  # each channel's (or thread's) last number taken in this transaction
        _positions: list[PositionRow]
        _top_positions: list[TopPositionRow]

        @property
        def _db(self) -> sqlite3.Connection: ...  # the writer in a transaction, else a reader

        def _reading(self) -> sqlite3.Connection: ...  # _db, with the rows kept back written first
        def _write(self, sql: str, params: Sequence[object]) -> sqlite3.Cursor: ...
        def transaction(self) -> AbstractContextManager[None]: ...

    # --- message positions, and the numbers they take ------------------------------------------

    def index_message(self, record_id: str, fields: Mapping[str, Value]) -> None:
        """Keep message_index (positions by n and tn) in step with a message record."""
        if self._owner != _get_ident():
            with self.transaction():
                return self.index_message(record_id, fields)
        thread, tn = fields.get("thread"), fields.get("tn")
        if thread is None and tn is None:
            row = (record_id, fields.get("channel"), fields.get("author"), fields.get("at") or 0, fields.get("n"))
            self._top_positions.append(row)
        else:
            self._positions.append(
                (
                    record_id,
                    fields.get("channel"),
                    thread,
                    fields.get("author"),
                    fields.get("at") or 0,
                    fields.get("n"),
                    tn,
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

    # --- queries on channel records ------------------------------------------------------------

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
