"""One apply sequence, whatever a push carries (change_apply.py, ``_Plan``): what is looked up once
per shape of change must give the same records, log (hashes included), message positions and
replies as the same changes pushed one per push, and a rejected change must not leave a plan that
lets the next one of its shape through."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from backend import change_apply
from backend.accounts import CurrentSession
from backend.app import build_services
from backend.settings import Settings
from backend.storage.base import DeviceSession
from backend.storage.sqlite import SqliteStorage
from backend.sync_service import SyncService
from sync_protocol.collections import member_id, reaction_id
from sync_protocol.hlc import Clock
from sync_protocol.wire import PROTOCOL_VERSION, Mutation, SyncRequest, Value

NOW = 1_764_900_000_000


def _setup(where: Path) -> tuple[str, str]:
    """A workspace with one person and a device, closed: each side of the comparison opens a copy."""
    services = build_services(Settings(data_dir=where))
    try:
        account = services.accounts.create_account("Ada", "ada@example.com", "correct horse 9", None, NOW)
        with services.store.transaction():
            services.store.add_session(DeviceSession("dev1", account.id, "laptop", NOW, NOW), "token")
        return account.id, services.store.channels_of(account.id)[0]
    finally:
        services.close()


def _mutations(user: str, general: str) -> list[Mutation]:
    clock = Clock("dev1")
    ops = "01CHOPS"
    writes: list[tuple[str, str, dict[str, Value]]] = [
        ("channels", ops, {"name": "ops", "kind": "private"}),
        ("members", member_id(ops, user), {"channel": ops, "user": user}),
        *(("messages", f"01M{i}", {"channel": general, "text": f"plain {i}"}) for i in range(5)),
        ("messages", "01OPS1", {"channel": ops, "text": "in ops"}),
        ("messages", "01R1", {"channel": general, "text": "a reply", "thread": "01M0"}),  # a follow-up
        ("messages", "01R2", {"channel": general, "text": "another", "thread": "01M0"}),
        ("messages", "01M1", {"text": "edited"}),
        ("messages", "01M4", {"channel": general, "text": "edited, channel restated"}),  # a new message's shape
        ("messages", "01NOPE", {"channel": "01NOCHANNEL", "text": "refused"}),
        ("messages", "01M5", {"channel": general, "text": "after a refusal"}),
        ("messages", "01M2", {"deleted": True}),  # a wipe
        ("messages", "01M3", {"deleted": False}),  # a restricted value: refused
        (
            "reactions",
            reaction_id("01M3", user, "👍"),
            {"message": "01M3", "channel": general, "user": user, "emoji": "👍", "on": True},
        ),
        ("tasks", "01T1", {"channel": general, "title": "a task"}),
        ("messages", "01TC1", {"channel": general, "text": "a comment", "task": "01T1"}),  # touches the task
        ("members", member_id(ops, user), {"left": True}),
        ("messages", "01OPS2", {"channel": ops, "text": "after leaving"}),  # refused: same shape as 01OPS1
        ("messages", "01M6", {"channel": general}),  # a new message without its text: refused
    ]
    return [
        Mutation(mid, collection, record_id, fields, clock.tick(NOW + mid))
        for mid, (collection, record_id, fields) in enumerate(writes, start=1)
    ]


def _push(
    data: Path, user: str, mutations: list[Mutation], per_push: int
) -> tuple[list[object], dict[str, list[tuple[object, ...]]]]:
    settings = Settings(data_dir=data)
    store = SqliteStorage(settings.database)
    service = SyncService(store, settings)
    actor = CurrentSession(user, "dev1", "member")
    replies: list[object] = []
    try:
        for start in range(0, len(mutations), per_push):
            if per_push == 1:  # nothing looked up per shape for one push is there for the next
                service.changes._plans.clear()
            reply = service.sync(
                actor, SyncRequest(v=PROTOCOL_VERSION, changes=mutations[start : start + per_push]), NOW + 50
            )
            replies.append((reply.acks, [(r.mid, r.code, r.reason) for r in reply.rejections]))
        db = store._reading()
        tables = {
            "records": db.execute("SELECT * FROM records ORDER BY collection, id").fetchall(),
            "changes": db.execute("SELECT * FROM changes ORDER BY seq").fetchall(),
            "message_index": db.execute("SELECT * FROM message_index ORDER BY id").fetchall(),
        }
    finally:
        store.close()
    return replies, tables


def test_a_push_of_many_changes_equals_the_same_changes_pushed_one_by_one(tmp_path: Path) -> None:
    user, general = _setup(tmp_path / "seed")
    mutations = _mutations(user, general)
    shutil.copytree(tmp_path / "seed", tmp_path / "one")
    shutil.copytree(tmp_path / "seed", tmp_path / "many")

    one_by_one, rows_one = _push(tmp_path / "one", user, mutations, 1)
    together, rows_many = _push(tmp_path / "many", user, mutations, len(mutations))

    acks = [mid for acked, _ in one_by_one for mid in acked]  # type: ignore[attr-defined]
    refused = [r for _, rejections in one_by_one for r in rejections]  # type: ignore[attr-defined]
    assert together == [(acks, refused)]
    assert {mid for mid, _, _ in refused} == {13, 16, 21, 22}
    assert rows_many == rows_one
    assert len(rows_many["changes"]) > len(acks)  # follow-ups and the wipe are in both logs
    records = {(row[0], row[1]): json.loads(row[3]) for row in rows_many["records"]}
    # The follow-ups a plan may skip for other shapes ran for these: a reply and a task comment.
    assert records[("messages", "01M0")]["replies"] == 2
    touched = [row for row in rows_many["changes"] if row[3] == "01T1" and row[6] == "server"]
    assert len(touched) == 1  # the comment marked its task changed
    assert records[("messages", "01M2")]["text"] is None and "01OPS2" not in {r[1] for r in rows_many["records"]}


def test_the_plans_kept_stay_bounded_whatever_orders_of_fields_a_client_sends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, general = _setup(tmp_path)
    monkeypatch.setattr(change_apply, "MAX_PLANS", 4)
    settings = Settings(data_dir=tmp_path)
    store = SqliteStorage(settings.database)
    service = SyncService(store, settings)
    clock = Clock("dev1")
    orders = [
        ("channel", "text"),
        ("text", "channel"),
        ("channel", "text", "mentions"),
        ("mentions", "text", "channel"),
    ]
    values: dict[str, Value] = {"channel": general, "text": "hi", "mentions": ""}
    try:
        for mid in range(1, 13):
            names = orders[mid % len(orders)] if mid < 9 else ("pinned", *orders[mid % len(orders)])
            fields = {name: True if name == "pinned" else values[name] for name in names}
            change = Mutation(mid, "messages", f"01M{mid}", fields, clock.tick(NOW + mid))
            reply = service.sync(
                CurrentSession(user, "dev1", "member"), SyncRequest(v=PROTOCOL_VERSION, changes=[change]), NOW + 50
            )
            assert reply.acks == [mid] and len(service.changes._plans) <= 4
    finally:
        store.close()
