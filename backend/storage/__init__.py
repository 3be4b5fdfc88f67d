"""Storage: the interface the services use (base.Storage) and its implementations."""

from backend.storage.base import Account, DeviceSession, Storage, StoredRecord
from backend.storage.sqlite import SqliteStorage

__all__ = ["Account", "DeviceSession", "SqliteStorage", "Storage", "StoredRecord"]
