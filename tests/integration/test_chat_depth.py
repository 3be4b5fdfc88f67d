"""Chat in depth on the server: concurrent edits, deletes and reactions converge; threads, history
pages, search and versions answer only what the asker may see."""

from __future__ import annotations

from typing import Any

from sync_protocol.collections import dm_id, member_id, reaction_id, receipt_id
from tests.integration.conftest import Person, Workspace, wall_ms


def _post(person: Person, channel: str, text: str, message_id: str, **fields: Any) -> dict[str, Any]:
    reply = person.sync(person.change("messages", message_id, {"channel": channel, "text": text, **fields}))
    assert reply.status_code == 200 and reply.json()["acks"], reply.text
    return dict(reply.json())


def _react(person: Person, channel: str, message: str, emoji: str, on: bool = True) -> dict[str, Any]:
    rid = reaction_id(message, person.user, emoji)
    fields = {"message": message, "channel": channel, "user": person.user, "emoji": emoji, "on": on}
    return dict(person.sync(person.change("reactions", rid, fields)).json())


def _private_channel(owner: Person, channel_id: str) -> None:
    owner.sync(
        owner.change("channels", channel_id, {"name": channel_id.lower(), "kind": "private"}),
        owner.change("members", member_id(channel_id, owner.user), {"channel": channel_id, "user": owner.user}),
    )


def _server_record(ws: Workspace, collection: str, record_id: str) -> dict[str, Any]:
    store = ws.store()
    try:
        record = store.get_record(collection, record_id)
        assert record is not None
        return dict(record.state.fields)
    finally:
        store.close()


