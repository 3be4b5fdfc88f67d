"""A push's reply takes the push's own changes from memory (SyncService.pull, ``written``): it must
be exactly what reading the log after the cursors returns, whoever else wrote alongside."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from backend.accounts import GENERAL_SETTING, CurrentSession
from backend.app import build_services
from backend.http.context import Services
from backend.settings import Settings
from backend.storage.base import DeviceSession
from sync_protocol.hlc import Clock
from sync_protocol.wire import Change, Mutation, SyncRequest, SyncResponse, Value

Write = tuple[str, str, dict[str, Value]]


class Device:
    def __init__(self, services: Services, name: str) -> None:
        now = int(time.time() * 1000)
        account = services.accounts.create_account(name, f"{name}@example.com", "correct horse battery", None, now)
        self.actor = CurrentSession(account.id, f"dev{name}", account.role)
        with services.store.transaction():
            services.store.add_session(DeviceSession(self.actor.device_id, account.id, "test", now, now), name)
        self.services, self.clock, self.mid = services, Clock(self.actor.device_id), 0
        self.cursors: dict[str, int] = {}
        self.catch_up()

    def catch_up(self) -> None:
        more = True
        while more:
            reply = self.services.sync.sync(self.actor, SyncRequest(v=1, cursors=self.cursors, limit=1000), 0)
            self.cursors.update(reply.cursors)
            more = reply.more

    def request(self, changes: list[Write], limit: int = 100) -> SyncRequest:
        now = int(time.time() * 1000)
        mutations = []
        for collection, record_id, fields in changes:
            self.mid += 1
            mutations.append(Mutation(self.mid, collection, record_id, fields, self.clock.tick(now)))
        return SyncRequest(v=1, changes=mutations, cursors=dict(self.cursors), limit=limit)

    async def push(self, changes: list[Write], limit: int = 100) -> tuple[SyncRequest, SyncResponse]:
        request = self.request(changes, limit)
        reply = await self.services.sync.sync_async(self.actor, request, int(time.time() * 1000))
        self.cursors.update(reply.cursors)
        return request, reply

    def from_the_log(self, request: SyncRequest, limit: int = 100) -> tuple[list[object], dict[str, int], bool]:
        """What a pull after the same cursors reads from the log now."""
        changes, cursors, _, more = self.services.sync.pull(self.actor.user_id, request.cursors, limit)
        return msgspec.to_builtins(changes), cursors, more


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    made = build_services(Settings(data_dir=tmp_path, frontend_dir=tmp_path / "no-frontend"))
    yield made
    made.close()


def _general(services: Services) -> str:
    general = services.store.get_setting(GENERAL_SETTING)
    assert general is not None
    return general


def _same(reply: SyncResponse, log: tuple[list[object], dict[str, int], bool]) -> None:
    assert (msgspec.to_builtins(reply.changes), reply.cursors, reply.more) == log


async def test_a_lone_pushers_reply_is_its_own_changes_as_logged(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada, general = Device(services, "ada"), _general(services)
    read: list[str] = []
    real_read = services.store.changes_after

    def counted(scope: str, after: int, limit: int) -> list[Change]:
        read.append(scope)
        return real_read(scope, after, limit)

    monkeypatch.setattr(services.store, "changes_after", counted)
    request, reply = await ada.push(
        [("messages", f"01ADA{i}", {"channel": general, "text": f"hi {i}"}) for i in range(5)]
    )
    assert read == [], "the push's own changes came from memory"
    assert [c.id for c in reply.changes] == [f"01ADA{i}" for i in range(5)]
    assert [c.fields["n"] for c in reply.changes] == [1, 2, 3, 4, 5], "server fields come back too"
    _same(reply, ada.from_the_log(request))


async def test_the_reply_is_cut_at_the_limit_as_a_read_of_the_log_is(services: Services) -> None:
    ada, general = Device(services, "ada"), _general(services)
    request, reply = await ada.push(
        [("messages", f"01ADA{i}", {"channel": general, "text": "x"}) for i in range(5)], limit=3
    )
    assert len(reply.changes) == 3 and reply.more
    _same(reply, ada.from_the_log(request, limit=3))


async def test_a_message_created_and_deleted_in_one_push_comes_back_wiped(services: Services) -> None:
    ada, general = Device(services, "ada"), _general(services)
    request, reply = await ada.push(
        [
            ("messages", "01GONE", {"channel": general, "text": "a secret"}),
            ("messages", "01GONE", {"deleted": True}),
        ]
    )
    assert all(c.fields.get("text") is None for c in reply.changes), "no reply carries the wiped text"
    _same(reply, ada.from_the_log(request))


async def test_pushes_sharing_a_commit_each_get_what_the_log_holds_after_their_cursor(services: Services) -> None:
    ada, bob, general = Device(services, "ada"), Device(services, "bob"), _general(services)
    for device in (ada, bob):
        device.catch_up()
    ada_request = ada.request([("messages", "01ADA", {"channel": general, "text": "from ada"})])
    bob_request = bob.request([("messages", "01BOB", {"channel": general, "text": "from bob"})])
    now = int(time.time() * 1000)
    ada_reply, bob_reply = await asyncio.gather(
        services.sync.sync_async(ada.actor, ada_request, now), services.sync.sync_async(bob.actor, bob_request, now)
    )
    assert {c.id for c in ada_reply.changes} == {"01ADA", "01BOB"}, "the other push landed after ada's: she gets it"
    _same(ada_reply, ada.from_the_log(ada_request))
    _same(bob_reply, bob.from_the_log(bob_request))


async def test_a_device_behind_its_scope_gets_the_changes_it_missed_first(services: Services) -> None:
    ada, bob, general = Device(services, "ada"), Device(services, "bob"), _general(services)
    await bob.push([("messages", "01BOB", {"channel": general, "text": "while ada was away"})])
    request, reply = await ada.push([("messages", "01ADA", {"channel": general, "text": "back"})])
    assert [c.id for c in reply.changes if c.collection == "messages"] == ["01BOB", "01ADA"]
    _same(reply, ada.from_the_log(request))
