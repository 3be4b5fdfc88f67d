"""The push sender: delivers the durable queue with pywebpush, off the sync path.

Rule 1. At least once: a row leaves the queue only after the push service accepted it (2xx).
        A crash between sending and marking sends it again after the restart, with the same
        ``Topic`` and tag, so the device shows one notification.
Rule 2. 429 and 5xx (and a push service that cannot be reached) are retried with jittered
        exponential backoff, never sooner than ``Retry-After``, for up to RETRY_FOR_MS from when
        the row was first queued; then the row is dropped. 404 and 410 remove the subscription
        (and its rows): the browser dropped it. Other 4xx drop the row (logged).
Rule 3. Held back at sending time: a device that has the app open and visible on the live socket
        (it sees the message there). The row is dropped, not delayed.
Rule 4. Every push carries ``aes128gcm`` content, ``TTL``, ``Urgency`` and ``Topic`` (one per
        conversation, so the push service replaces an undelivered older push by a newer one),
        and a VAPID JWT (ES256) for the endpoint's origin, re-signed before it expires.
Rule 5. Sends run on a small pool of threads; the endpoint is checked again (rules.py, Rule 5)
        before every send, so a subscription stored under laxer settings is never called.
"""

from __future__ import annotations

import email.utils
import http.client
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal
from urllib.parse import urlsplit

from py_vapid import Vapid02

from backend.push import rules
from backend.push.keys import VapidKeys
from backend.settings import Settings
from backend.storage.base import PushJob, PushSubscription, Storage

log = logging.getLogger("teamtalk.push")

RETRY_FOR_MS = 24 * 3600 * 1000
BASE_BACKOFF_MS = 1000
MAX_BACKOFF_MS = 3600 * 1000
JWT_LIFETIME_S = 12 * 3600
BATCH = 256
#: Sending threads. Against a real push service they mostly wait on the network; against the
#: benchmark's instant local receiver they compete for the GIL with the event loop that answers
#: syncs (bench 9: 16 threads doubled sync p99 while draining compared with 4-8).
THREADS = 8
SEND_TIMEOUT_S = 10.0

Outcome = Literal["sent", "retry", "gone", "drop", "held"]


def now_ms() -> int:
    return int(time.time() * 1000)


def backoff_ms(attempts: int, retry_after_ms: int | None, rand: Callable[[], float] = random.random) -> int:
    """Jittered exponential backoff (full jitter between half and all of it), never less than
    what the push service asked for (Rule 2)."""
    ceiling = min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** min(attempts, 30))
    wait = int(ceiling * (0.5 + rand() / 2))
    return max(wait, retry_after_ms or 0)


