"""Tokens and ids the server mints: ulids, device ids, secrets and their stored hashes.

Record-id rules shared with clients live in sync_protocol.collections, not here.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(now_ms: int | None = None) -> str:
    """A ULID: 48-bit ms timestamp + 80 random bits, Crockford base32, sortable by time."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def device_id() -> str:
    """Short, HLC-safe ([0-9a-z]) and unguessable enough to never collide in one workspace."""
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(value: str) -> str:
    """Tokens are stored only as hashes, so a leaked database does not leak live sessions."""
    return hashlib.sha256(value.encode()).hexdigest()
