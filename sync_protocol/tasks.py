"""The derived rules of tasks, shared with the browser (frontend/src/lib/tasks.js) through
``vectors/tasks.json``.

Rules:

Rule 1. A task's assignees (labels) are the users (labels) of its assignee (label) records whose
        ``on`` is true, sorted; a record turned off is kept, so a concurrent re-add merges on it.
Rule 2. A checklist is its task's items that are not deleted, in position order (ties by id);
        progress is (done, total) over them, never a stored counter.
Rule 3. A task is "changed since I looked" when someone else changed it last
        (``changed_by != me``) and later than my cursor (``changed > seen``; no cursor: 0). Opening
        the task writes my cursor = the ``changed`` I saw, so every device of mine agrees.
Rule 4. My tasks are grouped by due date in my zone: ``overdue`` (a day before today, or a time
        already past), ``today``, ``week`` (the six days after today), ``later``, ``none``.
        A day has no zone; a time is wall time in ``due_tz`` when set, else in my zone.

Pure: stdlib only (zoneinfo for Rule 4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sync_protocol.positions import ordered

Fields = Mapping[str, object]
GROUPS = ("overdue", "today", "week", "later", "none")


def assignees(records: Iterable[Fields]) -> list[str]:
    """Rule 1 (records of one task)."""
    return sorted({str(r["user"]) for r in records if r.get("on") is True})


def labels(records: Iterable[Fields]) -> list[str]:
    return sorted({str(r["label"]) for r in records if r.get("on") is True})


def checklist(items: Mapping[str, Fields]) -> list[str]:
    """Rule 2: item ids in order."""
    return ordered((item_id, f) for item_id, f in items.items() if f.get("deleted") is not True)


def progress(items: Mapping[str, Fields]) -> tuple[int, int]:
    live = [f for f in items.values() if f.get("deleted") is not True]
    return sum(1 for f in live if f.get("done") is True), len(live)


def changed_since_seen(task: Fields, seen_at: int | None, me: str) -> bool:
    """Rule 3."""
    changed, by = task.get("changed"), task.get("changed_by")
    if not isinstance(changed, int) or by is None or by == me:
        return False
    return changed > (seen_at or 0)


def due_group(due: str | None, due_tz: str | None, now_ms: int, zone: str) -> str:
    """Rule 4."""
    if not due:
        return "none"
    mine = ZoneInfo(zone)
    now = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(mine)
    today = now.date()
    if "T" in due:
        wall = datetime.fromisoformat(due).replace(tzinfo=ZoneInfo(due_tz) if due_tz else mine)
        if wall <= now:
            return "overdue"
        day = wall.astimezone(mine).date()
    else:
        day = date.fromisoformat(due)
        if day < today:
            return "overdue"
    if day == today:
        return "today"
    return "week" if day <= today + timedelta(days=6) else "later"


__all__ = ["GROUPS", "assignees", "changed_since_seen", "checklist", "due_group", "labels", "progress"]
