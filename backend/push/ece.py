"""Web Push message encryption, ``aes128gcm`` (RFC 8291 over RFC 8188), in one record.

pywebpush does the same through http_ece at ~560 us a push; the sender calls this instead,
because each step here is one call into OpenSSL and the subscription's public key is decoded
once, not per push. The integration tests' push service decrypts every push with http_ece, so
the two must agree.

Rule 1. Every push gets its own ephemeral key pair and salt, as RFC 8291 (3.1) asks: nothing is
        shared between pushes but the subscription's decoded public key.
Rule 2. Everything but the payload may be made ahead, in idle time (~300 us: the ephemeral key
        pair, the ECDH with the subscription's key, the salt, both HKDFs and the record header):
        ``prepare`` keeps up to SLOTS such pre-keyed slots per subscription, and ``encrypt``
        takes one out, so its key pair and salt are used once and never again. The ephemeral
        private key is dropped as soon as the slot is made; slots live in memory only. What is
        left on a push's path is one AES-GCM seal with the slot's key and nonce (~4 us).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
from collections import OrderedDict, deque
from threading import Lock
from typing import NamedTuple

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

#: The record size put in the header: one record holds any payload a push service accepts (4 KB).
RECORD_SIZE = 4096
TAG = 16
#: The longest payload one record holds (its delimiter and the AES-GCM tag take the rest).
MAX_PAYLOAD = RECORD_SIZE - 1 - TAG
KEY_CACHE = 10_000
#: Pre-keyed slots per subscription (Rule 2): a burst gives a device at most a few pushes.
SLOTS = 2
_CURVE = ec.SECP256R1()
_RAW = (Encoding.X962, PublicFormat.UncompressedPoint)


class UnusableKeys(ValueError):
    """Keys a push cannot be encrypted for."""


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, hashlib.sha256)


class Slot(NamedTuple):
    """One push's keys, made ahead (Rule 2): the RFC 8188 header (fresh salt, record size, the
    ephemeral public key), and the content key (as a ready AES-GCM) and nonce derived from them."""

    header: bytes
    aead: AESGCM
    nonce: bytes


class Encrypter:
    """Encrypts payloads for subscriptions; keeps the last KEY_CACHE subscriptions' decoded keys
    and their pre-keyed slots (Rule 2)."""

    def __init__(self) -> None:
        self._keys: OrderedDict[tuple[str, str], tuple[ec.EllipticCurvePublicKey, bytes, bytes]] = OrderedDict()
        self._slots: dict[tuple[str, str], deque[Slot]] = {}
        self._lock = Lock()

    def _key(self, p256dh: str, auth: str) -> tuple[ec.EllipticCurvePublicKey, bytes, bytes]:
        with self._lock:
            found = self._keys.get((p256dh, auth))
            if found is not None:
                self._keys.move_to_end((p256dh, auth))
                return found
        try:
            raw, secret = _unb64(p256dh), _unb64(auth)
            key = ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, raw)
        except (ValueError, TypeError) as exc:
            raise UnusableKeys(f"not a P-256 public key: {exc}") from None
        if len(secret) != 16:
            raise UnusableKeys("the auth secret is not 16 bytes")
        with self._lock:
            self._keys[(p256dh, auth)] = (key, raw, secret)
            while len(self._keys) > KEY_CACHE:
                self._slots.pop(self._keys.popitem(last=False)[0], None)
        return key, raw, secret

    @staticmethod
    def _agree(ua_key: ec.EllipticCurvePublicKey, ua_public: bytes, auth_secret: bytes) -> Slot:
        """A fresh ephemeral key pair and salt, and the keys they give with the subscription (RFC
        8291, 3.3-3.4, then RFC 8188, 2.2-2.3); the ephemeral private key goes out of scope here
        (Rule 2)."""
        ephemeral = ec.generate_private_key(_CURVE)
        as_public = ephemeral.public_key().public_bytes(*_RAW)
        shared = ephemeral.exchange(ec.ECDH(), ua_key)
        prk_key = _hmac(auth_secret, shared)
        ikm = _hmac(prk_key, b"WebPush: info\x00" + ua_public + as_public + b"\x01")
        salt = os.urandom(16)
        prk = _hmac(salt, ikm)
        cek = _hmac(prk, b"Content-Encoding: aes128gcm\x00\x01")[:16]
        nonce = _hmac(prk, b"Content-Encoding: nonce\x00\x01")[:12]
        header = salt + struct.pack("!IB", RECORD_SIZE, len(as_public)) + as_public
        return Slot(header, AESGCM(cek), nonce)

    def prepare(self, p256dh: str, auth: str, slots: int = SLOTS) -> int:
        """Make the subscription's pre-keyed slots up to ``slots`` (Rule 2); returns how many were
        made (raises UnusableKeys for keys no push can be encrypted for)."""
        ua_key, ua_public, auth_secret = self._key(p256dh, auth)
        made = 0
        while True:
            with self._lock:
                if (p256dh, auth) not in self._keys:
                    return made  # evicted meanwhile: its slots would never be found
                ready = self._slots.setdefault((p256dh, auth), deque())
                if len(ready) >= slots:
                    return made
            slot = self._agree(ua_key, ua_public, auth_secret)
            with self._lock:
                ready.append(slot)
            made += 1

    def prepared(self, p256dh: str, auth: str) -> int:
        """How many pre-keyed slots the subscription has now."""
        with self._lock:
            return len(self._slots.get((p256dh, auth), ()))

    def _take(self, p256dh: str, auth: str) -> Slot | None:
        with self._lock:
            ready = self._slots.get((p256dh, auth))
            return ready.popleft() if ready else None  # out of the deque: used once (Rule 1)

    def encrypt(self, payload: bytes, p256dh: str, auth: str) -> bytes:
        """The request body for one push: the RFC 8188 header (salt, record size, the sender's
        ephemeral public key) and the single encrypted record."""
        if len(payload) > MAX_PAYLOAD:
            raise ValueError(f"a push payload holds at most {MAX_PAYLOAD} bytes")
        slot = self._take(p256dh, auth)
        if slot is None:  # none made ahead: agree on a key now (Rule 2)
            slot = self._agree(*self._key(p256dh, auth))
        header, aead, nonce = slot
        return header + aead.encrypt(nonce, payload + b"\x02", None)  # 0x02: the last record
