"""The rights matrix of PROTOCOL.md as a table: every collection and operation, for every role and
membership state. Each cell runs on a fresh world through the real sync service and SQLite.

Columns: owner (and the channel's creator), admin, member, non_member, removed (left the
channel), auditor (no membership). Cells: "ok" or the rejection code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from sync_protocol.collections import (
    REGISTRY,
    dm_id,
    follow_id,
    member_id,
    notices_id,
    pref_id,
    reaction_id,
    read_id,
    receipt_id,
)
from sync_protocol.collections_calendar import calendar_pref_id, occurrence_id, rsvp_id
from sync_protocol.collections_offline import keep_id
from sync_protocol.collections_tasks import assignee_id, label_id, seen_id
from sync_protocol.wire import Value
from tests.integration.rights_world import PERSONAS, RightsLab, World, new_id

Change = tuple[str, str, dict[str, Value]]
OK, NO = "ok", "forbidden"


class Row(NamedTuple):
    what: str
    change: Callable[[World, str], Change]
    #: owner, admin, member, non_member, removed, auditor
    expected: tuple[str, str, str, str, str, str]


def _everyone(code: str) -> tuple[str, str, str, str, str, str]:
    return (code,) * 6  # type: ignore[return-value]


ROWS = [
    # users: a profile is renamed only by its person; profiles are created by accounts
    Row("users: rename myself", lambda w, me: ("users", me, {"name": "New name"}), _everyone(OK)),
    Row("users: rename the owner", lambda w, me: ("users", w.people["owner"], {"name": "X"}), (OK, NO, NO, NO, NO, NO)),
    Row("users: create a profile", lambda w, me: ("users", new_id(), {"name": "Ghost"}), _everyone(NO)),
    # channels
    Row(
        "channels: create a public one",
        lambda w, me: ("channels", new_id(), {"name": new_id(), "kind": "public"}),
        _everyone(OK),
    ),
    Row(
        "channels: create one with retention",
        lambda w, me: ("channels", new_id(), {"name": new_id(), "kind": "private", "retention_days": 30}),
        (OK, OK, NO, NO, NO, NO),
    ),
    Row("channels: rename", lambda w, me: ("channels", w.channel, {"name": new_id()}), (OK, OK, OK, NO, NO, NO)),
    Row("channels: set the topic", lambda w, me: ("channels", w.channel, {"topic": "t"}), (OK, OK, OK, NO, NO, NO)),
    Row("channels: archive", lambda w, me: ("channels", w.channel, {"archived": True}), (OK, OK, NO, NO, NO, NO)),
    Row(
        "channels: set retention",
        lambda w, me: ("channels", w.channel, {"retention_days": 7}),
        (OK, OK, NO, NO, NO, NO),
    ),
    Row("channels: change kind", lambda w, me: ("channels", w.channel, {"kind": "public"}), _everyone("immutable")),
    Row("channels: delete", lambda w, me: ("channels", w.channel, {"deleted": True}), (OK, OK, NO, NO, NO, NO)),
    Row(
        "channels: start the owner's DM with the outsider",
        lambda w, me: ("channels", dm_id(w.people["owner"], w.people["non_member"]), {"name": "", "kind": "dm"}),
        (OK, NO, NO, OK, NO, NO),
    ),
    # members
    Row(
        "members: join the private channel",
        lambda w, me: ("members", member_id(w.channel, me), {"channel": w.channel, "user": me}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "members: join a public channel",
        lambda w, me: ("members", member_id(w.public, me), {"channel": w.public, "user": me}),
        _everyone(OK),
    ),
    Row(
        "members: add an outsider to the private channel",
        lambda w, me: (
            "members",
            member_id(w.channel, w.people["non_member"]),
            {"channel": w.channel, "user": w.people["non_member"]},
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "members: remove the member",
        lambda w, me: ("members", member_id(w.channel, w.people["member"]), {"left": True}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "members: leave",
        lambda w, me: ("members", member_id(w.channel, me), {"left": True}),
        (OK, OK, OK, "not_found", OK, "not_found"),
    ),
    Row(
        "members: join someone else's DM",
        lambda w, me: ("members", member_id(w.dm, me), {"channel": w.dm, "user": me}),
        (OK, NO, OK, NO, NO, NO),
    ),
    # messages
    Row(
        "messages: post",
        lambda w, me: ("messages", new_id(), {"channel": w.channel, "text": "hi"}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "messages: post in an archived channel",
        lambda w, me: ("messages", new_id(), {"channel": w.archived, "text": "hi"}),
        ("archived", "archived", "archived", NO, NO, NO),
    ),
    Row(
        "messages: edit the member's text",
        lambda w, me: ("messages", w.msg_member, {"text": "edited"}),
        (NO, NO, OK, NO, NO, NO),
    ),
    Row(
        "messages: change the member's mentions",
        lambda w, me: ("messages", w.msg_member, {"mentions": "channel"}),
        (NO, NO, OK, NO, NO, NO),
    ),
    Row("messages: pin", lambda w, me: ("messages", w.msg_member, {"pinned": True}), (OK, OK, OK, NO, NO, NO)),
    Row(
        "messages: delete the member's message",
        lambda w, me: ("messages", w.msg_member, {"deleted": True}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "messages: delete a message written before leaving",
        lambda w, me: ("messages", w.msg_removed, {"deleted": True}),
        (OK, OK, NO, NO, OK, NO),
    ),
    Row(
        "messages: edit a deleted message",
        lambda w, me: ("messages", w.msg_deleted, {"text": "back"}),
        _everyone("deleted"),
    ),
    Row(
        "messages: move into a thread",
        lambda w, me: ("messages", w.msg_member, {"thread": w.msg_removed}),
        _everyone("immutable"),
    ),
    # reactions, receipts and private records
    Row(
        "reactions: react",
        lambda w, me: (
            "reactions",
            reaction_id(w.msg_member, me, "👍"),
            {"message": w.msg_member, "channel": w.channel, "user": me, "emoji": "👍", "on": True},
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "reactions: react as the owner",
        lambda w, me: (
            "reactions",
            reaction_id(w.msg_member, w.people["owner"], "👍"),
            {"message": w.msg_member, "channel": w.channel, "user": w.people["owner"], "emoji": "👍", "on": True},
        ),
        (OK, NO, NO, NO, NO, NO),
    ),
    Row(
        "reactions: react to a deleted message",
        lambda w, me: (
            "reactions",
            reaction_id(w.msg_deleted, me, "👍"),
            {"message": w.msg_deleted, "channel": w.channel, "user": me, "emoji": "👍", "on": True},
        ),
        ("deleted", "deleted", "deleted", NO, NO, NO),
    ),
    Row(
        "receipts: in a DM",
        lambda w, me: ("receipts", receipt_id(w.dm, me), {"channel": w.dm, "user": me, "n": 1}),
        (OK, NO, OK, NO, NO, NO),
    ),
    Row(
        "receipts: in a private channel",
        lambda w, me: ("receipts", receipt_id(w.channel, me), {"channel": w.channel, "user": me, "n": 1}),
        _everyone(NO),
    ),
    Row(
        "reads: my own",
        lambda w, me: ("reads", read_id(me, w.channel), {"channel": w.channel, "user": me, "n": 1}),
        _everyone(OK),
    ),
    Row(
        "reads: the member's",
        lambda w, me: (
            "reads",
            read_id(w.people["member"], w.channel),
            {"channel": w.channel, "user": w.people["member"], "n": 1},
        ),
        (NO, NO, OK, NO, NO, NO),
    ),
    Row(
        "follows: my own",
        lambda w, me: (
            "follows",
            follow_id(me, w.msg_member),
            {"message": w.msg_member, "channel": w.channel, "user": me, "on": True, "read": 2},
        ),
        _everyone(OK),
    ),
    Row(
        "prefs: my own",
        lambda w, me: ("prefs", pref_id(me, w.channel), {"channel": w.channel, "user": me, "notify": "none"}),
        _everyone(OK),
    ),
    Row(
        "prefs: the member's",
        lambda w, me: (
            "prefs",
            pref_id(w.people["member"], w.channel),
            {"channel": w.channel, "user": w.people["member"], "muted": True},
        ),
        (NO, NO, OK, NO, NO, NO),
    ),
    Row(
        "keeps: my own (one device's offline choice for a channel)",
        lambda w, me: (
            "keeps",
            keep_id(me, "dev1", w.channel),
            {"channel": w.channel, "user": me, "device": "dev1", "keep": "all"},
        ),
        _everyone(OK),
    ),
    Row(
        "keeps: the member's",
        lambda w, me: (
            "keeps",
            keep_id(w.people["member"], "dev1", w.channel),
            {"channel": w.channel, "user": w.people["member"], "device": "dev1", "keep": "30d"},
        ),
        (NO, NO, OK, NO, NO, NO),
    ),
    Row(
        "notices: my own",
        lambda w, me: (
            "notices",
            notices_id(me),
            {
                "user": me,
                "preview": "private",
                "dnd_days": "01234",
                "dnd_from": 1320,
                "dnd_to": 420,
                "tz": "Europe/Paris",
                "paused_until": 1,
            },
        ),
        _everyone(OK),
    ),
    Row(
        "notices: the member's",
        lambda w, me: ("notices", notices_id(w.people["member"]), {"user": w.people["member"], "preview": "full"}),
        (NO, NO, OK, NO, NO, NO),
    ),
    # files: sharing needs bytes you uploaded (the world's digest: every persona uploaded it)
    Row(
        "files: share in the private channel",
        lambda w, me: ("files", new_id(), {**_file(w), "message": w.msg_member, "width": 4, "height": 3}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "files: share in an archived channel",
        lambda w, me: ("files", new_id(), {**_file(w), "channel": w.archived}),
        ("archived", "archived", "archived", NO, NO, NO),
    ),
    Row(
        "files: share bytes nobody uploaded",
        lambda w, me: ("files", new_id(), {**_file(w), "digest": "0" * 64}),
        ("not_stored", "not_stored", "not_stored", NO, NO, NO),
    ),
    Row(
        "files: a new version of the member's file",
        lambda w, me: ("files", new_id(), {**_file(w), "version_of": _shared(w)}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "files: rename the member's",
        lambda w, me: ("files", _shared(w), {"name": "b"}),
        (NO, NO, OK, NO, NO, NO),
    ),
    Row(
        "files: delete the member's",
        lambda w, me: ("files", _shared(w), {"deleted": True}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "files: change the bytes",
        lambda w, me: ("files", _shared(w), {"size": 4}),
        _everyone("immutable"),
    ),
    # tasks: members of a writable channel create and edit; creator or admin deletes
    Row(
        "tasks: create",
        lambda w, me: (
            "tasks",
            new_id(),
            {
                "channel": w.channel,
                "title": "T",
                "list": "l",
                "description": "d",
                "status": "todo",
                "priority": "high",
                "due": "2026-12-24T09:30",
                "due_tz": "Europe/Paris",
                "position": "a0",
                "message": w.msg_member,
            },
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "tasks: create in an archived channel",
        lambda w, me: ("tasks", new_id(), {"channel": w.archived, "title": "T"}),
        ("archived", "archived", "archived", NO, NO, NO),
    ),
    Row(
        "tasks: edit the member's task",
        lambda w, me: ("tasks", _x(w, "task"), {"title": "New", "status": "done", "position": "a1"}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "tasks: edit a task of an archived channel",
        lambda w, me: ("tasks", _x(w, "task_archived"), {"status": "done"}),
        ("archived", "archived", "archived", NO, NO, NO),
    ),
    Row(
        "tasks: edit a deleted task",
        lambda w, me: ("tasks", _x(w, "task_deleted"), {"title": "back"}),
        _everyone("deleted"),
    ),
    Row(
        "tasks: move to another channel",
        lambda w, me: ("tasks", _x(w, "task"), {"channel": w.public}),
        _everyone("immutable"),
    ),
    Row(
        "tasks: delete the member's task",
        lambda w, me: ("tasks", _x(w, "task"), {"deleted": True}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "tasks: delete a task the owner created",
        lambda w, me: ("tasks", _x(w, "task_owner"), {"deleted": True}),
        (OK, OK, NO, NO, NO, NO),
    ),
    Row(
        "tasks: a bad due date",
        lambda w, me: ("tasks", _x(w, "task"), {"due": "2026-13-01"}),
        ("invalid", "invalid", "invalid", NO, NO, NO),
    ),
    Row(
        "task_lists: create",
        lambda w, me: (
            "task_lists",
            new_id(),
            {"channel": w.channel, "name": "Site", "statuses": "qa", "position": "a0"},
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "task_lists: delete the member's list",
        lambda w, me: ("task_lists", _x(w, "list"), {"deleted": True}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "task_assignees: assign the member",
        lambda w, me: (
            "task_assignees",
            assignee_id(_x(w, "task"), w.people["member"]),
            {"task": _x(w, "task"), "user": w.people["member"], "channel": w.channel, "on": True},
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "task_assignees: assign a non-member",
        lambda w, me: (
            "task_assignees",
            assignee_id(_x(w, "task"), w.people["non_member"]),
            {"task": _x(w, "task"), "user": w.people["non_member"], "channel": w.channel, "on": True},
        ),
        ("invalid", "invalid", "invalid", NO, NO, NO),
    ),
    Row(
        "task_labels: label",
        lambda w, me: (
            "task_labels",
            label_id(_x(w, "task"), "qa"),
            {"task": _x(w, "task"), "channel": w.channel, "label": "qa", "on": True},
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "task_items: add to a deleted task",
        lambda w, me: ("task_items", new_id(), {"task": _x(w, "task_deleted"), "channel": w.channel, "text": "x"}),
        ("deleted", "deleted", "deleted", NO, NO, NO),
    ),
    Row(
        "task_items: tick, edit, move, remove",
        lambda w, me: (
            "task_items",
            _x(w, "item"),
            {"done": True, "text": "Valve 2", "position": "a1", "deleted": True},
        ),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "task_seen: my own",
        lambda w, me: (
            "task_seen",
            seen_id(me, _x(w, "task")),
            {"task": _x(w, "task"), "channel": w.channel, "user": me, "at": 5},
        ),
        _everyone(OK),
    ),
    Row(
        "task_seen: the member's",
        lambda w, me: (
            "task_seen",
            seen_id(w.people["member"], _x(w, "task")),
            {"task": _x(w, "task"), "channel": w.channel, "user": w.people["member"], "at": 5},
        ),
        (NO, NO, OK, NO, NO, NO),
    ),
    Row(
        "messages: comment on a task",
        lambda w, me: ("messages", new_id(), {"channel": w.channel, "text": "on it", "task": _x(w, "task")}),
        (OK, OK, OK, NO, NO, NO),
    ),
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
        _everyone(OK),
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
        _everyone(OK),
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
        _everyone(NO),
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
        _everyone("immutable"),
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
        _everyone(NO),
    ),
    Row(
        "reminders: my own",
        lambda w, me: ("reminders", new_id(), {"user": me, "event": w.extra["event"], "minutes": 15}),
        _everyone(OK),
    ),
    Row(
        "reminders: delete the member's",
        lambda w, me: ("reminders", w.extra["reminder"], {"deleted": True}),
        (NO, NO, OK, NO, NO, NO),
    ),
    # --- meetings --- written only by the server from the meeting socket: no client forges one
    Row("meetings: create one", lambda w, me: ("meetings", new_id(), {"channel": w.channel}), _everyone(NO)),
    Row(
        "meeting_attendance: claim to have attended",
        lambda w, me: (
            "meeting_attendance",
            f"{new_id()}:x",
            {"meeting": new_id(), "channel": w.channel, "user": me},
        ),
        _everyone(NO),
    ),
]


def _x(world: World, key: str) -> str:
    """A record the world seeded (its name stands in when the coverage test builds no world)."""
    return world.extra.get(key, key)


def _shared(w: World) -> str:
    """The file the member shared (the coverage test's world has none)."""
    return w.extra.get("file", "f")


def _file(w: World) -> dict[str, Value]:
    return {
        "channel": w.channel,
        "name": "site.jpg",
        "size": 3,
        "type": "image/jpeg",
        "digest": w.extra.get("digest", ""),
    }


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RightsLab]:
    lab = RightsLab(Path(tmp_path_factory.mktemp("rights")))
    yield lab
    lab.close()


