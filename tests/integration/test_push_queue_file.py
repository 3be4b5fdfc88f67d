"""The push queue's own file, push.db (storage/push_queue.py): the queue's rules, and a queue an
older version left in teamtalk.db moved here once at the server's start (Rule 5)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.app import build_services
from backend.settings import Settings
from backend.storage.base import PushJob, PushSubscription
from backend.storage.push_queue import PushQueue
from backend.storage.sqlite import SqliteStorage


def _job(sub_id: str, topic: str, payload: str, due: int = 10) -> PushJob:
    return PushJob(sub_id, topic, payload, "high", 60, due, due)


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[PushQueue]:
    made = PushQueue(tmp_path / "push.db")
    yield made
    made.close()


def test_the_push_queue_coalesces_per_topic_and_keeps_a_row_replaced_while_sending(queue: PushQueue) -> None:
    queue.queue_pushes([_job("s1", "t", "one", due=10)])
    # Same conversation: replaces, keeps due.
    queue.queue_pushes([_job("s1", "t", "two", due=99), _job("s1", "u", "other", due=20)])
    assert queue.next_push_due() == 10
    due = queue.due_pushes(15, 10)
    assert [(j.topic, j.payload, j.version) for j in due] == [("t", "two", 2)]
    with queue.transaction():
        queue.queue_pushes([_job("s1", "t", "three")])  # arrives while "two" is being sent
        queue.pushes_sent(due, now_ms=15, gap_ms=100)
    assert queue.last_pushes_sent(["s1", "s9"], "t") == {"s1": 15} and queue.last_pushes_sent(["s1"], "u") == {}
    waiting = [(j.topic, j.payload, j.due) for j in queue.due_pushes(1000, 10)]
    assert waiting == [("u", "other", 20), ("t", "three", 115)]
    job = queue.due_pushes(1000, 10)[1]
    with queue.transaction():
        queue.pushes_sent([job], now_ms=200, gap_ms=100)
        queue.retry_push(queue.due_pushes(1000, 10)[0], 500)
    assert [(j.topic, j.due, j.attempts) for j in queue.due_pushes(1000, 10)] == [("u", 500, 1)]
    queue.drop_push(queue.due_pushes(1000, 10)[0])
    assert queue.next_push_due() is None


def test_queued_pushes_names_who_waits_on_a_topic_and_a_sent_mark_for_a_fresh_row_keeps_a_replaced_one(
    queue: PushQueue,
) -> None:
    queue.queue_pushes([_job("s1", "t", "one"), _job("s2", "u", "other")])
    assert queue.queued_pushes(["s1", "s2", "s3"], "t") == {"s1"}
    assert queue.queued_pushes([], "t") == set()
    # The sender marks a row it had from memory (sender.py, Rule 6) by a fresh row's version: that
    # row goes; s1's row, replaced by a newer notice, stays and waits for the gap.
    offered = _job("s3", "t", "fresh")
    with queue.transaction():
        queue.queue_pushes([offered, _job("s1", "t", "newer")])
        queue.pushes_sent([offered, _job("s1", "t", "one")], now_ms=15, gap_ms=100)
    waiting = [(j.subscription, j.payload, j.due) for j in queue.due_pushes(1000, 10)]
    assert waiting == [("s2", "other", 10), ("s1", "newer", 115)]


def test_a_forgotten_subscription_leaves_no_rows_or_marks(queue: PushQueue) -> None:
    queue.queue_pushes([_job("s1", "t", "one"), _job("s1", "u", "two"), _job("s2", "t", "three")])
    queue.pushes_sent([_job("s1", "t", "one")], now_ms=20, gap_ms=100)
    queue.forget("s1")
    assert [j.subscription for j in queue.due_pushes(10**15, 10)] == ["s2"]
    assert queue.last_pushes_sent(["s1"], "t") == {}


def test_the_position_is_kept_and_a_rollback_keeps_neither_rows_nor_position(queue: PushQueue) -> None:
    assert queue.position() is None
    queue.set_position(5)
    with pytest.raises(RuntimeError), queue.transaction():
        queue.queue_pushes([_job("s1", "t", "one")])
        queue.set_position(9)
        raise RuntimeError("a crash before the commit")
    assert queue.position() == 5 and queue.next_push_due() is None


#: The queue's tables as teamtalk.db held them before push.db (schema version 4).
_OLD_QUEUE = """
CREATE TABLE push_queue (
    subscription TEXT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    topic TEXT NOT NULL, payload TEXT NOT NULL, urgency TEXT NOT NULL, ttl INTEGER NOT NULL,
    due INTEGER NOT NULL, first INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (subscription, topic)
) WITHOUT ROWID;
CREATE INDEX push_queue_by_due ON push_queue (due);
CREATE TABLE push_sent (
    subscription TEXT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    topic TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (subscription, topic)
) WITHOUT ROWID;
"""


def _old_data_dir(data: Path) -> None:
    """A data dir as an older version left it: a queued push, a sent mark and the position in teamtalk.db."""
    store = SqliteStorage(data / "teamtalk.db")
    with store.transaction():
        store.add_push_subscription(PushSubscription("s1", "u1", "d1", "https://push.example/1", "k", "a", "en", 1))
        store.set_setting("push_seq", "42")
    store.close()
    db = sqlite3.connect(data / "teamtalk.db", isolation_level=None)
    db.executescript(_OLD_QUEUE)
    db.execute("INSERT INTO push_queue VALUES ('s1', 't', 'waiting', 'high', 60, 10, 10, 2, 3)")
    db.execute("INSERT INTO push_sent VALUES ('s1', 'u', 7)")
    db.close()


def _tables(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()


def test_a_queue_left_in_teamtalk_db_moves_to_push_db_when_the_server_starts(tmp_path: Path) -> None:
    _old_data_dir(tmp_path)
    services = build_services(Settings(data_dir=tmp_path, frontend_dir=tmp_path / "no-frontend"))
    try:
        queue = services.followers.queue
        assert [(j.subscription, j.topic, j.payload, j.attempts, j.version) for j in queue.due_pushes(10**15, 9)] == [
            ("s1", "t", "waiting", 2, 3)
        ]
        assert queue.last_pushes_sent(["s1"], "u") == {"s1": 7}
        assert queue.position() == 42  # the producer resumes where it was, not at the head
        assert services.store.get_setting("push_seq") is None
    finally:
        services.close()
    assert not {"push_queue", "push_sent"} & _tables(tmp_path / "teamtalk.db")


def test_moving_the_old_queue_again_after_a_crash_half_way_changes_nothing(tmp_path: Path) -> None:
    _old_data_dir(tmp_path)
    queue = PushQueue(tmp_path / "push.db")
    try:
        assert queue.adopt(str(tmp_path / "teamtalk.db")) == 1
        before = queue.due_pushes(10**15, 9)
        # A kill -9 after push.db committed and before teamtalk.db dropped its tables: moved again.
        _old_data_dir(tmp_path)
        queue.set_position(50)  # the producer ran on meanwhile: the old position must not win
        assert queue.adopt(str(tmp_path / "teamtalk.db")) == 1
        assert queue.due_pushes(10**15, 9) == before and queue.position() == 50
        assert queue.adopt(str(tmp_path / "teamtalk.db")) == 0  # nothing left to move
    finally:
        queue.close()
