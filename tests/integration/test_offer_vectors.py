"""What the UI offers agrees with what the server allows: sync_protocol/vectors/offer.json runs
here against the real rules (a real store, the sync service) and in frontend/test/registry.test.js
against frontend/src/sync/rights.js."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.storage.base import Account, DeviceSession
from sync_protocol.collections import member_id
from sync_protocol.wire import Value
from tests.integration.rights_world import NOW, RightsLab, World, device_of, new_id

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[2] / "sync_protocol" / "vectors" / "offer.json").read_text()
)
OPERATIONS: dict[str, dict[str, Value]] = {
    "text": {"text": "edited"},
    "delete": {"deleted": True},
    "pinned": {"pinned": True},
    "archived": {"archived": True},
    "name": {"name": "renamed"},
    "retention_days": {"retention_days": 5},
    "title": {"title": "edited"},
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RightsLab]:
    made = RightsLab(Path(tmp_path_factory.mktemp("offer")))
    yield made
    made.close()


def _person(lab: RightsLab, role: str) -> str:
    user = new_id()
    with lab.store.transaction():
        lab.store.add_account(Account(user, f"{user}@example.com", user, role, "-", NOW))
        lab.store.add_session(DeviceSession(device_of(user), user, "phone", NOW, NOW), f"token-{user}")
    return user


@pytest.mark.parametrize("case", CASES, ids=[c["comment"] for c in CASES])
def test_the_server_allows_what_the_ui_offers(lab: RightsLab, case: dict[str, Any]) -> None:
    facts = case["facts"]
    me, other = _person(lab, facts["role"]), _person(lab, "member")
    creator = me if facts.get("created_by") == "me" else other
    author = me if facts.get("author") == "me" else other
    channel, message = new_id(), new_id()
    joined = [other, me] if facts["member"] else [other]
    lab.sync.write_as_server(
        creator,
        [
            ("channels", channel, {"name": f"c-{channel}", "kind": "private"}),
            *(("members", member_id(channel, p), {"channel": channel, "user": p}) for p in joined),
        ],
        NOW,
    )
    lab.sync.write_as_server(author, [("messages", message, {"channel": channel, "text": "hello"})], NOW)
    # A task made by its creator (the server stamps created_by from the author of the change).
    task = new_id()
    lab.sync.write_as_server(creator, [("tasks", task, {"channel": channel, "title": "Fix the pump"})], NOW)
    if facts.get("archived"):
        lab.sync.write_as_server(creator, [("channels", channel, {"archived": True})], NOW)
    world = World({"me": me})
    target = {"messages": message, "tasks": task}.get(case["collection"], channel)
    outcome = lab.push(world, "me", case["collection"], target, OPERATIONS[case["operation"]])
    assert (outcome == "ok") is case["expected"], outcome
