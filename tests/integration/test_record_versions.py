"""Any record's history: every change with its author and time, for those who may read its scope,
and a restore that is simply a new change."""

from __future__ import annotations

from sync_protocol.collections import member_id
from tests.integration.conftest import Workspace


def test_history_lists_every_change_with_author_and_a_restore_is_a_new_change(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    ada.sync(ada.change("messages", "01H", {"channel": general, "text": "first words"}))
    ada.sync(ada.change("messages", "01H", {"text": "second words"}))
    versions = bob.client.get("/api/records/messages/01H/versions").json()
    assert versions["collection"] == "messages" and versions["id"] == "01H"
    texts = [(v["author"], v["fields"].get("text")) for v in versions["versions"]]
    assert texts == [(ada.user, "first words"), (ada.user, "second words")]
    assert all(v["at"] > 0 and v["hlc"] for v in versions["versions"])

    lost = versions["versions"][0]["fields"]["text"]
    ada.sync(ada.change("messages", "01H", {"text": lost}))
    after = ada.client.get("/api/records/messages/01H/versions").json()["versions"]
    assert [v["fields"].get("text") for v in after] == ["first words", "second words", "first words"]
    assert ada.records("messages")["01H"]["text"] == "first words"


def test_history_of_a_record_you_cannot_see_is_the_same_404_as_one_that_does_not_exist(workspace: Workspace) -> None:
    ada, eve = workspace.join("Ada"), workspace.join("Eve")
    ada.sync(
        ada.change("channels", "01SECRET", {"name": "secret", "kind": "private"}),
        ada.change("members", member_id("01SECRET", ada.user), {"channel": "01SECRET", "user": ada.user}),
        ada.change("messages", "01HIDDEN", {"channel": "01SECRET", "text": "for members only"}),
    )
    assert ada.client.get("/api/records/messages/01HIDDEN/versions").status_code == 200
    hidden = eve.client.get("/api/records/messages/01HIDDEN/versions")
    missing = eve.client.get("/api/records/messages/01NOPE/versions")
    unknown = eve.client.get("/api/records/nonsense/01HIDDEN/versions")
    assert hidden.status_code == missing.status_code == unknown.status_code == 404
    assert hidden.json()["error"] == missing.json()["error"] == "not_found"
    # A membership record lives in the channel: members read its history too.
    reads = ada.client.get(f"/api/records/members/{member_id('01SECRET', ada.user)}/versions").json()["versions"]
    assert reads and reads[0]["author"] == ada.user
