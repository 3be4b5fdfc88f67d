"""The calendar in archives: events, their exceptions and RSVPs as tables (model.py's generic
rows; their history is in ``changes`` like every record's), plus ``event_occurrences``, each
occurrence of each exported event over EXPAND_YEARS, so an auditor can count what happened per
month without expanding RRULEs in SQL.

Rule 1. The tables always have the columns the canned queries name (``datasette_metadata.yml``),
        even when the workspace has no events yet, so the queries never fail on an empty archive.
Rule 2. Occurrences come from the archive's own ``events`` and ``occurrences`` tables: whatever the
        export's filter left out of those is not expanded either.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import sqlite_utils

from backend.calendar import recurrence

#: Collections exported as tables of their own (with tasks and events: model.EXTRA_COLLECTIONS).
CALENDAR_COLLECTIONS = ("occurrences", "rsvps")
#: Occurrences are listed from each series' start for this long (at most MAX per event).
EXPAND_YEARS = 3
MAX_PER_EVENT = 2000

COLUMNS: dict[str, dict[str, Any]] = {
    "events": {
        "calendar": str,
        "title": str,
        "description": str,
        "location": str,
        "start": str,
        "end": str,
        "tz": str,
        "rrule": str,
        "uid": str,
        "split_from": str,
        "created_by": str,
        "deleted": int,
        "channel": str,
    },
    "occurrences": {
        "event": str,
        "calendar": str,
        "recurrence_id": str,
        "start": str,
        "end": str,
        "title": str,
        "cancelled": int,
        "channel": str,
    },
    "rsvps": {"event": str, "calendar": str, "user": str, "status": str, "invited": int, "channel": str},
}

OCCURRENCES_TABLE = {
    "event": str,
    "channel": str,
    "start": str,
    "tz": str,
    "start_utc": str,
    "month": str,
    "title": str,
    "moved": int,
}


def _ensure(db: sqlite_utils.Database, table: str, columns: dict[str, Any]) -> None:
    """Rule 1."""
    found = db[table]
    if not found.exists():
        db[table].create({"id": str, **columns}, pk="id")  # type: ignore[union-attr]
        return
    have = {c.name for c in found.columns}
    for name, kind in columns.items():
        if name not in have:
            found.add_column(name, kind)  # type: ignore[union-attr]


def write(db: sqlite_utils.Database) -> int:
    """Complete the calendar's tables and write ``event_occurrences``; returns how many rows."""
    for table, columns in COLUMNS.items():
        _ensure(db, table, columns)
    db["event_occurrences"].create(OCCURRENCES_TABLE, pk=("event", "start"), if_not_exists=True)  # type: ignore[union-attr]
    exceptions: dict[str, list[dict[str, Any]]] = {}
    for row in db.query("SELECT * FROM occurrences"):
        exceptions.setdefault(str(row["event"]), []).append({k: v for k, v in row.items() if v is not None})
    rows: list[dict[str, Any]] = []
    for event in db.query("SELECT * FROM events WHERE deleted IS NOT 1 AND start IS NOT NULL"):
        fields = {k: v for k, v in event.items() if v is not None}
        try:
            first = recurrence.instant(str(fields["start"]), fields.get("tz"))
            found = recurrence.expand(
                str(event["id"]),
                fields,
                exceptions.get(str(event["id"]), []),
                first - timedelta(days=1),
                first + timedelta(days=366 * EXPAND_YEARS),
            )
        except recurrence.BadTime:
            continue
        for o in found[:MAX_PER_EVENT]:
            at = o.starts_at()
            rows.append(
                {
                    "event": o.event,
                    "channel": event.get("channel"),
                    "start": o.start,
                    "tz": o.tz,
                    "start_utc": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "month": o.start[:7],
                    "title": o.title,
                    "moved": int(o.recurrence_id is not None and o.start != o.recurrence_id),
                }
            )
    db["event_occurrences"].insert_all(rows, batch_size=5000)  # type: ignore[union-attr]
    db.conn.commit()
    return len(rows)
