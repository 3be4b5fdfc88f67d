"""Files in an archive: the ``files`` table's rows from ``files`` records, and, with
``teamtalk archive export --with-files``, the bytes beside the archive.

Rule 1. The archive lists every exported file (name, type, size, sha256, uploader, time,
        channel, message) whatever became of its bytes; ``deleted`` files are listed with
        their record's creation time like other deleted records.
Rule 2. ``--with-files`` copies each listed, still stored blob to ``<OUT>.files/<sha256>``
        (named by content, never by the uploaded name), checking the SHA-256 while copying; a
        blob that is gone (collected after deletion) is counted as missing, not an error.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from backend.archive.model import Row
from backend.files.blobstore import LocalBlobStore
from sync_protocol.collections_files import DIGEST

CHUNK = 1024 * 1024


class Copied(NamedTuple):
    copied: int
    missing: int
    bytes: int


def archive_rows(rows: Iterable[Row]) -> Iterator[Row]:
    """Rule 1: the record's ``digest`` and ``uploader`` as the archive's ``sha256`` and ``author``."""
    for row in rows:
        row["sha256"] = row.pop("digest", None) or row.get("sha256")
        row["author"] = row.pop("uploader", None) or row.get("author")
        yield row


def files_dir(archive: Path) -> Path:
    return archive.with_name(f"{archive.name}.files")


def copy_files(archive: Path, data_dir: Path) -> Copied:
    """Rule 2: copy the archive's files out of the data directory's blob store."""
    blobs = LocalBlobStore(data_dir / "blobs")
    target = files_dir(archive)
    target.mkdir(exist_ok=True)
    db = sqlite3.connect(f"file:{archive}?mode=ro", uri=True)
    try:
        digests = sorted({str(r[0]) for r in db.execute("SELECT sha256 FROM files WHERE sha256 IS NOT NULL")})
    finally:
        db.close()
    copied = missing = size = 0
    for digest in digests:
        source = blobs.path(digest) if DIGEST.match(digest) else None
        if source is None:
            missing += 1
            continue
        size += _copy_checked(source, target / digest, digest)
        copied += 1
    return Copied(copied, missing, size)


def _copy_checked(source: Path, out: Path, digest: str) -> int:
    partial = out.with_name(f".{out.name}.partial")
    hasher = hashlib.sha256()
    size = 0
    with source.open("rb") as reading, partial.open("wb") as writing:
        while chunk := reading.read(CHUNK):
            hasher.update(chunk)
            writing.write(chunk)
            size += len(chunk)
        writing.flush()
        os.fsync(writing.fileno())
    if hasher.hexdigest() != digest:
        partial.unlink()
        raise ValueError(f"the stored blob {digest} does not hash to its name: the store is damaged")
    os.chmod(partial, 0o444)
    partial.replace(out)
    return size
