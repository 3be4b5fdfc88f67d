"""The task filters of the shared search syntax: ``is:task``, ``assignee:@person``,
``status:``, ``due:``. JS twin: frontend/src/lib/task-query.js; vectors: vectors/task_query.json.

The filters are split off the query before the rest goes to ``search_query.parse`` (the same
tokens, Rule 1 there), so the message syntax and its vectors stay as they are.

Rules:

Rule 1. ``is:task`` asks for tasks; so does any of the other three filters.
Rule 2. ``assignee:`` names a person (a leading ``@`` dropped; ``assignee:me`` is the searcher),
        matched as ``from:`` is (search_query Rule 5); several ``assignee:`` match any of them.
Rule 3. ``status:`` matches a task's status case-insensitively; several match any of them.
Rule 4. ``due:`` is a group of My tasks (``overdue``, ``today``, ``week``, ``later``, ``none``,
        sync_protocol/tasks.py Rule 4) or a day ``YYYY-MM-DD`` (tasks due that day, any time).
        An invalid value (and an empty filter) is an ordinary word.
Rule 5. A task's text is its title and description joined by a newline; words and phrases must
        all occur in it (search_query Rule 3). Deleted tasks never match.
"""

from __future__ import annotations

import re

import msgspec

from sync_protocol import search_query
from sync_protocol.tasks import GROUPS

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class TaskFilters(msgspec.Struct, frozen=True):
    tasks: bool = False
    assignees: list[str] = []
    statuses: list[str] = []
    due: str | None = None


def split(query: str) -> tuple[TaskFilters, str]:
    """The task filters of ``query``, and the query without them (for ``search_query.parse``)."""
    tasks = False
    assignees: list[str] = []
    statuses: list[str] = []
    due: str | None = None

    def take(key: str, value: str) -> bool:
        nonlocal tasks, due
        if key == "is" and value.lower() == "task":
            tasks = True
        elif key == "assignee" and value.lstrip("@"):
            assignees.append(value.lstrip("@"))
        elif key == "status" and value:
            statuses.append(value.lower())
        elif key == "due" and (value.lower() in GROUPS or _DAY.fullmatch(value)):
            due = value.lower()
        else:
            return False
        return True

    rest = search_query.take_filters(query, take)
    tasks = tasks or bool(assignees or statuses or due)
    return TaskFilters(tasks, assignees, statuses, due), rest


def task_text(title: object, description: object) -> str:
    """Rule 5: what words are looked for in."""
    return f"{title or ''}\n{description or ''}"


def status_matches(filters: TaskFilters, status: object) -> bool:
    return not filters.statuses or str(status or "").lower() in filters.statuses


def due_matches(filters: TaskFilters, due: object, group: str) -> bool:
    """Rule 4; ``group`` is the task's due group for the searcher (sync_protocol/tasks.py)."""
    if filters.due is None:
        return True
    if filters.due in GROUPS:
        return group == filters.due
    return isinstance(due, str) and due[:10] == filters.due


__all__ = ["TaskFilters", "due_matches", "split", "status_matches", "task_text"]
