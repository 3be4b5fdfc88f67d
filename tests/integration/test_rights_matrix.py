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
    )
    for row in ROWS:
        collection, _, fields = row.change(names, "me")
        covered.setdefault(collection, set()).update(fields)
    for spec in REGISTRY:
        writable = {name for name, f in spec.fields.items() if not f.server}
        missing = writable - covered.get(spec.name, set())
        assert not missing, f"{spec.name}: no row writes {missing}"
