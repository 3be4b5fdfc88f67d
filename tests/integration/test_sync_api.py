"""POST /api/sync against the real app and a temporary SQLite: push, pull, idempotency, rights."""

from __future__ import annotations

import msgspec

from sync_protocol.collections import member_id, read_id
from sync_protocol.wire import SyncResponse
from tests.integration.conftest import Workspace, count_changes, wall_ms


def test_a_pushed_message_is_acked_numbered_and_pulled_by_a_teammate(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    bob.pull()

    reply = ada.sync(ada.change("messages", "01MSG0001", {"channel": general, "text": "Standup in 5"}))

    assert reply.status_code == 200
    assert reply.json()["acks"] == [1]
    got = [c for c in bob.pull()["changes"] if c["collection"] == "messages"]
    assert [(c["id"], c["fields"]["text"], c["fields"]["n"], c["author"]) for c in got] == [
        ("01MSG0001", "Standup in 5", 1, ada.user)
    ]
    assert got[0]["fields"]["author"] == ada.user


def test_the_same_push_twice_applies_once_and_acks_both_times(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    change = ada.change("messages", "01MSG0002", {"channel": general, "text": "only once"})
    before = count_changes(workspace)

    first = ada.sync(change).json()
    second = ada.sync(change).json()

    assert first["acks"] == second["acks"] == [change["mid"]]
    assert count_changes(workspace) == before + 1
    messages = ada.records("messages")
    assert list(messages) == ["01MSG0002"] and messages["01MSG0002"]["n"] == 1


def test_a_retried_rejection_is_rejected_again_not_acked(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    ada.sync(ada.change("messages", "01MSG0003", {"channel": general, "text": "mine"}))
    edit = bob.change("messages", "01MSG0003", {"text": "not yours"})

    first, second = bob.sync(edit).json(), bob.sync(edit).json()

    assert (
        first["rejections"]
        == second["rejections"]
        == [{"mid": edit["mid"], "code": "forbidden", "reason": "only the author may edit a message"}]
    )
    assert ada.records("messages")["01MSG0003"]["text"] == "mine"


def test_messages_are_numbered_per_channel_in_acceptance_order(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    random = "01CHRANDOM"
    ada.sync(
        ada.change("channels", random, {"name": "random", "kind": "public"}),
        ada.change("members", member_id(random, ada.user), {"channel": random, "user": ada.user}),
    )
    ada.sync(*[ada.change("messages", f"01G{i}", {"channel": general, "text": f"g{i}"}) for i in range(3)])
    ada.sync(ada.change("messages", "01R0", {"channel": random, "text": "r0"}))

    numbers = {rid: f["n"] for rid, f in ada.records("messages").items()}
    assert numbers == {"01G0": 1, "01G1": 2, "01G2": 3, "01R0": 1}


def test_a_non_member_can_neither_pull_nor_push_into_a_private_channel(workspace: Workspace) -> None:
    ada, eve = workspace.join("Ada"), workspace.join("Eve")
    secret = "01CHSECRET"
    ada.sync(
        ada.change("channels", secret, {"name": "secret", "kind": "private"}),
        ada.change("members", member_id(secret, ada.user), {"channel": secret, "user": ada.user}),
        ada.change("messages", "01SECRETMSG", {"channel": secret, "text": "the plan"}),
    )
    before = count_changes(workspace)

    pulled = eve.sync(cursors={f"c:{secret}": 0}, limit=5000).json()
    pushed = eve.sync(
        eve.change("messages", "01EVEMSG", {"channel": secret, "text": "let me in"}),
        eve.change("members", member_id(secret, eve.user), {"channel": secret, "user": eve.user}),
    ).json()

    assert f"c:{secret}" not in pulled["scopes"]
    assert all(c["scope"] != f"c:{secret}" for c in pulled["changes"])
    assert "the plan" not in str(pulled)
    assert [r["code"] for r in pushed["rejections"]] == ["forbidden", "forbidden"]
    assert pushed["acks"] == []
    assert count_changes(workspace) == before


def test_a_member_added_to_a_channel_pulls_it_from_the_start_and_loses_it_when_removed(
    workspace: Workspace,
) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    ops = "01CHOPS"
    ada.sync(
        ada.change("channels", ops, {"name": "ops", "kind": "private"}),
        ada.change("members", member_id(ops, ada.user), {"channel": ops, "user": ada.user}),
        ada.change("messages", "01OPS1", {"channel": ops, "text": "history"}),
    )
    bob.pull()
    ada.sync(ada.change("members", member_id(ops, bob.user), {"channel": ops, "user": bob.user}))

    joined = bob.pull()
    assert f"c:{ops}" in joined["scopes"]
    assert "01OPS1" in {c["id"] for c in joined["changes"]}

    ada.sync(ada.change("members", member_id(ops, bob.user), {"left": True}))
    assert f"c:{ops}" not in bob.pull()["scopes"]


def test_only_the_author_edits_and_the_author_or_an_admin_deletes(workspace: Workspace) -> None:
    owner, bob, cat = workspace.join("Olga"), workspace.join("Bob"), workspace.join("Cat")
    general = bob.channel_named("general")
    bob.sync(bob.change("messages", "01BOBMSG", {"channel": general, "text": "v1"}))

    assert cat.sync(cat.change("messages", "01BOBMSG", {"deleted": True})).json()["rejections"][0]["code"] == (
        "forbidden"
    )
    assert bob.sync(bob.change("messages", "01BOBMSG", {"text": "v2"})).json()["acks"]
    assert owner.sync(owner.change("messages", "01BOBMSG", {"deleted": True})).json()["acks"]
    seen_by_cat = cat.records("messages")["01BOBMSG"]
    assert (seen_by_cat["text"], seen_by_cat["deleted"]) == (None, True)


def test_read_cursors_are_private_and_unread_counts_derive_from_them(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    ada.sync(*[ada.change("messages", f"01U{i}", {"channel": general, "text": str(i)}) for i in range(3)])

    mine = bob.change("reads", read_id(bob.user, general), {"channel": general, "user": bob.user, "n": 2})
    forged = ada.change("reads", read_id(bob.user, general), {"channel": general, "user": bob.user, "n": 0})
    assert bob.sync(mine).json()["acks"] == [mine["mid"]]
    assert ada.sync(forged).json()["rejections"][0]["code"] == "forbidden"

    bob_view = bob.pull()
    last_n = max(c["fields"]["n"] for c in bob_view["changes"] if c["collection"] == "messages")
    cursor = bob.records("reads")[read_id(bob.user, general)]["n"]
    assert last_n - cursor == 1
    assert all(c["collection"] != "reads" for c in ada.full_log())


def test_a_stale_offline_edit_is_logged_but_loses_to_a_newer_one(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    now = wall_ms()
    ada.sync(ada.change("messages", "01EDIT", {"channel": general, "text": "v1"}, hlc=ada.hlc(now - 10_000)))
    ada.sync(ada.change("messages", "01EDIT", {"text": "today"}, hlc=ada.hlc(now)))
    ada.sync(ada.change("messages", "01EDIT", {"text": "yesterday"}, hlc=ada.hlc(now - 5_000)))

    log = [c["fields"].get("text") for c in ada.full_log() if c["id"] == "01EDIT"]
    assert log == ["v1", "today", "yesterday"]
    assert ada.records("messages")["01EDIT"]["text"] == "today"
    store = workspace.store()
    try:
        record = store.get_record("messages", "01EDIT")
        assert record is not None and record.state.fields["text"] == "today"
    finally:
        store.close()


def test_pull_pages_with_more_until_everything_arrived(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    ada.sync(*[ada.change("messages", f"01P{i:03d}", {"channel": general, "text": str(i)}) for i in range(25)])

    ada.cursors = {}
    pages: list[int] = []
    while True:
        body = ada.sync(limit=10).json()
        pages.append(len(body["changes"]))
        ada.cursors.update(body["cursors"])
        if not body["more"]:
            break
    assert sum(pages) == count_changes(workspace)
    assert max(pages) == 10 and len(pages) >= 3


def test_messagepack_round_trip(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    body = msgspec.msgpack.encode({"v": 1, "changes": [], "cursors": {}})
    headers = {**ada.csrf, "content-type": "application/msgpack", "accept": "application/msgpack"}
    reply = ada.client.post("/api/sync", content=body, headers=headers)
    assert reply.headers["content-type"].startswith("application/msgpack")
    decoded = msgspec.msgpack.decode(reply.content, type=SyncResponse)
    assert decoded.scopes[0] == "ws" and any(c.collection == "channels" for c in decoded.changes)


def test_every_reply_carries_the_server_time(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    before = wall_ms()
    server_time = ada.sync().json()["server_time"]
    assert before - 1000 <= server_time <= wall_ms() + 1000
