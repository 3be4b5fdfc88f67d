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
from sync_protocol import merge
from sync_protocol.merge import RecordState

log = logging.getLogger("teamtalk.search")

#: Bump when the index's shape changes: an index of another version is rebuilt from the log.
VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, channel TEXT NOT NULL, author TEXT NOT NULL,
    at INTEGER NOT NULL, folded TEXT NOT NULL,
    state BLOB NOT NULL                   -- the indexed fields with their clocks (Rule 1)
);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    folded, content = 'docs', content_rowid = 'rowid', tokenize = 'trigram'
);
"""
#: The fields of a message the index keeps.
INDEXED = ("channel", "author", "at", "text", "deleted")
BATCH = 2000
#: Segments per level before FTS5 merges them (see _open_index).
AUTOMERGE = 8
IDLE_WAIT_S = 0.5
#: After changes arrive, wait this long for more before indexing: at a thousand sends a second the
#: index then works in batches instead of competing with every push (a waiting search skips the wait).
COALESCE_S = 0.05
_state_decoder = msgspec.json.Decoder(RecordState)
_encode = msgspec.json.encode


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
        self._reader: sqlite3.Connection | None = None
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
        rows: dict[str, tuple[int, str] | None] = {}  # rowid and folded text as the index holds them
        for unit in units:
            for change in unit.changes:
                if change.collection != "messages":
                    continue
                fields = {name: change.fields[name] for name in INDEXED if name in change.fields}
                if not fields:
                    continue  # counters, pins, reactions: nothing the index keeps
                if change.id not in rows:
                    row = index.execute("SELECT rowid, folded, state FROM docs WHERE id = ?", (change.id,)).fetchone()
                    rows[change.id] = (row[0], row[1]) if row else None
                    if row:
                        states[change.id] = _state_decoder.decode(row[2])
                states[change.id] = merge.apply(states.get(change.id), fields, change.hlc)
        index.execute("BEGIN")
        try:
            for record_id, state in states.items():
                self._put(index, record_id, rows[record_id], state)
            index.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('seq', ?)", (upto,))
            index.execute("COMMIT")
        except BaseException:
            index.execute("ROLLBACK")
            raise

    @staticmethod
    def _put(index: sqlite3.Connection, record_id: str, old: tuple[int, str] | None, state: RecordState) -> None:
        if old is not None and old[1]:
            index.execute("INSERT INTO docs_fts (docs_fts, rowid, folded) VALUES ('delete', ?, ?)", old)
        fields = state.fields
        text = fields.get("text")
        folded = text.lower() if isinstance(text, str) and fields.get("deleted") is not True else ""
        at = fields.get("at")
        row = (
            str(fields.get("channel")),
            str(fields.get("author")),
            at if isinstance(at, int) else 0,
            folded,
            _encode(state),
        )
        if old is None:
            rowid = index.execute(
                "INSERT INTO docs (id, channel, author, at, folded, state) VALUES (?, ?, ?, ?, ?, ?)", (record_id, *row)
            ).lastrowid
        else:
            rowid = old[0]
            index.execute(
                "UPDATE docs SET channel = ?, author = ?, at = ?, folded = ?, state = ? WHERE rowid = ?", (*row, rowid)
            )
        if folded:
            index.execute("INSERT INTO docs_fts (rowid, folded) VALUES (?, ?)", (rowid, folded))

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
        """Ids of matching messages, newest first. Needles of three characters or more use the
        trigram index; shorter ones filter the candidates by substring."""
        if not channels or not self.index.exists():
            return []
        if self._reader is None:
            self._reader = sqlite3.connect(f"file:{self.index}?mode=ro", uri=True, check_same_thread=False)
        where = [f"d.channel IN ({','.join('?' * len(channels))})", "d.folded != ''"]
        args: list[object] = list(channels)
        indexed = [n for n in needles if len(n) >= 3]
        for needle in needles:
            if needle in indexed:
                escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                where.append("f.folded LIKE ? ESCAPE '\\'")
                args.append(f"%{escaped}%")
            else:
                where.append("instr(d.folded, ?) > 0")
                args.append(needle)
        if authors:
            where.append(f"d.author IN ({','.join('?' * len(authors))})")
            args.extend(authors)
        if after_ms is not None:
            where.append("d.at >= ?")
            args.append(after_ms)
        if before_ms is not None:
            where.append("d.at < ?")
            args.append(before_ms)
        if indexed:
            source, order = "docs_fts f JOIN docs d ON d.rowid = f.rowid", "f.rowid"
        else:
            source, order = "docs d", "d.rowid"
        sql = f"SELECT d.id FROM {source} WHERE {' AND '.join(where)} ORDER BY {order} DESC LIMIT ?"
        return [r[0] for r in self._reader.execute(sql, (*args, limit))]


def _open_index(path: Path) -> sqlite3.Connection:
    """The index file, rebuilt from scratch (position 0) when it has another VERSION."""
    index = sqlite3.connect(path, isolation_level=None)
    index.execute("PRAGMA journal_mode=WAL")
    index.execute("PRAGMA synchronous=NORMAL")  # derived data: a crash costs a rebuild, not a loss
    if int(index.execute("PRAGMA user_version").fetchone()[0]) != VERSION:
        index.executescript("DROP TABLE IF EXISTS docs_fts; DROP TABLE IF EXISTS docs; DROP TABLE IF EXISTS meta;")
        index.execute(f"PRAGMA user_version={VERSION}")
    index.executescript(_SCHEMA)
    # FTS5 merges its segments as it goes; at the default (4 segments per level) a single-message
    # commit over a long history pays for merges that grow with it: 0.11 ms per message with
    # nothing indexed, 0.46 ms at 100,000 (bench/push_cost.py, issue 17). At 8 it stays ~0.10-0.14
    # ms and searches measured no slower. Kept in the index's own config: set at every open.
    index.execute(f"INSERT INTO docs_fts (docs_fts, rank) VALUES ('automerge', {AUTOMERGE})")
    return index

    # --- searching ---------------------------------------------------------------------------
