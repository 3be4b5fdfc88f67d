"""A local push service that behaves like a real one, for the push tests.

It hands out subscriptions (an endpoint on itself, a P-256 key pair and an auth secret, as a
browser would get from its push service), and for every push it receives it checks what a real
service checks: the VAPID JWT (ES256 over ``aud`` = the endpoint's origin, ``exp`` within 24 h,
``sub`` set) signed by the key in ``k``, and the ``aes128gcm`` body, which it decrypts with the
subscription's private key. It answers 201 by default; a test scripts other answers (429 with
``Retry-After``, 410, 500) per subscription, or stalls every request until released.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

RAW = (serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscription:
    token: str
    endpoint: str
    private: ec.EllipticCurvePrivateKey
    auth: bytes
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    def json(self, lang: str = "en") -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "lang": lang,
            "keys": {"p256dh": b64u(self.private.public_key().public_bytes(*RAW)), "auth": b64u(self.auth)},
        }


@dataclass
class Received:
    token: str
    status: int
    headers: dict[str, str]
    payload: dict[str, Any]
    at: float
    vapid_key: str
    contact: str


class PushService:
    def __init__(self) -> None:
        self.subscriptions: dict[str, Subscription] = {}
        self.received: list[Received] = []
        self.problems: list[str] = []
        self.cond = threading.Condition()
        self.stalled = threading.Event()
        self.stalled.set()  # set: answer at once; cleared: hold every request until set again
        self.requests = 0
        self._waiting = 0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                service._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stalled.set()
        self.server.shutdown()
        self.server.server_close()

    def subscription(self) -> Subscription:
        token = f"s{len(self.subscriptions) + 1}"
        sub = Subscription(
            token, f"{self.origin}/push/{token}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16)
        )
        self.subscriptions[token] = sub
        return sub

    def answer(self, sub: Subscription, *answers: tuple[int, dict[str, str]]) -> None:
        """The next answers for this subscription, in order (then 201 again)."""
        sub.answers.extend(answers)

    def server_waiting(self) -> int:
        """Requests held by a stall, not answered yet."""
        with self.cond:
            return self._waiting

    def to(self, sub: Subscription, status: int = 201) -> list[Received]:
        with self.cond:
            return [r for r in self.received if r.token == sub.token and r.status == status]

    def wait_for(self, check: Callable[[], bool], timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while not check():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out; received {[(r.token, r.status) for r in self.received]}")
                self.cond.wait(left)
        assert not self.problems, self.problems

    # --- what a real push service checks --------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("content-length") or 0))
        with self.cond:
            self._waiting += 1
        self.stalled.wait()
        with self.cond:
            self._waiting -= 1
        token = request.path.rsplit("/", 1)[-1]
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self.cond:
            self.requests += 1
        sub = self.subscriptions.get(token)
        try:
            if sub is None:
                raise ValueError(f"no subscription {token}")
            key, contact = self._check_vapid(headers.get("authorization", ""))
            if headers.get("content-encoding") != "aes128gcm":
                raise ValueError("content-encoding is not aes128gcm")
            if not headers.get("ttl", "").isdigit():
                raise ValueError("no TTL")
            topic = headers.get("topic", "")
            if not topic or len(topic) > 32:
                raise ValueError(f"bad Topic {topic!r}")
            if headers.get("urgency") not in ("very-low", "low", "normal", "high"):
                raise ValueError("bad Urgency")
            plain = http_ece.decrypt(body, private_key=sub.private, auth_secret=sub.auth, version="aes128gcm")
            payload = json.loads(plain)
        except Exception as exc:  # a problem is a test failure, reported by wait_for
            with self.cond:
                self.problems.append(f"{token}: {exc!r}")
                self.cond.notify_all()
            request.send_response(400)
            request.end_headers()
            return
        status, extra = sub.answers.pop(0) if sub.answers else (201, {})
        with self.cond:
            self.received.append(Received(token, status, headers, payload, time.monotonic(), key, contact))
            self.cond.notify_all()
        request.send_response(status)
        for name, value in extra.items():
            request.send_header(name, value)
        request.send_header("content-length", "0")
        request.end_headers()

    def _check_vapid(self, authorization: str) -> tuple[str, str]:
        scheme, _, params = authorization.partition(" ")
        if scheme != "vapid":
            raise ValueError(f"authorization scheme {scheme!r}")
        values = dict(part.strip().split("=", 1) for part in params.split(","))
        jwt, key = values["t"], values["k"]
        head, claims, signature = jwt.split(".")
        if json.loads(unb64u(head)) != {"typ": "JWT", "alg": "ES256"}:
            raise ValueError("JWT header is not ES256")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64u(key))
        raw = unb64u(signature)
        r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
        public.verify(encode_dss_signature(r, s), f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        body = json.loads(unb64u(claims))
        if body.get("aud") != self.origin:
            raise ValueError(f"aud {body.get('aud')!r} is not {self.origin}")
        if not time.time() < body["exp"] <= time.time() + 24 * 3600:
            raise ValueError("exp is not within 24 h")
        if not body.get("sub"):
            raise ValueError("no sub")
        return key, str(body["sub"])
