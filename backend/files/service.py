"""The file features assembled: the blob store, uploads, the preview worker, and the one
question every download asks (may this person see this file?)."""

from __future__ import annotations

from collections.abc import Mapping

from backend.access import may_read_file
from backend.feed import Feed
from backend.files.blobstore import LocalBlobStore
from backend.files.uploads import UploadService
from backend.files.worker import FileWorker
from backend.settings import Settings
from backend.storage.base import Storage
from sync_protocol.wire import Value


class FileNotVisible(Exception):
    """The file does not exist, or this person may not see it: the same 404 either way."""


class FileService:
    def __init__(self, store: Storage, feed: Feed, settings: Settings) -> None:
        self.store = store
        self.blobs = LocalBlobStore(settings.data_dir / "blobs")
        self.blobs.sweep_temporary()
        self.uploads = UploadService(store, self.blobs, settings)
        self.worker = FileWorker(store, feed, self.blobs, self.uploads, settings)

    def start(self) -> None:
        self.worker.start()

    def close(self) -> None:
        self.worker.close()

    def visible(self, user_id: str, file_id: str) -> Mapping[str, Value]:
        """The file record's fields, or FileNotVisible (downloads.py, Rule 1)."""
        record = self.store.get_record("files", file_id)
        if not may_read_file(self.store, user_id, record):
            raise FileNotVisible(file_id)
        assert record is not None
        fields = record.state.fields
        if not isinstance(fields.get("digest"), str) or not self.blobs.has(str(fields["digest"])):
            raise FileNotVisible(file_id)
        return fields
