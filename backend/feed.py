"""The feed of committed changes: the one way anything hears what the change log gained.

After each commit the sync service publishes what it committed, once. Live fan-out
(backend/live.py) and the search indexer (backend/search_index.py) subscribe; push
notifications, reminders and webhooks will. ``Feed`` is the seam: ``InProcessFeed`` serves the
embedded server, and in scale-out a message bus carries the same units between processes (NATS
JetStream: the log as a stream, ``listen`` a plain subscription, ``follow`` a durable pull
consumer whose start sequence is the follower's own position).

Rule 1. A unit (``Committed``) is what one push (or one server write) committed: its changes in
        ``seq`` order, with no other change between them; per scope the head before them
        (``prev``, what live frames say); the people whose memberships changed (``members``:
        their devices' subscriptions change); and the device that pushed (``origin``). A push
        that committed nothing publishes nothing.
Rule 2. Units are delivered in ``seq`` order, each once. A unit published early (two threads'
        commits finishing their after-commit steps in the other order) waits for the ones
        before it. If a gap stays open longer than GAP_WAIT_S (a commit that published nothing:
        a bug, logged) the next publish reads the missing changes from the log (Rule 5).
Rule 3. A listener (``listen``) hears units from the moment it subscribes, on the publisher's
        thread, in order. It must be quick (hand work to a queue, never block) and never makes
        the publisher fail: its errors are logged. Live fan-out listens: a socket does not
        outlive the process, so it never needs the past.
Rule 4. A follower (``follow(after)``) names the last ``seq`` it has processed and takes units
        on its own thread: first what the log holds after ``after`` (read back through
        ``Storage.changes_since``), then what is published, with no gap and no duplicate.
        Publishing never waits for a follower: its inbox holds at most INBOX_LIMIT changes;
        past that the inbox is dropped and the follower reads those changes from the log.
Rule 5. Units read back from the log carry the same changes in the same order, in pages rather
        than per commit: ``origin`` is None, ``members`` is empty and ``prev`` names only the
        scopes whose previous head the feed saw published. These are facts of the moment of a
        push; a subscriber that needs them listens (a bus that stores whole units may replay
        them in full).
Rule 6. A follower's position is its own to keep. Storing it in the same transaction as the
        effects of the units it has processed (the search index does) makes each change take
        effect exactly once across restarts.
Rule 7. A follower may name the collections it acts on (``follow(after, wakes_for)``). Every
        unit is still queued in its inbox (its position must pass the units it ignores, or it
        would read them back from the log), but only a unit holding a change of one of those
        collections wakes it, or an inbox past WAKE_CHANGES. The others are taken with the next
        unit that wakes it, or when its ``take`` times out: late by at most that timeout, never
        lost (Rule 4). Why: a read cursor woke the file worker and the calendar reminders at
        every commit, ~3 wake-ups each of a thread that takes the GIL and preempts the event
        loop, to skip it (issue 10, bench/README.md "twelfth pass").
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

import msgspec

from backend.storage.base import Storage
from sync_protocol.wire import Change

log = logging.getLogger("teamtalk.feed")

GAP_WAIT_S = 1.0
INBOX_LIMIT = 50_000
PAGE = 2000
#: Changes in an inbox that wake its follower whatever they are (Rule 7): one page to take.
WAKE_CHANGES = PAGE


class Committed(msgspec.Struct, frozen=True):
    """What one commit added to the log (Rule 1)."""

    changes: list[Change]
    prev: dict[str, int] = {}
    members: list[str] = []
    origin: str | None = None

    @property
    def first(self) -> int:
        return self.changes[0].seq

    @property
    def last(self) -> int:
        return self.changes[-1].seq


Listener = Callable[[Committed], None]


class Follower(Protocol):
    """A subscriber that resumes (Rule 4): ``take`` on its own thread, ``close`` when done.
    ``take`` returns what is there when ``timeout_s`` passes (Rule 7: units that did not wake it)."""

    @property
    def position(self) -> int: ...
    def take(self, timeout_s: float, limit: int = PAGE) -> list[Committed]: ...
    def close(self) -> None: ...


class Feed(Protocol):
    def publish(self, unit: Committed) -> None: ...
    def listen(self, listener: Listener) -> Callable[[], None]: ...
    def follow(self, after: int, wakes_for: frozenset[str] | None = None) -> Follower: ...


class InProcessFeed:
    """The feed inside one server process; the log in ``store`` is its memory (Rules 2, 4, 5)."""

    def __init__(self, store: Storage) -> None:
        self.store = store
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._followers: list[_InboxFollower] = []
        #: The last seq delivered; a unit up to it is a duplicate (Rule 2). Whatever the log held
        #: before the feed started is there for followers to read.
        self._head = store.log_head()
        self._held: dict[int, Committed] = {}
        self._gap_since: float | None = None
        #: Per scope, the last seq delivered: the ``prev`` of changes read back from the log.
        self._scope_heads: dict[str, int] = {}

    def publish(self, unit: Committed) -> None:
        if not unit.changes:
            return
        with self._lock:
            if unit.last <= self._head:
                return
            self._held[unit.first] = unit
            self._deliver_held()
            if not self._held:
                self._gap_since = None
                return
            now = time.monotonic()
            if self._gap_since is None:
                self._gap_since = now
            elif now - self._gap_since > GAP_WAIT_S:
                log.error("changes after seq %d were committed but not published here; reading them back", self._head)
                self._fill_gap()

    def _deliver_held(self) -> None:
        head = self._head
        while (unit := self._held.pop(head + 1, None)) is not None:
            self._deliver(unit)
            head = unit.last
            self._head = head
        for first in [first for first, unit in self._held.items() if unit.last <= head]:
            del self._held[first]

    def _fill_gap(self) -> None:
        upto = min(self._held) - 1
        while self._head < upto:
            changes = self.store.changes_since(self._head, min(PAGE, upto - self._head))
            if not changes:
                break
            self._deliver(self.read_back(self._head, changes))
            self._head = changes[-1].seq
        self._gap_since = None
        self._deliver_held()

    def read_back(self, after: int, changes: list[Change]) -> Committed:
        """Changes read from the log after ``after`` as a unit (Rule 5). A scope's ``prev`` is
        known when everything up to ``after`` has been delivered: then the scope's last delivered
        change is the one before its first change here."""
        prev: dict[str, int] = {}
        seen: set[str] = set()
        with self._lock:
            for change in changes if after <= self._head else ():
                if change.scope in seen:
                    continue
                seen.add(change.scope)
                known = self._scope_heads.get(change.scope)
                # Delivered up to ``known`` and nothing of this scope since: it is the head before.
                if known is not None and known < change.seq:
                    prev[change.scope] = known
        return Committed(changes, prev)

    def _deliver(self, unit: Committed) -> None:
        for change in unit.changes:
            self._scope_heads[change.scope] = change.seq
        for listener in list(self._listeners):
            try:
                listener(unit)
            except Exception:
                log.exception("a feed listener failed (the changes are committed)")
        followers = list(self._followers)
        # Rule 7: the unit's collections, once for every follower that names its own.
        collections = {c.collection for c in unit.changes} if any(f.wakes_for is not None for f in followers) else set()
        for follower in followers:
            follower.offer(unit, follower.wakes_for is None or not collections.isdisjoint(follower.wakes_for))

    def listen(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def stop() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return stop

    def follow(self, after: int, wakes_for: frozenset[str] | None = None) -> Follower:
        follower = _InboxFollower(self, after, wakes_for)
        with self._lock:
            self._followers.append(follower)
        return follower

    def _forget(self, follower: _InboxFollower) -> None:
        with self._lock:
            if follower in self._followers:
                self._followers.remove(follower)


class _InboxFollower:
    """Rule 4: units published since ``follow`` wait in an inbox; anything the inbox lacks is read
    from the log, on the follower's thread."""

    def __init__(self, feed: InProcessFeed, after: int, wakes_for: frozenset[str] | None = None) -> None:
        self._feed = feed
        #: The collections whose changes wake it; None: every unit (Rule 7).
        self.wakes_for = wakes_for
        self._position = after
        self._inbox: deque[Committed] = deque()
        self._size = 0
        self._ready = threading.Condition()
        #: True once a read of the log came back short: every later change reaches the inbox.
        self._inbox_complete = False
        self._drops = 0
        self._closed = False
        #: Times a publisher woke it (tests and benchmarks count Rule 7 by it).
        self.wakes = 0

    @property
    def position(self) -> int:
        return self._position

    def offer(self, unit: Committed, wake: bool = True) -> None:
        """On the publisher's thread: queue the unit, or drop the inbox when full (Rule 4); wake
        the follower when ``wake`` or the inbox holds WAKE_CHANGES (Rule 7)."""
        with self._ready:
            if self._closed or unit.last <= self._position:
                return
            self._inbox.append(unit)
            self._size += len(unit.changes)
            if self._size > INBOX_LIMIT:
                self._inbox.clear()
                self._size = 0
                self._inbox_complete = False
                self._drops += 1
                wake = True
            if wake or self._size >= WAKE_CHANGES:
                self.wakes += 1
                self._ready.notify_all()

    def take(self, timeout_s: float, limit: int = PAGE) -> list[Committed]:
        """The next units after ``position`` (at least one change, about ``limit`` at most), waiting
        up to ``timeout_s`` for one; ``position`` moves past them. Empty on timeout or close."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._ready:
                if self._closed:
                    return []
                taken = self._from_inbox(limit)
                if taken:
                    return taken
                from_log = not (self._inbox_complete and not self._inbox)
                upto = self._inbox[0].first - 1 if self._inbox else None
            if from_log and (read := self._from_log(limit, upto)):
                return read
            with self._ready:
                if self._closed:
                    return []
                if self._inbox and self._inbox[0].first <= self._position + 1:
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                # A gap the log did not fill yet is looked at again soon; otherwise a unit wakes us.
                self._ready.wait(min(left, 0.05) if self._inbox else left)

    def _from_inbox(self, limit: int) -> list[Committed]:
        while self._inbox and self._inbox[0].last <= self._position:
            self._size -= len(self._inbox.popleft().changes)
        taken: list[Committed] = []
        count = 0
        while self._inbox and self._inbox[0].first == self._position + 1 and (not taken or count < limit):
            unit = self._inbox.popleft()
            self._size -= len(unit.changes)
            taken.append(unit)
            count += len(unit.changes)
            self._position = unit.last
        return taken

    def _from_log(self, limit: int, upto: int | None) -> list[Committed]:
        with self._ready:
            start, drops = self._position, self._drops
        want = limit if upto is None else min(limit, upto - start)
        if want <= 0:
            return []
        changes = self._feed.store.changes_since(start, want)
        with self._ready:
            if self._position != start:  # closed, or another thread took meanwhile
                return []
            # Short: the log had nothing more, so what comes next reaches the inbox (unless the
            # inbox was dropped while we read).
            if len(changes) < want and upto is None and drops == self._drops:
                self._inbox_complete = True
            if not changes:
                return []
            self._position = changes[-1].seq
        return [self._feed.read_back(start, changes)]

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._inbox.clear()
            self._ready.notify_all()
        self._feed._forget(self)
