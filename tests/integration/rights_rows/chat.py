"""Rows for people, channels, members, messages, reactions, private records and files."""

from __future__ import annotations

from sync_protocol.collections import (
    dm_id,
    follow_id,
    member_id,
    notices_id,
    pref_id,
    reaction_id,
    read_id,
    receipt_id,
)
from sync_protocol.collections_offline import keep_id
from tests.integration.rights_rows.row import NO, OK, Row, everyone, file_fields, shared_file
from tests.integration.rights_world import new_id

ROWS = [
    # users: a profile is renamed only by its person; profiles are created by accounts
    Row("users: rename myself", lambda w, me: ("users", me, {"name": "New name"}), everyone(OK)),
    Row("users: rename the owner", lambda w, me: ("users", w.people["owner"], {"name": "X"}), (OK, NO, NO, NO, NO, NO)),
    Row("users: create a profile", lambda w, me: ("users", new_id(), {"name": "Ghost"}), everyone(NO)),
    # channels
    Row(
        "channels: create a public one",
        lambda w, me: ("channels", new_id(), {"name": new_id(), "kind": "public"}),
        everyone(OK),
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
    Row("channels: change kind", lambda w, me: ("channels", w.channel, {"kind": "public"}), everyone("immutable")),
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
        everyone(OK),
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
        everyone("deleted"),
    ),
    Row(
        "messages: move into a thread",
        lambda w, me: ("messages", w.msg_member, {"thread": w.msg_removed}),
        everyone("immutable"),
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
        everyone(NO),
    ),
    Row(
        "reads: my own",
        lambda w, me: ("reads", read_id(me, w.channel), {"channel": w.channel, "user": me, "n": 1}),
        everyone(OK),
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
        everyone(OK),
    ),
    Row(
        "prefs: my own",
        lambda w, me: ("prefs", pref_id(me, w.channel), {"channel": w.channel, "user": me, "notify": "none"}),
        everyone(OK),
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
        everyone(OK),
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
        everyone(OK),
    ),
    Row(
        "notices: the member's",
        lambda w, me: ("notices", notices_id(w.people["member"]), {"user": w.people["member"], "preview": "full"}),
        (NO, NO, OK, NO, NO, NO),
    ),
    # files: sharing needs bytes you uploaded (the world's digest: every persona uploaded it)
    Row(
        "files: share in the private channel",
        lambda w, me: ("files", new_id(), {**file_fields(w), "message": w.msg_member, "width": 4, "height": 3}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "files: share in an archived channel",
        lambda w, me: ("files", new_id(), {**file_fields(w), "channel": w.archived}),
        ("archived", "archived", "archived", NO, NO, NO),
    ),
    Row(
        "files: share bytes nobody uploaded",
        lambda w, me: ("files", new_id(), {**file_fields(w), "digest": "0" * 64}),
        ("not_stored", "not_stored", "not_stored", NO, NO, NO),
    ),
    Row(
        "files: a new version of the member's file",
        lambda w, me: ("files", new_id(), {**file_fields(w), "version_of": shared_file(w)}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "files: rename the member's",
        lambda w, me: ("files", shared_file(w), {"name": "b"}),
        (NO, NO, OK, NO, NO, NO),
    ),
    Row(
        "files: delete the member's",
        lambda w, me: ("files", shared_file(w), {"deleted": True}),
        (OK, OK, OK, NO, NO, NO),
    ),
    Row(
        "files: change the bytes",
        lambda w, me: ("files", shared_file(w), {"size": 4}),
        everyone("immutable"),
    ),
]
