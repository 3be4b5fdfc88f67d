"""Log entries and records the tests write through the Storage interface."""

from __future__ import annotations

from backend.storage import chain
from backend.storage.base import (
    NewChange,
    Storage,
    StoredRecord,
)
from sync_protocol.merge import RecordState
from sync_protocol.wire import Value

DAY = 86_400_000


def _change(scope: str, record_id: str, text: str = "x") -> NewChange:
    return NewChange(scope, "messages", record_id, "1764172800000-00000-dev", "u1", "dev", 1, 1, {"text": text})


def _rows(store: Storage) -> list[chain.ChainRow]:
    with store.snapshot() as snapshot:
        return [chain.row_from_sql(r) for r in snapshot.stored_log()]


def _put(store: Storage, collection: str, record_id: str, fields: dict[str, Value], scope: str = "c:a") -> None:
    store.put_record(collection, record_id, StoredRecord(scope, RecordState(dict(fields), {})))


def _log(
    store: Storage,
    collection: str,
    record_id: str,
    hlc: str,
    author: str,
    at: int,
    fields: dict[str, Value] | None = None,
) -> int:
    return store.append_change(NewChange("c:a", collection, record_id, hlc, author, "dev", 1, at, fields or {"x": 1}))
