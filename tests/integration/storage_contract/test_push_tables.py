"""Web Push subscriptions and the queue (sqlite_push.py's rules)."""

from __future__ import annotations

from backend.storage.base import (
    Account,
    DeviceSession,
    PushJob,
    PushSubscription,
    Storage,
)


def _sub(sub_id: str, device: str, user: str = "u1", endpoint: str | None = None) -> PushSubscription:
    return PushSubscription(sub_id, user, device, endpoint or f"https://push.example/{sub_id}", "key", "auth", "en", 1)


def _job(sub_id: str, topic: str, payload: str, due: int = 10) -> PushJob:
    return PushJob(sub_id, topic, payload, "high", 60, due, due)


def test_one_push_subscription_per_device_and_endpoint(store: Storage) -> None:
    with store.transaction():
        store.add_account(Account("u1", "a@b.c", "Ada", "owner", "hash", 1))
        store.add_session(DeviceSession("d1", "u1", "Phone", 1, 1), "t1")
        store.add_session(DeviceSession("d2", "u1", "Laptop", 1, 1), "t2")
        store.add_push_subscription(_sub("s1", "d1"))
        store.add_push_subscription(_sub("s2", "d2"))
        store.add_push_subscription(_sub("s3", "d1"))  # the browser rotated d1's subscription
        store.add_push_subscription(_sub("s4", "d3", user="u2", endpoint="https://push.example/s2"))
    assert [s.id for s in store.push_subscriptions_of(["u1"])] == ["s3"]
    assert [s.id for s in store.push_subscriptions_of(["u1", "u2"])] == ["s3", "s4"]
    assert store.push_subscription("s1") is None and store.push_subscription("s3") == _sub("s3", "d1")
    found = store.push_subscriptions(["s1", "s3", "s4", "s3"])
    assert found == {"s3": _sub("s3", "d1"), "s4": store.push_subscription("s4")}
    with store.transaction():
        store.revoke_session("d1")  # signing a device out revokes its subscription
        store.remove_push_subscription("s4")
    assert store.push_subscriptions_of(["u1", "u2"]) == []


def test_the_newest_push_subscriptions_come_first(store: Storage) -> None:
    with store.transaction():
        for i, made in enumerate((30, 10, 20)):
            store.add_push_subscription(
                PushSubscription(f"s{i}", "u1", f"d{i}", f"https://p.example/{i}", "k", "a", "en", made)
            )
    assert [s.id for s in store.newest_push_subscriptions(2)] == ["s0", "s2"]
    assert [s.id for s in store.newest_push_subscriptions(10)] == ["s0", "s2", "s1"]


def test_the_push_queue_coalesces_per_topic_and_keeps_a_row_replaced_while_sending(store: Storage) -> None:
    with store.transaction():
        store.add_push_subscription(_sub("s1", "d1"))
        store.queue_pushes([_job("s1", "t", "one", due=10)])
        # Same conversation: replaces, keeps due.
        store.queue_pushes([_job("s1", "t", "two", due=99), _job("s1", "u", "other", due=20)])
    assert store.next_push_due() == 10
    due = store.due_pushes(15, 10)
    assert [(j.topic, j.payload, j.version) for j in due] == [("t", "two", 2)]
    with store.transaction():
        store.queue_pushes([_job("s1", "t", "three")])  # arrives while "two" is being sent
        store.pushes_sent(due, now_ms=15, gap_ms=100)
    assert store.last_pushes_sent(["s1", "s9"], "t") == {"s1": 15} and store.last_pushes_sent(["s1"], "u") == {}
    waiting = [(j.topic, j.payload, j.due) for j in store.due_pushes(1000, 10)]
    assert waiting == [("u", "other", 20), ("t", "three", 115)]
    job = store.due_pushes(1000, 10)[1]
    with store.transaction():
        store.pushes_sent([job], now_ms=200, gap_ms=100)
        store.retry_push(store.due_pushes(1000, 10)[0], 500)
    assert [(j.topic, j.due, j.attempts) for j in store.due_pushes(1000, 10)] == [("u", 500, 1)]
    with store.transaction():
        store.drop_push(store.due_pushes(1000, 10)[0])
    assert store.next_push_due() is None


def test_queued_pushes_names_who_waits_on_a_topic_and_a_sent_mark_for_a_fresh_row_keeps_a_replaced_one(
    store: Storage,
) -> None:
    with store.transaction():
        for i in (1, 2, 3):
            store.add_push_subscription(_sub(f"s{i}", f"d{i}"))
        store.queue_pushes([_job("s1", "t", "one"), _job("s2", "u", "other")])
    assert store.queued_pushes(["s1", "s2", "s3"], "t") == {"s1"}
    assert store.queued_pushes([], "t") == set()
    # The sender marks a row it had from memory (sender.py, Rule 6) by a fresh row's version: that
    # row goes; s1's row, replaced by a newer notice, stays and waits for the gap.
    offered = _job("s3", "t", "fresh")
    with store.transaction():
        store.queue_pushes([offered, _job("s1", "t", "newer")])
        store.pushes_sent([offered, _job("s1", "t", "one")], now_ms=15, gap_ms=100)
    waiting = [(j.subscription, j.payload, j.due) for j in store.due_pushes(1000, 10)]
    assert waiting == [("s2", "other", 10), ("s1", "newer", 115)]


def test_a_push_marked_sent_after_its_subscription_was_removed_does_not_fail_the_others(store: Storage) -> None:
    with store.transaction():
        store.add_push_subscription(_sub("s1", "d1"))
        store.add_push_subscription(_sub("s2", "d2"))
        store.queue_pushes([_job("s1", "t", "one"), _job("s2", "t", "two")])
    in_flight = store.due_pushes(1000, 10)
    with store.transaction():
        store.remove_push_subscription("s1")  # the device signed out while its push was in flight
    with store.transaction():
        store.pushes_sent(in_flight, now_ms=20, gap_ms=100)
    assert store.last_pushes_sent(["s1", "s2"], "t") == {"s2": 20} and store.next_push_due() is None


def test_removing_a_subscription_removes_its_queued_pushes(store: Storage) -> None:
    with store.transaction():
        store.add_push_subscription(_sub("s1", "d1"))
        store.queue_pushes([_job("s1", "t", "one")])
        store.remove_push_subscription("s1")
    assert store.due_pushes(10**15, 10) == []
    with store.transaction():
        store.add_push_subscription(_sub("s2", "d2"))
        store.queue_pushes([_job("s2", "t", "one")])
        store.clear_push_subscriptions()
    assert store.push_subscriptions_of(["u1"]) == [] and store.due_pushes(10**15, 10) == []


def test_every_change_to_a_subscription_moves_the_version(store: Storage) -> None:
    seen = [store.push_subscriptions_version()]

    def moved() -> bool:
        seen.append(store.push_subscriptions_version())
        return seen[-1] != seen[-2]

    with store.transaction():
        store.add_account(Account("u1", "a@b.c", "Ada", "owner", "hash", 1))
        store.add_session(DeviceSession("d1", "u1", "Phone", 1, 1), "t1")
    assert not moved()  # other tables leave it
    store.add_push_subscription(_sub("s1", "d1"))
    assert moved()
    store.add_push_subscription(_sub("s2", "d1"))  # replaced: the browser rotated it
    assert moved()
    with store.transaction():
        store.queue_pushes([_job("s2", "t", "p")])
    assert not moved()  # the queue leaves it
    store.revoke_session("d1")
    assert moved() and store.push_subscriptions_of(["u1"]) == []
    store.add_push_subscription(_sub("s3", "d1"))
    store.clear_push_subscriptions()
    assert moved()
