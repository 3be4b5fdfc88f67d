"""iCalendar (RFC 5545) in: what other calendar apps export, turned into event fields.

Parsing is icalendar's; this module decides what the parsed values mean for TeamTalk's events,
whose times are wall times in an IANA zone (sync_protocol/collections_calendar.py, Rule 1).

Rule 1. A zone is found, in this order: a TZID that is an IANA name; an Outlook (Windows) zone
        name, through icalendar's table; the calendar's X-WR-TIMEZONE (Google) for a custom
        VTIMEZONE or a UTC time; for any other custom VTIMEZONE, the first IANA zone (a short
        list of common ones, then all, sorted) whose offsets agree with it in January, in July
        and at the event's start. A floating time takes X-WR-TIMEZONE, else the importer's zone.
Rule 2. VEVENTs sharing a UID are one series: the one without RECURRENCE-ID is the series, the
        others are its exceptions; EXDATEs become cancelled exceptions.
Rule 3. The event's id is derived from the calendar and the UID, so importing the same file again
        finds the same records and updates them instead of adding copies.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from icalendar import Calendar
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from sync_protocol.wire import Value

COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Asia/Shanghai",
    "Asia/Kolkata",
    "Australia/Sydney",
)


class BadCalendar(ValueError):
    """The bytes are not an iCalendar file we can read."""


@dataclass
class Imported:
    uid: str
    fields: dict[str, Value]
    #: recurrence_id -> the exception's fields
    exceptions: dict[str, dict[str, Value]] = field(default_factory=dict)


def event_id(calendar: str, uid: str) -> str:
    """Rule 3."""
    return "ics_" + hashlib.sha256(f"{calendar}\0{uid}".encode()).hexdigest()[:32]


def _is_iana(name: str) -> bool:
    if not name or name.startswith("/"):
        return False
    try:
        ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return False
    return True


@functools.cache
def _all_zones() -> tuple[str, ...]:
    return COMMON_ZONES + tuple(sorted(available_timezones() - set(COMMON_ZONES)))


def _matching_zone(value: datetime) -> str:
    """Rule 1, last resort: an IANA zone that agrees with a custom VTIMEZONE."""
    custom = value.tzinfo
    assert custom is not None
    probes = [value.replace(tzinfo=None), datetime(value.year, 1, 15, 12), datetime(value.year, 7, 15, 12)]
    wanted = [custom.utcoffset(p) for p in probes]
    for name in _all_zones():
        zone = ZoneInfo(name)
        if [zone.utcoffset(p) for p in probes] == wanted:
            return name
    return "UTC"


class _Zones:
    def __init__(self, default_tz: str | None, wr_timezone: str | None) -> None:
        self.default = default_tz if default_tz and _is_iana(default_tz) else "UTC"
        self.wr = wr_timezone if wr_timezone and _is_iana(wr_timezone) else None

    def wall(self, prop: Any, tz: str | None = None) -> tuple[str, str | None]:
        """(wall time, zone) of a DTSTART-like property; ``tz``: the series' zone, to follow."""
        value = prop.dt
        if not isinstance(value, datetime):
            assert isinstance(value, date)
            return value.isoformat(), None
        tzid = str(prop.params.get("TZID", "")) if hasattr(prop, "params") else ""
        if tz is None:
            tz = self.zone_of(value, tzid)
        if value.tzinfo is not None:
            value = value.astimezone(ZoneInfo(tz))
        text = value.replace(tzinfo=None).isoformat()
        return (text[:16] if value.second == 0 else text[:19]), tz

    def zone_of(self, value: datetime, tzid: str) -> str:
        if tzid and _is_iana(tzid):
            return tzid
        if tzid in WINDOWS_TO_OLSON:
            return str(WINDOWS_TO_OLSON[tzid])
        if value.tzinfo is None:
            return self.wr or self.default
        if self.wr:
            return self.wr
        if value.utcoffset() == timedelta(0) and not tzid:
            return "UTC"
        return _matching_zone(value)


def _texts(component: Any, out: dict[str, Value]) -> None:
    for name, key in (("SUMMARY", "title"), ("DESCRIPTION", "description"), ("LOCATION", "location")):
        value = component.get(name)
        if value is not None:
            out[key] = str(value)[: 200 if key == "title" else 10_000 if key == "description" else 500]


def _end(component: Any, zones: _Zones, start: str, tz: str | None) -> str:
    if component.get("DTEND") is not None:
        return zones.wall(component["DTEND"], tz)[0]
    duration = component.get("DURATION")
    begin = datetime.fromisoformat(start)
    if duration is not None:
        end: datetime = begin + duration.dt
    else:
        end = begin + (timedelta(days=1) if len(start) == 10 else timedelta(0))
    return end.date().isoformat() if len(start) == 10 else end.isoformat()[: len(start)]


def _exdates(component: Any, zones: _Zones, tz: str | None) -> list[str]:
    found = component.get("EXDATE")
    if found is None:
        return []
    lists = found if isinstance(found, list) else [found]
    return [zones.wall(item, tz)[0] for group in lists for item in group.dts]


def parse(data: bytes, default_tz: str | None = None) -> list[Imported]:
    """The series and single events of a file, with their exceptions (Rules 1 and 2)."""
    try:
        cal = Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise BadCalendar(f"this is not an iCalendar file: {exc}") from None
    wr = cal.get("X-WR-TIMEZONE")
    zones = _Zones(default_tz, str(wr) if wr is not None else None)
    series: dict[str, Imported] = {}
    exceptions: list[tuple[str, Any]] = []
    for component in cal.walk("VEVENT"):
        uid = str(component.get("UID") or "")
        if not uid or component.get("DTSTART") is None:
            continue
        if component.get("RECURRENCE-ID") is not None:
            exceptions.append((uid, component))
            continue
        start, tz = zones.wall(component["DTSTART"])
        fields: dict[str, Value] = {"uid": uid[:255], "start": start, "end": _end(component, zones, start, tz)}
        if tz:
            fields["tz"] = tz
        _texts(component, fields)
        fields.setdefault("title", "(no title)")
        rule = component.get("RRULE")
        if rule is not None:
            fields["rrule"] = rule.to_ical().decode()
        found = Imported(uid, fields)
        for rid in _exdates(component, zones, tz):
            found.exceptions[rid] = {"recurrence_id": rid, "cancelled": True}
        series[uid] = found
    for uid, component in exceptions:
        parent = series.get(uid)
        if parent is None:
            continue
        zone = str(parent.fields["tz"]) if isinstance(parent.fields.get("tz"), str) else None
        rid = zones.wall(component["RECURRENCE-ID"], zone)[0]
        start = zones.wall(component["DTSTART"], zone)[0]
        over: dict[str, Value] = {"recurrence_id": rid, "start": start, "cancelled": False}
        over["end"] = _end(component, zones, start, zone)
        _texts(component, over)
        if str(component.get("STATUS", "")).upper() == "CANCELLED":
            over["cancelled"] = True
        parent.exceptions[rid] = over
    return list(series.values())
