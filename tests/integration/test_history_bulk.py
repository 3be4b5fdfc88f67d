"""POST /api/history/bulk (PROTOCOL.md, "Bulk history"): large pages with the history page's rules —
n < before, newest first, exactly the range asked; members only; every reply; MessagePack on request."""

from __future__ import annotations

import msgspec

from tests.integration.conftest import Person, Workspace
from tests.integration.test_chat_depth import _private_channel


def _bulk(person: Person, **body: object) -> dict[str, object]:
    reply = person.client.post("/api/history/bulk", json=body, headers=person.csrf)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def _numbers(page: dict[str, object]) -> list[int]:
    records = page["records"]
    assert isinstance(records, list)
    return [r["fields"]["n"] for r in records if r["collection"] == "messages" and "n" in r["fields"]]


def test_bulk_pages_walk_a_channel_newest_first_with_no_hole_or_overlap(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    ada.sync(*[ada.change("messages", f"01B{i:04d}", {"channel": general, "text": f"m{i}"}) for i in range(120)])

    seen: list[int] = []
    before = None
    while True:
        page = _bulk(ada, channel=general, limit=50, **({"before": before} if before else {}))
        assert page["last"] == 120
        seen += _numbers(page)
        if page["complete"]:
            break
        before = page["low"]
    assert seen == list(range(120, 0, -1)), "every number once, newest first"

    gap = _bulk(ada, channel=general, before=57, limit=4)
    assert _numbers(gap) == [56, 55, 54, 53] and gap["complete"] is False and gap["low"] == 53


def test_bulk_pages_carry_every_reply_and_reaction(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    ada.sync(ada.change("messages", "01PARENT", {"channel": general, "text": "parent"}))
    ada.sync(
        *[
            ada.change("messages", f"01R{i:04d}", {"channel": general, "thread": "01PARENT", "text": f"r{i}"})
            for i in range(250)
        ]
    )
    page = _bulk(ada, channel=general)
    replies = [r for r in page["records"] if r["collection"] == "messages" and r["fields"].get("thread")]  # type: ignore[union-attr]
    assert len(replies) == 250, "a history page carries the newest 200; a bulk page all of them"


def test_bulk_pages_are_for_members_only(workspace: Workspace) -> None:
    ada, eve = workspace.join("Ada"), workspace.join("Eve")
    _private_channel(ada, "01PRIVB")
    ada.sync(ada.change("messages", "01SECRET", {"channel": "01PRIVB", "text": "secret"}))
    refused = eve.client.post("/api/history/bulk", json={"channel": "01PRIVB"}, headers=eve.csrf)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert "secret" not in refused.text


def test_bulk_pages_come_as_messagepack_when_asked(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    ada.sync(*[ada.change("messages", f"01M{i:04d}", {"channel": general, "text": f"m{i}"}) for i in range(10)])
    reply = ada.client.post(
        "/api/history/bulk", json={"channel": general}, headers={**ada.csrf, "accept": "application/msgpack"}
    )
    assert reply.headers["content-type"].startswith("application/msgpack")
    page = msgspec.msgpack.decode(reply.content)
    assert [r["fields"]["n"] for r in page["records"]] == list(range(10, 0, -1)) and page["complete"] is True
