"""The file worker: previews made after the fact, expired uploads removed, garbage collected.

Rule 1. It follows the feed of committed changes (backend/feed.py, Rule 4) from a position it
        stores (the ``files_seq`` setting), never on the sync path: a push never waits for a
        thumbnail. The first time it runs it starts from the log's head.
Rule 2. Previews are per blob, not per file record: the same bytes shared twice are previewed
        once. Each blob ends ``ready``, ``none`` or ``failed``; a failure (a bomb, a broken file)
        is recorded and logged, the worker goes on, and the file stays downloadable.
Rule 3. Every COLLECT_EVERY_S it expires uploads past ``upload_expiry_s`` (uploads.py, Rule 6)
        and deletes blobs no live file record names, stored more than ``blob_grace_s`` ago
        (sqlite_files.py, Rule 2); the rows go in a transaction first, then the bytes.
Rule 4. Only a commit holding a file record wakes it (ACTS_ON; feed.py, Rule 7): the units of
        other things reach it at its next take's timeout (IDLE_WAIT_S), only to move its position.
"""

from __future__ import annotations

import logging
import time

from backend.feed import Feed, Follower
from backend.files import previews
from backend.files.blobstore import BlobStore, derived_key
from backend.files.uploads import UploadService
from backend.following import FollowerThread, stored_position
from backend.settings import Settings
from backend.storage.base import Storage
from backend.storage.files_base import Preview
from sync_protocol.wire import Change

log = logging.getLogger("teamtalk.files")

POSITION = "files_seq"
#: The collections it acts on (Rule 4): previews are made for file records only.
ACTS_ON = frozenset({"files"})
COLLECT_EVERY_S = 3600.0
IDLE_WAIT_S = 0.5
BATCH = 500
#: Units about other things store the position at most this often: a push of messages must not
#: cost a second transaction (and fsync) in this thread. A preview is made at most once per blob
#: (Rule 2), so reading a unit twice after a crash is harmless.
PERSIST_EVERY_S = 1.0


def now_ms() -> int:
    return int(time.time() * 1000)


class FileWorker:
    def __init__(
        self, store: Storage, feed: Feed, blobs: BlobStore, uploads: UploadService, settings: Settings
    ) -> None:
        self.store = store
        self.feed = feed
        self.blobs = blobs
        self.uploads = uploads
        self.settings = settings
        self._collected = time.monotonic()
        self._persisted = 0.0
        self._unsaved = False  # units read since the position was last stored
        # A busy database or a bad blob never ends it (following.py, Rule 2).
        self._thread = FollowerThread(feed, "file-worker", self._resume, self._step, log, wakes_for=ACTS_ON)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._thread.close()

    def _resume(self) -> int:
        return stored_position(self.store, POSITION)  # Rule 1

    def _step(self, follower: Follower) -> None:
        units = follower.take(IDLE_WAIT_S, BATCH)
        previewed = False
        for unit in units:
            for change in unit.changes:
                if change.collection in ACTS_ON and "digest" in change.fields:
                    self.preview(change)
                    previewed = True
        self._unsaved = self._unsaved or bool(units)
        if self._unsaved and (previewed or time.monotonic() - self._persisted >= PERSIST_EVERY_S):
            with self.store.transaction():
                self.store.set_setting(POSITION, str(follower.position))
            self._persisted, self._unsaved = time.monotonic(), False
        if time.monotonic() - self._collected > COLLECT_EVERY_S:
            self._collected = time.monotonic()
            try:
                self.collect(now_ms())
            except Exception:
                log.exception("collecting expired uploads and unreferenced blobs failed; next hour again")

    def preview(self, change: Change) -> Preview:
        """Rule 2: the blob's preview, made now unless it exists."""
        digest = str(change.fields["digest"])
        known = self.store.preview(digest)
        if known is not None:
            return known
        kind = previews.kind_of(str(change.fields.get("type", "")), str(change.fields.get("name", "")))
        result = Preview(digest, kind, "none")
        path = self.blobs.path(digest)
        if kind in ("image", "pdf") and path is not None:
            try:
                made = previews.image_thumbnails(path) if kind == "image" else previews.pdf_thumbnails(path)
                for size, data in made.images.items():
                    self.blobs.put_bytes(derived_key(digest, size), data)
                result = Preview(digest, kind, "ready", made.width, made.height)
            except previews.PreviewFailed as exc:
                log.warning("no preview for %s: %s", digest, exc)
                result = Preview(digest, kind, "failed", detail=str(exc)[:500])
            except Exception as exc:  # a library bug must not stop the worker either
                log.exception("making a preview for %s failed", digest)
                result = Preview(digest, kind, "failed", detail=type(exc).__name__)
        elif kind == "text":
            result = Preview(digest, kind, "ready")
        with self.store.transaction():
            self.store.set_preview(result)
        return result

    def collect(self, now: int) -> tuple[int, int]:
        """Rule 3: (uploads expired, blobs deleted)."""
        expired = self.uploads.expire(now)
        deleted = 0
        while True:
            with self.store.transaction():
                digests = self.store.unreferenced_blobs(now - self.settings.blob_grace_s * 1000, BATCH)
                for digest in digests:
                    self.store.remove_blob(digest)
            for digest in digests:
                self.blobs.delete(digest)
            deleted += len(digests)
            if len(digests) < BATCH:
                return expired, deleted
