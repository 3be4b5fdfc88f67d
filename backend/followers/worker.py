"""The followers process: the search indexer, the push producer and sender, and the hash chain,
following the log (followers/__init__.py). Run by the server as ``python -m backend.followers SETTINGS_JSON``.

Its stdin carries the server's lines (Rule 2); its stdout carries ``Progress`` (Rule 3); its
stderr is the server's log. It ends when its stdin closes.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import BinaryIO

import msgspec

from backend.followers import Head, Progress, Queued, Urgent, Visible, decode_to_followers, encode, settings_from_json
from backend.followers.chainer import Chainer
from backend.followers.log_feed import LogFeed
from backend.push import keys as vapid
from backend.push.producer import PushProducer
from backend.push.sender import PushSender
from backend.search_index import SearchIndex
from backend.settings import Settings
from backend.storage.push_queue import PushQueue
from backend.storage.sqlite import SqliteStorage

log = logging.getLogger("teamtalk.followers")

#: The positions are looked at when a follower comes back for more (it is done with what it
#: took), and at least this often.
REPORT_EVERY_S = 1.0
#: Where SCHED_IDLE is missing (not Linux): the process's CPU priority below the server's.
NICE = 5


def yield_to_server() -> str:
    """Put this thread, and so every thread it starts, under SCHED_IDLE (Linux): it runs on any
    CPU time that nothing else wants, and a thread of the server that wakes takes its core at
    once. Returns the policy taken ("idle", or "nice" where SCHED_IDLE is missing).

    Why not a nice value: on EEVDF kernels (Linux 6.6+) a waking task waits for the running
    one's slice to end (~3 ms) whatever their nice values, so during a drain a sync's round
    trip waited behind the push sender on both of its wake-ups (server, then client); nice 5,
    15 and 19 all left the sync p99 at 2-4x of idle (issue 10, bench 9). SCHED_IDLE is the
    one class a waking normal task preempts at once, and the scheduler counts a core that runs
    only SCHED_IDLE work as an idle core when it places a waking task.

    What it costs: the followers' work (pushes, the search index) runs only on CPU time that
    nothing else wants. The server is one Python process, so on the 2+ cores it is meant for
    it leaves a core to the followers; only a machine saturated by other work holds pushes
    back (they stay queued, durable: sender.py Rule 1), and the followers' lag warning says so.

    It also keeps the followers off one core (``keep_off_a_core``): SCHED_IDLE alone is not enough.
    """
    keep_off_a_core()
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return "idle"
    except (AttributeError, OSError):  # no SCHED_IDLE here
        os.nice(NICE)
        return "nice"


def followers_cpus(allowed: set[int]) -> set[int]:
    """The CPUs the followers may use: all that the server may, but the first, where there are two
    or more (``keep_off_a_core``)."""
    return allowed - {min(allowed)} if len(allowed) >= 2 else allowed


def keep_off_a_core() -> set[int] | None:
    """Keep this thread, and so every thread it starts, off the first of the allowed CPUs, so that
    a core never runs followers work. Returns the CPUs left to it (None where affinity is missing).

    Why (issue 10, bench/push_syscalls.py: a trace of every switch, wake-up and system call during
    drains): under SCHED_IDLE the syncs were not held up inside the followers' system calls (none
    ran on a CPU for more than 0.35 ms), but by the scheduler picking a followers thread while a
    server thread was already queued on that CPU. EEVDF picks among the *eligible* tasks, and a
    server thread that ran ahead of its fair share is not eligible for a while, SCHED_IDLE or not;
    the followers thread picked then runs until it blocks (the 32 sending threads hand the GIL to
    each other, so one after another: 0.3-2 ms). A waking thread is preempted for only when it
    wakes. With a core the followers never run on, a server thread that ran there stays there,
    with no followers thread to be picked ahead of it. The followers lose little: their Python
    work holds one GIL, so one core is nearly all they use (a push's ~45 us of CPU either way).
    """
    try:
        allowed = os.sched_getaffinity(0)
    except AttributeError:  # not Linux
        return None
    mine = followers_cpus(allowed)
    if mine != allowed:
        os.sched_setaffinity(0, mine)
    return mine


class Followers:
    def __init__(self, settings: Settings, out: BinaryIO) -> None:
        self.store = SqliteStorage(settings.database)
        self.queue = PushQueue(settings.push_database)  # the producer's and sender's writes: not teamtalk.db's
        self._moved = threading.Event()
        self.feed = LogFeed(self.store, self._moved.set)
        self._visible: frozenset[str] = frozenset()
        self.sender = PushSender(
            self.store, self.queue, vapid.load_or_create(settings.data_dir), settings, self.visible
        )
        # Bounded: only what the server told of, so the visible devices it named first hold (log_feed.py).
        self.producer = PushProducer(
            self.store, self.queue, self.feed.bounded(), settings, self.sender.wake, self.sender.offer
        )
        self.sender.quiet = lambda: self.producer.position >= self.feed.head
        self.index = SearchIndex(self.feed, settings.data_dir / "search.db")
        self.chainer = Chainer(self.feed, self.store.chain_file(), self._moved.set)
        self._out = out
        self._stopping = threading.Event()
        self._reporter = threading.Thread(target=self._report, name="followers-report", daemon=True)

    def visible(self, device: str) -> bool:
        return device in self._visible

    def start(self) -> None:
        self.producer.start()
        self.sender.start()
        self.index.poke()
        self.chainer.start()
        self._reporter.start()

    def hear(self, line: bytes) -> None:
        """One line from the server (Rule 2)."""
        try:
            message = decode_to_followers(line)
        except msgspec.DecodeError:
            log.error("the server sent a line the followers cannot read: %r", line[:200])
            return
        if isinstance(message, Head):
            self.feed.heard(message.seq)
        elif isinstance(message, Visible):
            self._visible = frozenset(message.devices)
        elif isinstance(message, Urgent):
            self.index.poke(urgent=True)
        elif isinstance(message, Queued):
            self.sender.wake()

    def _report(self) -> None:
        """Write the positions whenever they moved (Rule 3): woken when a follower comes back for
        more, which it does right after storing (and noting) its new position."""
        last = Progress()
        while not self._stopping.is_set():
            self._moved.wait(REPORT_EVERY_S)
            self._moved.clear()
            progress = Progress(self.index.indexed, self.producer.position, self.chainer.position)
            if progress == last:
                continue
            try:
                self._out.write(encode(progress) + b"\n")
                self._out.flush()
            except (BrokenPipeError, ValueError):  # the server is gone: stdin closes next
                return
            last = progress

    def close(self) -> None:
        self._stopping.set()
        self._moved.set()
        self.feed.close()
        self.producer.close()
        self.sender.close()
        self.index.close()
        self.chainer.close()
        if self._reporter.is_alive():
            self._reporter.join(timeout=5)
        self.queue.close()
        self.store.close()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="followers: %(levelname)s %(name)s: %(message)s")
    if len(argv) != 1:
        print("usage: python -m backend.followers SETTINGS_JSON (the server starts it)", file=sys.stderr)
        return 2
    yield_to_server()
    followers = Followers(settings_from_json(argv[0]), sys.stdout.buffer)
    followers.hear(sys.stdin.buffer.readline())  # the visible devices, before any push is made
    followers.start()
    try:
        for line in sys.stdin.buffer:
            followers.hear(line)
    except KeyboardInterrupt:
        pass
    finally:
        followers.close()
    return 0
