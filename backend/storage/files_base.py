"""What the file features ask of storage (the SQLite answers: sqlite_files.py). ``Storage``
includes this protocol, so one store serves records and file bookkeeping in one transaction.

The bytes themselves are not here: they live in a BlobStore (backend/files/blobstore.py).
These tables only say which blobs exist, who may link them, what refers to them, which tus
uploads are under way and how each blob's preview went.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec


class Upload(msgspec.Struct):
    """A tus upload (backend/files/uploads.py): it belongs to the device that created it."""

    id: str
    user: str
    device: str
    channel: str
    length: int
    digest: str
    name: str
    type: str
    created: int
    done: bool = False


class Preview(msgspec.Struct):
    """How a blob's preview went: ``state`` is ``ready``, ``none`` (no preview for the type) or
    ``failed`` (``detail`` says why; the file stays downloadable)."""

    digest: str
    kind: str
    state: str
    width: int | None = None
    height: int | None = None
    detail: str = ""


class FileStorage(Protocol):
    # tus uploads
    def add_upload(self, upload: Upload) -> None: ...
    def upload(self, upload_id: str) -> Upload | None: ...
    def finish_upload(self, upload_id: str) -> None: ...
    def remove_upload(self, upload_id: str) -> None: ...
    def uploads_created_before(self, before_ms: int, limit: int) -> list[str]:
        """Unfinished uploads created before ``before_ms`` (they expire)."""
        ...

    # blobs: which are stored, how big, who may link them
    def add_blob(self, digest: str, size: int, now_ms: int) -> None: ...
    def blob_size(self, digest: str) -> int | None: ...
    def committed_bytes(self) -> int:
        """Bytes stored plus bytes announced by unfinished uploads: what the quota counts."""
        ...

    def claim_blob(self, user_id: str, digest: str, now_ms: int) -> None:
        """``user_id`` uploaded these bytes (or had them linked by dedup): they may share them."""
        ...

    def has_claim(self, user_id: str, digest: str) -> bool: ...
    def remove_blob(self, digest: str) -> None:
        """Forget a blob, its claims and its preview (the bytes are the BlobStore's to delete)."""
        ...

    # references from `files` records (a derived table, kept in the push's transaction)
    def set_file_ref(self, file_id: str, digest: str, channel_id: str, live: bool) -> None: ...
    def live_file_ids(self, channel_ids: Sequence[str]) -> list[str]:
        """The ids of the files records in these channels that are not deleted (search)."""
        ...

    def unreferenced_blobs(self, stored_before_ms: int, limit: int) -> list[str]:
        """Blobs stored before ``stored_before_ms`` that no live file record names and no
        unfinished upload is about to name: what garbage collection may delete."""
        ...

    def expired_file_ids(self, now_ms: int, limit: int) -> list[str]:
        """Live files shared (``at``) longer ago than their channel's ``retention_days``."""
        ...

    # previews
    def set_preview(self, preview: Preview) -> None: ...
    def preview(self, digest: str) -> Preview | None: ...
    def previews(self, digests: Sequence[str]) -> dict[str, Preview]: ...
