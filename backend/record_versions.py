"""Every version of any record, with who wrote it and when: the history behind "restore".

Per-field last-writer-wins keeps one value per field; the change log keeps all of them. A task's
or an event's history panel reads this list, shows each change with its author and time, and a
restore is simply a new change that writes the older value again (so it merges like any other).
Who may read a record's history is who may read its scope: the same rule as pulls.
"""

from __future__ import annotations

import msgspec

from backend.access import may_read_scope
from backend.errors import ApiError
from backend.storage.base import Storage
from sync_protocol.hlc import parse as parse_hlc
from sync_protocol.registry import Registry
from sync_protocol.wire import Value


class RecordVersion(msgspec.Struct):
    hlc: str
    at: int
    author: str
    fields: dict[str, Value]


class RecordVersions(msgspec.Struct):
    collection: str
    id: str
    versions: list[RecordVersion]


def record_versions(
    store: Storage, registry: Registry, user_id: str, collection: str, record_id: str
) -> RecordVersions:
    """Oldest first. Unknown collections, missing records and records in scopes the caller cannot
    read all answer the same 404, so the answer does not tell which records exist."""
    missing = ApiError(404, "not_found", f"there is no {collection} record {record_id} you can see")
    if collection not in registry:
        raise missing
    record = store.get_record(collection, record_id)
    if record is None or not may_read_scope(store, user_id, record.scope):
        raise missing
    versions = [
        RecordVersion(hlc=change.hlc, at=parse_hlc(change.hlc).ms, author=change.author, fields=change.fields)
        for change in store.record_history(collection, record_id)
        if change.fields
    ]
    return RecordVersions(collection=collection, id=record_id, versions=versions)
