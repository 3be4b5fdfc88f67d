"""The push sender on its own (sender.py, Rule 6), against the local push service that checks
VAPID and decrypts every push (push_service.py): what ``offer`` promises the producer, and that
pushes sharing a pipeline keep their own headers; that its marks never hold teamtalk.db's write
lock, and that a queued row whose subscription is gone is dropped unsent (push_queue.py, Rule 1)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.push import keys as vapid
from backend.push.rules import topic
from backend.push.sender import PushSender
from backend.settings import Settings
from backend.storage.base import PushJob, PushSubscription
from backend.storage.push_queue import PushQueue
from backend.storage.sqlite import SqliteStorage
from tests.integration.push_service import PushService, Subscription
from tests.integration.write_lock import can_write


@pytest.fixture
def sender(tmp_path: Path) -> Iterator[tuple[PushSender, SqliteStorage]]:
    store = SqliteStorage(tmp_path / "teamtalk.db")
    queue = PushQueue(tmp_path / "push.db")
    settings = Settings(data_dir=tmp_path, frontend_dir=tmp_path / "none", push_test_mode=True)
    sender = PushSender(store, queue, vapid.load_or_create(tmp_path), settings)
    sender.start()
    yield sender, store
    sender.close()
    queue.close()
    store.close()


def stored(store: SqliteStorage, sub: Subscription, n: int) -> PushSubscription:
    keys = sub.json()["keys"]
    row = PushSubscription(f"sub{n}", "u1", f"device{n}", sub.endpoint, keys["p256dh"], keys["auth"], "en", n)
    store.add_push_subscription(row)
    return row


def job(row: PushSubscription, conversation: str, urgency: str = "high") -> PushJob:
    now = int(time.time() * 1000)
    payload = json.dumps({"title": conversation, "body": "", "tag": conversation, "url": "/", "count": 1})
    return PushJob(row.id, topic(conversation), payload, urgency, 60, now, now)


def test_offer_returns_once_the_sender_has_started_the_rows(
    sender: tuple[PushSender, SqliteStorage], push: PushService
) -> None:
    # The producer writes the rows after ``offer`` returns: by then they are on their way, not
    # waiting for the producer's thread to give up the GIL.
    the_sender, store = sender
    rows = [stored(store, push.subscription(), n) for n in range(40)]
    push.stalled.clear()  # answers held: what was started stays in flight
    the_sender.offer([(job(row, "c:site-a"), row) for row in rows])
    assert len(the_sender._in_flight) == 40
    push.stalled.set()
    push.wait_for(lambda: len(push.received) == 40)


def test_pushes_in_one_pipeline_keep_their_own_topic_urgency_and_payload(
    sender: tuple[PushSender, SqliteStorage], push: PushService
) -> None:
    # A conversation's pushes to one service share their headers (encoded once, http1.py); two
    # conversations in one pipeline must not.
    the_sender, store = sender
    subs = [push.subscription() for _ in range(6)]
    rows = [stored(store, sub, n) for n, sub in enumerate(subs)]
    jobs = [job(row, "c:site-a" if n % 2 else "c:site-b", "high" if n % 2 else "normal") for n, row in enumerate(rows)]
    the_sender.offer(list(zip(jobs, rows, strict=True)))
    push.wait_for(lambda: len(push.received) == 6)
    for n, sub in enumerate(subs):
        got = push.to(sub)[0]
        conversation = "c:site-a" if n % 2 else "c:site-b"
        assert got.headers["topic"] == topic(conversation)
        assert got.headers["urgency"] == ("high" if n % 2 else "normal")
        assert got.payload["tag"] == conversation


def test_an_offer_made_while_the_sender_records_does_not_wait_for_it(
    sender: tuple[PushSender, SqliteStorage], push: PushService
) -> None:
    # The producer offers inside its transaction; a loop storing outcomes waits for that
    # transaction, so the producer must not wait for the loop (it would sit out OFFER_WAIT_S).
    the_sender, store = sender
    first, second = (stored(store, push.subscription(), n) for n in range(2))
    push.stalled.clear()
    the_sender.offer([(job(first, "c:site-a"), first)])
    with the_sender.queue.transaction():  # as the producer's
        push.stalled.set()
        deadline = time.monotonic() + 10
        while not the_sender._recording:  # the answer came; its record waits for this transaction
            assert time.monotonic() < deadline, "the sender never started recording"
            time.sleep(0.001)
        began = time.monotonic()
        the_sender.offer([(job(second, "c:site-b"), second)], wait_s=5.0)
        assert time.monotonic() - began < 1.0
    push.wait_for(lambda: len(push.received) == 2)


def test_the_senders_marks_leave_the_servers_database_free_to_write(
    sender: tuple[PushSender, SqliteStorage], push: PushService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Deterministic: the server's write is tried while the sender is inside its mark's transaction.
    the_sender, store = sender
    row = stored(store, push.subscription(), 0)
    queue = the_sender.queue
    real = queue.pushes_sent
    during: list[tuple[bool, bool]] = []

    def pushes_sent(jobs: list[PushJob], now_ms: int, gap_ms: int) -> None:
        real(jobs, now_ms, gap_ms)
        if jobs:
            during.append((can_write(store.path), can_write(queue.path)))

    monkeypatch.setattr(queue, "pushes_sent", pushes_sent)
    the_sender.offer([(job(row, "c:site-a"), row)])
    push.wait_for(lambda: len(push.received) == 1)
    deadline = time.monotonic() + 10
    while not during:
        assert time.monotonic() < deadline, "the sender never marked the push sent"
        time.sleep(0.005)
    assert during == [(True, False)]  # teamtalk.db free; push.db is the mark's


def test_a_queued_push_whose_subscription_is_gone_is_dropped_unsent(
    sender: tuple[PushSender, SqliteStorage], push: PushService
) -> None:
    # Signing a device out removes its subscription in teamtalk.db; its queued rows are in push.db,
    # in no transaction of the server's: the sender drops them when it reads them.
    the_sender, store = sender
    gone_sub, kept_sub = push.subscription(), push.subscription()
    gone, kept = stored(store, gone_sub, 0), stored(store, kept_sub, 1)
    the_sender.queue.pushes_sent([job(gone, "c:site-b")], now_ms=1, gap_ms=0)  # sent about another conversation
    with store.transaction():
        store.remove_push_subscription(gone.id)
    the_sender.queue.queue_pushes([job(gone, "c:site-a"), job(kept, "c:site-a")])
    the_sender.wake()
    push.wait_for(lambda: len(push.received) == 1)
    deadline = time.monotonic() + 10
    while the_sender.queue.next_push_due() is not None:
        assert time.monotonic() < deadline, "the row of the removed subscription stayed queued"
        time.sleep(0.005)
    assert len(push.to(kept_sub)) == 1 and push.to(gone_sub) == [] and len(push.received) == 1
    assert the_sender.queue.last_pushes_sent([gone.id], topic("c:site-b")) == {}  # its marks forgotten too
