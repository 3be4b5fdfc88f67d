"""The push producer and SQLite's write locks (producer.py, Rule 8): the server's writes (a person's
send) never wait for it. Its per-person rules run outside any write transaction; the offer to the
sender, the queue rows and the position are written under push.db's lock, never teamtalk.db's."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from backend.feed import Committed, InProcessFeed
from backend.push import rules
from backend.push.producer import PushProducer
from backend.settings import Settings
from backend.storage.base import PushJob, PushSubscription, StoredRecord
from backend.storage.push_queue import PushQueue
from backend.storage.sqlite import SqliteStorage
from sync_protocol.collections import pref_id
from sync_protocol.merge import RecordState
from sync_protocol.wire import Change, Value
from tests.integration.push_room import seed_room
from tests.integration.write_lock import can_write

ROOM = "01CSITEA"
PEOPLE = [f"u{n:03d}" for n in range(30)]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStorage]:
    store = SqliteStorage(tmp_path / "teamtalk.db")
    with store.transaction():
        seed_room(store, ROOM, PEOPLE)
        muted = StoredRecord(PEOPLE[1], RecordState({"channel": ROOM, "muted": True}))
        store.put_record("prefs", pref_id(PEOPLE[1], ROOM), muted)
    yield store
    store.close()


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[PushQueue]:
    made = PushQueue(tmp_path / "push.db")
    yield made
    made.close()


def test_a_write_made_while_the_producer_applies_the_rules_or_writes_the_queue_is_not_refused(
    store: SqliteStorage, queue: PushQueue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path, frontend_dir=tmp_path / "none", push_test_mode=True)
    during_rules: list[bool] = []
    during_offer: list[tuple[bool, bool]] = []
    offered: list[tuple[PushJob, PushSubscription]] = []
    real_reason = rules.reason

    def reason(
        user: str, message: Mapping[str, Value], kind: str, pref: Mapping[str, Value] | None, follows: bool
    ) -> rules.Reason | None:
        # Deterministic: the foreign write happens while the derivation is running, not at a time.
        if not during_rules:
            during_rules.append(can_write(store.path))
        return real_reason(user, message, kind, pref, follows)

    def offer(rows: list[tuple[PushJob, PushSubscription]]) -> None:
        during_offer.append((can_write(store.path), can_write(queue.path)))
        offered.extend(rows)

    monkeypatch.setattr(rules, "reason", reason)
    producer = PushProducer(store, queue, InProcessFeed(store), settings, lambda: None, offer)
    fields: dict[str, Value] = {
        "channel": ROOM,
        "text": "hi all",
        "mentions": "channel",
        "author": PEOPLE[0],
        "at": 1,
        "n": 1,
    }
    message = Change(7, ROOM, "messages", "01M000001", "0000000000001-0000-d", PEOPLE[0], fields)
    assert producer.derive([Committed([message])], 7) == len(PEOPLE) - 2  # not the author, not the person who muted it
    assert during_rules == [True]  # the rules ran without the write lock
    # The offer is made in push.db's transaction (Rule 6: a sent row's mark waits until the rows
    # are written), which leaves teamtalk.db free for the server's writes (Rule 8).
    assert during_offer == [(True, False)]
    assert {job.subscription for job, _ in offered} == {f"sub{n}" for n in range(2, len(PEOPLE))}
    assert queue.position() == 7
    assert {job.subscription for job in queue.due_pushes(2**62, 100)} == {job.subscription for job, _ in offered}