def retry_after_ms(value: str | None, now: float) -> int | None:
    """``Retry-After`` as seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return int(value.strip()) * 1000
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int((when.timestamp() - now) * 1000))


class BadSubscription(ValueError):
    """Keys a push cannot be encrypted for (not a P-256 point, say)."""


class PushSender:
    def __init__(
        self, store: Storage, keys: VapidKeys, settings: Settings, visible: Callable[[str], bool] = lambda d: False
    ) -> None:
        self.store = store
        self.keys = keys
        self.settings = settings
        self.visible = visible
        self._vapid = Vapid02.from_raw(keys.private_raw.encode())
        self._jwts: dict[str, tuple[float, str]] = {}
        self._jwt_lock = threading.Lock()
        self._local = threading.local()  # each sending thread's connections, by origin
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._pool = ThreadPoolExecutor(THREADS, thread_name_prefix="push-send")
        self._thread = threading.Thread(target=self._run, name="push-sender", daemon=True)
        #: Seconds from queueing to the push service's answer, per sent push (the benchmark reads it).
        self.on_sent: Callable[[PushJob, float], None] | None = None

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=15)
        self._pool.shutdown(wait=True, cancel_futures=True)

    # --- the loop -----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                sent = self.run_once()
            except Exception:
                log.exception("the push sender failed; trying again")
                sent = 0
            if sent:
                continue
            with self.store.transaction():
                due = self.store.next_push_due()
            wait = 1.0 if due is None else max(0.0, min(1.0, (due - now_ms()) / 1000))
            self._wake.wait(wait)
            self._wake.clear()

    def run_once(self) -> int:
        """Send what is due now, once; returns how many rows were tried."""
        with self.store.transaction():
            jobs = self.store.due_pushes(now_ms(), BATCH)
            subs = self.store.push_subscriptions([job.subscription for job in jobs])
        if not jobs:
            return 0
        outcomes = list(self._pool.map(lambda job: self._deliver(job, subs.get(job.subscription)), jobs))
        now = now_ms()
        with self.store.transaction():
            self.store.pushes_sent(
                [job for job, (outcome, _) in zip(jobs, outcomes, strict=True) if outcome == "sent"],
                now,
                self.settings.push_gap_ms,
            )
            for job, (outcome, wait) in zip(jobs, outcomes, strict=True):
                if outcome == "sent":
                    continue
                if outcome == "gone":
                    self.store.remove_push_subscription(job.subscription)
                elif outcome == "retry" and now - job.first + wait < RETRY_FOR_MS:
                    self.store.retry_push(job, now + wait)
                else:  # drop, held, or a retry past its day
                    self.store.drop_push(job)
        return len(jobs)

    def _deliver(self, job: PushJob, sub: PushSubscription | None) -> tuple[Outcome, int]:
        if sub is None:
            return "drop", 0
        if self.visible(sub.device):
            return "held", 0  # Rule 3
        try:
            rules.check_endpoint(sub.endpoint, self.settings.push_services, self.settings.push_test_mode)
        except rules.UnsafeEndpoint as exc:
            log.warning("not sending to subscription %s: %s", sub.id, exc)
            return "gone", 0
        try:
            status, retry_after = self.send(sub, job)
        except BadSubscription as exc:
            log.warning("subscription %s has unusable keys (%s); removed", sub.id, exc)
            return "gone", 0
        except (OSError, http.client.HTTPException) as exc:
            log.info("push service unreachable for %s: %s", sub.id, exc)
            return "retry", backoff_ms(job.attempts, None)
        if 200 <= status < 300:
            if self.on_sent is not None:
                self.on_sent(job, time.time() - job.first / 1000)
            return "sent", 0
        if status in (404, 410):
            return "gone", 0
        if status == 429 or status >= 500:
            return "retry", backoff_ms(job.attempts, retry_after)
        log.warning("push service answered %d for subscription %s; dropped", status, sub.id)
        return "drop", 0

    def send(self, sub: PushSubscription, job: PushJob) -> tuple[int, int | None]:
        """One push (Rule 4): the service's status and Retry-After (ms). pywebpush encrypts; the
        request goes out on this thread's keep-alive connection to the push service (requests
        cost three times the encryption per push: bench 8)."""
        from pywebpush import WebPusher, WebPushException  # imported late: it pulls in aiohttp

        info = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
        try:
            body = WebPusher(info).encode(job.payload.encode(), "aes128gcm")["body"]
        except (WebPushException, ValueError) as exc:
            raise BadSubscription(str(exc)) from exc
        headers = {
            "Authorization": self._authorization(sub.endpoint),
            "Urgency": job.urgency,
            "Topic": job.topic,
            "TTL": str(job.ttl),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
        }
        return self._post(sub.endpoint, body, headers)

    def _post(self, endpoint: str, body: bytes, headers: dict[str, str]) -> tuple[int, int | None]:
        parts = urlsplit(endpoint)
        origin = (parts.scheme, parts.hostname or "", parts.port)
        connections: dict[tuple[str, str, int | None], http.client.HTTPConnection] = self._local.__dict__.setdefault(
            "connections", {}
        )
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):  # a kept-alive connection the service closed meanwhile: once more on a new one
            conn = connections.get(origin)
            if conn is None:
                kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
                conn = connections[origin] = kind(origin[1], origin[2], timeout=SEND_TIMEOUT_S)
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                del connections[origin]
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                conn.close()
                del connections[origin]
            return response.status, retry_after_ms(response.getheader("Retry-After"), time.time())
        raise AssertionError("unreachable")

    def _authorization(self, endpoint: str) -> str:
        """The VAPID header for the endpoint's origin, signed once per origin and lifetime (Rule 4)."""
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        with self._jwt_lock:
            cached = self._jwts.get(audience)
            if cached is not None and cached[0] - now > 3600:
                return cached[1]
            expires = int(now) + JWT_LIFETIME_S
            claims = {"aud": audience, "exp": expires, "sub": self.settings.push_contact}
            header = str(self._vapid.sign(claims)["Authorization"])
            self._jwts[audience] = (expires, header)
            return header
