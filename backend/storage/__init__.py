"""Storage: the interface the services use (base.Storage) and its implementations."""

from pathlib import Path

from backend.storage.base import Account, DeviceSession, ReadOnlyStore, Snapshot, Storage, StoredRecord
from backend.storage.sqlite import SqliteStorage


def open_readonly(database: Path | str) -> Storage:
    """The live store, for reading only (CLI exports and checks, the Datasette sign-in): it never
    creates, migrates or writes, and refuses transactions with ReadOnlyStore."""
    return SqliteStorage(database, readonly=True)


__all__ = [
    "Account",
    "DeviceSession",
    "ReadOnlyStore",
    "Snapshot",
    "SqliteStorage",
    "Storage",
    "StoredRecord",
    "open_readonly",
]
