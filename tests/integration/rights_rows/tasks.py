"""Rows for tasks: members of a writable channel create and edit; the creator or an admin deletes."""

from __future__ import annotations

from sync_protocol.collections_tasks import assignee_id, label_id, seen_id
from tests.integration.rights_rows.row import NO, OK, Row, everyone, seeded
from tests.integration.rights_world import new_id

ROWS = [
    # tasks: members of a writable channel create and edit; creator or admin deletes
    Row(
        "tasks: create",
        lambda w, me: (
            "tasks",
            new_id(),
            {
                "channel": w.channel,
                "title": "T",
                "list": "l",
                "description": "d",
                "status": "todo",
                "priority": "high",
                "due": "2026-12-24T09:30",
                "due_tz": "Europe/Paris",
                "position": "a0",
                "message": w.msg_member,
            },
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "tasks: create in an archived channel",
        lambda w, me: ("tasks", new_id(), {"channel": w.archived, "title": "T"}),
        ("archived", "archived", "archived", NO, NO, NO),
    ),
    Row(
        "tasks: edit the member's task",
        lambda w, me: ("tasks", seeded(w, "task"), {"title": "New", "status": "done", "position": "a1"}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "tasks: edit a task of an archived channel",
        lambda w, me: ("tasks", seeded(w, "task_archived"), {"status": "done"}),
        ("archived", "archived", "archived", NO, NO, NO),
    ),
    Row(
        "tasks: edit a deleted task",
        lambda w, me: ("tasks", seeded(w, "task_deleted"), {"title": "back"}),
        everyone("deleted"),
    ),
    Row(
        "tasks: move to another channel",
        lambda w, me: ("tasks", seeded(w, "task"), {"channel": w.public}),
        everyone("immutable"),
    ),
    Row(
        "tasks: delete the member's task",
        lambda w, me: ("tasks", seeded(w, "task"), {"deleted": True}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "tasks: delete a task the owner created",
        lambda w, me: ("tasks", seeded(w, "task_owner"), {"deleted": True}),
        (OK, OK, NO, NO, NO, NO),
    ),
    Row(
        "tasks: a bad due date",
        lambda w, me: ("tasks", seeded(w, "task"), {"due": "2026-13-01"}),
        ("invalid", "invalid", "invalid", NO, NO, NO),
    ),
    Row(
        "task_lists: create",
        lambda w, me: (
            "task_lists",
            new_id(),
            {"channel": w.channel, "name": "Site", "statuses": "qa", "position": "a0"},
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "task_lists: delete the member's list",
        lambda w, me: ("task_lists", seeded(w, "list"), {"deleted": True}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "task_assignees: assign the member",
        lambda w, me: (
            "task_assignees",
            assignee_id(seeded(w, "task"), w.people["member"]),
            {"task": seeded(w, "task"), "user": w.people["member"], "channel": w.channel, "on": True},
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "task_assignees: assign a non-member",
        lambda w, me: (
            "task_assignees",
            assignee_id(seeded(w, "task"), w.people["non_member"]),
            {"task": seeded(w, "task"), "user": w.people["non_member"], "channel": w.channel, "on": True},
        ),
        ("invalid", "invalid", "invalid", NO, NO, NO),
    ),
    Row(
        "task_labels: label",
        lambda w, me: (
            "task_labels",
            label_id(seeded(w, "task"), "qa"),
            {"task": seeded(w, "task"), "channel": w.channel, "label": "qa", "on": True},
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "task_items: add to a deleted task",
        lambda w, me: ("task_items", new_id(), {"task": seeded(w, "task_deleted"), "channel": w.channel, "text": "x"}),
        ("deleted", "deleted", "deleted", NO, NO, NO),
    ),
    Row(
        "task_items: tick, edit, move, remove",
        lambda w, me: (
            "task_items",
            seeded(w, "item"),
            {"done": True, "text": "Valve 2", "position": "a1", "deleted": True},
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "task_seen: my own",
        lambda w, me: (
            "task_seen",
            seen_id(me, seeded(w, "task")),
            {"task": seeded(w, "task"), "channel": w.channel, "user": me, "at": 5},
        ),
        everyone(OK),
    ),
    Row(
        "task_seen: the member's",
        lambda w, me: (
            "task_seen",
            seen_id(w.people["member"], seeded(w, "task")),
            {"task": seeded(w, "task"), "channel": w.channel, "user": w.people["member"], "at": 5},
        ),
        (NO, NO, OK, NO, NO, NO),
    ),
    Row(
        "messages: comment on a task",
        lambda w, me: ("messages", new_id(), {"channel": w.channel, "text": "on it", "task": seeded(w, "task")}),
        (OK, OK, OK, NO, NO, NO),
    ),
]
