"""Server search of tasks: the task filters of the shared syntax (sync_protocol/task_query.py)
over the task records of the searcher's channels, read directly.

No index: at the sizes TeamTalk is built for (20,000 tasks over 100 channels) one pass over the
records of the searcher's channels is a few milliseconds, and it can never disagree with the
records. Who sees a task is who may read its channel: the channels searched are the searcher's
own memberships, as for messages (backend/chat_service.py).
"""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from backend.errors import ApiError
from backend.storage.base import Storage
from sync_protocol import search_query, task_query, tasks
from sync_protocol.collections import channel_scope
from sync_protocol.registry import WORKSPACE
from sync_protocol.wire import Value

MAX_RESULTS = 200


class TaskHit(msgspec.Struct):
    id: str
    channel: str
    title: str
    status: str | None
    due: str | None
    assignees: list[str]
    changed: int | None


class TaskResults(msgspec.Struct):
    results: list[TaskHit]


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(400, "bad_request", f"unknown time zone {name!r}", field="zone") from None
    return name


def search_tasks(
    store: Storage, user_id: str, text: str, zone: str, limit: int, now_ms: int | None = None
) -> TaskResults:
    filters, rest = task_query.split(text)
    query = search_query.parse(rest)
    zone = _zone(zone)
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    people = {p.id: p.fields for p in store.records_in_scope(WORKSPACE) if p.collection == "users"}

    def named(value: str, person: str) -> bool:
        if value.lower() == "me":
            return person == user_id
        f = people.get(person, {})
        return search_query.person_named(value, person, str(f.get("name") or ""), str(f.get("email") or ""))

    hits: list[TaskHit] = []
    for channel in store.channels_of(user_id):
        records = store.records_in_scope(channel_scope(channel))
        assigned: dict[str, list[dict[str, Value]]] = {}
        for r in records:
            if r.collection == "task_assignees":
                assigned.setdefault(str(r.fields.get("task")), []).append(r.fields)
        for r in records:
            f = r.fields
            if r.collection != "tasks" or f.get("deleted") is True:
                continue
            if not search_query.text_matches(query, task_query.task_text(f.get("title"), f.get("description"))):
                continue
            who = tasks.assignees(assigned.get(r.id, []))
            if filters.assignees and not any(named(v, p) for v in filters.assignees for p in who):
                continue
            if not task_query.status_matches(filters, f.get("status")):
                continue
            due, zone_of_due, status = _str(f.get("due")), _str(f.get("due_tz")), _str(f.get("status"))
            if filters.due and not task_query.due_matches(filters, due, tasks.due_group(due, zone_of_due, now, zone)):
                continue
            changed = f.get("changed")
            hits.append(
                TaskHit(
                    id=r.id,
                    channel=channel,
                    title=str(f.get("title") or ""),
                    status=status,
                    due=due,
                    assignees=who,
                    changed=changed if isinstance(changed, int) and not isinstance(changed, bool) else None,
                )
            )
    hits.sort(key=lambda h: -(h.changed or 0))
    return TaskResults(hits[: max(1, min(limit, MAX_RESULTS))])


def _str(value: Value) -> str | None:
    return value if isinstance(value, str) else None


__all__ = ["TaskHit", "TaskResults", "search_tasks"]
