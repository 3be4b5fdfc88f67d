"""The push producer's rule for tasks: "a task was assigned to me" (the event ``task_assigned``).

Rule 1. A change that turns an assignee record on (``on: true``), written by someone other than
        the person assigned, notifies that person's subscribed devices. Assigning yourself, or
        an unassign, does not.
Rule 2. Held back as messages are (rules.py, Rule 2): the channel muted, its level ``none``, or
        the person's do-not-disturb schedule or pause.
Rule 3. The notice belongs to the task (tag ``k:<task>``): a newer one about it replaces the
        older on the device. A person with private previews gets no task title and no assigner.
"""

from __future__ import annotations

import json

from backend.push import rules
from backend.settings import Settings
from backend.storage.base import PushJob, Storage
from sync_protocol.collections import notices_id, pref_id
from sync_protocol.wire import Change, Value

EVENT = "task_assigned"
CATALOGUE = {
    "en": {"title": "{who} assigned you a task", "private": "A task was assigned to you", "where": "in #{where}"},
    "zh-CN": {"title": "{who} 给你分配了任务", "private": "你有一个新分配的任务", "where": "于 #{where}"},
}


def is_assignment(change: Change) -> bool:
    """Rule 1, from the change alone (the producer filters the feed with it)."""
    return (
        change.collection == "task_assignees"
        and change.fields.get("on") is True
        and change.author != str(change.fields.get("user", change.id.rsplit(":", 1)[-1]))
    )


def jobs(store: Storage, settings: Settings, change: Change, now: int) -> list[PushJob]:
    """The queue rows of one assignment's notices."""
    record = store.get_record("task_assignees", change.id)
    if record is None:
        return []
    person, task_id = str(record.state.fields["user"]), str(record.state.fields["task"])
    task = store.get_record("tasks", task_id)
    channel_id = str(record.state.fields["channel"])
    channel = store.get_record("channels", channel_id)
    if task is None or channel is None or task.state.fields.get("deleted") is True or person == change.author:
        return []
    pref = store.get_record("prefs", pref_id(person, channel_id))
    level = pref.state.fields if pref else {}
    if level.get("muted") is True or level.get("notify") == "none":
        return []
    notices = store.get_record("notices", notices_id(person))
    prefs = notices.state.fields if notices else None
    if rules.quiet(prefs, now):
        return []
    private = bool(prefs and prefs.get("preview") == "private")
    account = store.account(change.author)
    who = account.name if account else change.author
    tag = f"k:{task_id}"
    found = []
    for sub in store.push_subscriptions_of([person]):
        words = CATALOGUE.get(sub.lang) or CATALOGUE["en"]
        payload: dict[str, Value] = {
            "event": EVENT,
            "title": words["private"] if private else words["title"].format(who=who),
            "body": ""
            if private
            else f"{task.state.fields.get('title') or ''} "
            + words["where"].format(where=channel.state.fields.get("name") or ""),
            "tag": tag,
            "url": f"/#/c/{channel_id}/tasks/{task_id}",
            "count": 1,
            "id": task_id,
            "channel": channel_id,
        }
        found.append(PushJob(sub.id, rules.topic(tag), json.dumps(payload), "high", settings.push_ttl_s, now, now))
    return found
