"""The followers process: the search indexer and the push producer and sender, following the log
(followers/__init__.py). Run by the server as ``python -m backend.followers SETTINGS_JSON``.

Its stdin carries the server's lines (Rule 2); its stdout carries ``Progress`` (Rule 3); its
stderr is the server's log. It ends when its stdin closes.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import BinaryIO

import msgspec

from backend.followers import Head, Progress, Urgent, Visible, decode_to_followers, encode, settings_from_json
from backend.followers.log_feed import LogFeed
from backend.push import keys as vapid
from backend.push.producer import PushProducer
from backend.push.sender import PushSender
from backend.search_index import SearchIndex
from backend.settings import Settings
from backend.storage.sqlite import SqliteStorage

log = logging.getLogger("teamtalk.followers")

#: How often the positions are looked at to report them: often while a search waits, else seldom.
REPORT_URGENT_S = 0.002
REPORT_IDLE_S = 0.02
URGENT_FOR_S = 2.0
#: The process's CPU priority below the server's: when the cores are busy, a push drain or a
#: reindex yields to the sync path (issue 10: sync p99 while pushes drain within 1.5x of idle).
NICE = 5


class Followers:
    def __init__(self, settings: Settings, out: BinaryIO) -> None:
        self.store = SqliteStorage(settings.database)
        self.feed = LogFeed(self.store)
        self._visible: frozenset[str] = frozenset()
        self.sender = PushSender(self.store, vapid.load_or_create(settings.data_dir), settings, self.visible)
        self.producer = PushProducer(self.store, self.feed, settings, self.sender.wake)
        self.index = SearchIndex(self.feed, settings.data_dir / "search.db")
        self._out = out
        self._stopping = threading.Event()
        self._urgent = threading.Event()
        self._reporter = threading.Thread(target=self._report, name="followers-report", daemon=True)

    def visible(self, device: str) -> bool:
        return device in self._visible

    def start(self) -> None:
        self.producer.start()
        self.sender.start()
        self.index.poke()
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
            self._urgent.set()

    def _report(self) -> None:
        """Write the positions whenever they moved (Rule 3)."""
        last = Progress()
        urgent_until = 0.0
        clock = threading.Event()  # only to sleep on
        while not self._stopping.is_set():
            now = time.monotonic()
            if self._urgent.is_set():
                self._urgent.clear()
                urgent_until = now + URGENT_FOR_S
            progress = Progress(self.index.indexed, self.producer.position)
            if progress != last:
                try:
                    self._out.write(encode(progress) + b"\n")
                    self._out.flush()
                except (BrokenPipeError, ValueError):  # the server is gone: stdin closes next
                    return
                last = progress
            clock.wait(REPORT_URGENT_S if now < urgent_until else REPORT_IDLE_S)

    def close(self) -> None:
        self._stopping.set()
        self.feed.close()
        self.producer.close()
        self.sender.close()
        self.index.close()
        if self._reporter.is_alive():
            self._reporter.join(timeout=5)
        self.store.close()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="followers: %(levelname)s %(name)s: %(message)s")
    if len(argv) != 1:
        print("usage: python -m backend.followers SETTINGS_JSON (the server starts it)", file=sys.stderr)
        return 2
    os.nice(NICE)
    followers = Followers(settings_from_json(argv[0]), sys.stdout.buffer)
    followers.start()
    try:
        for line in sys.stdin.buffer:
            followers.hear(line)
    except KeyboardInterrupt:
        pass
    finally:
        followers.close()
    return 0
