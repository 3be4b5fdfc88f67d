"""Server search of files by name: ``is:file`` queries (sync_protocol/file_query.py has the rules,
the same ones a device runs offline) over the files of the searcher's channels.

No index: a workspace holds files by the thousand, not the million, and the live ones are listed
by ``file_refs`` (one row per file), so one read of those records per search costs milliseconds and
can never disagree with them. Who finds a file is who may download it (access.may_read_file):
a member of its channel, while neither the file nor the message it came with is deleted.
"""

from __future__ import annotations

import msgspec

from backend.storage.base import Storage
from sync_protocol import file_query, search_query
from sync_protocol.collections_files import display_name
from sync_protocol.registry import WORKSPACE
from sync_protocol.wire import Value

MAX_RESULTS = 200


class FileHit(msgspec.Struct):
    id: str
    channel: str
    name: str
    type: str
    size: int
    uploader: str | None
    at: int | None
    message: str | None = None
    version_of: str | None = None


class FileResults(msgspec.Struct):
    results: list[FileHit]


def _str(value: Value) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def search_files(store: Storage, user_id: str, text: str, limit: int) -> FileResults:
    query = search_query.parse(file_query.split(text)[1])
    mine = store.channels_of(user_id)
    channels = {c.id: str(c.fields.get("name") or "") for c in store.snapshots("channels", mine)}
    files = {f.id: f.fields for f in store.snapshots("files", store.live_file_ids(mine))}
    attached = sorted({m for f in files.values() if (m := _str(f.get("message"))) is not None})
    gone = {m.id for m in store.snapshots("messages", attached) if m.fields.get("deleted") is True}
    files = {fid: f for fid, f in files.items() if _str(f.get("message")) not in gone}
    people: dict[str, dict[str, Value]] = {}
    if query.people:
        people = {p.id: p.fields for p in store.records_in_scope(WORKSPACE) if p.collection == "users"}
    hits = []
    for file_id in file_query.search(query, files, channels, people)[: max(1, min(limit, MAX_RESULTS))]:
        f = files[file_id]
        hits.append(
            FileHit(
                id=file_id,
                channel=str(f.get("channel")),
                name=display_name(str(f.get("name") or "")),
                type=str(f.get("type") or ""),
                size=_int(f.get("size")) or 0,
                uploader=_str(f.get("uploader")),
                at=_int(f.get("at")),
                message=_str(f.get("message")),
                version_of=_str(f.get("version_of")),
            )
        )
    return FileResults(hits)


__all__ = ["FileHit", "FileResults", "search_files"]
