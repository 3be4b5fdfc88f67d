"""Rights are decided once per channel for a push's new messages of one shape (access.py,
``BY_CHANNEL``): a change in the same push that takes the right away must still be felt by the
messages after it, and a refused message must not let the next one through."""

from __future__ import annotations

from sync_protocol.collections import member_id
from tests.integration.conftest import Workspace


def test_leaving_or_archiving_a_channel_mid_push_refuses_the_messages_after_it(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    ops, dev = "01CHOPS", "01CHDEV"
    reply = ada.sync(
        *(ada.change("channels", ch, {"name": ch.lower(), "kind": "private"}) for ch in (ops, dev)),
        *(ada.change("members", member_id(ch, ada.user), {"channel": ch, "user": ada.user}) for ch in (ops, dev)),
    ).json()
    assert not reply["rejections"]

    reply = ada.sync(
        ada.change("messages", "01OPS1", {"channel": ops, "text": "before leaving"}),
        ada.change("messages", "01DEV1", {"channel": dev, "text": "before archiving"}),
        ada.change("members", member_id(ops, ada.user), {"left": True}),
        ada.change("channels", dev, {"archived": True}),
        ada.change("messages", "01OPS2", {"channel": ops, "text": "after leaving"}),
        ada.change("messages", "01DEV2", {"channel": dev, "text": "after archiving"}),
    ).json()

    refused = {r["mid"]: r["code"] for r in reply["rejections"]}
    assert refused == {reply["acks"][-1] + 1: "forbidden", reply["acks"][-1] + 2: "archived"}
    assert len(reply["acks"]) == 4


def test_a_refused_message_does_not_open_the_channel_for_the_next(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    ops = "01CHOPS"
    ada.sync(
        ada.change("channels", ops, {"name": "ops", "kind": "private"}),
        ada.change("members", member_id(ops, ada.user), {"channel": ops, "user": ada.user}),
    )
    general = bob.channel_named("general")
    reply = bob.sync(
        bob.change("messages", "01BOB1", {"channel": ops, "text": "let me in"}),
        bob.change("messages", "01BOB2", {"channel": general, "text": "fine"}),
        bob.change("messages", "01BOB3", {"channel": ops, "text": "let me in again"}),
    ).json()
    assert [r["code"] for r in reply["rejections"]] == ["forbidden", "forbidden"]
    assert len(reply["acks"]) == 1
