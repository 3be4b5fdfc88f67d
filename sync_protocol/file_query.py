"""Finding files by name with the shared search syntax: ``is:file`` asks for files, and the rest
of the query (search_query.py) is matched against file records. JS twin:
frontend/src/lib/file-query.js; vectors: vectors/file_query.json (both languages run them). The
server (backend/files/search.py) and a device offline (the Search view) call the same rules.

Rule 1. ``is:file`` (or ``is:files``, any case) asks for files; it is split off the query
        before the rest goes to ``search_query.parse``, as the task filters are.
Rule 2. A file matches when every word and phrase occurs in its displayed name
        (collections_files.display_name), case-insensitively, as a substring.
Rule 3. ``in:`` names a channel by name or id (case-insensitive; a leading ``#`` is dropped by
        the parser); ``from:`` names the person who shared it (search_query Rule 5);
        ``before:``/``after:`` apply to when it was shared (``at``; a file not yet accepted by
        the server has none and fails a date filter).
Rule 4. Deleted files never match. Every version is a file of its own (it has its own name).
Rule 5. Newest first (a file without ``at`` is newest), then by id: the same order everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping

from sync_protocol import search_query
from sync_protocol.collections_files import display_name
from sync_protocol.wire import Value

_ASKS = frozenset({"file", "files"})


def split(query: str) -> tuple[bool, str]:
    """Rule 1: whether ``query`` asks for files, and the query without ``is:file``."""
    asks = False

    def take(key: str, value: str) -> bool:
        nonlocal asks
        if key == "is" and value.lower() in _ASKS:
            asks = True
            return True
        return False

    rest = search_query.take_filters(query, take)
    return asks, rest


def search(
    query: search_query.SearchQuery,
    files: Mapping[str, Mapping[str, Value]],
    channels: Mapping[str, str],
    people: Mapping[str, Mapping[str, Value]],
) -> list[str]:
    """The ids of the matching ``files`` (id -> fields), in Rule 5's order. ``channels``: the
    searcher's channels (id -> name; files elsewhere never match); ``people``: user id -> fields."""

    def channel_ok(channel_id: str) -> bool:
        if channel_id not in channels:
            return False
        names = {channel_id.lower(), channels[channel_id].lower()}
        return not query.channels or any(value.lower() in names for value in query.channels)

    def person_ok(user_id: str) -> bool:
        fields = people.get(user_id, {})
        name, email = str(fields.get("name") or ""), str(fields.get("email") or "")
        return not query.people or any(search_query.person_named(v, user_id, name, email) for v in query.people)

    hits: list[tuple[int, str]] = []
    for file_id, f in files.items():
        if f.get("deleted") is True or not channel_ok(str(f.get("channel"))):
            continue
        if not search_query.text_matches(query, display_name(str(f.get("name") or ""))):
            continue
        if not person_ok(str(f.get("uploader") or "")):
            continue
        at = f.get("at")
        stamped = at if isinstance(at, int) and not isinstance(at, bool) else None
        if (query.before or query.after) and (stamped is None or not search_query.time_matches(query, stamped)):
            continue
        hits.append((stamped if stamped is not None else 2**63, file_id))
    hits.sort(key=lambda hit: (-hit[0], hit[1]))
    return [file_id for _, file_id in hits]


__all__ = ["search", "split"]
