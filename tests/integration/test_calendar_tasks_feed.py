"""Tasks in the ICS feed: when the registry has the tasks helper's collections (``tasks`` and
``task_assignees``, as its contract names them), a feed that asks for them holds the due dates
of the tasks assigned to its owner as all-day items; without them it simply holds none."""

from __future__ import annotations

from pathlib import Path

import icalendar

from backend.calendar.service import CalendarService
from backend.settings import Settings
from backend.storage.base import Account
from backend.storage.sqlite import SqliteStorage
from backend.storage.sqlite_calendar import CalendarFeed
from backend.sync_service import SyncService
from sync_protocol.collections import REGISTRY, member_id
from sync_protocol.registry import CollectionSpec, Field, ScopeRule

IN_CHANNEL = ScopeRule("field", field="channel", prefix="c:")
#: The tasks helper's contract, written only by the server here (no rights: clients are refused).
TASKS = CollectionSpec(
    "tasks",
    {
        "channel": Field(str, 80),
        "title": Field(str, 200),
        "status": Field(str, 20),
        "due": Field(str, 16),
        "due_tz": Field(str, 64),
        "deleted": Field(bool),
    },
    IN_CHANNEL,
)
ASSIGNEES = CollectionSpec(
    "task_assignees",
    {"task": Field(str, 120), "user": Field(str, 80), "channel": Field(str, 80), "on": Field(bool)},
    IN_CHANNEL,
)
NOW = 1_780_000_000_000


def _feed(tmp_path: Path, with_tasks: bool) -> list[tuple[str, str, object]]:
    registry = REGISTRY.with_collection(TASKS).with_collection(ASSIGNEES) if with_tasks else REGISTRY
    store = SqliteStorage(tmp_path / f"{with_tasks}.db")
    try:
        sync = SyncService(store, Settings(data_dir=tmp_path), registry=registry)
        with store.transaction():
            store.add_account(Account("ada", "ada@example.com", "Ada", "owner", "-", NOW))
        sync.write_as_server(
            "ada",
            [
                ("channels", "crew", {"name": "crew", "kind": "private"}),
                ("members", member_id("crew", "ada"), {"channel": "crew", "user": "ada"}),
                ("events", "e1", {"calendar": "c:crew", "title": "Visit", "start": "2026-05-04"}),
            ],
            NOW,
        )
        if with_tasks:
            sync.write_as_server(
                "ada",
                [
                    (
                        "tasks",
                        "t1",
                        {"channel": "crew", "title": "Order cement", "status": "open", "due": "2026-05-06"},
                    ),
                    ("tasks", "t2", {"channel": "crew", "title": "Timed", "status": "open", "due": "2026-05-07T09:30"}),
                    (
                        "tasks",
                        "t3",
                        {"channel": "crew", "title": "Done already", "status": "done", "due": "2026-05-08"},
                    ),
                    ("tasks", "t4", {"channel": "crew", "title": "Not mine", "status": "open", "due": "2026-05-09"}),
                    ("task_assignees", "a1", {"task": "t1", "user": "ada", "channel": "crew", "on": True}),
                    ("task_assignees", "a2", {"task": "t2", "user": "ada", "channel": "crew", "on": True}),
                    ("task_assignees", "a3", {"task": "t3", "user": "ada", "channel": "crew", "on": True}),
                ],
                NOW,
            )
        body = CalendarService(store, sync).feed_body(CalendarFeed("f", "ada", NOW, True, None), NOW)
    finally:
        store.close()
    return [
        (str(v["UID"]), str(v["SUMMARY"]), v["DTSTART"].dt) for v in icalendar.Calendar.from_ical(body).walk("VEVENT")
    ]


def test_the_feed_holds_my_tasks_due_dates_as_all_day_items_when_tasks_exist(tmp_path: Path) -> None:
    found = sorted((uid, title, str(day)) for uid, title, day in _feed(tmp_path, with_tasks=True))
    assert found == [
        ("e1@teamtalk", "Visit", "2026-05-04"),
        ("task-t1@teamtalk", "☐ Order cement", "2026-05-06"),
        ("task-t2@teamtalk", "☐ Timed", "2026-05-07"),
    ]


def test_without_the_tasks_collections_the_feed_holds_only_events(tmp_path: Path) -> None:
    assert [uid for uid, _, _ in _feed(tmp_path, with_tasks=False)] == ["e1@teamtalk"]
