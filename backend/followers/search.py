"""The server's side of the search index: it reads ``search.db``; the followers process writes it.

Searching is the indexer's own (``SearchIndex.search``, on a read-only connection); only the
waiting changes (search_index.py, Rule 2): instead of the indexer thread's position in memory,
the position the followers process reported after committing it (followers/__init__.py, Rule 3).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from backend.feed import Feed
from backend.followers.supervisor import Supervisor
from backend.search_index import SearchIndex

#: How often a waiting search looks at the reported position.
POLL_S = 0.002


class RemoteSearchIndex(SearchIndex):
    def __init__(self, feed: Feed, index: Path, followers: Supervisor) -> None:
        self._followers = followers
        super().__init__(feed, index)
        # The base class listens to start its thread with the first message: not here (a call per
        # commit on the sync path for nothing).
        self._stop_listening()

    @property
    def indexed(self) -> int:
        return self._followers.progress.search

    def _ensure_started(self) -> None:
        """No indexer thread here: the followers process indexes (and starts with the first message)."""

    def poke(self, urgent: bool = False) -> None:
        if urgent:
            self._followers.urgent()

    async def caught_up(self, seq: int, timeout_s: float = 10.0) -> bool:
        if seq <= 0 or self.indexed >= seq:
            return True
        self.poke(urgent=True)
        deadline = time.monotonic() + timeout_s
        while self.indexed < seq:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(POLL_S)
        return True

    def wait(self, seq: int, timeout_s: float) -> bool:
        if seq <= 0:
            return True
        self.poke(urgent=True)
        return self._followers.wait_for(lambda progress: progress.search >= seq, timeout_s)
