"""The hash chain's follower: keeps the chain's file a moment behind the log (sqlite_chain.py,
Rule 2), on the followers' core rather than the server's event loop (issue 15).

A durable follower of the feed like the others here (following.py): the chain's file is its
position, so it resumes by extending the chain to the log's head. After a unit wakes it, it waits
CHAIN_EVERY_S and takes what came meanwhile, so one extension hashes many commits in a few
transactions of the file. Nothing waits for it: whoever needs the head extends the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from backend.feed import Feed, Follower
from backend.following import FollowerThread
from backend.storage.sqlite_chain import ChainFile

log = logging.getLogger("teamtalk.followers")

CHAIN_EVERY_S = 0.5
#: How long a take waits for a unit before the step comes round again.
IDLE_WAIT_S = 1.0


class Chainer:
    def __init__(self, feed: Feed, chain: ChainFile, moved: Callable[[], None]) -> None:
        """``moved()`` is called when the chain's head has moved (the positions are reported)."""
        self._chain = chain
        self._moved = moved
        #: The chain's head seq (-1: not looked yet).
        self.position = -1
        self._thread = FollowerThread(feed, "followers-chain", self._resume, self._step, log)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._thread.close()

    def _resume(self) -> int:
        """The chain's file is the position: bring it to the log's head and follow from there."""
        self._at(self._chain.extend()[0])
        return self.position

    def _step(self, follower: Follower) -> None:
        if not follower.take(IDLE_WAIT_S):
            return
        self._thread.stopping.wait(CHAIN_EVERY_S)
        while follower.take(0):  # what was committed meanwhile
            pass
        self._at(self._chain.extend(follower.position)[0])

    def _at(self, seq: int) -> None:
        if seq != self.position:
            self.position = seq
            self._moved()
