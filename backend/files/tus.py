"""The tus 1.0 wire details (https://tus.io/protocols/resumable-upload), without I/O: headers the
server sends, and parsers for the ones it receives. uploads.py applies them; http/files.py
carries them.

Rule 1. Every answer but OPTIONS carries ``Tus-Resumable: 1.0.0``; a request naming another
        version is refused with 412 and ``Tus-Version``.
Rule 2. ``Upload-Metadata`` is ``key base64,key base64``: keys are ASCII without spaces or commas,
        values base64 (standard alphabet, padding optional). Unknown keys are ignored.
Rule 3. ``Upload-Checksum`` is ``<algorithm> <base64 digest>`` of the PATCH body alone
        (the checksum extension); sha1 and sha256 are supported.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

VERSION = "1.0.0"
EXTENSIONS = "creation,termination,checksum"
CHECKSUM_ALGORITHMS = ("sha1", "sha256")
OFFSET_TYPE = "application/offset+octet-stream"
#: 460 Checksum Mismatch is the checksum extension's own status.
CHECKSUM_MISMATCH = 460


class TusError(Exception):
    """A request that breaks the tus rules: status, the error code, a sentence."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail


def parse_metadata(header: str | None) -> dict[str, str]:
    """Rule 2. Values must be UTF-8 text here (every key TeamTalk reads is text)."""
    found: dict[str, str] = {}
    if not header:
        return found
    for pair in header.split(","):
        key, _, value = pair.strip().partition(" ")
        if not key:
            raise TusError(400, "bad_request", "Upload-Metadata: a pair without a key")
        try:
            raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
            found[key] = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise TusError(400, "bad_request", f"Upload-Metadata: the value of {key!r} is not base64 UTF-8") from None
    return found


def encode_metadata(values: dict[str, str]) -> str:
    """The inverse of parse_metadata (clients and tests)."""
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())


def parse_int(name: str, value: str | None) -> int:
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 18:
        raise TusError(400, "bad_request", f"{name} must be a non-negative integer")
    return int(value)


def parse_checksum(header: str | None) -> tuple[Any, bytes] | None:
    """Rule 3: a fresh hash object of the named algorithm and the digest it must reach."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise TusError(400, "bad_request", f"Upload-Checksum: unsupported algorithm {algorithm!r}")
    try:
        expected = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise TusError(400, "bad_request", "Upload-Checksum: the digest is not base64") from None
    return hashlib.new(algorithm), expected


def check_version(header: str | None) -> None:
    """Rule 1 (OPTIONS is exempt: it is how a client learns the version)."""
    if header != VERSION:
        raise TusError(412, "tus_version", f"Tus-Resumable must be {VERSION}")
