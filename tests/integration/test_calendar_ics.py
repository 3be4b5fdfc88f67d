"""iCalendar in and out through the real app: imports of Google-, Outlook- and Apple-style files
(written for these tests, in each app's habits), re-import by UID, the private feed with its
ETag, its rights and its revocation, and a round trip through ``icalendar``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest

from backend.calendar import recurrence
from backend.calendar.ics_out import PARTSTAT
from sync_protocol.collections import member_id
from sync_protocol.collections_calendar import calendar_pref_id, occurrence_id, rsvp_id
from tests.integration.conftest import Person, Workspace

SAMPLES = Path(__file__).parent / "ics"
YEAR = (datetime.fromisoformat("2026-01-01T00:00+00:00"), datetime.fromisoformat("2027-01-01T00:00+00:00"))


def _import(person: Person, calendar: str, name: str, tz: str | None = None) -> dict[str, Any]:
    params = {"calendar": calendar, **({"tz": tz} if tz else {})}
    reply = person.client.post(
        "/api/calendar/import", params=params, content=(SAMPLES / name).read_bytes(), headers=person.csrf
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def occurrences(person: Person) -> list[tuple[str, str | None, str]]:
    """(start, zone, title) of every occurrence in 2026 of the events this person sees."""
    events, exceptions = person.records("events"), person.records("occurrences")
    out = []
    for event_id, fields in events.items():
        if fields.get("deleted"):
            continue
        mine = [x for x in exceptions.values() if x["event"] == event_id]
        out += [(o.start, o.tz, o.title) for o in recurrence.expand(event_id, fields, mine, *YEAR)]
    return sorted(out)


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (
            "google.ics",
            [
                ("2026-03-17T09:00", "Europe/Berlin", "Crew standup"),
                ("2026-03-24T11:00", "Europe/Berlin", "Crew standup (late)"),
                ("2026-04-01", None, "Inspection days"),
                ("2026-04-02T15:00", "Europe/Berlin", "Delivery window"),  # UTC, shown in X-WR-TIMEZONE
                ("2026-04-07T09:00", "Europe/Berlin", "Crew standup"),
            ],
        ),
        (
            "outlook.ics",
            [
                ("2026-01-13T10:00", "America/New_York", "Safety inspection"),  # a Windows zone name
                ("2026-02-10T10:00", "America/New_York", "Safety inspection"),
                ("2026-03-12T14:00", "America/New_York", "Safety inspection (moved)"),
                ("2026-04-14T10:00", "America/New_York", "Safety inspection"),
                ("2026-05-12T10:00", "America/New_York", "Safety inspection"),
                ("2026-06-09T10:00", "America/New_York", "Safety inspection"),
                ("2026-06-30", None, "Stocktake"),
                ("2026-07-01T08:30", "Australia/Sydney", "Sydney handover"),  # a custom VTIMEZONE
            ],
        ),
        (
            "apple.ics",
            [
                ("2026-03-25T08:30", "Australia/Sydney", "Site visit"),
                ("2026-04-01T11:00", "Australia/Sydney", "Site visit (late)"),
                ("2026-04-25", None, "Anzac Day"),
            ],
        ),
    ],
)
def test_an_import_gives_the_right_occurrences_and_a_second_one_duplicates_nothing(
    workspace: Workspace, sample: str, expected: list[tuple[str, str | None, str]]
) -> None:
    ada = workspace.join("Ada")
    first = _import(ada, f"u:{ada.user}", sample)
    assert first["created"] == len({e[2].split(" (")[0] for e in expected}) and not first["skipped"]
    assert occurrences(ada) == expected
    log_length = len(ada.full_log())
    again = _import(ada, f"u:{ada.user}", sample)
    assert (again["created"], again["updated"], again["exceptions"]) == (0, 0, 0)
    assert again["unchanged"] == first["created"]
    assert len(ada.full_log()) == log_length, "a second import of the same file wrote nothing"
    assert occurrences(ada) == expected


def test_a_changed_file_updates_the_events_it_names(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    _import(ada, f"u:{ada.user}", "apple.ics")
    changed = (SAMPLES / "apple.ics").read_text().replace("SUMMARY:Anzac Day", "SUMMARY:Anzac Day (closed)")
    reply = ada.client.post(
        "/api/calendar/import", params={"calendar": f"u:{ada.user}"}, content=changed, headers=ada.csrf
    )
    assert reply.json()["updated"] == 1 and reply.json()["created"] == 0
    titles = sorted(f["title"] for f in ada.records("events").values())
    assert titles == ["Anzac Day (closed)", "Site visit"]


def test_importing_into_a_calendar_you_may_not_write_is_refused(workspace: Workspace) -> None:
    ada, eve = workspace.join("Ada"), workspace.join("Eve")
    assert _status(eve, f"u:{ada.user}") == 403
    assert _status(eve, "ws") == 403
    assert _status(ada, f"u:{ada.user}", b"not a calendar") == 400


def _status(person: Person, calendar: str, body: bytes | None = None) -> int:
    content = body if body is not None else (SAMPLES / "apple.ics").read_bytes()
    reply = person.client.post(
        "/api/calendar/import", params={"calendar": calendar}, content=content, headers=person.csrf
    )
    return reply.status_code


def _feed(person: Person, **body: Any) -> dict[str, Any]:
    reply = person.client.post("/api/calendar/feeds", json=body, headers=person.csrf)
    assert reply.status_code == 201, reply.text
    created: dict[str, Any] = reply.json()
    assert created["webcal"].startswith("webcal://") and created["https"].endswith(".ics")
    return created


def _path(feed: dict[str, Any]) -> str:
    return "/" + feed["https"].split("/", 3)[3]


def test_the_feed_holds_my_calendars_not_those_of_channels_i_am_not_in(workspace: Workspace) -> None:
    ada, eve = workspace.join("Ada"), workspace.join("Eve")
    ada.sync(
        ada.change("channels", "01CREW", {"name": "crew", "kind": "private"}),
        ada.change("members", member_id("01CREW", ada.user), {"channel": "01CREW", "user": ada.user}),
        ada.change("calendars", "c:01CREW", {"calendar": "c:01CREW", "name": "Crew shifts"}),
        ada.change("events", "01CREWEV", {"calendar": "c:01CREW", "title": "Crew only", "start": "2026-05-01"}),
        ada.change("events", "01MINE", {"calendar": f"u:{ada.user}", "title": "Dentist", "start": "2026-05-02"}),
    )
    general = ada.channel_named("general")
    ada.sync(ada.change("events", "01ALL", {"calendar": f"c:{general}", "title": "All hands", "start": "2026-05-03"}))
    ada_feed, eve_feed = _feed(ada), _feed(eve)
    client = workspace.client()  # a calendar app: no session
    ada_text = client.get(_path(ada_feed)).text
    eve_text = client.get(_path(eve_feed)).text
    assert all(t in ada_text for t in ("Crew only", "Crew shifts", "Dentist", "All hands"))
    assert "All hands" in eve_text
    # Neither the channel's calendar (its name) nor its events, nor Ada's personal calendar.
    assert all(t not in eve_text for t in ("Crew only", "Crew shifts", "Dentist"))
    # Eve cannot read the crew's event as a file either: the same 404 as a missing one.
    assert eve.client.get("/api/calendar/events/01CREWEV/ics").status_code == 404
    assert "Crew only" in ada.client.get("/api/calendar/events/01CREWEV/ics").text

    # Ada leaves the crew's calendar out of her feed.
    pref = calendar_pref_id(ada.user, "c:01CREW")
    ada.sync(ada.change("calendar_prefs", pref, {"user": ada.user, "calendar": "c:01CREW", "in_feed": False}))
    assert "Crew only" not in client.get(_path(ada_feed)).text


def test_the_feed_answers_304_until_something_changes_and_404_once_revoked(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    ada.sync(ada.change("events", "01E", {"calendar": f"u:{ada.user}", "title": "One", "start": "2026-05-02"}))
    feed = _feed(ada)
    client = workspace.client()
    first = client.get(_path(feed))
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/calendar")
    etag = first.headers["etag"]
    assert client.get(_path(feed), headers={"If-None-Match": etag}).status_code == 304
    ada.sync(ada.change("events", "01E", {"title": "Two"}))
    changed = client.get(_path(feed), headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Two" in changed.text and changed.headers["etag"] != etag

    listed = ada.client.get("/api/calendar/feeds").json()
    assert [f["id"] for f in listed] == [feed["id"]]
    assert listed[0].get("https") is None, "the token is shown once, when the feed is made"
    assert ada.client.delete(f"/api/calendar/feeds/{feed['id']}", headers=ada.csrf).status_code == 204
    assert client.get(_path(feed)).status_code == 404
    assert client.get(_path(feed), headers={"If-None-Match": etag}).status_code == 404
    assert client.get("/api/calendar/feed/not-a-token.ics").status_code == 404


def test_an_export_parsed_back_with_icalendar_equals_the_original_events(workspace: Workspace) -> None:
    ada, bob, cy = workspace.join("Ada"), workspace.join("Bob"), workspace.join("Cy")
    for sample in ("google.ics", "outlook.ics", "apple.ics"):
        _import(ada, f"u:{ada.user}", sample)
    # A channel's series with people: Bob accepted, Cy was invited and has not answered, and one
    # occurrence is moved (its override carries the same people).
    calendar = f"c:{ada.channel_named('general')}"
    base = {"event": "01CREW", "calendar": calendar, "recurrence_id": "2026-10-06T07:00"}
    ada.sync(
        ada.change(
            "events",
            "01CREW",
            {
                "calendar": calendar,
                "title": "Crew walk",
                "start": "2026-09-29T07:00",
                "end": "2026-09-29T07:30",
                "tz": "Europe/Berlin",
                "rrule": "FREQ=WEEKLY;COUNT=3",
            },
        ),
        ada.change(
            "occurrences",
            occurrence_id("01CREW", base["recurrence_id"]),
            {**base, "start": "2026-10-06T08:00", "end": "2026-10-06T08:30"},
        ),
        *(
            ada.change(
                "rsvps",
                rsvp_id("01CREW", person.user),
                {"event": "01CREW", "calendar": calendar, "user": person.user, "status": "none", "invited": True},
            )
            for person in (bob, cy)
        ),
    )
    bob.sync(bob.change("rsvps", rsvp_id("01CREW", bob.user), {"status": "accepted"}))
    ada.sync(
        ada.change(
            "events",
            "01TEXT",
            {
                "calendar": f"u:{ada.user}",
                "title": "Commas, semicolons; backslashes \\ and ünïcödé " + "long " * 30,
                "description": "line one\nline two",
                "start": "2026-09-01T07:15",
                "end": "2026-09-01T08:00",
                "tz": "America/New_York",
            },
        )
    )
    events, exceptions, answers = ada.records("events"), ada.records("occurrences"), ada.records("rsvps")
    emails = {p.user: f"mailto:{name}@example.com" for p, name in ((ada, "ada"), (bob, "bob"), (cy, "cy"))}
    text = workspace.client().get(_path(_feed(ada))).content
    parsed = icalendar.Calendar.from_ical(text)
    by_uid: dict[str, dict[str, Any]] = {}
    moved: dict[tuple[str, str], dict[str, Any]] = {}
    for vevent in parsed.walk("VEVENT"):
        start, tz = _wall(vevent["DTSTART"].dt)
        fields: dict[str, Any] = {"title": str(vevent["SUMMARY"]), "start": start, "people": _people(vevent)}
        if tz:
            fields["tz"] = tz
        if vevent.get("DTEND") is not None:
            fields["end"] = _wall(vevent["DTEND"].dt)[0]
        if vevent.get("RECURRENCE-ID") is not None:
            moved[(str(vevent["UID"]), _wall(vevent["RECURRENCE-ID"].dt)[0])] = fields
            continue
        for name, key in (("DESCRIPTION", "description"), ("LOCATION", "location")):
            if vevent.get(name) is not None:
                fields[key] = str(vevent[name])
        if vevent.get("RRULE") is not None:
            fields["rrule"] = vevent["RRULE"].to_ical().decode()
        exdates = vevent.get("EXDATE")
        fields["exdates"] = sorted(
            _wall(d.dt)[0]
            for group in (exdates if isinstance(exdates, list) else [exdates] if exdates else [])
            for d in group.dts
        )
        by_uid[str(vevent["UID"])] = fields
    assert len(by_uid) == len(events)
    for event_id, original in events.items():
        uid = original.get("uid") or f"{event_id}@teamtalk"
        keys = ("title", "start", "end", "tz", "description", "location", "rrule")
        assert {k: by_uid[uid].get(k) for k in keys} == {k: original.get(k) for k in keys}, uid
        organizer = [("ORGANIZER", emails[original["created_by"]], "Ada")]
        invited = sorted(
            ("ATTENDEE", emails[a["user"]], PARTSTAT[a["status"]]) for a in answers.values() if a["event"] == event_id
        )
        assert by_uid[uid]["people"] == organizer + invited, uid
        mine = [x for x in exceptions.values() if x["event"] == event_id]
        assert by_uid[uid]["exdates"] == sorted(x["recurrence_id"] for x in mine if x.get("cancelled"))
        for x in mine:
            if not x.get("cancelled"):
                back = moved[(uid, x["recurrence_id"])]
                title = x.get("title") or original["title"]
                assert (back["start"], back["end"], back["title"]) == (x["start"], x["end"], title)
                assert back["people"] == by_uid[uid]["people"]
    assert by_uid["01CREW@teamtalk"]["people"][1:] == [
        ("ATTENDEE", emails[bob.user], "ACCEPTED"),
        ("ATTENDEE", emails[cy.user], "NEEDS-ACTION"),
    ]


def _people(vevent: Any) -> list[tuple[str, str, str]]:
    """(ORGANIZER, address, CN) and sorted (ATTENDEE, address, PARTSTAT) of a parsed VEVENT."""
    organizer = vevent.get("ORGANIZER")
    out = [("ORGANIZER", str(organizer), str(organizer.params["CN"]))] if organizer is not None else []
    found = vevent.get("ATTENDEE")
    attendees = found if isinstance(found, list) else [found] if found is not None else []
    return out + sorted(("ATTENDEE", str(a), str(a.params["PARTSTAT"])) for a in attendees)


def _wall(value: Any) -> tuple[str, str | None]:
    if not isinstance(value, datetime):
        return value.isoformat(), None
    zone = getattr(value.tzinfo, "key", None) or str(value.tzinfo)
    return value.replace(tzinfo=None).isoformat()[:16], zone


def test_one_event_as_ics_names_its_organiser_and_each_answer_and_a_rename_changes_the_feed(
    workspace: Workspace,
) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    calendar = f"c:{ada.channel_named('general')}"
    invite = {"event": "01E", "calendar": calendar, "user": bob.user, "status": "none", "invited": True}
    ada.sync(
        ada.change("events", "01E", {"calendar": calendar, "title": "Delivery", "start": "2026-05-02"}),
        ada.change("rsvps", rsvp_id("01E", bob.user), invite),
    )
    feed = _feed(ada)
    bob.sync(bob.change("rsvps", rsvp_id("01E", bob.user), {"status": "declined"}))
    event = icalendar.Calendar.from_ical(ada.client.get("/api/calendar/events/01E/ics").content).walk("VEVENT")[0]
    assert _people(event) == [
        ("ORGANIZER", "mailto:ada@example.com", "Ada"),
        ("ATTENDEE", "mailto:bob@example.com", "DECLINED"),
    ]
    # Taken off the list: no longer an attendee.
    ada.sync(ada.change("rsvps", rsvp_id("01E", bob.user), {"invited": False}))
    assert "ATTENDEE" not in ada.client.get("/api/calendar/events/01E/ics").text

    etag = workspace.client().get(_path(feed)).headers["etag"]
    bob.sync(bob.change("users", bob.user, {"name": "Robert"}))
    ada.sync(ada.change("rsvps", rsvp_id("01E", bob.user), {"invited": True}))
    renamed = workspace.client().get(_path(feed), headers={"If-None-Match": etag})
    assert renamed.status_code == 200 and 'CN="Robert"' in renamed.text
    again = renamed.headers["etag"]
    bob.sync(bob.change("users", bob.user, {"name": "Bob"}))
    assert workspace.client().get(_path(feed), headers={"If-None-Match": again}).status_code == 200
