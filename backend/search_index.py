"""Message search: a derived index in its own SQLite file, built by a thread that follows the feed.

Rules:

Rule 1. The index is derived: it follows the feed of committed changes (backend/feed.py) in
        ``seq`` order, resuming after a restart from the position it stores with its rows, and
        can be deleted and rebuilt at any time. Each message's indexed fields are merged from its
        changes with the merge rule (sync_protocol/merge.py), so the index holds what the
        record holds without reading the live database. Pushes never wait for it: the feed only
        queues for it, and full-text indexing (the costliest part of accepting a message) runs
        in its thread — on the other core, as SQLite releases the GIL.
Rule 2. A search first waits (briefly) until the index has caught up with the log as it stood
        when the search was asked: nobody fails to find the message they have just sent.
Rule 3. Text is indexed lower-cased (trigram FTS5), so matching is a case-insensitive substring in
        every script, like offline search (sync_protocol/search_query.py). Deleted or wiped
        messages leave the index.
Rule 4. Newest first is rowid order (first-seen order of the log), which lets FTS5 stream its
        matches backwards and stop at the limit.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import msgspec

from backend.feed import Committed, Feed, Follower
from backend.search_reader import Reader
from backend.search_store import AUTOMERGE, VERSION, Writer, indexed_many
from backend.search_store import open_index as _open_index
from sync_protocol import merge
from sync_protocol.merge import RecordState
from sync_protocol.wire import Change, Value

log = logging.getLogger("teamtalk.search")

#: The fields of a message the index keeps.
INDEXED = ("channel", "author", "at", "text", "deleted")
BATCH = 2000
IDLE_WAIT_S = 0.5
#: After changes arrive, wait this long for more before indexing (a waiting search skips the wait,
#: Rule 2): the index works in batches instead of a transaction per push. Batches also at a
#: person's pace: indexed alone (at 0.05 s), a message 80 ms after the last paid FTS5's merge work
#: for a whole leaf page and grew with the index: 1.05 ms of indexer CPU per push at an empty
#: index, 1.1-3.3 ms at 100,000 and up to 5.4 ms at 1,000,000 messages; batched a second at a
#: time, ~0.2 ms (bench/push_cost.py, issue 17). The lag it adds (<= 1 s) shows as search_lag.
COALESCE_S = 1.0
_state_decoder = msgspec.json.Decoder(RecordState)


class SearchIndex:
    def __init__(self, feed: Feed, index: Path) -> None:
        self.feed = feed
        self.index = index
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._follower: Follower | None = None
        self._indexed = -1
        self._urgent = threading.Event()
        self._reader: Reader | None = None
        self._writer = Writer()
        # Only to start the thread when the first message is committed; the thread follows.
        self._stop_listening = feed.listen(self._heard)

    @property
    def indexed(self) -> int:
        """The last seq the index holds the changes up to (-1 before its thread first ran)."""
        return self._indexed

    # --- the indexer thread ------------------------------------------------------------------

    def _heard(self, unit: Committed) -> None:
        if self._thread is None and any(c.collection == "messages" for c in unit.changes):
            self._ensure_started()

    def poke(self, urgent: bool = False) -> None:
        """Index soon (starts the thread on first use); ``urgent``: a search is waiting."""
        self._ensure_started()
        if urgent:
            self._urgent.set()

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(target=self._run, name="search-index", daemon=True)
                self._thread.start()

    def close(self) -> None:
        self._stop_listening()
        with self._lock:
            self._stopping.set()
            if self._follower is not None:
                self._follower.close()
        self._urgent.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._reader is not None:
            self._reader.close()
        self._writer.close()

    def _follow(self, index: sqlite3.Connection) -> Follower | None:
        """Follow the feed from the position stored with the index (Rule 1)."""
        row = index.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        with self._lock:
            if self._stopping.is_set():
                return None
            self._follower = self.feed.follow(int(row[0]) if row else 0)
            self._indexed = self._follower.position
            return self._follower

    def _run(self) -> None:
        index = _open_index(self.index)
        try:
            follower = self._follow(index)
            while follower is not None and not self._stopping.is_set():
                units = follower.take(IDLE_WAIT_S, BATCH)
                if not units:
                    continue
                if not self._urgent.is_set():
                    self._urgent.wait(COALESCE_S)
                self._urgent.clear()
                count = sum(len(u.changes) for u in units)
                while count < BATCH * 10 and (more := follower.take(0, BATCH)):
                    units += more
                    count += sum(len(u.changes) for u in more)
                try:
                    self._index(index, units, follower.position)
                except sqlite3.Error:
                    log.exception("search indexing failed; retrying from the stored position")
                    follower.close()
                    time.sleep(IDLE_WAIT_S)
                    follower = self._follow(index)
                    continue
                self._indexed = follower.position
        finally:
            index.close()

    def _index(self, index: sqlite3.Connection, units: list[Committed], upto: int) -> None:
        """Merge the messages' indexed fields from these changes and store them with ``upto``."""
        states: dict[str, RecordState] = {}
        wanted: list[tuple[Change, dict[str, Value]]] = []
        for unit in units:
            for change in unit.changes:
                if change.collection != "messages":
                    continue
                fields = {name: change.fields[name] for name in INDEXED if name in change.fields}
                if fields:  # counters, pins, reactions: nothing the index keeps
                    wanted.append((change, fields))
        held = indexed_many(index, list(dict.fromkeys(change.id for change, _ in wanted)))
        rows: dict[str, tuple[int, str] | None] = {}  # rowid and folded text as the index holds them
        for record_id, (rowid, folded, encoded) in held.items():
            rows[record_id] = (rowid, folded)
            states[record_id] = _state_decoder.decode(encoded)
        for change, fields in wanted:
            rows.setdefault(change.id, None)
            states[change.id] = merge.apply(states.get(change.id), fields, change.hlc)
        index.execute("BEGIN")
        try:
            for record_id, state in states.items():
                self._writer.put(index, record_id, rows[record_id], state)
            self._writer.finish(index)
            index.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('seq', ?)", (upto,))
            index.execute("COMMIT")
        except BaseException:
            index.execute("ROLLBACK")
            raise

    # --- searching ---------------------------------------------------------------------------

    async def caught_up(self, seq: int, timeout_s: float = 10.0) -> bool:
        """Wait until everything up to ``seq`` is indexed (Rule 2); False when it took too long."""
        if seq <= 0:
            return True
        self.poke(urgent=True)
        deadline = time.monotonic() + timeout_s
        while self._indexed < seq:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    def wait(self, seq: int, timeout_s: float) -> bool:
        """Block until everything up to ``seq`` is indexed (tools and benchmarks; not for the loop)."""
        self.poke(urgent=True)
        deadline = time.monotonic() + timeout_s
        while self._indexed < seq:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def search(
        self,
        needles: Sequence[str],
        channels: Sequence[str],
        authors: Sequence[str],
        after_ms: int | None,
        before_ms: int | None,
        limit: int,
    ) -> list[str]:
        """Ids of matching messages, newest first (backend/search_plan.py chooses how)."""
        if not channels or not self.index.exists():
            return []
        if self._reader is None:
            self._reader = Reader(self.index)
        return self._reader.search(needles, channels, authors, after_ms, before_ms, limit)


__all__ = ["AUTOMERGE", "VERSION", "SearchIndex", "_open_index"]
