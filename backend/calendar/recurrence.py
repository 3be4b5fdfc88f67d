"""Occurrences of events: RFC 5545 series expanded by python-dateutil, in the event's own zone.

The browser does the same with the ``rrule`` package (frontend/src/lib/recurrence.js); both pass
``sync_protocol/vectors/recurrence.json``.

Rule 1. A series is expanded in local wall time ("floating"), then each occurrence is placed in
        the event's zone: a weekly 09:00 in Europe/Berlin is 09:00 Berlin time before and after
        the daylight-saving change, wherever it is viewed. UNTIL is turned into local wall time
        of the event's zone first (RFC 5545 writes it in UTC when the start has a zone).
Rule 2. An all-day event's start and end are dates (end exclusive); it has no zone and lasts
        the same days everywhere.
Rule 3. An occurrence's duration is the series' end minus start in wall time.
Rule 4. Exceptions (``occurrences`` records) are keyed by the original start (``recurrence_id``):
        a cancelled one is left out; a moved or retitled one replaces the original, shown where
        its new start falls, whether or not the original fell in the window. An exception whose
        original start is not an occurrence of the series (an old split) is ignored.
Rule 5. "This and following" (``split``) ends the old series just before the chosen occurrence
        and starts a new one there with the rest of it (a COUNT is shared out between the two).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from sync_protocol.wire import Value

WALL = re.compile(r"\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d)?)?\Z")
#: How far an occurrence may be shifted from UTC by its zone: the window is widened by this.
ZONE_MARGIN = timedelta(hours=27)
MAX_OCCURRENCES = 5000


class BadTime(ValueError):
    """A wall time, zone or rule an event cannot hold."""


def is_all_day(wall: str) -> bool:
    return len(wall) == 10


def parse_wall(wall: str) -> datetime:
    if not WALL.match(wall):
        raise BadTime(f"{wall!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM")
    try:
        return datetime.fromisoformat(wall)
    except ValueError:
        raise BadTime(f"{wall!r} is not a date") from None


def format_wall(value: datetime, like: str) -> str:
    """``value`` written as precisely as ``like`` (a date, minutes or seconds)."""
    return value.isoformat()[: len(like)] if len(like) != 10 else value.date().isoformat()


def zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        raise BadTime(f"{name!r} is not an IANA time zone") from None


def instant(wall: str, tz: str | None) -> datetime:
    """The UTC instant a wall time names (an all-day date: its midnight in UTC)."""
    local = parse_wall(wall)
    return local.replace(tzinfo=zone(tz) or UTC).astimezone(UTC)


def _floating_until(rule: str, tz: str | None, all_day: bool) -> str:
    """Rule 1: UNTIL in the wall time of the event's zone (a date for all-day events)."""

    def local(match: re.Match[str]) -> str:
        value = match.group(1)
        if all_day:
            return f"UNTIL={value[:8]}"
        if value.endswith("Z"):
            at = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            return "UNTIL=" + at.astimezone(zone(tz) or UTC).strftime("%Y%m%dT%H%M%S")
        return f"UNTIL={value}" if "T" in value else f"UNTIL={value}T235959"

    return re.sub(r"UNTIL=([0-9TZ]+)", local, rule.removeprefix("RRULE:"))


def series(event: Mapping[str, Value]) -> rrule | None:
    """The event's rule as dateutil reads it, in floating wall time (None: a single event)."""
    text, start = event.get("rrule"), str(event["start"])
    if not isinstance(text, str) or not text:
        return None
    tz = str(event["tz"]) if isinstance(event.get("tz"), str) else None
    try:
        parsed = rrulestr(_floating_until(text, tz, is_all_day(start)), dtstart=parse_wall(start))
    except (ValueError, TypeError) as exc:
        raise BadTime(f"{text!r} is not an RRULE: {exc}") from None
    assert isinstance(parsed, rrule)
    return parsed


def check(event: Mapping[str, Value]) -> None:
    """Raise BadTime unless start, end, tz and rrule make sense together (the server's check)."""
    start = str(event["start"])
    parse_wall(start)
    end = event.get("end")
    if isinstance(end, str):
        if is_all_day(end) != is_all_day(start):
            raise BadTime("start and end must both be dates or both times")
        if parse_wall(end) < parse_wall(start):
            raise BadTime("an event cannot end before it starts")
    tz = event.get("tz")
    if is_all_day(start) and tz:
        raise BadTime("an all-day event has no time zone")
    zone(tz if isinstance(tz, str) else None)
    series(event)


