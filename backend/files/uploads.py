"""tus uploads into the blob store (the wire rules: tus.py; the contract: PROTOCOL.md, "Files").

Rule 1. An upload belongs to the device that created it: another device (even the same
        person's) gets 404 for it, as for an upload that does not exist.
Rule 2. Limits come before any byte: creation refuses a file over ``max_file_bytes`` (413
        ``file_too_large``) or one that would take the workspace past ``quota_bytes`` (413
        ``quota_exceeded``; unfinished uploads count with their announced length), and refuses a
        channel the device may not post in (404, as for a channel that does not exist).
Rule 3. Dedup: when the announced ``sha256`` is already stored, creation answers at once with
        the upload complete (``Upload-Offset`` equal to ``Upload-Length``); no byte is sent.
Rule 4. Bytes stream to ``<data>/uploads/<id>`` as they arrive, never held whole in memory. The
        offset is the partial file's length; it is fsynced before a PATCH answers. An interrupted
        PATCH keeps what arrived (unless it carried an ``Upload-Checksum``, which cannot be
        checked on part of a body: then the part is dropped).
Rule 5. The last byte completes the upload: the SHA-256 of all bytes must equal the announced
        digest. A mismatch answers 460 ``digest_mismatch``, deletes the partial file and the
        upload, and stores nothing. A match moves the file into the blob store (blobstore.py,
        Rule 2) and lets the uploader's files records name it (``file_stored``).
Rule 6. An unfinished upload expires ``upload_expiry_s`` after its creation (the worker removes
        it; a request for it after that gets 404).
Rule 7. One PATCH at a time per upload: a second waits up to BUSY_WAIT_S for the first to end
        (a cut connection is noticed late), then is checked against the offset it left.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio.to_thread

from backend.access import may_post_files
from backend.accounts import CurrentSession
from backend.files import tus
from backend.files.blobstore import BlobStore
from backend.files.tus import TusError
from backend.settings import Settings
from backend.storage.base import Storage
from backend.storage.files_base import Upload
from sync_protocol.collections_files import DIGEST, display_name

HASH_CHUNK = 1024 * 1024
BUSY_WAIT_S = 10.0


class OffsetConflict(TusError):
    """409: the PATCH's Upload-Offset is not the upload's (the answer carries the right one)."""

    def __init__(self, offset: int) -> None:
        super().__init__(409, "offset_mismatch", f"the upload is at offset {offset}")
        self.offset = offset


def _not_found() -> TusError:
    return TusError(404, "not_found", "there is no such upload")


class UploadService:
    def __init__(self, store: Storage, blobs: BlobStore, settings: Settings) -> None:
        self.store = store
        self.blobs = blobs
        self.settings = settings
        self.partials = settings.data_dir / "uploads"
        self.partials.mkdir(parents=True, exist_ok=True)
        #: Per upload, the hash of its bytes so far (at that offset): no second read at the end
        #: while the same process received every byte. Lost on restart; then the file is re-read.
        self._hashers: dict[str, tuple[int, Any]] = {}
        #: Uploads with a PATCH running, and the event set when it ends.
        self._busy: dict[str, asyncio.Event] = {}

    def partial(self, upload_id: str) -> Path:
        return self.partials / upload_id

    # --- creation (Rules 2 and 3) --------------------------------------------------------------

    def create(self, current: CurrentSession, length: int, metadata: dict[str, str], now_ms: int) -> Upload:
        digest = metadata.get("sha256", "").lower()
        channel = metadata.get("channel", "")
        if not DIGEST.match(digest):
            raise TusError(400, "bad_request", "Upload-Metadata needs sha256: the file's SHA-256 in hex")
        if not channel:
            raise TusError(400, "bad_request", "Upload-Metadata needs channel: where the file is shared")
        if not may_post_files(self.store, current.user_id, channel):
            raise TusError(404, "not_found", f"there is no channel {channel} you may post in")
        if length > self.settings.max_file_bytes:
            raise TusError(413, "file_too_large", f"a file may hold at most {self.settings.max_file_bytes} bytes")
        upload = Upload(
            id=secrets.token_urlsafe(18),
            user=current.user_id,
            device=current.device_id,
            channel=channel,
            length=length,
            digest=digest,
            name=display_name(metadata.get("filename", "file")),
            type=metadata.get("filetype", "application/octet-stream")[:255],
            created=now_ms,
        )
        stored = self.store.blob_size(digest)
        if stored is not None and self.blobs.has(digest):  # Rule 3
            if stored != length:
                raise TusError(400, "bad_request", "Upload-Length differs from the stored file with this sha256")
            upload.done = True
            with self.store.transaction():
                self.store.add_upload(upload)
                self.store.claim_blob(current.user_id, digest, now_ms)
            return upload
        with self.store.transaction():
            if self.store.committed_bytes() + length > self.settings.quota_bytes:
                raise TusError(413, "quota_exceeded", "the workspace's storage quota is used up")
            self.store.add_upload(upload)
        self.partial(upload.id).touch()
        return upload

    # --- reading, appending, terminating (Rules 1, 4, 5) ---------------------------------------

    def owned(self, upload_id: str, current: CurrentSession, now_ms: int) -> Upload:
        upload = self.store.upload(upload_id)
        if upload is None or upload.device != current.device_id:  # Rule 1
            raise _not_found()
        if not upload.done and now_ms - upload.created > self.settings.upload_expiry_s * 1000:  # Rule 6
            self.discard(upload)
            raise _not_found()
        return upload

    def offset(self, upload: Upload) -> int:
        if upload.done:
            return upload.length
        try:
            return self.partial(upload.id).stat().st_size
        except FileNotFoundError:
            return 0

    async def append(
        self,
        upload: Upload,
        offset: int,
        body: AsyncIterator[bytes],
        checksum: str | None,
        now_ms: int,
    ) -> int:
        """Append a PATCH body at ``offset``; returns the new offset (Rules 4 and 5)."""
        verify = tus.parse_checksum(checksum)
        running = self._busy.get(upload.id)
        if running is not None:
            # A client resuming after a cut often arrives before the server has noticed the cut.
            try:
                await asyncio.wait_for(running.wait(), BUSY_WAIT_S)
            except TimeoutError:
                raise TusError(409, "upload_busy", "another PATCH to this upload is still running") from None
        current = self.offset(upload)
        if offset != current:
            raise OffsetConflict(current)
        if upload.done:
            return current  # an empty PATCH at the end of a complete (or deduplicated) upload
        if upload.id in self._busy:
            raise TusError(409, "upload_busy", "another PATCH to this upload is still running")
        self._busy[upload.id] = finished = asyncio.Event()
        try:
            end = await self._receive(upload, offset, body, verify)
        finally:
            del self._busy[upload.id]
            finished.set()
        if end == upload.length:
            await self._complete(upload, now_ms)
        return end

    async def _receive(
        self, upload: Upload, offset: int, body: AsyncIterator[bytes], verify: tuple[Any, bytes] | None
    ) -> int:
        known = self._hashers.pop(upload.id, None)
        hasher = known[1] if known and known[0] == offset else (hashlib.sha256() if offset == 0 else None)
        before = hasher.copy() if hasher is not None and verify is not None else hasher
        written = 0
        path = self.partial(upload.id)
        with path.open("r+b") as out:
            out.seek(offset)
            try:
                async for chunk in body:
                    if offset + written + len(chunk) > upload.length:
                        out.truncate(offset)
                        raise TusError(413, "too_large", "the body goes past Upload-Length")
                    out.write(chunk)
                    written += len(chunk)
                    if hasher is not None:
                        hasher.update(chunk)
                    if verify is not None:
                        verify[0].update(chunk)
            except TusError:
                raise
            except Exception:
                # The client went away mid-body: keep what arrived (Rule 4), unless it cannot be
                # checked against an Upload-Checksum of the whole body.
                if verify is not None:
                    out.truncate(offset)
                    written, hasher = 0, before
                await self._sync(out)
                self._hashers[upload.id] = (offset + written, hasher) if hasher is not None else (-1, None)
                raise
            if verify is not None and verify[0].digest() != verify[1]:
                out.truncate(offset)
                await self._sync(out)
                if before is not None:
                    self._hashers[upload.id] = (offset, before)
                raise TusError(tus.CHECKSUM_MISMATCH, "checksum_mismatch", "Upload-Checksum does not match the body")
            await self._sync(out)
        if hasher is not None:
            self._hashers[upload.id] = (offset + written, hasher)
        return offset + written

    @staticmethod
    async def _sync(out: Any) -> None:
        out.flush()
        await anyio.to_thread.run_sync(os.fsync, out.fileno())

    async def _complete(self, upload: Upload, now_ms: int) -> None:
        """Rule 5: check the digest of every byte, then store the blob or nothing."""
        known = self._hashers.pop(upload.id, None)
        path = self.partial(upload.id)
        if known is not None and known[0] == upload.length and known[1] is not None:
            digest = known[1].hexdigest()
        else:
            digest = await anyio.to_thread.run_sync(_hash_file, path)
        if digest != upload.digest:
            self.discard(upload)
            raise TusError(
                tus.CHECKSUM_MISMATCH,
                "digest_mismatch",
                "the bytes' SHA-256 is not the announced sha256: nothing was stored; upload again",
            )
        if self.blobs.has(digest):  # the same bytes arrived meanwhile from someone else
            path.unlink(missing_ok=True)
        else:
            await anyio.to_thread.run_sync(self.blobs.put_file, digest, path)
        with self.store.transaction():
            self.store.add_blob(digest, upload.length, now_ms)
            self.store.claim_blob(upload.user, digest, now_ms)
            self.store.finish_upload(upload.id)
        upload.done = True

    def discard(self, upload: Upload) -> None:
        """Termination and expiry: the partial bytes and the upload go (a stored blob stays)."""
        self._hashers.pop(upload.id, None)
        self.partial(upload.id).unlink(missing_ok=True)
        with self.store.transaction():
            self.store.remove_upload(upload.id)

    def expire(self, now_ms: int, limit: int = 500) -> int:
        """Rule 6: remove uploads older than the expiry (finished ones are only bookkeeping)."""
        before = now_ms - self.settings.upload_expiry_s * 1000
        count = 0
        for upload_id in self.store.uploads_created_before(before, limit):
            upload = self.store.upload(upload_id)
            if upload is not None and upload_id not in self._busy:
                self.discard(upload)
                count += 1
        return count


def _hash_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(HASH_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()
