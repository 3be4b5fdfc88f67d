"""What the server adds to and checks on tasks and their records (hooks named in
``sync_protocol/collections_tasks.py``; registered in ``backend/hooks.py``).

Rules:

Rule 1. A new task gets ``created_by``, ``changed`` (server ms) and ``changed_by``.
Rule 2. Any later change to a task, to one of its assignees, labels or checklist items, or a new
        comment on it, is
        followed by a server change to the task that sets ``changed``/``changed_by``, stamped
        later than every clock on the task. A follow-up, not a field of the change itself, because
        an edit made offline days ago carries an old clock: as its own field it could lose to an
        older touch, and the dot "changed since I looked" would miss exactly the offline edits.
Rule 3. Values the registry cannot say: ``due`` is a day or a local wall time, ``due_tz`` a zone
        the server knows, ``position`` a valid fractional key.
Rule 4. An assignee is a member of the task's channel when assigned (unassigning always works).
Rule 5. A comment is a message with an immutable ``task``: it gets the task's next ``tn`` (like a
        thread reply), no channel ``n``, so channel unread counts concern chat only.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.access import Rejected
from backend.storage.base import Storage
from sync_protocol.positions import PositionError, validate
from sync_protocol.wire import Value

_DUE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9])?")
TASK_PARTS = ("task_assignees", "task_labels", "task_items")


def created(author: str, now_ms: int) -> dict[str, Value]:
    return {"created_by": author, "changed": now_ms, "changed_by": author}


def may_touch(collection: str, creating: bool, names: Collection[str]) -> bool:
    """Can ``touch`` mark a task for a change of this shape (collection, creating, field names)?
    ``touch`` asks it first; the service asks it once per shape and skips ``touch`` when not
    (hooks.py, Rule 3)."""
    if collection == "tasks":
        return not creating
    if collection in TASK_PARTS:
        return True
    return collection == "messages" and creating and "task" in names


def touch(
    store: Storage,
    collection: str,
    record_id: str,
    fields: Mapping[str, Value],
    creating: bool,
    author: str,
    now_ms: int,
) -> list[tuple[str, str, dict[str, Value]]]:
    """Rule 2: the change that marks a task changed, if any. Which changes can is ``may_touch``'s
    rule alone (the service also asks it once per shape: hooks.py, Rule 3)."""
    if not may_touch(collection, creating, fields.keys()):
        return []
    if collection == "tasks":
        task_id = record_id
    else:  # a part of a task, or a new comment: the task's people see a dot
        named = fields["task"]
        if not isinstance(named, str):
            return []
        task_id = named
    task = store.get_record("tasks", task_id)
    if task is None or task.state.fields.get("deleted") is True:
        return []
    return [("tasks", task_id, {"changed": now_ms, "changed_by": author})]


def check_values(fields: Mapping[str, Value]) -> None:
    """Rule 3."""
    due = fields.get("due")
    if isinstance(due, str) and due and not _DUE.fullmatch(due):
        raise Rejected("invalid", "due must be YYYY-MM-DD or YYYY-MM-DDTHH:MM")
    zone = fields.get("due_tz")
    if isinstance(zone, str) and zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Rejected("invalid", f"unknown time zone {zone!r}") from None
    position = fields.get("position")
    if isinstance(position, str):
        try:
            validate(position)
        except PositionError:
            raise Rejected("invalid", f"{position!r} is not a position key") from None


def check_assignee(store: Storage, fields: Mapping[str, Value], current: Mapping[str, Value]) -> None:
    """Rule 4."""
    merged = {**current, **fields}
    if fields.get("on") is True and not store.is_member(str(merged["channel"]), str(merged["user"])):
        raise Rejected("invalid", "only members of the channel can be assigned its tasks")


def comment_number(store: Storage, fields: Mapping[str, Value]) -> int:
    """Rule 5: the comment's number in its task (the task must be in the message's channel)."""
    task_id = str(fields["task"])
    task = store.get_record("tasks", task_id)
    if task is None or task.state.fields.get("channel") != fields["channel"]:
        raise Rejected("not_found", "a comment's task must be a task of the same channel")
    if task.state.fields.get("deleted") is True:
        raise Rejected("deleted", "this task was deleted")
    if isinstance(fields.get("thread"), str):
        raise Rejected("invalid", "a comment is on a task or in a thread, not both")
    return store.next_message_number(f"task:{task_id}")
