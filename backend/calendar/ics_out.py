"""iCalendar (RFC 5545) out: a person's feed and one event's download, written from records.

Rule 1. A series goes out as one VEVENT with its RRULE; a cancelled occurrence is an EXDATE; a
        moved or retitled occurrence is a VEVENT with the same UID and a RECURRENCE-ID (what
        Google, Apple and Outlook all read). Nothing is expanded here.
Rule 2. Timed events carry ``TZID=<IANA name>`` and the feed holds one VTIMEZONE per zone used
        (icalendar writes it from the zone database), so apps that know no IANA names still
        place them right. All-day events are ``VALUE=DATE``.
Rule 3. The text is written directly (escaping and 75-octet folding as RFC 5545 says): a feed of
        thousands of events must cost milliseconds, and ``icalendar`` parses it back in the tests.
Rule 4. A task with a due date is an all-day VEVENT on that date (UID ``task-<id>@teamtalk``).
Rule 5. The people: ORGANIZER is who made the event; one ATTENDEE per invited person, with their
        RSVP as PARTSTAT (no answer is NEEDS-ACTION), on the series and on each moved occurrence
        (calendar apps show an override's own list). People are ``mailto:`` their email, named by CN.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import NamedTuple

from icalendar import Timezone

from backend.calendar.recurrence import is_all_day
from sync_protocol.wire import Value

PRODID = "-//TeamTalk//Calendar//EN"
#: An RSVP's status as RFC 5545's PARTSTAT (section 3.2.12).
PARTSTAT = {"accepted": "ACCEPTED", "tentative": "TENTATIVE", "declined": "DECLINED", "none": "NEEDS-ACTION"}


class Person(NamedTuple):
    name: str
    email: str


def escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on lines that start with a space (never inside a
    UTF-8 sequence)."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts: list[str] = []
    start, limit = 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        parts.append(data[start:end].decode())
        start, limit = end, 74
    return "\r\n ".join(parts)


def _param(value: str) -> str:
    """A parameter value, always quoted: a quote cannot be escaped inside one (RFC 5545 3.2), and
    control characters have no place in a name."""
    return '"' + "".join(c for c in value if c >= " " and c not in '"\x7f') + '"'


def people(organizer: Person | None, invited: Iterable[tuple[Person, str]]) -> list[str]:
    """Rule 5: the ORGANIZER and ATTENDEE lines of one event, attendees in the order given."""
    out = [fold(f"ORGANIZER;CN={_param(organizer.name)}:mailto:{organizer.email}")] if organizer else []
    for person, status in invited:
        partstat = PARTSTAT.get(status, "NEEDS-ACTION")
        out.append(
            fold(f"ATTENDEE;CN={_param(person.name)};ROLE=REQ-PARTICIPANT;PARTSTAT={partstat}:mailto:{person.email}")
        )
    return out


def _compact(wall: str) -> str:
    return wall.replace("-", "").replace(":", "") + ("00" if len(wall) == 16 else "")


def when(name: str, wall: str, tz: str | None) -> str:
    if is_all_day(wall):
        return f"{name};VALUE=DATE:{_compact(wall)}"
    if not tz or tz == "UTC":
        return f"{name}:{_compact(wall)}Z" if tz == "UTC" else f"{name}:{_compact(wall)}"
    return f"{name};TZID={tz}:{_compact(wall)}"


@functools.cache
def vtimezone(tz: str) -> str:
    """Rule 2: one zone's VTIMEZONE (from 2000 on, to keep it short), as icalendar writes it."""
    text: str = Timezone.from_tzid(tz, first_date=datetime(2000, 1, 1).date()).to_ical().decode()
    return text.strip()


def stamp(now_ms: int) -> str:
    return datetime.fromtimestamp(now_ms / 1000, UTC).strftime("%Y%m%dT%H%M%SZ")


def uid_of(event_id: str, event: Mapping[str, Value]) -> str:
    uid = event.get("uid")
    return uid if isinstance(uid, str) and uid else f"{event_id}@teamtalk"


def _text(out: list[str], name: str, value: Value) -> None:
    if isinstance(value, str) and value:
        out.append(fold(f"{name}:{escape(value)}"))


def vevent(
    event_id: str,
    event: Mapping[str, Value],
    exceptions: Iterable[Mapping[str, Value]],
    dtstamp: str,
    category: str = "",
    attendees: Iterable[str] = (),
) -> list[str]:
    """Lines of an event and its exceptions (Rule 1), with its people (Rule 5: from ``people``)."""
    attendees = list(attendees)
    tz = str(event["tz"]) if isinstance(event.get("tz"), str) else None
    start = str(event["start"])
    uid = uid_of(event_id, event)
    head = ["BEGIN:VEVENT", fold(f"UID:{escape(uid)}"), f"DTSTAMP:{dtstamp}", when("DTSTART", start, tz)]
    if isinstance(event.get("end"), str):
        head.append(when("DTEND", str(event["end"]), tz))
    _text(head, "SUMMARY", event.get("title"))
    _text(head, "DESCRIPTION", event.get("description"))
    _text(head, "LOCATION", event.get("location"))
    if category:
        head.append(fold(f"CATEGORIES:{escape(category)}"))
    head += attendees
    moved: list[str] = []
    rule = event.get("rrule")
    if isinstance(rule, str) and rule:
        head.append(fold(f"RRULE:{rule}"))
        for exception in sorted(exceptions, key=lambda x: str(x["recurrence_id"])):
            rid = str(exception["recurrence_id"])
            if exception.get("cancelled") is True:
                head.append(when("EXDATE", rid, tz))
                continue
            moved += ["BEGIN:VEVENT", fold(f"UID:{escape(uid)}"), f"DTSTAMP:{dtstamp}"]
            moved.append(when("RECURRENCE-ID", rid, tz))
            moved.append(when("DTSTART", str(exception.get("start") or rid), tz))
            if isinstance(exception.get("end"), str):
                moved.append(when("DTEND", str(exception["end"]), tz))
            for name, field in (("SUMMARY", "title"), ("DESCRIPTION", "description"), ("LOCATION", "location")):
                _text(moved, name, exception.get(field) or event.get(field))
            moved += attendees
            moved.append("END:VEVENT")
    head.append("END:VEVENT")
    return head + moved


def task_vevent(task_id: str, task: Mapping[str, Value], dtstamp: str) -> list[str]:
    """Rule 4: a task's due date as an all-day item."""
    day = str(task["due"])[:10]
    out = ["BEGIN:VEVENT", f"UID:task-{task_id}@teamtalk", f"DTSTAMP:{dtstamp}", when("DTSTART", day, None)]
    _text(out, "SUMMARY", f"☐ {task.get('title') or ''}")
    out.append("END:VEVENT")
    return out


def calendar(name: str, zones: Iterable[str], body: Iterable[str]) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    _text(lines, "X-WR-CALNAME", name)
    lines += [vtimezone(tz) for tz in sorted(set(zones)) if tz != "UTC"]
    lines += body
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()
