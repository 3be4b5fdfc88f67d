"""What one push (or one server write) has written so far, until it is published.

Rules:

Rule 1. The unit published after COMMIT is exactly what the push logged: its changes in ``seq``
        order, each scope's head before them (live frames say ``prev``), and the people whose
        memberships changed.
Rule 2. Live equals pull. A delete wipes fields (``wipe_on_delete``) and redacts them from every
        earlier logged change of the record; the changes this push logged before the wipe are
        redacted the same way before they are published, so a socket never carries what a pull of
        the same ``seq`` no longer returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import attrgetter

import msgspec

from backend.feed import Committed
from sync_protocol.wire import Change

_SEQ = attrgetter("seq")


class PushBatch:
    def __init__(self, origin: str) -> None:
        self.origin = origin
        #: Each scope's head before this push's first change to it (the service fills it in).
        self.heads: dict[str, int] = {}
        self.members: set[str] = set()
        self._changes: list[Change] = []
        #: Called once per change a push writes: the list's own append (no Python frame per change).
        self.wrote: Callable[[Change], None] = self._changes.append
        #: (collection, id) -> (the wipe's seq, the fields it wiped)
        self._wiped: dict[tuple[str, str], tuple[int, frozenset[str]]] = {}
        self._unit: Committed | None = None

    def memberships_changed(self, people: Iterable[str]) -> None:
        self.members.update(people)

    def wiped(self, collection: str, record_id: str, names: Iterable[str], seq: int) -> None:
        self._wiped[(collection, record_id)] = (seq, frozenset(names))

    def committed(self) -> Committed | None:
        """The unit to publish (Rule 1), redacted as a pull would return it (Rule 2); made once
        (the feed and the pushing device's reply share it), after the push has written all."""
        if not self._changes:
            return None
        if self._unit is None:
            # Without a wipe nothing is redacted: only the order is needed (a C key, no call per change).
            redacted = (self._redacted(c) for c in self._changes) if self._wiped else self._changes
            changes = sorted(redacted, key=_SEQ)
            self._unit = Committed(changes, self.heads, sorted(self.members), self.origin)
        return self._unit

    def _redacted(self, change: Change) -> Change:
        wipe = self._wiped.get((change.collection, change.id))
        if wipe is None or change.seq >= wipe[0]:
            return change
        kept = {k: v for k, v in change.fields.items() if k not in wipe[1] or v is None}
        return change if len(kept) == len(change.fields) else msgspec.structs.replace(change, fields=kept)
