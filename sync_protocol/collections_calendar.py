"""The calendar's collections: shared calendars, events, their exceptions, RSVPs and reminders.

A calendar is named by the scope it lives in, and that name is the ``calendar`` field of every
record in it: ``c:<channel>`` (every channel has one implicitly; its members see and edit it) or
``u:<user>`` (a person's personal calendar, private). The scope rule is ``field`` with no prefix,
so the calendar *is* the scope: replication and the rights check need nothing new.

Rules:

Rule 1. Times are local wall times with an IANA zone, never instants: ``start``/``end`` are
        ``YYYY-MM-DDTHH:MM`` in ``tz``, or ``YYYY-MM-DD`` for an all-day event (no ``tz``; ``end``
        is exclusive, as in RFC 5545). A series is expanded in its own zone (09:00 Berlin stays
        09:00 Berlin across daylight-saving changes), wherever it is viewed.
Rule 2. ``rrule`` is an RFC 5545 RRULE value (``FREQ=WEEKLY;BYDAY=TU;COUNT=10``), expanded by
        libraries only (python-dateutil; the ``rrule`` package in the browser).
Rule 3. An exception is its own record in ``occurrences``, with a derived id (event, original
        start): two devices moving or retitling the same occurrence offline meet in one record and
        merge per field. ``cancelled: true`` removes that occurrence. Never a list field on the
        event, which two offline devices would overwrite.
Rule 4. "This and following" splits the series: the old event's ``rrule`` gains an UNTIL just
        before the chosen occurrence, and a new event with the new times carries the rest of the
        series and ``split_from`` (the old event's id). Exceptions stay with the event whose
        range holds them.
Rule 5. An RSVP is one record per attendee (derived id: event, user): answers from different
        devices or people never clash. Inviting writes ``status: "none"``; only the attendee
        answers. ``invited: false`` takes someone off the list (deletes are final; a derived id
        must be reusable).
Rule 6. Reminders are a person's own (their private scope): minutes before the start of every
        occurrence; several per event. The server schedules them (backend/calendar/reminders.py).
"""

from __future__ import annotations

from sync_protocol.registry import CollectionSpec, Field, IdRule, Rights, ScopeRule

#: ``c:<channel>`` or ``u:<user>``: the calendar, and the scope of the record.
CALENDAR_REF = Field(str, 90, immutable=True, required=True)
IN_CALENDAR = ScopeRule("field", field="calendar")
EVENT_REF = Field(str, 120, immutable=True, required=True)
#: ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` (seconds allowed), local to the event's zone.
WALL_TIME = Field(str, 19)
RSVP_STATES = ("none", "accepted", "tentative", "declined")
EDITOR = "calendar_editor"
FIXED = "fixed"
TOMBSTONE = Field(bool, only=(True,))
#: Four weeks: the longest "remind me before".
MAX_REMINDER_MIN = 40_320

CALENDARS = CollectionSpec(
    "calendars",
    {"calendar": CALENDAR_REF, "name": Field(str, 80), "color": Field(str, 16)},
    IN_CALENDAR,
    # A shared calendar's name and colour: optional, one record per calendar.
    derived_id=IdRule(("calendar",)),
    rights=Rights(create=EDITOR, fields={"calendar": FIXED, "name": EDITOR, "color": EDITOR}),
)

#: A person's view of one calendar: their colour, hidden in the combined view, left out of the feed.
CALENDAR_PREFS = CollectionSpec(
    "calendar_prefs",
    {
        "user": Field(str, 80, immutable=True, required=True),
        "calendar": Field(str, 90, immutable=True, required=True),
        "color": Field(str, 16),
        "hidden": Field(bool),
        "in_feed": Field(bool),
    },
    ScopeRule("field", field="user", prefix="u:"),
    derived_id=IdRule(("user", "calendar")),
    rights=Rights(
        create="own",
        fields={"user": FIXED, "calendar": FIXED, "color": "own", "hidden": "own", "in_feed": "own"},
    ),
)

