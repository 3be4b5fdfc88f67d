"""ece.py: what the sender encrypts decrypts with http_ece (as a browser would), whether its key
agreement was made on the push's path or ahead in a pre-keyed slot, and a slot is used once."""

from __future__ import annotations

import base64

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from backend.push import ece
from backend.push.ece import Encrypter

PAYLOAD = b'{"title": "New message in #site-a", "body": "Ada: the crane arrives at 9"}'


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Browser:
    """A subscription's private side, as the browser holds it."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.auth = bytes(range(16))
        self.p256dh = b64u(self.private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))

    def decrypt(self, body: bytes) -> bytes:
        plain: bytes = http_ece.decrypt(body, private_key=self.private, auth_secret=self.auth, version="aes128gcm")
        return plain

    def keys(self) -> tuple[str, str]:
        return self.p256dh, b64u(self.auth)


def ephemeral_key(body: bytes) -> bytes:
    """The sender's public key in the RFC 8188 header (salt 16, record size 4, length 1)."""
    return body[21 : 21 + body[20]]


def test_a_push_encrypted_on_its_path_decrypts() -> None:
    browser = Browser()
    assert browser.decrypt(Encrypter().encrypt(PAYLOAD, *browser.keys())) == PAYLOAD


def test_pre_keyed_slots_decrypt_and_each_is_used_once() -> None:
    browser, encrypter = Browser(), Encrypter()
    assert encrypter.prepare(*browser.keys()) == ece.SLOTS
    assert encrypter.prepare(*browser.keys()) == 0  # full: nothing more is made
    bodies = [encrypter.encrypt(PAYLOAD, *browser.keys()) for _ in range(ece.SLOTS + 2)]
    assert encrypter.prepared(*browser.keys()) == 0
    assert [browser.decrypt(body) for body in bodies] == [PAYLOAD] * len(bodies)
    # Every push has its own ephemeral key and salt, from a slot or not (RFC 8291, 3.1; RFC 8188,
    # 2.1): a slot holds its salt and derived keys, and is used once.
    assert len({ephemeral_key(body) for body in bodies}) == len(bodies)
    assert len({body[:16] for body in bodies}) == len(bodies)


def test_slots_belong_to_their_subscription() -> None:
    ada, bob, encrypter = Browser(), Browser(), Encrypter()
    encrypter.prepare(*ada.keys())
    assert encrypter.prepared(*bob.keys()) == 0
    assert bob.decrypt(encrypter.encrypt(PAYLOAD, *bob.keys())) == PAYLOAD
    assert encrypter.prepared(*ada.keys()) == ece.SLOTS


def test_keys_no_push_can_be_encrypted_for_are_refused() -> None:
    with pytest.raises(ece.UnusableKeys):
        Encrypter().prepare(b64u(b"\x04" + bytes(64)), b64u(bytes(16)))
    with pytest.raises(ece.UnusableKeys):
        Encrypter().prepare(Browser().p256dh, b64u(bytes(8)))