@dataclass(frozen=True)
class Occurrence:
    event: str
    #: The original start (None for a single event): what an exception names.
    recurrence_id: str | None
    start: str
    end: str
    tz: str | None
    title: str
    fields: Mapping[str, Value]

    @property
    def all_day(self) -> bool:
        return is_all_day(self.start)

    def starts_at(self) -> datetime:
        return instant(self.start, self.tz)

    def ends_at(self) -> datetime:
        return instant(self.end, self.tz)


def _duration(event: Mapping[str, Value]) -> timedelta:
    start, end = str(event["start"]), event.get("end")
    if isinstance(end, str):
        return parse_wall(end) - parse_wall(start)
    return timedelta(days=1) if is_all_day(start) else timedelta(0)


def expand(
    event_id: str,
    event: Mapping[str, Value],
    exceptions: Iterable[Mapping[str, Value]],
    after: datetime,
    before: datetime,
) -> list[Occurrence]:
    """Occurrences whose start instant is in [after, before), by start (Rules 1-4)."""
    start = str(event["start"])
    tz = str(event["tz"]) if isinstance(event.get("tz"), str) else None
    length = _duration(event)
    title = str(event.get("title", ""))
    rule = series(event)
    out: list[Occurrence] = []

    def add(rid: str | None, local: datetime, over: Mapping[str, Value]) -> None:
        begin = str(over["start"]) if isinstance(over.get("start"), str) else format_wall(local, start)
        end = str(over["end"]) if isinstance(over.get("end"), str) else format_wall(parse_wall(begin) + length, start)
        occurrence = Occurrence(event_id, rid, begin, end, tz, str(over.get("title") or title), {**event, **over})
        if after <= occurrence.starts_at() < before:
            out.append(occurrence)

    if rule is None:
        add(None, parse_wall(start), {})
        return out
    by_rid = {str(x["recurrence_id"]): x for x in exceptions if isinstance(x.get("recurrence_id"), str)}
    lo = (after - ZONE_MARGIN - max(length, timedelta(0))).replace(tzinfo=None)
    hi = (before + ZONE_MARGIN).replace(tzinfo=None)
    for local in rule.between(lo, hi, inc=True)[:MAX_OCCURRENCES]:
        rid = format_wall(local, start)
        if rid not in by_rid:
            add(rid, local, {})
    for rid, over in by_rid.items():
        if over.get("cancelled") is True:
            continue
        local = parse_wall(rid) if WALL.match(rid) else None
        if local is not None and local.replace(tzinfo=None) in rule.between(local, local, inc=True):
            add(rid, local, over)
    out.sort(key=lambda o: (o.starts_at(), o.event, o.recurrence_id or ""))
    return out


def _parts(rule: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in rule.removeprefix("RRULE:").split(";") if "=" in part)


def _join(parts: Mapping[str, str]) -> str:
    return ";".join(f"{key}={value}" for key, value in parts.items())


def split(event: Mapping[str, Value], recurrence_id: str) -> tuple[str, str]:
    """Rule 5: the old series' new rrule and the new series' rrule, split at ``recurrence_id``
    (which becomes the new series' first occurrence)."""
    rule = series(event)
    if rule is None:
        raise BadTime("only a series can be split")
    start = str(event["start"])
    at = parse_wall(recurrence_id)
    parts = _parts(str(event["rrule"]))
    new = dict(parts)
    before = [d for d in rule.between(parse_wall(start), at, inc=True) if d < at]
    if "COUNT" in parts:
        new["COUNT"] = str(max(1, int(parts["COUNT"]) - len(before)))
    old = {key: value for key, value in parts.items() if key not in ("COUNT", "UNTIL")}
    if is_all_day(start):
        old["UNTIL"] = (at.date() - timedelta(days=1)).strftime("%Y%m%d")
    else:
        tz = zone(str(event["tz"])) if isinstance(event.get("tz"), str) else UTC
        end = (at - timedelta(seconds=1)).replace(tzinfo=tz).astimezone(UTC)
        old["UNTIL"] = end.strftime("%Y%m%dT%H%M%SZ")
    return _join(old), _join(new)


def day_of(value: date | datetime) -> str:
    return value.strftime("%Y-%m-%d")
