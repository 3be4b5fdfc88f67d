"""The calendar's tables of the SQLite store: private ICS feed tokens and the reminder schedule.

A mixin of SqliteStorage, on its connection and inside its transactions (as sqlite_push.py).

Rule 1. A feed token is stored only as its hash; a revoked feed is kept (revoked time set), so
        its URL answers 404 for good and the person sees when it was revoked.
Rule 2. ``reminder_schedule`` holds one row per reminder record: the next occurrence it fires for
        (``due`` null: nothing left to fire) and ``fired``, the due instant of the last one sent.
        The schedule (backend/calendar/reminders.py) rewrites a row when its event or reminder
        changes, and after firing, in the same transaction as the push rows it queued.
Rule 3. ``reminders_fired`` remembers each (reminder, occurrence) sent: firing is idempotent even
        if a row were ever computed twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import msgspec

from sync_protocol.wire import Value

CALENDAR_SCHEMA = """
CREATE TABLE IF NOT EXISTS calendar_feeds (
    id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL,
    created INTEGER NOT NULL, tasks INTEGER NOT NULL DEFAULT 0, revoked INTEGER
);
CREATE INDEX IF NOT EXISTS calendar_feeds_by_user ON calendar_feeds (user_id);
CREATE TABLE IF NOT EXISTS reminder_schedule (
    reminder TEXT PRIMARY KEY, user_id TEXT NOT NULL, event TEXT NOT NULL,
    occurrence TEXT, starts INTEGER, due INTEGER, fired INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reminder_schedule_by_due ON reminder_schedule (due) WHERE due IS NOT NULL;
CREATE INDEX IF NOT EXISTS reminder_schedule_by_event ON reminder_schedule (event);
CREATE TABLE IF NOT EXISTS reminders_fired (
    reminder TEXT NOT NULL, occurrence TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (reminder, occurrence)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_calendar_event ON records (json_extract(fields, '$.event'))
    WHERE collection IN ('occurrences', 'rsvps', 'reminders');
"""

_fields_decoder = msgspec.json.Decoder(dict[str, Value])


class CalendarFeed(NamedTuple):
    id: str
    user_id: str
    created: int
    tasks: bool
    revoked: int | None


class ScheduledReminder(NamedTuple):
    reminder: str
    user_id: str
    event: str
    #: The occurrence's original start ("" for a single event), or None when nothing is due.
    occurrence: str | None
    starts: int | None
    due: int | None
    fired: int


_FEED = "id, user_id, created, tasks, revoked"
_ROW = "reminder, user_id, event, occurrence, starts, due, fired"


def _feed(row: Sequence[object]) -> CalendarFeed:
    return CalendarFeed(str(row[0]), str(row[1]), int(row[2]), bool(row[3]), row[4])  # type: ignore[arg-type, call-overload]


class CalendarTables:
    if TYPE_CHECKING:

        @property
        def _db(self) -> sqlite3.Connection: ...  # the writer in a transaction, else a reader

        def _write(self, sql: str, params: Sequence[object]) -> sqlite3.Cursor: ...
        def _reading(self) -> sqlite3.Connection: ...

    # --- feeds (Rule 1) ----------------------------------------------------------------------

    def add_calendar_feed(self, feed: CalendarFeed, token_hash: str) -> None:
        self._write(
            f"INSERT INTO calendar_feeds ({_FEED}, token_hash) VALUES (?, ?, ?, ?, ?, ?)",
            (feed.id, feed.user_id, feed.created, int(feed.tasks), feed.revoked, token_hash),
        )

    def calendar_feed_by_token(self, token_hash: str) -> CalendarFeed | None:
        row = self._db.execute(f"SELECT {_FEED} FROM calendar_feeds WHERE token_hash = ?", (token_hash,)).fetchone()
        return _feed(row) if row else None

    def calendar_feeds_of(self, user_id: str) -> list[CalendarFeed]:
        rows = self._db.execute(f"SELECT {_FEED} FROM calendar_feeds WHERE user_id = ? ORDER BY created", (user_id,))
        return [_feed(row) for row in rows]

    def revoke_calendar_feed(self, feed_id: str, now_ms: int) -> None:
        self._write("UPDATE calendar_feeds SET revoked = ? WHERE id = ? AND revoked IS NULL", (now_ms, feed_id))

    # --- what a feed and the schedule read ---------------------------------------------------

    def calendar_records(self, collection: str, scopes: Sequence[str]) -> list[tuple[str, str, dict[str, Value]]]:
        """(id, scope, fields) of a collection's records in these scopes, deleted ones left out."""
        db = self._reading()
        out: list[tuple[str, str, dict[str, Value]]] = []
        for start in range(0, len(scopes), 500):
            chunk = list(scopes[start : start + 500])
            rows = db.execute(
                "SELECT id, scope, fields FROM records WHERE collection = ?"
                f" AND scope IN ({','.join('?' * len(chunk))}) AND json_extract(fields, '$.deleted') IS NOT 1",
                [collection, *chunk],
            )
            out += [(row[0], row[1], _fields_decoder.decode(row[2])) for row in rows]
        return out

    def record_ids(self, collection: str) -> list[str]:
        return [row[0] for row in self._reading().execute("SELECT id FROM records WHERE collection = ?", (collection,))]

    def records_about_event(self, collection: str, event_id: str) -> list[tuple[str, dict[str, Value]]]:
        """(id, fields) of an event's exceptions, RSVPs or reminders."""
        rows = self._reading().execute(
            "SELECT id, fields FROM records WHERE collection = ? AND json_extract(fields, '$.event') = ?",
            (collection, event_id),
        )
        return [(row[0], _fields_decoder.decode(row[1])) for row in rows]

    # --- the reminder schedule (Rules 2 and 3) -----------------------------------------------

    def schedule_reminder(self, row: ScheduledReminder) -> None:
        self._write(
            f"INSERT INTO reminder_schedule ({_ROW}) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (reminder) DO UPDATE"
            " SET occurrence = excluded.occurrence, starts = excluded.starts, due = excluded.due,"
            " fired = excluded.fired",
            tuple(row),
        )

    def scheduled_reminder(self, reminder_id: str) -> ScheduledReminder | None:
        row = self._db.execute(f"SELECT {_ROW} FROM reminder_schedule WHERE reminder = ?", (reminder_id,)).fetchone()
        return ScheduledReminder(*row) if row else None

    def reminders_of_event(self, event_id: str) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT reminder FROM reminder_schedule WHERE event = ?", (event_id,))]

    def due_reminders(self, now_ms: int, limit: int) -> list[ScheduledReminder]:
        rows = self._db.execute(
            f"SELECT {_ROW} FROM reminder_schedule WHERE due IS NOT NULL AND due <= ? ORDER BY due LIMIT ?",
            (now_ms, limit),
        )
        return [ScheduledReminder(*row) for row in rows]

    def next_reminder_due(self) -> int | None:
        row = self._db.execute("SELECT min(due) FROM reminder_schedule WHERE due IS NOT NULL").fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def mark_reminder_fired(self, reminder_id: str, occurrence: str, now_ms: int) -> bool:
        """Remember the firing; False if it was fired before (Rule 3)."""
        cursor = self._write(
            "INSERT INTO reminders_fired (reminder, occurrence, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (reminder_id, occurrence, now_ms),
        )
        return cursor.rowcount == 1

    def reminders_fired(self, reminder_id: str) -> list[tuple[str, int]]:
        rows = self._db.execute(
            "SELECT occurrence, at FROM reminders_fired WHERE reminder = ? ORDER BY at", (reminder_id,)
        )
        return [(row[0], row[1]) for row in rows]
