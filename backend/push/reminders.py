"""Calendar reminders as push notices: the producer rule for the ``reminder`` event type.

The schedule (backend/calendar/reminders.py) decides *when*; this decides what a reminder says.
It goes through the same queue and sender as message notices (sqlite_push.py, sender.py), so
a device showing the app gets it in the app instead (sender.py, Rule 3).

Rule 1. One notice per occurrence: its topic names the reminder and the occurrence, so a
        duplicate after a crash is the same notification, and two reminders of one event are two.
Rule 2. The text says the event's title and its start in the person's zone (their ``notices``
        record's ``tz``, else the event's), in their subscription's language.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from backend.push.rules import Notice, topic
from sync_protocol.wire import Value

CATALOGUES = {
    "en": {"soon": "Starts at {time}", "day": "All day, {date}", "title": "Reminder: {title}"},
    "zh-CN": {"soon": "{time} 开始", "day": "全天，{date}", "title": "提醒：{title}"},
}


def reminder_notice(
    *,
    user: str,
    lang: str,
    reminder_id: str,
    event_id: str,
    occurrence: str,
    title: str,
    starts_ms: int,
    all_day: bool,
    tz: str,
) -> Notice:
    words = CATALOGUES.get(lang) or CATALOGUES["en"]
    local = datetime.fromtimestamp(starts_ms / 1000, ZoneInfo(tz))
    body = words["day"].format(date=occurrence[:10]) if all_day else words["soon"].format(time=local.strftime("%H:%M"))
    payload: dict[str, Value] = {
        "title": words["title"].format(title=title),
        "body": body,
        "tag": f"reminder:{reminder_id}:{occurrence}",
        "url": f"/#/calendar/event/{event_id}",
        "event": event_id,
        "kind": "reminder",
    }
    return Notice(user, topic(f"r:{reminder_id}:{occurrence}"), "high", payload)