EVENTS = CollectionSpec(
    "events",
    {
        "calendar": CALENDAR_REF,
        "title": Field(str, 200, required=True),
        "description": Field(str, 10_000),
        "location": Field(str, 500),
        "start": Field(str, 19, required=True),
        "end": WALL_TIME,
        "tz": Field(str, 64),
        "rrule": Field(str, 500),
        #: Rule 4: the series this one continues ("this and following").
        "split_from": Field(str, 120, immutable=True),
        #: The iCalendar UID (imported events keep theirs; ours are ``<id>@teamtalk``).
        "uid": Field(str, 255, immutable=True),
        "deleted": TOMBSTONE,
        "created_by": Field(str, server=True),
    },
    IN_CALENDAR,
    rights=Rights(
        create=EDITOR,
        fields={
            "calendar": FIXED,
            "split_from": FIXED,
            "uid": FIXED,
            **{name: EDITOR for name in ("title", "description", "location", "start", "end", "tz", "rrule")},
        },
        delete=EDITOR,
    ),
    on_create="created_by",
    checks=("calendar_times",),
    wipe_on_delete=("description", "location"),
)

OCCURRENCES = CollectionSpec(
    "occurrences",
    {
        "event": EVENT_REF,
        "calendar": CALENDAR_REF,
        #: The occurrence's original start (RFC 5545 RECURRENCE-ID), in the series' zone.
        "recurrence_id": Field(str, 19, immutable=True, required=True),
        "start": WALL_TIME,
        "end": WALL_TIME,
        "title": Field(str, 200),
        "description": Field(str, 10_000),
        "location": Field(str, 500),
        "cancelled": Field(bool),
    },
    IN_CALENDAR,
    derived_id=IdRule(("event", "recurrence_id")),
    checks=("calendar_times",),
    rights=Rights(
        create=EDITOR,
        fields={
            "event": FIXED,
            "calendar": FIXED,
            "recurrence_id": FIXED,
            **{name: EDITOR for name in ("start", "end", "title", "description", "location", "cancelled")},
        },
    ),
)

RSVPS = CollectionSpec(
    "rsvps",
    {
        "event": EVENT_REF,
        "calendar": CALENDAR_REF,
        "user": Field(str, 80, immutable=True, required=True),
        "status": Field(str, choices=RSVP_STATES),
        "invited": Field(bool),
    },
    IN_CALENDAR,
    derived_id=IdRule(("event", "user")),
    rights=Rights(
        create="rsvp_invite",
        fields={"event": FIXED, "calendar": FIXED, "user": FIXED, "status": "rsvp_answer", "invited": "rsvp_invite"},
    ),
)

REMINDERS = CollectionSpec(
    "reminders",
    {
        "user": Field(str, 80, immutable=True, required=True),
        "event": EVENT_REF,
        "minutes": Field(int, MAX_REMINDER_MIN, required=True),
        "deleted": TOMBSTONE,
    },
    ScopeRule("field", field="user", prefix="u:"),
    rights=Rights(create="own", fields={"user": FIXED, "event": FIXED, "minutes": "own"}, delete="own"),
)

CALENDAR_COLLECTIONS = (CALENDARS, CALENDAR_PREFS, EVENTS, OCCURRENCES, RSVPS, REMINDERS)


def calendar_of_channel(channel_id: str) -> str:
    return f"c:{channel_id}"


def personal_calendar(user_id: str) -> str:
    return f"u:{user_id}"


def occurrence_id(event_id: str, recurrence_id: str) -> str:
    return OCCURRENCES.derived_id.derive({"event": event_id, "recurrence_id": recurrence_id})  # type: ignore[union-attr]


def rsvp_id(event_id: str, user_id: str) -> str:
    return RSVPS.derived_id.derive({"event": event_id, "user": user_id})  # type: ignore[union-attr]


def calendar_pref_id(user_id: str, calendar: str) -> str:
    return CALENDAR_PREFS.derived_id.derive({"user": user_id, "calendar": calendar})  # type: ignore[union-attr]
