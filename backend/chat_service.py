"""Reading chat beyond the sync feed: search, older history pages, and a message's versions.

Every answer is limited to channels the user is a member of *now* (the same rule as pulls).
"""

from __future__ import annotations

import msgspec

from backend.access import may_read_channel
from backend.errors import ApiError
from backend.search_index import SearchIndex
from backend.storage.base import Storage
from backend.sync_service import RECENT_REPLIES
from sync_protocol import search_query
from sync_protocol.collections import WORKSPACE
from sync_protocol.hlc import parse as parse_hlc
from sync_protocol.wire import RecordSnapshot, Value

MAX_HISTORY = 500
#: A bulk page (PROTOCOL.md, "Bulk history"): a new device keeping a channel offline fetches its
#: history in pages this large, so 100,000 messages are 20 round trips, not 1,000.
MAX_BULK = 5000
#: Replies carried with a bulk page (every reply of its messages, up to this many).
BULK_REPLIES = 50_000
MAX_RESULTS = 200
SNIPPET_CONTEXT = 60


class SearchResult(msgspec.Struct):
    id: str
    channel: str
    thread: str | None
    author: str
    n: int | None
    tn: int | None
    at: int
    text: str
    snippet: str


class SearchResults(msgspec.Struct):
    results: list[SearchResult]


class HistoryPage(msgspec.Struct):
    records: list[RecordSnapshot]
    complete: bool


class BulkPage(msgspec.Struct):
    """A bulk history page: ``records`` as a history page's, ``complete`` when message 1 was reached,
    ``low`` the lowest n in the page (the next page's ``before``), ``last`` the channel's greatest n
    now (so a device can say how much of the channel it holds)."""

    records: list[RecordSnapshot]
    complete: bool
    low: int | None
    last: int


class Version(msgspec.Struct):
    hlc: str
    author: str
    at: int
    text: str | None
    deleted: bool


class Versions(msgspec.Struct):
    versions: list[Version]


def snippet(text: str, needles: list[str]) -> str:
    """A short plain-text excerpt around the first hit, hits marked with [ and ]."""
    lowered = text.lower()
    hits = sorted((lowered.find(n), len(n)) for n in needles if n and lowered.find(n) >= 0)
    if not hits:
        return text[: 2 * SNIPPET_CONTEXT]
    start = max(0, hits[0][0] - SNIPPET_CONTEXT)
    end = min(len(text), hits[0][0] + hits[0][1] + SNIPPET_CONTEXT)
    out, cursor = [], start
    for position, length in hits:
        if position < cursor or position + length > end:
            continue
        out += [text[cursor:position], "[", text[position : position + length], "]"]
        cursor = position + length
    out.append(text[cursor:end])
    return ("…" if start else "") + "".join(out) + ("…" if end < len(text) else "")


