"""Tasks in the archive: tasks, their checklists, assignees and every version, and the two
canned queries of datasette_metadata.yml run on a real export."""

from __future__ import annotations

from pathlib import Path

import yaml

from sync_protocol.collections_tasks import assignee_id
from tests.integration.archive.conftest import ROOT, Scene, export, rows
from tests.integration.conftest import wall_ms


def _canned(name: str) -> str:
    meta = yaml.safe_load((ROOT / "datasette_metadata.yml").read_text())
    sql: str = meta["databases"]["archive"]["queries"][name]["sql"]
    return sql


def test_tasks_history_and_checklists_are_archived_and_the_canned_queries_answer(scene: Scene, tmp_path: Path) -> None:
    ada, bob, general = scene.ada, scene.bob, scene.general
    base = wall_ms()
    for person, change in [
        (
            ada,
            ada.change(
                "tasks", "01T1", {"channel": general, "title": "Fix the pump", "status": "todo", "due": "2000-01-02"}
            ),
        ),
        (
            ada,
            ada.change(
                "task_assignees",
                assignee_id("01T1", bob.user),
                {"task": "01T1", "user": bob.user, "channel": general, "on": True},
            ),
        ),
        (
            ada,
            ada.change("task_items", "01I1", {"task": "01T1", "channel": general, "text": "Valve", "position": "a0"}),
        ),
        (bob, bob.change("task_items", "01I1", {"done": True})),
        (ada, ada.change("tasks", "01T1", {"status": "blocked"})),  # by someone not assigned
        (bob, bob.change("tasks", "01T1", {"status": "doing"})),  # by the assignee
    ]:
        change["hlc"] = person.hlc(base := base + 5)  # one after the other, whatever the two clocks say
        reply = person.sync(change)
        assert reply.status_code == 200 and not reply.json()["rejections"], reply.text
    out = export(scene, tmp_path / "archive.db")

    task = rows(out, "SELECT title, status, created_by, changed_by FROM tasks WHERE id = '01T1'")[0]
    assert task == {"title": "Fix the pump", "status": "doing", "created_by": ada.user, "changed_by": bob.user}
    assert rows(out, "SELECT text, done FROM task_items") == [{"text": "Valve", "done": 1}]
    statuses = rows(
        out, "SELECT value, author FROM task_versions WHERE task = '01T1' AND field = 'status' ORDER BY seq"
    )
    assert statuses == [
        {"value": "todo", "author": ada.user},
        {"value": "blocked", "author": ada.user},
        {"value": "doing", "author": bob.user},
    ]
    overdue = rows(out, _canned("overdue_tasks_per_person"))
    assert [(r["person"], r["overdue"]) for r in overdue] == [("Bob", 1)]
    by_others = rows(out, _canned("status_changed_by_others"))
    assert [(r["status"], r["changed_by"]) for r in by_others] == [("todo", "Ada"), ("blocked", "Ada")]
