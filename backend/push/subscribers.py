"""People's push subscriptions as the push producer reads them: kept in memory between messages.

Rule 1. A message's audience is every subscribed device of its channel's members (1,000 devices in
        bench 9). Reading those rows back for every message cost its first push 5-13 ms in the
        followers process (issue 10, bench 9's trace), so they are kept, by person, and read
        again only when the table changed: the store bumps a version with every insert, update
        and delete of a subscription, in the same transaction (sqlite_push.py, Rule 5). The
        version is read before the rows it keeps (both outside the producer's write transaction,
        producer.py, Rule 8): rows are never older than the version they are kept under, so a
        change made between the two reads costs one more read, never a stale row.
Rule 2. At most MAX_PEOPLE people are kept; past that the memory starts again (a server with that
        many people pays one read per person as before).
"""

from __future__ import annotations

from collections.abc import Sequence

from backend.storage.base import PushSubscription, Storage

MAX_PEOPLE = 100_000


class Subscribers:
    def __init__(self, store: Storage) -> None:
        self.store = store
        self._version: int | None = None
        self._by_person: dict[str, list[PushSubscription]] = {}

    def of(self, people: Sequence[str]) -> dict[str, list[PushSubscription]]:
        """Each of ``people`` who has subscriptions -> them, oldest first (callers must not change
        the lists). Reads the version before the rows (Rule 1)."""
        version = self.store.push_subscriptions_version()
        if version != self._version:
            self._by_person.clear()
            self._version = version
        missing = [person for person in dict.fromkeys(people) if person not in self._by_person]
        if missing:
            if len(self._by_person) + len(missing) > MAX_PEOPLE:
                self._by_person.clear()
                missing = list(dict.fromkeys(people))
            found: dict[str, list[PushSubscription]] = {person: [] for person in missing}
            for sub in self.store.push_subscriptions_of(missing):
                found[sub.user_id].append(sub)
            self._by_person.update(found)
        by_person = self._by_person
        return {person: by_person[person] for person in people if by_person[person]}
