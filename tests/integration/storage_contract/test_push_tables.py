"""Web Push subscriptions (sqlite_push.py's rules; the queue in push.db: test_push_queue_file.py)."""

from __future__ import annotations

from backend.storage.base import (
    Account,
    DeviceSession,
    PushSubscription,
    Storage,
)


def _sub(sub_id: str, device: str, user: str = "u1", endpoint: str | None = None) -> PushSubscription:
    return PushSubscription(sub_id, user, device, endpoint or f"https://push.example/{sub_id}", "key", "auth", "en", 1)


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
    store.revoke_session("d1")
    assert moved() and store.push_subscriptions_of(["u1"]) == []
    store.add_push_subscription(_sub("s3", "d1"))
    store.clear_push_subscriptions()
    assert moved()
