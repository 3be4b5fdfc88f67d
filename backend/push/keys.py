"""The server's VAPID key pair (RFC 8292): made on first start, kept in the data dir.

Rule 1. The private key is a PEM file readable by the server's user only (0600), written whole
        (a temporary file renamed into place) so a crash never leaves half a key.
Rule 2. The public key is what browsers subscribe with (``applicationServerKey``): base64url of
        the uncompressed P-256 point. Rotating the keys makes every existing subscription
        useless (push services refuse them), so rotation also forgets them (cli.py).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

KEY_FILE = "vapid_private.pem"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class VapidKeys:
    private: ec.EllipticCurvePrivateKey

    @property
    def public_key(self) -> str:
        """The applicationServerKey a browser subscribes with (Rule 2)."""
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64u(raw)

    @property
    def private_raw(self) -> str:
        """The private scalar as base64url: the form pywebpush and py_vapid take."""
        return b64u(self.private.private_numbers().private_value.to_bytes(32, "big"))


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def load_or_create(data_dir: Path) -> VapidKeys:
    """The keys in ``data_dir``, made there on first use (Rule 1)."""
    path = key_path(data_dir)
    if path.exists():
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} does not hold a P-256 key")
        return VapidKeys(loaded)
    return rotate(data_dir)


def rotate(data_dir: Path) -> VapidKeys:
    """Make a new key pair and keep it, replacing any earlier one (Rules 1 and 2)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    keys = VapidKeys(ec.generate_private_key(ec.SECP256R1()))
    pem = keys.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = key_path(data_dir)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(temporary, 0o600)  # O_CREAT's mode is masked by umask; be sure
    os.replace(temporary, path)
    return keys
