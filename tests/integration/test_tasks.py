"""Tasks through the real app and SQLite: per-field merge of offline edits, history and restore,
members-only reads and writes, delete wins, search filters, comments and "changed since I looked"."""

from __future__ import annotations

from typing import Any

from sync_protocol.collections import member_id
from sync_protocol.collections_tasks import assignee_id, label_id, seen_id
from sync_protocol.tasks import changed_since_seen
from tests.integration.conftest import Person, Workspace, wall_ms


def _private_channel(owner: Person, *others: Person, name: str = "site") -> str:
    channel = f"01CH{name.upper()}"
    changes = [owner.change("channels", channel, {"name": name, "kind": "private"})]
    for person in (owner, *others):
        changes.append(
            owner.change("members", member_id(channel, person.user), {"channel": channel, "user": person.user})
        )
    assert owner.sync(*changes).json()["rejections"] == []
    return channel


def _ok(person: Person, *changes: dict[str, object]) -> None:
    reply = person.sync(*changes)
    assert reply.status_code == 200, reply.text
    assert reply.json()["rejections"] == [], reply.json()["rejections"]


def _codes(person: Person, *changes: dict[str, object]) -> list[str]:
    return [r["code"] for r in person.sync(*changes).json()["rejections"]]


def test_two_devices_offline_edits_merge_per_field_and_history_lists_both(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    channel = _private_channel(ada, bob)
    _ok(ada, ada.change("tasks", "01T", {"channel": channel, "title": "Fix the pump", "status": "todo"}))
    # Both edit offline, stamped before either syncs: Ada the title on a plane, Bob the status.
    earlier = wall_ms() + 100  # after the task was created, before either device syncs
    title = ada.change("tasks", "01T", {"title": "Fix the pump at site B"}, hlc=ada.hlc(earlier))
    status = bob.change("tasks", "01T", {"status": "doing"}, hlc=bob.hlc(earlier + 1))
    _ok(bob, status)
    _ok(ada, title)
    for person in (ada, bob):
        task = person.records("tasks")["01T"]
        assert (task["title"], task["status"]) == ("Fix the pump at site B", "doing")
    # The same field on two devices: the later clock wins, and history keeps both with who and when.
    _ok(bob, bob.change("tasks", "01T", {"title": "Pump: bob's words"}, hlc=bob.hlc(earlier + 10)))
    _ok(ada, ada.change("tasks", "01T", {"title": "Pump: ada's words"}, hlc=ada.hlc(earlier + 5)))
    assert ada.records("tasks")["01T"]["title"] == "Pump: bob's words"
    versions = ada.client.get("/api/records/tasks/01T/versions").json()["versions"]
    titles = [(v["author"], v["fields"]["title"]) for v in versions if "title" in v["fields"]]
    assert (ada.user, "Pump: ada's words") in titles and (bob.user, "Pump: bob's words") in titles
    assert all(v["at"] > 0 for v in versions)
    # Restore the value that lost: a new change, which now wins and shows in the history too.
    _ok(ada, ada.change("tasks", "01T", {"title": "Pump: ada's words"}, hlc=ada.hlc(earlier + 20)))
    assert bob.records("tasks")["01T"]["title"] == "Pump: ada's words"
    after = bob.client.get("/api/records/tasks/01T/versions").json()["versions"]
    assert len(after) > len(versions) and after[-1]["fields"].get("changed_by") == ada.user


def test_assignees_and_checklist_items_are_records_that_never_overwrite_each_other(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    channel = _private_channel(ada, bob)
    _ok(ada, ada.change("tasks", "01T", {"channel": channel, "title": "Inspect"}))
    # Concurrent assignments of two people, and items added on both devices.
    _ok(
        ada,
        ada.change(
            "task_assignees",
            assignee_id("01T", ada.user),
            {"task": "01T", "user": ada.user, "channel": channel, "on": True},
        ),
    )
    _ok(
        bob,
        bob.change(
            "task_assignees",
            assignee_id("01T", bob.user),
            {"task": "01T", "user": bob.user, "channel": channel, "on": True},
        ),
    )
    _ok(ada, ada.change("task_items", "01I1", {"task": "01T", "channel": channel, "text": "Valve", "position": "a0"}))
    _ok(bob, bob.change("task_items", "01I2", {"task": "01T", "channel": channel, "text": "Seal", "position": "a0"}))
    assigned = ada.records("task_assignees")
    assert sorted(f["user"] for f in assigned.values() if f["on"]) == sorted([ada.user, bob.user])
    assert set(bob.records("task_items")) == {"01I1", "01I2"}
    # Every change to a part marks the task changed by its author: the dot for the other person.
    task = ada.records("tasks")["01T"]
    assert task["changed_by"] == bob.user and changed_since_seen(task, None, ada.user)
    _ok(
        ada,
        ada.change(
            "task_seen",
            seen_id(ada.user, "01T"),
            {"task": "01T", "channel": channel, "user": ada.user, "at": task["changed"]},
        ),
    )
    seen = ada.records("task_seen")[seen_id(ada.user, "01T")]["at"]
    assert not changed_since_seen(ada.records("tasks")["01T"], seen, ada.user)
    # A non-member cannot be assigned.
    eve = workspace.join("Eve")
    assert _codes(
        ada,
        ada.change(
            "task_assignees",
            assignee_id("01T", eve.user),
            {"task": "01T", "user": eve.user, "channel": channel, "on": True},
        ),
    ) == ["invalid"]


def test_delete_wins_over_a_concurrent_edit(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    channel = _private_channel(ada, bob)
    _ok(ada, ada.change("tasks", "01T", {"channel": channel, "title": "Order parts"}))
    # Bob edits offline with a later clock than Ada's delete; Ada's delete reaches the server first.
    delete = ada.change("tasks", "01T", {"deleted": True})
    edit = bob.change("tasks", "01T", {"title": "Order more parts"}, hlc=bob.hlc(wall_ms() + 1_000))
    _ok(ada, delete)
    assert _codes(bob, edit) == ["deleted"]
    assert bob.records("tasks")["01T"]["deleted"] is True
    # And an edit that arrived before the delete stays under its tombstone.
    _ok(ada, ada.change("tasks", "01T2", {"channel": channel, "title": "Ship"}))
    _ok(bob, bob.change("tasks", "01T2", {"status": "doing"}, hlc=bob.hlc(wall_ms() + 2_000)))
    _ok(ada, ada.change("tasks", "01T2", {"deleted": True}))
    assert bob.records("tasks")["01T2"]["deleted"] is True
    assert _codes(bob, bob.change("task_items", "01I", {"task": "01T2", "channel": channel, "text": "x"})) == [
        "deleted"
    ]


def test_a_non_member_can_neither_read_nor_write_a_task(workspace: Workspace) -> None:
    ada, eve = workspace.join("Ada"), workspace.join("Eve")
    channel = _private_channel(ada)
    _ok(ada, ada.change("tasks", "01SECRET", {"channel": channel, "title": "Secret pump", "status": "todo"}))
    # pull
    assert "01SECRET" not in eve.records("tasks")
    # push
    assert _codes(eve, eve.change("tasks", "01SECRET", {"title": "mine now"})) == ["forbidden"]
    assert _codes(eve, eve.change("tasks", "01NEW", {"channel": channel, "title": "x"})) == ["forbidden"]
    # search
    assert ada.client.get("/api/tasks/search", params={"q": "pump"}).json()["results"][0]["id"] == "01SECRET"
    assert eve.client.get("/api/tasks/search", params={"q": "pump"}).json()["results"] == []
    # history
    assert eve.client.get("/api/records/tasks/01SECRET/versions").status_code == 404


def test_task_search_filters(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    channel = _private_channel(ada, bob)
    _ok(
        ada,
        ada.change("tasks", "01A", {"channel": channel, "title": "Pump", "status": "blocked", "due": "2000-01-01"}),
        ada.change(
            "tasks", "01B", {"channel": channel, "title": "Valve", "description": "near the pump", "status": "todo"}
        ),
        ada.change(
            "task_assignees",
            assignee_id("01B", bob.user),
            {"task": "01B", "user": bob.user, "channel": channel, "on": True},
        ),
    )

    def ids(q: str) -> list[str]:
        reply = ada.client.get("/api/tasks/search", params={"q": q, "zone": "Europe/Paris"})
        assert reply.status_code == 200, reply.text
        return sorted(hit["id"] for hit in reply.json()["results"])

    assert ids("is:task pump") == ["01A", "01B"]
    assert ids("status:blocked") == ["01A"]
    assert ids("assignee:@bob") == ["01B"]
    assert ids("assignee:me") == []
    assert ids("due:overdue") == ["01A"]
    assert ids("due:none pump") == ["01B"]
    assert ada.client.get("/api/tasks/search", params={"q": "x", "zone": "Mars/Base"}).status_code == 400


def test_comments_are_messages_numbered_in_their_task(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    channel = _private_channel(ada, bob)
    _ok(ada, ada.change("messages", "01M", {"channel": channel, "text": "the pump leaks"}))
    _ok(ada, ada.change("tasks", "01T", {"channel": channel, "title": "Fix the leak", "message": "01M"}))
    _ok(
        bob,
        bob.change("messages", "01C1", {"channel": channel, "text": "on it @ada", "task": "01T", "mentions": ada.user}),
    )
    _ok(ada, ada.change("messages", "01C2", {"channel": channel, "text": "thanks", "task": "01T"}))
    messages = ada.records("messages")
    assert (messages["01C1"].get("tn"), messages["01C2"].get("tn")) == (1, 2)
    assert ada.records("tasks")["01T"]["changed_by"] == ada.user  # the last comment marks the task changed
    assert "n" not in messages["01C1"]  # channel unread counts concern chat only
    assert ada.records("tasks")["01T"]["message"] == "01M"
    assert _codes(ada, ada.change("messages", "01C3", {"channel": channel, "text": "x", "task": "01NOPE"})) == [
        "not_found"
    ]


def test_a_deleted_task_is_restored_by_its_creator_or_an_admin_as_a_new_task(workspace: Workspace) -> None:
    ada, bob, cem = workspace.join("Ada"), workspace.join("Bob"), workspace.join("Cem")  # Ada owns the workspace
    eve = workspace.join("Eve")
    channel = _private_channel(ada, bob, cem)
    _ok(
        bob,
        bob.change(
            "tasks", "01T", {"channel": channel, "title": "Fix the pump", "status": "doing", "due": "2026-12-24"}
        ),
        bob.change(
            "task_assignees",
            assignee_id("01T", cem.user),
            {"task": "01T", "user": cem.user, "channel": channel, "on": True},
        ),
        bob.change(
            "task_labels", label_id("01T", "site B"), {"task": "01T", "channel": channel, "label": "site B", "on": True}
        ),
        bob.change(
            "task_items", "01I1", {"task": "01T", "channel": channel, "text": "Valve", "done": True, "position": "a0"}
        ),
        bob.change("task_items", "01I2", {"task": "01T", "channel": channel, "text": "Gone", "position": "a1"}),
    )
    _ok(bob, bob.change("task_items", "01I2", {"deleted": True}), bob.change("tasks", "01T", {"deleted": True}))

    def restore(person: Person, task: str = "01T") -> Any:
        return person.client.post(f"/api/tasks/{task}/restore", headers=person.csrf)

    # Not a member: the same 404 as a task that does not exist. A member who neither made it nor
    # administers: 403. A task that is not deleted: 409.
    assert restore(eve).status_code == 404 and restore(eve, "01NOPE").status_code == 404
    assert restore(cem).status_code == 403
    _ok(ada, ada.change("tasks", "01LIVE", {"channel": channel, "title": "Still here"}))
    assert restore(ada, "01LIVE").status_code == 409

    reply = restore(bob)
    assert reply.status_code == 201, reply.text
    new = reply.json()["id"]
    assert new != "01T" and reply.json()["restored_from"] == "01T"
    # The old task stays deleted (deletes are final); the new one carries its last values and parts.
    tasks = cem.records("tasks")
    assert tasks["01T"]["deleted"] is True
    assert {k: tasks[new].get(k) for k in ("title", "status", "due", "restored_from", "created_by")} == {
        "title": "Fix the pump",
        "status": "doing",
        "due": "2026-12-24",
        "restored_from": "01T",
        "created_by": bob.user,
    }
    assert cem.records("task_assignees")[assignee_id(new, cem.user)]["on"] is True
    assert cem.records("task_labels")[label_id(new, "site B")]["on"] is True
    items = [f for f in cem.records("task_items").values() if f["task"] == new]
    assert [(f["text"], f.get("done")) for f in items] == [("Valve", True)]
    # The restore is a change in the log like any other, written as the person who restored it.
    versions = bob.client.get(f"/api/records/tasks/{new}/versions").json()["versions"]
    assert versions[0]["author"] == bob.user and versions[0]["fields"]["restored_from"] == "01T"
    # An admin restores anyone's task; a client can never set restored_from itself (server field).
    _ok(bob, bob.change("tasks", new, {"deleted": True}))
    assert restore(ada, new).status_code == 201
    forged = ada.sync(ada.change("tasks", "01FORGED", {"channel": channel, "title": "x", "restored_from": "01T"}))
    assert (forged.status_code, forged.json()["error"]) == (400, "forged_field")
    # An archived channel's tasks stay as they are.
    _ok(ada, ada.change("tasks", "01LIVE", {"deleted": True}), ada.change("channels", channel, {"archived": True}))
    assert restore(ada, "01LIVE").status_code == 409
