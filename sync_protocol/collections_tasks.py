"""Tasks: the registry entries of task lists, tasks and the records that hang off a task.

Scopes: every record but the "seen" cursor lives in its channel (``c:<channel>``, from the
immutable ``channel`` field), so only members replicate or search it; a person's seen cursors
live in their private space (``u:<user>``).

Rules (docs: PROTOCOL.md "Tasks"; vectors: vectors/positions.json and vectors/tasks.json):

Rule 1. A task's own fields merge per field (last writer by HLC wins); every overwritten value
        stays in the change log, so the history panel lists it and "restore" writes it again.
Rule 2. Assignees and labels are one record each, with an id derived from (task, person) or
        (task, label) and an ``on`` flag, like reactions: concurrent adds and removes on two
        devices touch different records or merge on one flag, never overwrite a whole list.
Rule 3. Checklist items are records with their own id, text, ``done`` and a fractional
        ``position`` (sync_protocol/positions.py); progress is derived from them, never stored.
Rule 4. Deleting a task is a tombstone, final as for messages: a concurrent edit that arrives
        after it is refused, one that arrived before it is hidden under it. Nothing is wiped, so
        its creator or an admin can restore it through the server (``POST
        /api/tasks/{id}/restore``, backend/task_restore.py): a new task with the deleted one's
        last values and parts and an immutable ``restored_from``; the old one stays deleted.
Rule 5. The server stamps ``changed``/``changed_by`` on a task whenever it or one of its
        records changes; "changed since I looked" is ``changed_by != me and changed > seen.at``
        where ``seen`` is my cursor record for the task (sync_protocol/tasks.py).
"""

from __future__ import annotations

from sync_protocol.positions import MAX_KEY
from sync_protocol.registry import CollectionSpec, Field, IdRule, Rights, ScopeRule

CHANNEL_REF = Field(str, 80, immutable=True, required=True)
USER_REF = Field(str, 80, immutable=True, required=True)
TASK_REF = Field(str, 120, immutable=True, required=True)
TOMBSTONE = Field(bool, only=(True,))
IN_CHANNEL = ScopeRule("field", field="channel", prefix="c:")
PRIVATE = ScopeRule("field", field="user", prefix="u:")
FIXED = "fixed"

#: The statuses every list has; a list adds its own (``statuses``: one per line).
DEFAULT_STATUSES = ("todo", "doing", "blocked", "done")
PRIORITIES = ("none", "low", "medium", "high", "urgent")
POSITION_KEY = Field(str, MAX_KEY)
#: "YYYY-MM-DD" (a day) or "YYYY-MM-DDTHH:MM" (local wall time in ``due_tz``, or the viewer's zone).
DUE = Field(str, 16)

TASK_LISTS = CollectionSpec(
    "task_lists",
    {
        "channel": CHANNEL_REF,
        "name": Field(str, 80, required=True),
        "statuses": Field(str, 1000),
        "position": POSITION_KEY,
        "deleted": TOMBSTONE,
        "created_by": Field(str, server=True),
    },
    IN_CHANNEL,
    rights=Rights(
        create="task_editor",
        fields={"channel": FIXED, "name": "task_editor", "statuses": "task_editor", "position": "task_editor"},
        delete="task_deleter",
    ),
    on_create="created_by",
    checks=("task_values",),
)

TASKS = CollectionSpec(
    "tasks",
    {
        "channel": CHANNEL_REF,
        "list": Field(str, 120),
        "title": Field(str, 500, required=True),
        "description": Field(str, 10_000),
        "status": Field(str, 40),
        "priority": Field(str, choices=PRIORITIES),
        "due": DUE,
        "due_tz": Field(str, 64),
        "position": POSITION_KEY,
        #: The message a task was created from (a link back to the chat), fixed at creation.
        "message": Field(str, 120, immutable=True),
        #: The deleted task a restore copied (backend/task_restore.py): set by the server, once.
        "restored_from": Field(str, 120, immutable=True, server=True),
        "deleted": TOMBSTONE,
        "created_by": Field(str, server=True),
        "changed": Field(int, server=True),
        "changed_by": Field(str, server=True),
    },
    IN_CHANNEL,
    rights=Rights(
        create="task_editor",
        fields={
            "channel": FIXED,
            "message": FIXED,
            **dict.fromkeys(
                ("list", "title", "description", "status", "priority", "due", "due_tz", "position"), "task_editor"
            ),
        },
        delete="task_deleter",
    ),
    on_create="task_created",
    checks=("task_values",),
    follow_ups=("task_touch",),
)

TASK_ASSIGNEES = CollectionSpec(
    "task_assignees",
    {"task": TASK_REF, "user": USER_REF, "channel": CHANNEL_REF, "on": Field(bool, required=True)},
    IN_CHANNEL,
    derived_id=IdRule(("task", "user")),
    rights=Rights(create="task_part", fields={"task": FIXED, "user": FIXED, "channel": FIXED, "on": "task_part"}),
    checks=("task_assignee_member",),
    follow_ups=("task_touch",),
)

TASK_LABELS = CollectionSpec(
    "task_labels",
    {
        "task": TASK_REF,
        "channel": CHANNEL_REF,
        "label": Field(str, 40, immutable=True, required=True),
        "on": Field(bool, required=True),
    },
    IN_CHANNEL,
    derived_id=IdRule(("task", "label/hex")),
    rights=Rights(create="task_part", fields={"task": FIXED, "channel": FIXED, "label": FIXED, "on": "task_part"}),
    follow_ups=("task_touch",),
)

TASK_ITEMS = CollectionSpec(
    "task_items",
    {
        "task": TASK_REF,
        "channel": CHANNEL_REF,
        "text": Field(str, 500, required=True),
        "done": Field(bool),
        "position": POSITION_KEY,
        "deleted": TOMBSTONE,
    },
    IN_CHANNEL,
    rights=Rights(
        create="task_part",
        fields={"task": FIXED, "channel": FIXED, "text": "task_part", "done": "task_part", "position": "task_part"},
        delete="task_part",
    ),
    checks=("task_values",),
    follow_ups=("task_touch",),
)

#: My cursor on one task: the ``changed`` value I last saw (Rule 5). Private, one per task.
TASK_SEEN = CollectionSpec(
    "task_seen",
    {"task": TASK_REF, "channel": CHANNEL_REF, "user": USER_REF, "at": Field(int, 2**53 - 1, required=True)},
    PRIVATE,
    derived_id=IdRule(("user", "task")),
    rights=Rights(create="own", fields={"task": FIXED, "channel": FIXED, "user": FIXED, "at": "own"}),
)

TASK_COLLECTIONS = (TASK_LISTS, TASKS, TASK_ASSIGNEES, TASK_LABELS, TASK_ITEMS, TASK_SEEN)


def _derived(spec: CollectionSpec, **fields: str) -> str:
    assert spec.derived_id is not None
    return spec.derived_id.derive(fields)


def assignee_id(task_id: str, user_id: str) -> str:
    return _derived(TASK_ASSIGNEES, task=task_id, user=user_id)


def label_id(task_id: str, label: str) -> str:
    return _derived(TASK_LABELS, task=task_id, label=label)


def seen_id(user_id: str, task_id: str) -> str:
    return _derived(TASK_SEEN, user=user_id, task=task_id)


__all__ = ["DEFAULT_STATUSES", "PRIORITIES", "TASK_COLLECTIONS", "assignee_id", "label_id", "seen_id"]
