"""The push producer coalesces a burst of messages (producer.py, Rule 4), but a take that held
nothing that notifies (a read cursor, whose head the server tells of every HEAD_EVERY_S) never
makes the next message wait: a message after a quiet spell goes at once (issue 10)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.feed import Committed, InProcessFeed
from backend.push import producer as producer_module
from backend.push.producer import PushProducer
from backend.settings import Settings
from backend.storage.base import PushJob, PushSubscription
from backend.storage.push_queue import PushQueue
from backend.storage.sqlite import SqliteStorage
from sync_protocol.collections import read_id
from sync_protocol.wire import Change
from tests.integration.polling import wait_until
from tests.integration.push_room import seed_room

ROOM = "01CSITEA"
PEOPLE = ["u000", "u001", "u002"]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStorage]:
    store = SqliteStorage(tmp_path / "teamtalk.db")
    with store.transaction():
        seed_room(store, ROOM, PEOPLE)
    yield store
    store.close()


def test_a_message_after_read_cursors_is_derived_without_the_burstwait_until(
    store: SqliteStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A burst's wait far longer than the test, and "busy" for as long: only the rule decides.
    monkeypatch.setattr(producer_module, "COALESCE_S", 60.0)
    monkeypatch.setattr(producer_module, "BUSY_S", 3600.0)
    settings = Settings(data_dir=tmp_path, frontend_dir=tmp_path / "none", push_test_mode=True)
    offered: list[tuple[PushJob, PushSubscription]] = []
    queue = PushQueue(tmp_path / "push.db")
    feed = InProcessFeed(store)
    producer = PushProducer(store, queue, feed, settings, lambda: None, offered.extend)
    producer.start()
    try:
        wait_until(lambda: producer._thread.follower is not None)
        for seq in (1, 2, 3):  # read cursors, as a device reading the channel writes them
            cursor = {"channel": ROOM, "user": PEOPLE[1], "n": seq}
            feed.publish(
                Committed(
                    [Change(seq, ROOM, "reads", read_id(PEOPLE[1], ROOM), f"{seq:013d}-0000-d", PEOPLE[1], cursor)]
                )
            )
            wait_until(lambda seq=seq: producer.position == seq)  # taken, and nothing derived from it
        fields = {"channel": ROOM, "text": "hi all", "mentions": "channel", "author": PEOPLE[0], "at": 1, "n": 1}
        feed.publish(Committed([Change(4, ROOM, "messages", "01M000001", "0000000000004-0000-d", PEOPLE[0], fields)]))
        wait_until(lambda: len(offered) == len(PEOPLE) - 1)  # not the author; without the 60 s wait
        assert producer.position == 4
    finally:
        producer.close()
        queue.close()
