"""The hash chain's follower: keeps the chain's file a moment behind the log (sqlite_chain.py,
Rule 2), on the followers' core rather than the server's event loop (issue 15).

It looks every CHAIN_EVERY_S, not at every commit: nothing waits for it (whoever needs the head
extends the rest), so one look hashes everything committed meanwhile in a few transactions of
the chain's file, and the followers' other threads are not woken more often for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from backend.storage.sqlite_chain import ChainFile

log = logging.getLogger("teamtalk.followers")

CHAIN_EVERY_S = 0.5


class Chainer:
    def __init__(self, chain: ChainFile, moved: Callable[[], None]) -> None:
        """``moved()`` is called when the chain's head has moved (the positions are reported)."""
        self._chain = chain
        self._moved = moved
        #: The chain's head seq (-1: not looked yet).
        self.position = -1
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="followers-chain", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                seq, _ = self._chain.extend()
            except Exception:  # a busy file, a full disk, a gap in the log: said, and looked at again later
                log.exception("the hash chain could not be extended")
            else:
                if seq != self.position:
                    self.position = seq
                    self._moved()
            self._stopping.wait(CHAIN_EVERY_S)

    def close(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
