"""A durable follower of the feed in its own thread: the lifecycle the file worker, the calendar
reminders and the push producer share (each supplies only where to resume and one step).

Rule 1. It resumes from a position its owner stores (``resume`` reads it, storing the log's head
        the first time), so what was committed while it was away is still seen, once.
Rule 2. Anything a step raises (a database busy past its timeout, a bug on one odd record) is
        logged; the follower is closed and followed again from the stored position after
        ``retry_s``. Nothing is skipped, and the thread ends only at ``close()``. Resuming can
        fail too, and is retried the same way.
Rule 3. ``close()`` wakes a step waiting in ``take`` or on ``stopping`` and joins the thread.
Rule 4. An owner that acts on a few collections names them (``wakes_for``; feed.py, Rule 7): a
        commit of other things then does not wake its thread, whose step takes it at its own
        ``take`` timeout. Such a step must time out now and then (the file worker's and the
        reminders' do, every IDLE_WAIT_S at most), or its position would lag while nothing it
        acts on is committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from backend.feed import Feed, Follower
from backend.storage.base import Storage

RETRY_S = 1.0


def stored_position(store: Storage, key: str, first_time: Callable[[], None] = lambda: None) -> int:
    """Rule 1: the position stored under ``key``. The first time there is none, it is the log's
    head, stored now, after ``first_time()`` (in the same transaction) set up what the follower
    would otherwise have derived from the history it skips."""
    with store.transaction():
        stored = store.get_setting(key)
        if stored is None:
            stored = str(store.log_head())
            first_time()
            store.set_setting(key, stored)
    return int(stored)


class FollowerThread:
    def __init__(
        self,
        feed: Feed,
        name: str,
        resume: Callable[[], int],
        step: Callable[[Follower], None],
        log: logging.Logger,
        retry_s: float = RETRY_S,
        wakes_for: frozenset[str] | None = None,
    ) -> None:
        self.feed = feed
        self.name = name
        self._resume = resume
        self._step = step
        self._log = log
        self._retry_s = retry_s
        #: The collections the step acts on (Rule 4): other units wait for its take's timeout.
        self._wakes_for = wakes_for
        #: Set by close(); a step that waits (to coalesce, or until something is due) waits on it.
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._follower: Follower | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def follower(self) -> Follower | None:
        """The follower in use now (None before the first resume, and between a failure and the
        next resume)."""
        return self._follower

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> None:
        with self._lock:
            self.stopping.set()
            if self._follower is not None:
                self._follower.close()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _follow(self) -> Follower | None:
        after = self._resume()
        with self._lock:
            if self.stopping.is_set():
                return None
            self._follower = self.feed.follow(after, self._wakes_for)
            return self._follower

    def _run(self) -> None:
        follower: Follower | None = None
        while not self.stopping.is_set():
            try:
                if follower is None:
                    follower = self._follow()
                    if follower is None:
                        return
                self._step(follower)
            except Exception:
                self._log.exception("%s failed; following again from its stored position", self.name)
                if follower is not None:
                    follower.close()
                    follower = self._follower = None
                self.stopping.wait(self._retry_s)
        if follower is not None:
            follower.close()
