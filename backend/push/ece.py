"""Web Push message encryption, ``aes128gcm`` (RFC 8291 over RFC 8188), in one record.

pywebpush does the same through http_ece at ~560 us a push; the sender calls this instead (~250
us under the same load, bench 9), because each step here is one call into OpenSSL and the
subscription's public key is decoded once, not per push. Nothing is shared between pushes but
that decoded key: every push gets its own ephemeral key pair and salt, as RFC 8291 (3.1) asks.
The integration tests' push service decrypts every push with http_ece, so the two must agree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
from collections import OrderedDict
from threading import Lock

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

#: The record size put in the header: one record holds any payload a push service accepts (4 KB).
RECORD_SIZE = 4096
TAG = 16
#: The longest payload one record holds (its delimiter and the AES-GCM tag take the rest).
MAX_PAYLOAD = RECORD_SIZE - 1 - TAG
KEY_CACHE = 10_000
_CURVE = ec.SECP256R1()
_RAW = (Encoding.X962, PublicFormat.UncompressedPoint)


class UnusableKeys(ValueError):
    """Keys a push cannot be encrypted for."""


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, hashlib.sha256)


class Encrypter:
    """Encrypts payloads for subscriptions; keeps the last KEY_CACHE subscriptions' decoded keys."""

    def __init__(self) -> None:
        self._keys: OrderedDict[tuple[str, str], tuple[ec.EllipticCurvePublicKey, bytes, bytes]] = OrderedDict()
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
                self._keys.popitem(last=False)
        return key, raw, secret

    def encrypt(self, payload: bytes, p256dh: str, auth: str) -> bytes:
        """The request body for one push: the RFC 8188 header (salt, record size, the sender's
        ephemeral public key) and the single encrypted record."""
        if len(payload) > MAX_PAYLOAD:
            raise ValueError(f"a push payload holds at most {MAX_PAYLOAD} bytes")
        ua_key, ua_public, auth_secret = self._key(p256dh, auth)
        ephemeral = ec.generate_private_key(_CURVE)
        as_public = ephemeral.public_key().public_bytes(*_RAW)
        shared = ephemeral.exchange(ec.ECDH(), ua_key)
        # RFC 8291, 3.3-3.4: the input keying material from the shared secret and the auth secret.
        prk_key = _hmac(auth_secret, shared)
        ikm = _hmac(prk_key, b"WebPush: info\x00" + ua_public + as_public + b"\x01")
        # RFC 8188, 2.2-2.3: content key and nonce from a fresh salt.
        salt = os.urandom(16)
        prk = _hmac(salt, ikm)
        cek = _hmac(prk, b"Content-Encoding: aes128gcm\x00\x01")[:16]
        nonce = _hmac(prk, b"Content-Encoding: nonce\x00\x01")[:12]
        record = AESGCM(cek).encrypt(nonce, payload + b"\x02", None)  # 0x02: the last record
        return salt + struct.pack("!IB", RECORD_SIZE, len(as_public)) + as_public + record
