"""A channel whose members each have one push subscription, written straight into a store: what
the push producer's tests start from."""

from __future__ import annotations

from collections.abc import Sequence

from backend.storage.base import PushSubscription, StoredRecord
from backend.storage.sqlite import SqliteStorage
from sync_protocol.merge import RecordState


def seed_room(store: SqliteStorage, room: str, people: Sequence[str]) -> None:
    """Create ``room`` (public, named site-a) with ``people`` as members, person n subscribed from
    device ``dev{n}``. Call it inside the store's transaction."""
    store.put_record("channels", room, StoredRecord(room, RecordState({"name": "site-a", "kind": "public"})))
    for n, person in enumerate(people):
        store.set_membership(room, person, True)
        sub = PushSubscription(f"sub{n}", person, f"dev{n}", f"https://push.example/{n}", "k", "a", "en", n)
        store.add_push_subscription(sub)
