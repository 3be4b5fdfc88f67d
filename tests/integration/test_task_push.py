"""The push producer's task rule: assigning a task to someone else notifies their devices (the
``task_assigned`` event), through the real app, the feed follower and a local push service."""

from __future__ import annotations

from sync_protocol.collections_tasks import assignee_id
from tests.integration.conftest import Workspace
from tests.integration.push_service import PushService
from tests.integration.test_push import channel, settle, subscribe, write, ws

__all__ = ["ws"]  # the fixture, shared with test_push.py (push comes from conftest.py)


def test_assigning_a_task_notifies_the_assignee_and_assigning_yourself_does_not(
    ws: Workspace, push: PushService
) -> None:
    ada, bob = ws.join("Ada"), ws.join("Bob")
    bobs, adas = subscribe(bob, push), subscribe(ada, push)
    site = channel(ada, "site", bob)
    write(ada, "tasks", "01TASK", {"channel": site, "title": "Fix the pump"})
    write(
        ada,
        "task_assignees",
        assignee_id("01TASK", ada.user),
        {"task": "01TASK", "user": ada.user, "channel": site, "on": True},
    )
    write(
        ada,
        "task_assignees",
        assignee_id("01TASK", bob.user),
        {"task": "01TASK", "user": bob.user, "channel": site, "on": True},
    )
    push.wait_for(lambda: bool(push.to(bobs)))
    got = push.to(bobs)[0].payload
    assert got["event"] == "task_assigned" and got["title"] == "Ada assigned you a task"
    assert got["url"] == f"/#/c/{site}/tasks/01TASK" and "Fix the pump" in got["body"]
    settle(ws)
    assert push.to(adas) == []  # nobody is notified of assigning themself
    # Unassigning notifies nobody.
    write(ada, "task_assignees", assignee_id("01TASK", bob.user), {"on": False})
    settle(ws)
    assert len(push.to(bobs)) == 1
