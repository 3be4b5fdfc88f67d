"""Restoring a deleted task: an explicit server operation (``POST /api/tasks/{id}/restore``).

Deletes are final (ARCHITECTURE invariant 10): no change, in any order or with any clock, takes a
task's tombstone away. So a restore does not undelete; it makes a NEW task from the deleted one's
last values, with its assignees, labels and checklist, and ``restored_from`` naming the deleted
task. The old task stays deleted, with its whole history, so an auditor sees both.

Rules:

Rule 1. Only a deleted task can be restored, and only by its creator or an admin who is a member
        of its channel, while the channel is not archived (the rights of ``task_deleter``).
        Anyone else gets the same 404 as for a task that does not exist when they cannot see it
        (a non-member learns nothing), or 403/409 naming the reason when they can.
Rule 2. The copy is written as the person restoring (``write_as_server``: the log, the merge, the
        feed and the live channel like any change) in one transaction, so it appears on every
        device at once, or not at all.
Rule 3. Only current values are copied: assignees who are still members and ``on``, labels ``on``,
        checklist items not deleted (with their ticks and order). Comments stay on the old task:
        they are messages numbered in it, and history keeps them.
"""

from __future__ import annotations

import msgspec

from backend import tokens
from backend.access import is_admin
from backend.accounts import CurrentSession
from backend.errors import ApiError
from backend.storage.base import Storage
from backend.sync_service import SyncService
from sync_protocol.collections_tasks import assignee_id, label_id
from sync_protocol.wire import Value

#: Fields of a task that a restore carries over (its own, as a person set them).
COPIED = ("list", "title", "description", "status", "priority", "due", "due_tz", "position", "message")
#: Collections a channel holds that a restore never reads (it needs the task's parts only).
_NOT_PARTS = ("messages", "reactions", "reads", "members", "channels", "files", "events", "occurrences")


class Restored(msgspec.Struct):
    id: str
    restored_from: str


def restore_task(sync: SyncService, current: CurrentSession, task_id: str, now_ms: int) -> Restored:
    store = sync.store
    record = store.get_record("tasks", task_id)
    channel = str(record.state.fields.get("channel")) if record else ""
    if record is None or not store.is_member(channel, current.user_id):
        raise ApiError(404, "not_found", f"there is no task {task_id} you can see")
    fields = record.state.fields
    if fields.get("deleted") is not True:
        raise ApiError(409, "conflict", "only a deleted task can be restored")
    if not (is_admin(current.role) or fields.get("created_by") == current.user_id):
        raise ApiError(403, "forbidden", "only its creator or an admin may restore this task")
    held = store.get_record("channels", channel)
    if held is not None and held.state.fields.get("archived") is True:
        raise ApiError(409, "archived", "this channel is archived and read-only")

    new_id = tokens.ulid(now_ms)
    copy: dict[str, Value] = {"channel": channel, "restored_from": task_id}
    copy.update({name: fields[name] for name in COPIED if name in fields and fields[name] is not None})
    writes: list[tuple[str, str, dict[str, Value]]] = [("tasks", new_id, copy)]
    writes.extend(_parts(store, channel, task_id, new_id, now_ms))
    sync.write_as_server(current.user_id, writes, now_ms)
    return Restored(id=new_id, restored_from=task_id)


def _parts(store: Storage, channel: str, old: str, new: str, now_ms: int) -> list[tuple[str, str, dict[str, Value]]]:
    """Rule 3: the old task's current assignees, labels and items, as records of the new one."""
    out: list[tuple[str, str, dict[str, Value]]] = []
    members = set(store.members_of(channel))
    for part in store.records_in_scope(f"c:{channel}", skip=_NOT_PARTS):
        f = part.fields
        if f.get("task") != old:
            continue
        if part.collection == "task_assignees" and f.get("on") is True and f.get("user") in members:
            user = str(f["user"])
            out.append(
                ("task_assignees", assignee_id(new, user), {"task": new, "user": user, "channel": channel, "on": True})
            )
        elif part.collection == "task_labels" and f.get("on") is True:
            label = str(f["label"])
            out.append(
                ("task_labels", label_id(new, label), {"task": new, "channel": channel, "label": label, "on": True})
            )
        elif part.collection == "task_items" and f.get("deleted") is not True:
            item: dict[str, Value] = {"task": new, "channel": channel, "text": f.get("text") or "…"}
            for name in ("done", "position"):
                if f.get(name) is not None:
                    item[name] = f[name]
            out.append(("task_items", tokens.ulid(now_ms), item))
    return out
