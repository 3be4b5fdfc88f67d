"""Where file bytes live: a BlobStore, addressed by the SHA-256 of the bytes.

Rule 1. A blob's name is its lowercase hex SHA-256; the same bytes are stored once, whoever
        sent them. Names are checked against DIGEST before they touch a path.
Rule 2. A blob appears whole or not at all: bytes are written to a temporary file in the store,
        fsynced, then renamed into place, and the directory is fsynced. A crash leaves at most a
        temporary file, which ``sweep_temporary`` removes.
Rule 3. The store does not check digests: whoever puts a blob has verified it (uploads.py
        hashes every byte it received). Derived blobs (thumbnails) live under their own keys
        (``<digest>.<variant>``) and are deleted with their blob.

``LocalBlobStore`` (the default) keeps blobs in ``<data>/blobs/ab/cd/<digest>``. An
S3-compatible store (scale-out) implements the same protocol: ``put_file`` becomes a multipart
upload, ``read`` a ranged GET.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from sync_protocol.collections_files import DIGEST

CHUNK = 256 * 1024
_VARIANT = re.compile(r"\A[a-z0-9-]{1,32}\Z")


class BlobStore(Protocol):
    def has(self, key: str) -> bool: ...
    def size(self, key: str) -> int | None: ...
    def put_file(self, key: str, source: Path) -> None:
        """Move ``source`` (a file on the same machine, already fsynced) in as ``key``."""
        ...

    def put_bytes(self, key: str, data: bytes) -> None: ...
    def read(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        """The bytes of ``key`` from ``start``, ``length`` of them (all when None), in chunks."""
        ...

    def path(self, key: str) -> Path | None:
        """A local path to read the blob from, when the store has one (previews open it)."""
        ...

    def delete(self, key: str) -> None:
        """Delete the blob and its derived blobs; deleting what is absent is no error."""
        ...


def derived_key(digest: str, variant: str) -> str:
    return f"{digest}.{variant}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = root / "tmp"
        self._tmp.mkdir(exist_ok=True)

    def _path(self, key: str) -> Path:
        digest, _, variant = key.partition(".")
        if not DIGEST.match(digest) or (variant and not _VARIANT.match(variant)):
            raise ValueError(f"not a blob key: {key!r}")  # Rule 1: never a path from outside
        return self.root / digest[:2] / digest[2:4] / key

    def path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.exists() else None

    def has(self, key: str) -> bool:
        return self._path(key).exists()

    def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def put_file(self, key: str, source: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)  # Rule 2: same file system, atomic
        _fsync_dir(target.parent)

    def put_bytes(self, key: str, data: bytes) -> None:
        fd, name = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            self.put_file(key, Path(name))
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise

    def read(self, key: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        with self._path(key).open("rb") as source:
            source.seek(start)
            left = length
            while left is None or left > 0:
                chunk = source.read(CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    def delete(self, key: str) -> None:
        path = self._path(key)
        if "." not in key and path.parent.exists():
            for derived in path.parent.glob(f"{key}.*"):
                derived.unlink(missing_ok=True)
        path.unlink(missing_ok=True)

    def sweep_temporary(self) -> int:
        """Remove temporary files a crash left behind (Rule 2); returns how many."""
        count = 0
        for leftover in self._tmp.iterdir():
            leftover.unlink(missing_ok=True)
            count += 1
        return count
