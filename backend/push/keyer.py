"""Pre-keys push subscriptions in the sender's idle time (ece.py, Rule 2).

Rule 1. Only idle time: the keyer makes slots while nothing is in flight and the producer has
        derived all it was told of (``busy`` says otherwise), one subscription at a time (~0.6
        ms of CPU), and looks again before the next. It must stop at once when a message comes:
        a thread that computes holds the GIL for up to the switch interval (5 ms) every time the
        producer's thread comes back from SQLite, which cost the first push of a message 250 ms.
        A push finds its slot ready or makes its own key on its path as before: slots change
        how soon a push leaves, never whether it does.
Rule 2. Which subscriptions: the newest ece.KEY_CACHE when the sender starts and every
        RESCAN_S after (new devices), and each one right after a push used its slot.
Rule 3. A slot is used once (ece.py takes it out), so each push still has its own ephemeral
        key; the CPU is the same per push, only spent before the message instead of after it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from backend.push import ece
from backend.push.ece import Encrypter
from backend.storage.base import PushSubscription, Storage

log = logging.getLogger("teamtalk.push")

CHUNK = 1
RESCAN_S = 30.0
#: While pushes are in flight, how often to look whether they are done.
BUSY_WAIT_S = 0.02


class Keyer:
    def __init__(self, store: Storage, encrypter: Encrypter, busy: Callable[[], bool]) -> None:
        self.store = store
        self.encrypter = encrypter
        self._busy = busy
        #: subscription id -> (p256dh, auth): what needs slots, oldest wish first.
        self._wanted: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._scanned = 0.0
        self._thread = threading.Thread(target=self._run, name="push-keyer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def used(self, subs: Sequence[PushSubscription]) -> None:
        """Pushes to ``subs`` took (or would have taken) a slot each: make them others (Rule 2).
        Called once per pipeline, not per push: waking this thread cost a push ~5 us."""
        if not subs:
            return
        with self._lock:
            for sub in subs:
                self._wanted[sub.id] = (sub.p256dh, sub.auth)
        self._wake.set()

    def _scan(self) -> None:
        subs = self.store.newest_push_subscriptions(ece.KEY_CACHE)
        with self._lock:
            for sub in reversed(subs):  # oldest first: the newest stay in the encrypter's cache
                self._wanted.setdefault(sub.id, (sub.p256dh, sub.auth))
        self._scanned = time.monotonic()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                if time.monotonic() - self._scanned >= RESCAN_S:
                    self._scan()
                self._key_while_idle()
            except Exception:
                log.exception("pre-keying push subscriptions failed; pushes make their own keys")
            self._wake.wait(RESCAN_S)
            self._wake.clear()

    def _key_while_idle(self) -> None:
        """Make slots, CHUNK subscriptions at a time, while the sender is idle (Rule 1)."""
        while not self._stopping.is_set():
            if self._busy():
                self._stopping.wait(BUSY_WAIT_S)
                continue
            with self._lock:
                chunk = [self._wanted.popitem(last=False) for _ in range(min(CHUNK, len(self._wanted)))]
            if not chunk:
                return
            for sub_id, (p256dh, auth) in chunk:
                try:
                    self.encrypter.prepare(p256dh, auth)
                except ece.UnusableKeys:
                    log.info("subscription %s has unusable keys; not pre-keyed", sub_id)