class ChatService:
    def __init__(self, store: Storage, index: SearchIndex) -> None:
        self.store = store
        self.index = index

    def _member_channel(self, user_id: str, channel_id: str) -> None:
        if not may_read_channel(self.store, user_id, channel_id):
            raise ApiError(403, "forbidden", "you are not a member of this channel", field="channel")

    # --- search ------------------------------------------------------------------------------

    async def search(self, user_id: str, text: str, limit: int) -> SearchResults:
        query = search_query.parse(text)
        if not (query.needles or query.channels or query.people or query.before or query.after):
            raise ApiError(400, "bad_request", "say what to search for", field="q")
        channels = self._channels_named(user_id, query.channels)
        authors = self._people_named(query.people)
        if (query.channels and not channels) or (query.people and not authors):
            return SearchResults([])
        before = search_query.day_start_ms(query.before) if query.before else None
        after = search_query.day_start_ms(query.after) + search_query.DAY_MS if query.after else None
        await self.index.caught_up(self.store.log_head())
        hits = self.index.search(query.needles, channels, authors, after, before, max(1, min(limit, MAX_RESULTS)))
        by_id = {s.id: s.fields for s in self.store.snapshots("messages", hits)}
        results = []
        for message_id in hits:
            f = by_id.get(message_id)
            if f is None or f.get("deleted") is True or not isinstance(f.get("text"), str):
                continue  # deleted since it was indexed
            body = str(f.get("text") or "")
            results.append(
                SearchResult(
                    id=message_id,
                    channel=str(f["channel"]),
                    thread=_str(f.get("thread")),
                    author=str(f.get("author")),
                    n=_int(f.get("n")),
                    tn=_int(f.get("tn")),
                    at=_int(f.get("at")) or 0,
                    text=body,
                    snippet=snippet(body, query.needles),
                )
            )
        return SearchResults(results)

    def _channels_named(self, user_id: str, names: list[str]) -> list[str]:
        """Rule 2: ``#name`` (or id) picks a channel; ``@person`` the direct and group messages with them."""
        mine = self.store.channels_of(user_id)
        if not names:
            return mine
        records = {s.id: s.fields for s in self.store.snapshots("channels", mine)}
        people = self._people()
        found = []
        for channel in mine:
            fields = records.get(channel, {})
            conversation = fields.get("kind") in ("dm", "group")
            for name in names:
                if name.startswith("@"):
                    hit = conversation and any(
                        other != user_id and other in people and _names(name[1:], other, people[other])
                        for other in self.store.members_of(channel)
                    )
                else:
                    hit = not conversation and name.lower() in (channel.lower(), str(fields.get("name", "")).lower())
                if hit:
                    found.append(channel)
                    break
        return found

    def _people_named(self, names: list[str]) -> list[str]:
        if not names:
            return []
        return [pid for pid, fields in self._people().items() if any(_names(n, pid, fields) for n in names)]

    def _people(self) -> dict[str, dict[str, Value]]:
        return {p.id: p.fields for p in self.store.records_in_scope(WORKSPACE) if p.collection == "users"}

    # --- history -----------------------------------------------------------------------------

    def history(self, user_id: str, channel_id: str, before: int | None, limit: int, thread: str | None) -> HistoryPage:
        self._member_channel(user_id, channel_id)
        if thread is not None:
            parent = self.store.get_record("messages", thread)
            if parent is None or parent.state.fields.get("channel") != channel_id:
                raise ApiError(404, "not_found", "there is no such thread in this channel", field="thread")
            # The parent comes too: a device opening a thread from a search result may not hold it.
            ids = [thread, *self.store.reply_ids(thread)]
            return HistoryPage(self.store.snapshots("messages", ids) + self.store.reactions_to(ids), True)
        limit = max(1, min(limit, MAX_HISTORY))
        ids = self.store.message_ids_before(channel_id, before, limit)
        messages = self.store.snapshots("messages", ids)
        numbers = [n for m in messages if isinstance(n := m.fields.get("n"), int)]
        complete = len(ids) < limit or min(numbers, default=1) <= 1
        replies = self.store.latest_reply_ids(ids, RECENT_REPLIES)
        messages += self.store.snapshots("messages", replies)
        return HistoryPage(messages + self.store.reactions_to(ids + replies), complete)

    def bulk_history(self, user_id: str, channel_id: str, before: int | None, limit: int) -> BulkPage:
        """The same page as :meth:`history` (n < before, newest first: the same gap rules), larger,
        with every reply of its messages rather than the newest 200."""
        self._member_channel(user_id, channel_id)
        limit = max(1, min(limit, MAX_BULK))
        newest = self.store.message_ids_before(channel_id, None, 1)
        head = self.store.snapshots("messages", newest)
        last = _int(head[0].fields.get("n")) if head else None
        ids = self.store.message_ids_before(channel_id, before, limit)
        messages = self.store.snapshots("messages", ids)
        numbers = [n for m in messages if (n := _int(m.fields.get("n"))) is not None]
        low = min(numbers, default=None)
        complete = len(ids) < limit or (low is not None and low <= 1)
        replies = self.store.latest_reply_ids(ids, BULK_REPLIES)
        messages += self.store.snapshots("messages", replies)
        return BulkPage(messages + self.store.reactions_to(ids + replies), complete, low, last or 0)

    # --- versions ----------------------------------------------------------------------------

    def versions(self, user_id: str, message_id: str) -> Versions:
        record = self.store.get_record("messages", message_id)
        if record is None or not may_read_channel(self.store, user_id, str(record.state.fields.get("channel"))):
            raise ApiError(404, "not_found", f"there is no message {message_id} you can see")
        deleted = record.state.fields.get("deleted") is True
        versions = []
        for change in self.store.record_history("messages", message_id):
            if not ({"text", "deleted", "channel", "edited"} & set(change.fields)):
                continue
            if change.fields == {"text": None}:
                continue  # the server wiping a deleted or expired body: not a version anyone wrote
            text = None if deleted else _str(change.fields.get("text"))
            versions.append(
                Version(
                    hlc=change.hlc,
                    author=change.author,
                    at=parse_hlc(change.hlc).ms,
                    text=text,
                    deleted=change.fields.get("deleted") is True,
                )
            )
        return Versions(versions)


def _names(value: str, person_id: str, fields: dict[str, Value]) -> bool:
    return search_query.person_named(value, person_id, str(fields.get("name") or ""), str(fields.get("email") or ""))


def _int(value: Value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Value) -> str | None:
    return value if isinstance(value, str) else None


__all__ = ["ChatService"]
