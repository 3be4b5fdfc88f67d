"""The server's side of the followers process (followers/__init__.py, Rule 4): start it, tell it
of new heads and visible devices, hear its positions, restart it when it dies, show its lag.

Started lazily: with the first committed message (both followers look at messages only), a
search that waits for the index, a device that subscribes to pushes, or at the server's start
when the log or the push queue holds work for it or devices are subscribed (the push sender
pre-keys them in idle time, push/keyer.py). A fresh server that nobody writes to (most tests,
the CLI's tools) never spawns it.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import msgspec

from backend.feed import Committed, Feed
from backend.followers import Head, Progress, Queued, Urgent, Visible, decode_progress, encode, settings_json
from backend.push.producer import FOLLOWED, start_position
from backend.settings import Settings
from backend.storage.base import Storage
from backend.storage.push_queue import PushQueue

log = logging.getLogger("teamtalk.followers")

#: Restart backoff: doubles from the first to the last; back to the first after a run this long.
BACKOFF_FIRST_S = 0.1
BACKOFF_LAST_S = 10.0
STEADY_S = 30.0
#: Behind the log for this long: a warning in the log (then once per this long while it lasts).
LAG_WARN_S = 10.0
#: A head whose commits hold nothing the followers act on is told at most this late (Rule 2 of
#: followers/__init__.py): with the next line, or when the writer has been idle this long.
HEAD_EVERY_S = 0.25
STOP_WAIT_S = 10.0


class FollowerStatus(msgspec.Struct):
    """What an admin sees at GET /api/admin/followers."""

    running: bool
    pid: int | None
    restarts: int
    head: int
    search_position: int
    search_lag: int
    push_position: int
    push_lag: int
    chain_position: int
    chain_lag: int


class Supervisor:
    def __init__(
        self, store: Storage, feed: Feed, settings: Settings, visible_devices: Callable[[], list[str]]
    ) -> None:
        self.settings = settings
        self.store = store
        self._visible_devices = visible_devices
        self.head = store.log_head()
        #: The positions the process last reported (they only grow: they are stored before reported).
        self.progress = Progress()
        self.restarts = 0
        #: The push queue (push.db): the server reads it here and its calendar reminders queue into
        #: it; the followers process writes it per push. A queue an older version left in
        #: teamtalk.db moves here first (push_queue.py, Rule 5).
        self.queue = PushQueue(settings.push_database)
        moved = self.queue.adopt(str(settings.database))
        if moved:
            log.info("moved %d queued pushes from teamtalk.db to %s", moved, settings.push_database)
        self._push_start = start_position(store, self.queue)  # push producer, Rule 2: from now on, not history
        self._cond = threading.Condition()
        self._proc: subprocess.Popen[bytes] | None = None
        self._armed = False  # the server started (the CLI's tools never spawn it)
        self._wanted = False  # the process should run
        self._stopping = False
        self._sent_head = -1
        #: The head that must be told now: the last commit holding a FOLLOWED change.
        self._followed_head = -1
        #: Head lines written (tests and benchmarks count the followers' wake-ups by it).
        self.heads_told = 0
        self._visible_dirty = True
        self._urgent = False
        self._queued = False
        self._lag_mark: tuple[float, int] | None = None
        self._threads: list[threading.Thread] = []
        self._stop_listening = feed.listen(self._heard)

    # --- what the server says (on its threads: quick, never blocking) --------------------------

    def _heard(self, unit: Committed) -> None:
        """A feed listener (feed.py, Rule 3), on the publishing thread. Only a commit the followers
        act on wakes the writer (Rule 2 of followers/__init__.py): a read cursor, a reaction or a
        task's title would otherwise wake the writer thread here (which takes the event loop's
        GIL), the followers' stdin reader, producer, indexer and reporter, and then this process's
        supervisor thread for their Progress line, all for nothing. The others' head rides with
        the next line, or goes after HEAD_EVERY_S."""
        followed = any(c.collection in FOLLOWED for c in unit.changes)
        with self._cond:
            self.head = max(self.head, unit.last)
            if not followed:
                return
            self._followed_head = max(self._followed_head, unit.last)
            if not self._wanted:
                self._start_locked()
            self._cond.notify_all()

    def visibility_changed(self) -> None:
        """A device came, went, or hid or showed the app (backend/live.py)."""
        with self._cond:
            self._visible_dirty = True
            self._cond.notify_all()

    def urgent(self) -> None:
        """A search waits for the index."""
        with self._cond:
            self._urgent = True
            if not self._wanted:
                self._start_locked()
            self._cond.notify_all()

    def pushes_queued(self) -> None:
        """Push rows were queued by a timer, not by a change (calendar reminders): wake the sender."""
        with self._cond:
            self._queued = True
            if not self._wanted:
                self._start_locked()
            self._cond.notify_all()

    def subscribed(self) -> None:
        """A device subscribed to pushes: run, so the sender pre-keys it (push/keyer.py)."""
        with self._cond:
            if not self._wanted:
                self._start_locked()

    def start(self) -> None:
        """At the server's start: run now if work is waiting (a crash left pushes or changes), or
        if devices are subscribed (the sender pre-keys them in idle time: push/keyer.py)."""
        with self._cond:
            self._armed = True
        due = self.queue.next_push_due()
        subscribed = bool(self.store.newest_push_subscriptions(1))
        if due is not None or self._push_start < self.head or subscribed:
            with self._cond:
                self._start_locked()

    def _start_locked(self) -> None:
        if self._wanted or self._stopping or not self._armed:
            return
        self._wanted = True
        for target, name in ((self._supervise, "followers-supervisor"), (self._write, "followers-writer")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    # --- the process --------------------------------------------------------------------------

    def _spawn(self) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "backend.followers", settings_json(self.settings)]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        # Its first line, before it reads the log: who is looking now (worker.py waits for it), so a
        # change it finds at start is never pushed to a device that has the app open and showing.
        if proc.stdin is not None:
            try:
                proc.stdin.write(encode(Visible(self._visible_list())) + b"\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError):
                pass  # it died at once: the supervisor restarts it
        with self._cond:
            if self._stopping and proc.stdin is not None:
                proc.stdin.close()  # close() came first: let it end at once
            self._proc = proc
            self._sent_head = -1  # a new process hears everything again
            self._visible_dirty = True
            self._cond.notify_all()
        log.info("followers process started (pid %d)", proc.pid)
        return proc

    def _supervise(self) -> None:
        backoff = BACKOFF_FIRST_S
        while True:
            started = time.monotonic()
            proc = self._spawn()
            assert proc.stdout is not None
            for line in proc.stdout:
                try:
                    progress = decode_progress(line)
                except msgspec.DecodeError:
                    log.error("the followers process wrote a line the server cannot read: %r", line[:200])
                    continue
                with self._cond:
                    self.progress = Progress(
                        max(progress.search, self.progress.search),
                        max(progress.push, self.progress.push),
                        max(progress.chain, self.progress.chain),
                    )
                    self._cond.notify_all()
            code = proc.wait()
            with self._cond:
                self._proc = None
                if self._stopping:
                    return
            self.restarts += 1
            if time.monotonic() - started > STEADY_S:
                backoff = BACKOFF_FIRST_S
            log.error("the followers process exited with %s; restarting in %.1f s", code, backoff)
            with self._cond:
                self._cond.wait_for(lambda: self._stopping, backoff)
                if self._stopping:
                    return
            backoff = min(BACKOFF_LAST_S, backoff * 2)

    def _write(self) -> None:
        """Tell the process what changed (followers/__init__.py, Rule 2): the visible devices
        first, so a push is never sent to a device shown before the commit that caused it."""
        while True:
            with self._cond:
                # On a timeout, a head with nothing followed in it goes (HEAD_EVERY_S).
                self._cond.wait_for(self._has_news, timeout=HEAD_EVERY_S)
                if self._stopping:
                    return
                proc = self._proc
                if proc is None or proc.stdin is None:
                    continue
                visible_due, self._visible_dirty = self._visible_dirty, False
                # Only heads committed before the list below is walked: a device that showed the
                # app after this moment and before a later commit is in the next Visible line,
                # which goes before that commit's Head (the next turn of this loop).
                head = self.head
            # Walked outside the lock: the event loop's joins and leaves never wait for it.
            lines = [encode(Visible(self._visible_list()))] if visible_due else []
            with self._cond:
                if self._proc is not proc:  # restarted meanwhile: the new one hears all next time
                    continue
                if self._sent_head < head:
                    self._sent_head = head
                    self.heads_told += 1
                    lines.append(encode(Head(head)))
                if self._urgent:
                    self._urgent = False
                    lines.append(encode(Urgent()))
                if self._queued:
                    self._queued = False
                    lines.append(encode(Queued()))
                self._check_lag()
            if lines:
                try:
                    proc.stdin.write(b"\n".join(lines) + b"\n")
                    proc.stdin.flush()
                except (BrokenPipeError, ValueError, OSError):
                    pass  # it died: the supervisor restarts it, and it hears everything again

    def _has_news(self) -> bool:
        return self._stopping or (
            self._proc is not None
            and (self._visible_dirty or self._urgent or self._queued or self._sent_head < self._followed_head)
        )

    def _visible_list(self) -> list[str]:
        for _ in range(3):
            try:
                return self._visible_devices()
            except RuntimeError:  # the hub changed while we read it (another thread)
                continue
        return []

    def _check_lag(self) -> None:
        """Log when a follower has not reached, LAG_WARN_S later, the head it was behind (Rule 4):
        stuck or slower than the log grows, not merely a commit behind."""
        now = time.monotonic()
        if self._lag_mark is None:
            self._lag_mark = (now, self.head)
            return
        since, head = self._lag_mark
        if now - since < LAG_WARN_S:
            return
        self._lag_mark = (now, self.head)
        if min(self.progress.search, self.progress.push) < head:
            status = self._status_locked()
            log.warning(
                "followers behind the log for %.0f s (head %d): search %d behind, push %d behind",
                now - since,
                status.head,
                status.search_lag,
                status.push_lag,
            )

    # --- what the server asks ----------------------------------------------------------------

    def status(self) -> FollowerStatus:
        with self._cond:
            return self._status_locked()

    def _status_locked(self) -> FollowerStatus:
        proc, progress = self._proc, self.progress
        return FollowerStatus(
            running=proc is not None and proc.poll() is None,
            pid=proc.pid if proc is not None else None,
            restarts=self.restarts,
            head=self.head,
            search_position=progress.search,
            search_lag=max(0, self.head - max(progress.search, 0)),
            push_position=progress.push,
            push_lag=max(0, self.head - max(progress.push, self._push_start)),
            chain_position=progress.chain,
            chain_lag=max(0, self.head - max(progress.chain, 0)),
        )

    def wait_for(self, done: Callable[[Progress], bool], timeout_s: float) -> bool:
        """Block until the reported positions satisfy ``done`` (tools, tests and benchmarks)."""
        with self._cond:
            return self._cond.wait_for(lambda: done(self.progress), timeout_s)

    def close(self) -> None:
        self._stop_listening()
        with self._cond:
            self._stopping = True
            proc = self._proc
            self._cond.notify_all()
        if proc is not None and proc.stdin is not None:
            try:
                proc.stdin.close()  # it finishes what it holds and exits
            except OSError:
                pass
            try:
                proc.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                log.error("the followers process did not stop in %.0f s; killed", STOP_WAIT_S)
                proc.kill()
                proc.wait()
        for thread in self._threads:
            thread.join(timeout=STOP_WAIT_S)
        self.queue.close()
