"""The feed as the followers process sees it: the log itself, read after a wake-up.

``LogFeed`` is a ``Feed`` (backend/feed.py) with nothing published in this process: every unit is
read back from the log (feed.py, Rule 5: the same changes in the same order, in pages; no
``origin``, ``members`` or ``prev``, which neither the indexer nor the push producer needs). The
server's ``Head`` lines only say when to look (followers/__init__.py, Rule 2); a follower that
heard nothing still looks every POLL_S, so a lost line delays, never loses, a change.

A bounded follower (``LogFeed.bounded()``, the push producer's) takes only what the server told
of: the server names the devices showing the app before each head it announces, so a commit read
from the log before its ``Head`` line could otherwise be pushed to a device that was already
showing it when it was committed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from backend.feed import PAGE, Committed, Listener
from backend.storage.base import Storage
from sync_protocol.wire import Change

#: How often a follower reads the log when no wake-up came.
POLL_S = 1.0


class LogFeed:
    def __init__(self, store: Storage, taking: Callable[[], None] = lambda: None) -> None:
        """``taking()`` is called whenever a follower asks for more: it has finished with what
        it took before, so its position (stored with its effects) may have moved."""
        self.store = store
        self._taking = taking
        self._cond = threading.Condition()
        #: The greatest head the server told of.
        self._head = 0
        self._closed = False
        #: The last page read (after, changes): the indexer and the producer read the same one.
        self._page: tuple[int, list[Change]] | None = None

    def heard(self, head: int) -> None:
        """On the stdin reader's thread: the log reached ``head``; wake the followers behind it."""
        with self._cond:
            if head > self._head:
                self._head = head
                self._cond.notify_all()

    @property
    def head(self) -> int:
        return self._head

    def read(self, after: int, limit: int) -> list[Change]:
        """The log after ``after``, at most ``limit``. The followers mostly ask for the same page
        one after the other: the last page read is given again while it is whole (``limit``
        long, or reaching the head the server told of). The log only grows, so a page once read
        stays a true prefix of it (a redaction since is followed in the log by the change that
        wiped, which both followers apply)."""
        with self._cond:
            page, head = self._page, self._head
        if page is not None and page[0] == after and page[1]:
            changes = page[1]
            if len(changes) >= limit or changes[-1].seq >= head:
                return changes[:limit]
        changes = self.store.changes_since(after, limit)
        with self._cond:
            self._page = (after, changes)
        return changes

    def publish(self, unit: Committed) -> None:
        raise RuntimeError("the followers process only reads the log; the server publishes")

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Nothing is published here, so a listener never hears anything."""
        return lambda: None

    def follow(self, after: int, wakes_for: frozenset[str] | None = None) -> LogFollower:
        """``wakes_for`` (feed.py, Rule 7) is the server's to apply: it tells of heads only for
        commits the followers act on (followers/__init__.py, Rule 2)."""
        return LogFollower(self, after)

    def bounded(self) -> BoundedFeed:
        """This feed for a follower that may act only on commits the server told of."""
        return BoundedFeed(self)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wake_all(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _wait(self, position: int, timeout_s: float) -> None:
        """Wait until the server tells of a head past ``position``, or the time passes."""
        with self._cond:
            if self._head <= position and not self._closed:
                self._cond.wait(timeout_s)


class BoundedFeed:
    """A ``LogFeed`` whose followers never pass the head the server told of (module doc)."""

    def __init__(self, feed: LogFeed) -> None:
        self._feed = feed

    def publish(self, unit: Committed) -> None:
        self._feed.publish(unit)

    def listen(self, listener: Listener) -> Callable[[], None]:
        return self._feed.listen(listener)

    def follow(self, after: int, wakes_for: frozenset[str] | None = None) -> LogFollower:
        return LogFollower(self._feed, after, bounded=True)


class LogFollower:
    """A durable follower (feed.py, Rule 4) that reads every unit from the log."""

    def __init__(self, feed: LogFeed, after: int, bounded: bool = False) -> None:
        self._feed = feed
        self._position = after
        self._closed = False
        self._bounded = bounded

    @property
    def position(self) -> int:
        return self._position

    def take(self, timeout_s: float, limit: int = PAGE) -> list[Committed]:
        self._feed._taking()
        deadline = time.monotonic() + timeout_s
        while not self._closed:
            changes = self._feed.read(self._position, limit)
            if self._bounded:
                head = self._feed.head
                if changes and changes[-1].seq > head:
                    changes = [c for c in changes if c.seq <= head]
            if changes:
                self._position = changes[-1].seq
                return [Committed(changes)]
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            if self._feed.head > self._position:
                # Told of a head our read did not see yet (not expected: the head is sent after
                # the commit): look again shortly rather than spin.
                time.sleep(min(left, 0.002))
                continue
            self._feed._wait(self._position, min(left, POLL_S))
        return []

    def close(self) -> None:
        self._closed = True
        self._feed.wake_all()
