"""Preparing a push: its target (the endpoint checked and split), its aes128gcm body (ece.py) and
its headers with the VAPID ``Authorization`` (sender.py, Rule 4), each cached where pushes share it.

The sender (sender.py) decides when and what to send, and records how it went; this says what
one push looks like on the wire, or why it is not sent (the ``Outcome`` it gets instead).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Literal, NamedTuple
from urllib.parse import urlsplit

from py_vapid import Vapid02

from backend.push import ece, rules
from backend.push.ece import Encrypter
from backend.push.keys import VapidKeys
from backend.settings import Settings
from backend.storage.base import PushJob, PushSubscription

log = logging.getLogger("teamtalk.push")

JWT_LIFETIME_S = 12 * 3600
MAX_TARGETS = 100_000
MAX_HEADERS = 1024

#: "vanished": the subscription was removed in teamtalk.db (revoked, signed out) after the row was
#: queued in push.db; its rows and marks are forgotten (sender.py, Rule 2).
Outcome = Literal["sent", "retry", "gone", "drop", "held", "vanished"]


class BadSubscription(ValueError):
    """Keys a push cannot be encrypted for (not a P-256 point, say)."""


class PayloadTooLarge(ValueError):
    """A notice too long for one push (never expected: notices are short)."""


class Request(NamedTuple):
    """A push ready to go: its job and subscription, where it goes, its body and headers."""

    job: PushJob
    sub: PushSubscription
    target: Target
    body: bytes
    headers: dict[str, str]


class Target(NamedTuple):
    """An endpoint, checked and split once: the connection's origin, the path, the VAPID audience."""

    origin: tuple[str, str, int | None]
    path: str
    audience: str


class Preparer:
    def __init__(
        self, keys: VapidKeys, settings: Settings, encrypter: Encrypter, visible: Callable[[str], bool]
    ) -> None:
        self.settings = settings
        self.visible = visible
        self._encrypter = encrypter
        self._vapid = Vapid02.from_raw(keys.private_raw.encode())
        self._jwts: dict[str, tuple[float, str]] = {}
        self._jwt_lock = threading.Lock()
        self._targets: dict[str, Target] = {}
        #: (Authorization, Urgency, Topic, TTL) -> the headers of the pushes that share them.
        self._headers: dict[tuple[str, str, str, int], dict[str, str]] = {}
        #: (scheme, authority) of the endpoints that passed rules.check_endpoint.
        self._safe: set[tuple[str, str]] = set()

    def prepare(self, job: PushJob, sub: PushSubscription | None) -> tuple[Outcome, int] | Request:
        """A push's request, or its outcome when it is not to be sent."""
        if sub is None:
            return "vanished", 0
        if self.visible(sub.device):
            return "held", 0  # Rule 3
        try:
            target = self.target(sub.endpoint)
        except rules.UnsafeEndpoint as exc:
            log.warning("not sending to subscription %s: %s", sub.id, exc)
            return "gone", 0
        try:
            body, headers = self.request(sub, job, target)
        except BadSubscription as exc:
            log.warning("subscription %s has unusable keys (%s); removed", sub.id, exc)
            return "gone", 0
        except PayloadTooLarge as exc:
            log.warning("push for subscription %s not sent: %s", sub.id, exc)
            return "drop", 0
        return Request(job, sub, target, body, headers)

    def target(self, endpoint: str) -> Target:
        """Where a push to ``endpoint`` goes, checked (rules.py, Rule 5: a pure function of the
        endpoint's scheme and authority and the settings, so its answer is kept per endpoint,
        and a passed check per push service: every device has an endpoint of its own, and the
        check's IP parsing cost a first push to each ~80 us)."""
        found = self._targets.get(endpoint)
        if found is None:
            try:
                parts = urlsplit(endpoint)
            except ValueError as exc:
                raise rules.UnsafeEndpoint("the push endpoint is not a valid URL") from exc
            service = (parts.scheme, parts.netloc)
            if service not in self._safe:
                rules.check_endpoint(endpoint, self.settings.push_services, self.settings.push_test_mode)
                if len(self._safe) >= MAX_TARGETS:
                    self._safe.clear()
                self._safe.add(service)
            found = Target(
                (parts.scheme, parts.hostname or "", parts.port),
                parts.path + (f"?{parts.query}" if parts.query else ""),
                f"{parts.scheme}://{parts.netloc}",
            )
            if len(self._targets) >= MAX_TARGETS:
                self._targets.clear()
            self._targets[endpoint] = found
        return found

    def request(self, sub: PushSubscription, job: PushJob, target: Target) -> tuple[bytes, dict[str, str]]:
        """One push's body and headers (Rule 4). Encrypted by ece.py (as pywebpush would, from a
        pre-keyed slot when there is one) and posted by http1.py on this thread's keep-alive
        connection to the push service (http.client cost more than the encryption: bench 9)."""
        payload = job.payload.encode()
        if len(payload) > ece.MAX_PAYLOAD:
            raise PayloadTooLarge(f"{len(payload)} bytes; a push holds at most {ece.MAX_PAYLOAD}")
        try:
            body = self._encrypter.encrypt(payload, sub.p256dh, sub.auth)
        except ece.UnusableKeys as exc:
            raise BadSubscription(str(exc)) from exc
        authorization = self._authorization(target.audience)
        key = (authorization, job.urgency, job.topic, job.ttl)
        headers = self._headers.get(key)
        if headers is None:
            # One mapping per service and conversation, shared by its pushes (and never changed):
            # http1.py encodes it once for all of them.
            headers = {
                "Authorization": authorization,
                "Urgency": job.urgency,
                "Topic": job.topic,
                "TTL": str(job.ttl),
                "Content-Encoding": "aes128gcm",
                "Content-Type": "application/octet-stream",
            }
            if len(self._headers) >= MAX_HEADERS:
                self._headers.clear()
            self._headers[key] = headers
        return body, headers

    def _authorization(self, audience: str) -> str:
        """The VAPID header for an endpoint's origin, signed once per origin and lifetime (Rule 4):
        a push service's pushes share one header for hours."""
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
