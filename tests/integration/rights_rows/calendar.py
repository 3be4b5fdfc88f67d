"""Rows for calendars, events and meetings."""

from __future__ import annotations

from sync_protocol.collections_calendar import calendar_pref_id, occurrence_id, rsvp_id
from tests.integration.rights_rows.row import NO, OK, Row, everyone
from tests.integration.rights_world import new_id

ROWS = [
    # --- calendar: a channel's calendar is its members'; a personal one (u:<user>) is private ---
    Row(
        "calendars: name the channel's calendar",
        lambda w, me: (
            "calendars",
            f"c:{w.channel}",
            {"calendar": f"c:{w.channel}", "name": "Shifts", "color": "#36c"},
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "calendar_prefs: my own",
        lambda w, me: (
            "calendar_prefs",
            calendar_pref_id(me, f"c:{w.channel}"),
            {"user": me, "calendar": f"c:{w.channel}", "color": "#c33", "hidden": True, "in_feed": False},
        ),
        everyone(OK),
    ),
    Row(
        "events: create in the channel's calendar",
        lambda w, me: (
            "events",
            new_id(),
            {
                "calendar": f"c:{w.channel}",
                "title": "Inspection",
                "description": "**bring** the keys",
                "location": "Site B",
                "start": "2026-01-13T14:00",
                "end": "2026-01-13T15:00",
                "tz": "Europe/Berlin",
                "rrule": "FREQ=MONTHLY;BYDAY=2TU",
                "uid": f"{new_id()}@example.com",
                "split_from": "earlier",
            },
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "events: create in my personal calendar",
        lambda w, me: ("events", new_id(), {"calendar": f"u:{me}", "title": "Dentist", "start": "2026-02-01"}),
        everyone(OK),
    ),
    Row(
        "events: create in the member's personal calendar",
        lambda w, me: (
            "events",
            new_id(),
            {"calendar": f"u:{w.people['member']}", "title": "x", "start": "2026-02-01"},
        ),
        (NO, NO, OK, NO, NO, NO),
    ),
    Row(
        "events: create in the workspace",
        lambda w, me: ("events", new_id(), {"calendar": "ws", "title": "x", "start": "2026-02-01"}),
        everyone(NO),
    ),
    Row(
        "events: create in the archived channel's calendar",
        lambda w, me: ("events", new_id(), {"calendar": f"c:{w.archived}", "title": "x", "start": "2026-02-01"}),
        ("archived", "archived", "archived", NO, NO, NO),
    ),
    Row(
        "events: a time that is no time",
        lambda w, me: ("events", new_id(), {"calendar": f"c:{w.channel}", "title": "x", "start": "2026-02-30T25:00"}),
        ("invalid", "invalid", "invalid", NO, NO, NO),
    ),
    Row(
        "events: move the channel's event",
        lambda w, me: ("events", w.extra["event"], {"start": "2026-03-17T10:00", "end": "2026-03-17T11:00"}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "events: move it to another calendar",
        lambda w, me: ("events", w.extra["event"], {"calendar": f"u:{me}"}),
        everyone("immutable"),
    ),
    Row(
        "events: delete the channel's event",
        lambda w, me: ("events", w.extra["event"], {"deleted": True}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "occurrences: move and retitle one occurrence",
        lambda w, me: (
            "occurrences",
            occurrence_id(w.extra["event"], "2026-03-24T09:00"),
            {
                "event": w.extra["event"],
                "calendar": f"c:{w.channel}",
                "recurrence_id": "2026-03-24T09:00",
                "start": "2026-03-24T11:00",
                "end": "2026-03-24T12:00",
                "title": "Late visit",
                "description": "",
                "location": "Gate 2",
                "cancelled": False,
            },
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "rsvps: invite the member",
        lambda w, me: (
            "rsvps",
            rsvp_id(w.extra["event"], w.people["member"]),
            {
                "event": w.extra["event"],
                "calendar": f"c:{w.channel}",
                "user": w.people["member"],
                "status": "none",
                "invited": True,
            },
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "rsvps: answer for myself",
        lambda w, me: (
            "rsvps",
            rsvp_id(w.extra["event"], me),
            {"event": w.extra["event"], "calendar": f"c:{w.channel}", "user": me, "status": "accepted"},
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "rsvps: answer for the member",
        lambda w, me: (
            "rsvps",
            rsvp_id(w.extra["event"], w.people["member"]),
            {"event": w.extra["event"], "calendar": f"c:{w.channel}", "user": w.people["member"], "status": "declined"},
        ),
        (NO, NO, OK, NO, NO, NO),
    ),
    Row(
        "rsvps: invite someone outside the channel",
        lambda w, me: (
            "rsvps",
            rsvp_id(w.extra["event"], w.people["non_member"]),
            {"event": w.extra["event"], "calendar": f"c:{w.channel}", "user": w.people["non_member"], "status": "none"},
        ),
        everyone(NO),
    ),
    Row(
        "reminders: my own",
        lambda w, me: ("reminders", new_id(), {"user": me, "event": w.extra["event"], "minutes": 15}),
        everyone(OK),
    ),
    Row(
        "reminders: delete the member's",
        lambda w, me: ("reminders", w.extra["reminder"], {"deleted": True}),
        (NO, NO, OK, NO, NO, NO),
    ),
    # --- meetings --- written only by the server from the meeting socket: no client forges one
    Row("meetings: create one", lambda w, me: ("meetings", new_id(), {"channel": w.channel}), everyone(NO)),
    Row(
        "meeting_attendance: claim to have attended",
        lambda w, me: (
            "meeting_attendance",
            f"{new_id()}:x",
            {"meeting": new_id(), "channel": w.channel, "user": me},
        ),
        everyone(NO),
    ),
]