CASES = [
    pytest.param(row, persona, expected, id=f"{row.what} / {persona}")
    for row in ROWS
    for persona, expected in zip(PERSONAS, row.expected, strict=True)
]


@pytest.mark.parametrize(("row", "persona", "expected"), CASES)
def test_rights(lab: RightsLab, row: Row, persona: str, expected: str) -> None:
    world = lab.world()
    collection, record_id, fields = row.change(world, world.people[persona])
    assert lab.push(world, persona, collection, record_id, fields) == expected


def test_every_collection_and_every_writable_field_has_a_row() -> None:
    """The table covers the registry: a new collection or client-writable field without a row fails."""
    covered: dict[str, set[str]] = {}
    names = World(
        {p: p for p in PERSONAS},
        channel="c",
        archived="a",
        public="p",
        dm="dm_a_b",
        msg_member="m1",
        msg_removed="m2",
        msg_deleted="m3",
        extra={"event": "e", "reminder": "r"},
    )
    for row in ROWS:
        collection, _, fields = row.change(names, "me")
        covered.setdefault(collection, set()).update(fields)
    for spec in REGISTRY:
        writable = {name for name, f in spec.fields.items() if not f.server}
        missing = writable - covered.get(spec.name, set())
        assert not missing, f"{spec.name}: no row writes {missing}"