def test_a_reaction_an_edit_and_a_delete_made_concurrently_converge_everywhere(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    ada_phone = workspace.another_device(ada)
    general = ada.channel_named("general")
    _post(ada, general, "draft plan", "01CONC")
    now = wall_ms()
    # Made offline at about the same time: the phone deletes first, the laptop edits a moment later.
    delete = ada_phone.change("messages", "01CONC", {"deleted": True}, hlc=ada_phone.hlc(now))
    edit = ada.change("messages", "01CONC", {"text": "final plan"}, hlc=ada.hlc(now + 5))

    assert _react(bob, general, "01CONC", "👍")["acks"]
    assert ada.sync(edit).json()["acks"]  # the edit reaches the server first...
    assert ada_phone.sync(delete).json()["acks"]  # ...but the delete still wins

    views = [{rid: f for rid, f in p.records("messages").items() if rid == "01CONC"} for p in (ada, ada_phone, bob)]
    assert views[0] == views[1] == views[2]
    message = views[0]["01CONC"]
    assert message["deleted"] is True and message["text"] is None
    assert _server_record(workspace, "messages", "01CONC")["text"] is None
    reactions = [p.records("reactions") for p in (ada, ada_phone, bob)]
    assert reactions[0] == reactions[1] == reactions[2] and len(reactions[0]) == 1


def test_an_edit_arriving_after_the_delete_is_refused(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    ada_phone = workspace.another_device(ada)
    general = ada.channel_named("general")
    _post(ada, general, "oops", "01LATE")
    assert ada_phone.sync(ada_phone.change("messages", "01LATE", {"deleted": True})).json()["acks"]
    late = ada.sync(ada.change("messages", "01LATE", {"text": "fixed"})).json()
    assert [r["code"] for r in late["rejections"]] == ["deleted"]


def test_a_deleted_messages_text_is_gone_from_the_log_but_the_deletion_stays(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    _post(ada, general, "my password is hunter2", "01SECRET")
    ada.sync(ada.change("messages", "01SECRET", {"text": "my password is hunter3"}))
    ada.sync(ada.change("messages", "01SECRET", {"deleted": True}))

    log = [c for c in bob.full_log() if c["id"] == "01SECRET"]
    assert "hunter" not in str(log)
    assert any(c["fields"].get("deleted") is True and c["author"] == ada.user for c in log)
    assert bob.client.get("/api/search", params={"q": "hunter"}).json()["results"] == []


def test_concurrent_reactions_of_two_people_never_overwrite_each_other(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    _post(ada, general, "lunch?", "01LUNCH")
    _react(ada, general, "01LUNCH", "🍕")
    _react(bob, general, "01LUNCH", "🍕")
    _react(bob, general, "01LUNCH", "👍")
    _react(bob, general, "01LUNCH", "👍", on=False)
    on = sorted((f["user"], f["emoji"]) for f in ada.records("reactions").values() if f["on"])
    assert on == sorted([(ada.user, "🍕"), (bob.user, "🍕")])


def test_a_non_member_can_neither_react_edit_nor_read(workspace: Workspace) -> None:
    ada, eve = workspace.join("Ada"), workspace.join("Eve")
    _private_channel(ada, "01PRIV")
    _post(ada, "01PRIV", "private words", "01PMSG")

    react = _react(eve, "01PRIV", "01PMSG", "👀")
    edit = eve.sync(eve.change("messages", "01PMSG", {"text": "defaced"})).json()
    assert [r["code"] for r in react["rejections"] + edit["rejections"]] == ["forbidden", "forbidden"]
    page = eve.client.post("/api/history", json={"channel": "01PRIV"}, headers=eve.csrf)
    assert page.status_code == 403
    assert eve.client.get("/api/messages/01PMSG/versions").status_code == 404
    assert eve.client.get("/api/search", params={"q": "private"}).json()["results"] == []


def test_only_the_author_edits_and_an_admin_may_delete(workspace: Workspace) -> None:
    owner, bob, cat = workspace.join("Olga"), workspace.join("Bob"), workspace.join("Cat")
    general = bob.channel_named("general")
    _post(bob, general, "bob's words", "01BOBS")
    refused = cat.sync(
        cat.change("messages", "01BOBS", {"text": "cat's words"}), cat.change("messages", "01BOBS", {"deleted": True})
    ).json()
    assert [r["code"] for r in refused["rejections"]] == ["forbidden", "forbidden"]
    assert owner.sync(owner.change("messages", "01BOBS", {"deleted": True})).json()["acks"]


def test_thread_replies_are_numbered_in_their_thread_and_counted_on_the_parent(workspace: Workspace) -> None:
    ada, bob, cat = workspace.join("Ada"), workspace.join("Bob"), workspace.join("Cat")
    general = ada.channel_named("general")
    _post(ada, general, "release on Friday?", "01PARENT")
    _post(bob, general, "yes", "01R1", thread="01PARENT")
    _post(cat, general, "no", "01R2", thread="01PARENT")
    _post(bob, general, "ok, Monday", "01R3", thread="01PARENT")
    _post(ada, general, "next topic", "01NEXT")

    messages = ada.records("messages")
    assert [messages[r]["tn"] for r in ("01R1", "01R2", "01R3")] == [1, 2, 3]
    assert all("n" not in messages[r] for r in ("01R1", "01R2", "01R3"))
    assert (messages["01PARENT"]["n"], messages["01NEXT"]["n"]) == (1, 2)
    parent = messages["01PARENT"]
    assert parent["replies"] == 3 and parent["repliers"] == f"{cat.user} {bob.user}"
    nested = ada.sync(ada.change("messages", "01NEST", {"channel": general, "text": "x", "thread": "01R1"})).json()
    assert [r["code"] for r in nested["rejections"]] == ["invalid"]
    thread = ada.client.post("/api/history", json={"channel": general, "thread": "01PARENT"}, headers=ada.csrf).json()
    messages = [r["fields"]["text"] for r in thread["records"] if r["collection"] == "messages"]
    assert messages[1:] == ["yes", "no", "ok, Monday"], "the parent first, then its replies in order"
    assert thread["records"][0]["id"] == "01PARENT"


def test_history_pages_give_exactly_the_missing_range(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    ada.sync(*[ada.change("messages", f"01H{i:03d}", {"channel": general, "text": f"m{i}"}) for i in range(60)])

    gap = ada.client.post("/api/history", json={"channel": general, "before": 57, "limit": 4}, headers=ada.csrf)
    numbers = [r["fields"]["n"] for r in gap.json()["records"] if r["collection"] == "messages"]
    assert numbers == [56, 55, 54, 53] and gap.json()["complete"] is False
    first = ada.client.post("/api/history", json={"channel": general, "before": 3}, headers=ada.csrf).json()
    assert [r["fields"]["n"] for r in first["records"]] == [2, 1] and first["complete"] is True
    assert all("clocks" in r and r["clocks"]["text"] for r in first["records"])


def test_a_new_device_bootstraps_recent_messages_first(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    ada.sync(*[ada.change("messages", f"01B{i:03d}", {"channel": general, "text": f"m{i}"}) for i in range(120)])
    phone = workspace.another_device(ada)

    first = phone.sync(cursors={}, recent=20).json()
    snapshot = [r for r in first["records"] if r["collection"] == "messages"]
    assert sorted(r["fields"]["n"] for r in snapshot) == list(range(101, 121))
    assert any(r["collection"] == "members" for r in first["records"])
    assert all(c["scope"] != f"c:{general}" for c in first["changes"]), "the channel came as a snapshot"
    head = first["cursors"][f"c:{general}"]

    ada.sync(ada.change("messages", "01BNEW", {"channel": general, "text": "fresh"}))
    later = phone.sync(cursors=first["cursors"], recent=20).json()
    assert [c["id"] for c in later["changes"] if c["collection"] == "messages"] == ["01BNEW"]
    assert later["cursors"][f"c:{general}"] > head and later["records"] == []


def test_snapshots_and_history_pages_carry_the_replies_in_their_threads(workspace: Workspace) -> None:
    """So a new device's Mentions and thread counts see replies without opening every thread."""
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    ada.sync(*[ada.change("messages", f"01T{i:03d}", {"channel": general, "text": f"m{i}"}) for i in range(30)])
    _post(bob, general, "@Ada look", "01TREPLYNEW", thread="01T029", mentions=ada.user)
    _post(bob, general, "old thread", "01TREPLYOLD", thread="01T002")

    def texts(records: list[dict[str, Any]]) -> set[str]:
        return {r["fields"]["text"] for r in records if r["collection"] == "messages"}

    phone = workspace.another_device(ada)
    snapshot = texts(phone.sync(cursors={}, recent=10).json()["records"])
    assert "@Ada look" in snapshot and "old thread" not in snapshot  # its parent is outside the window
    page = ada.client.post("/api/history", json={"channel": general, "before": 5}, headers=ada.csrf).json()
    assert texts(page["records"]) == {"m0", "m1", "m2", "m3", "old thread"} and page["complete"] is True


def test_search_sees_only_channels_the_searcher_belongs_to(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    _private_channel(ada, "01OPS")
    _post(ada, "01OPS", "deploy the secret build", "01S1")
    _post(ada, general, "deploy on Friday", "01S2")
    _post(bob, general, "今天下午部署新版本 deploy", "01S3")

    def found(person: Person, q: str) -> list[str]:
        reply = person.client.get("/api/search", params={"q": q})
        assert reply.status_code == 200, reply.text
        return [r["id"] for r in reply.json()["results"]]

    assert sorted(found(bob, "deploy")) == ["01S2", "01S3"]
    assert sorted(found(ada, "deploy")) == ["01S1", "01S2", "01S3"]
    assert found(bob, "secret") == [] and found(bob, "in:#01ops deploy") == []
    assert found(ada, "in:#general deploy from:@bob") == ["01S3"]
    assert found(ada, "部署") == ["01S3"]
    assert found(ada, '"on friday"') == ["01S2"]
    assert found(ada, "deploy before:2000-01-01") == []
    hit = ada.client.get("/api/search", params={"q": "friday"}).json()["results"][0]
    assert hit["snippet"] == "deploy on [Friday]"
    assert ada.client.get("/api/search", params={"q": " "}).status_code == 400


def test_versions_list_every_edit_until_deleted(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    _post(ada, general, "v1", "01V")
    ada.sync(ada.change("messages", "01V", {"text": "v2"}))
    versions = ada.client.get("/api/messages/01V/versions").json()["versions"]
    assert [v["text"] for v in versions] == ["v1", "v2"]
    assert ada.records("messages")["01V"]["edited"] > 0
    ada.sync(ada.change("messages", "01V", {"deleted": True}))
    after = ada.client.get("/api/messages/01V/versions").json()["versions"]
    assert [(v["text"], v["deleted"]) for v in after] == [(None, False), (None, False), (None, True)]


def test_search_in_a_person_finds_the_direct_messages_with_them(workspace: Workspace) -> None:
    ada, bob, cat = workspace.join("Ada"), workspace.join("Bob"), workspace.join("Cat")
    general = ada.channel_named("general")
    dm = dm_id(ada.user, bob.user)
    ada.sync(
        ada.change("channels", dm, {"name": "", "kind": "dm"}),
        ada.change("members", member_id(dm, ada.user), {"channel": dm, "user": ada.user}),
        ada.change("members", member_id(dm, bob.user), {"channel": dm, "user": bob.user}),
    )
    _post(ada, dm, "the budget draft, between us", "01DM1")
    _post(ada, general, "the budget for everyone", "01DM2")

    def found(person: Person, q: str) -> list[str]:
        return [r["id"] for r in person.client.get("/api/search", params={"q": q}).json()["results"]]

    assert found(ada, "budget in:@bob") == ["01DM1"]
    assert found(ada, "budget in:@bob@example.com") == ["01DM1"]
    assert found(bob, "budget in:@ada") == ["01DM1"]
    assert found(ada, "budget in:@cat") == [] and found(ada, "budget in:bob") == []
    assert found(cat, "budget in:@ada") == [] and found(cat, "budget") == ["01DM2"]


def test_receipts_exist_only_in_direct_messages(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    low, high = sorted((ada.user, bob.user))
    dm = f"dm_{low}_{high}"
    ada.sync(
        ada.change("channels", dm, {"name": "", "kind": "dm"}),
        ada.change("members", member_id(dm, ada.user), {"channel": dm, "user": ada.user}),
        ada.change("members", member_id(dm, bob.user), {"channel": dm, "user": bob.user}),
    )
    in_dm = bob.sync(bob.change("receipts", receipt_id(dm, bob.user), {"channel": dm, "user": bob.user, "n": 1}))
    in_general = bob.sync(
        bob.change("receipts", receipt_id(general, bob.user), {"channel": general, "user": bob.user, "n": 1})
    )
    assert in_dm.json()["acks"] and in_general.json()["rejections"][0]["code"] == "forbidden"
    assert receipt_id(dm, bob.user) in ada.records("receipts")


def test_an_archived_channel_is_read_only_and_only_its_creator_or_an_admin_archives_it(
    workspace: Workspace,
) -> None:
    owner, bob, cat = workspace.join("Olga"), workspace.join("Bob"), workspace.join("Cat")
    bob.sync(
        bob.change("channels", "01ARCH", {"name": "old-project", "kind": "public"}),
        bob.change("members", member_id("01ARCH", bob.user), {"channel": "01ARCH", "user": bob.user}),
    )
    cat.sync(cat.change("members", member_id("01ARCH", cat.user), {"channel": "01ARCH", "user": cat.user}))
    _post(cat, "01ARCH", "last words", "01LAST")
    assert cat.sync(cat.change("channels", "01ARCH", {"archived": True})).json()["rejections"][0]["code"] == (
        "forbidden"
    )
    assert bob.sync(bob.change("channels", "01ARCH", {"archived": True})).json()["acks"]

    post = cat.sync(cat.change("messages", "01MORE", {"channel": "01ARCH", "text": "more"})).json()
    react = _react(cat, "01ARCH", "01LAST", "👍")
    assert [r["code"] for r in post["rejections"] + react["rejections"]] == ["archived", "archived"]
    assert cat.client.get("/api/search", params={"q": "last words"}).json()["results"][0]["id"] == "01LAST"
    assert owner.sync(owner.change("channels", "01ARCH", {"retention_days": 30})).json()["acks"]
    assert bob.sync(bob.change("channels", "01ARCH", {"retention_days": 1})).json()["rejections"]


def test_a_snapshot_bootstrap_comes_twenty_channels_at_a_time(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    for i in range(24):  # plus #general: 25 channels
        channel = f"01CH{i:02d}"
        ada.sync(
            ada.change("channels", channel, {"name": f"team-{i}", "kind": "public"}),
            ada.change("members", member_id(channel, ada.user), {"channel": channel, "user": ada.user}),
            ada.change("messages", f"01M{i:02d}", {"channel": channel, "text": f"hello {i}"}),
        )
    phone = workspace.another_device(ada)
    first = phone.sync(cursors={}, recent=10).json()
    assert first["more"] is True
    names = [r["fields"]["name"] for r in first["changes"] if r["collection"] == "channels"]
    assert len(names) == 25, "the whole channel list arrives in the first reply"
    snapshotted = {r["scope"] for r in first["records"]}
    assert len(snapshotted) == 20
    second = phone.sync(cursors=first["cursors"], recent=10).json()
    assert len({r["scope"] for r in second["records"]} - snapshotted) == 5 and second["more"] is False
