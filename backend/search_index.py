"""Message search: a derived index in its own SQLite file, built from the change log by a thread.

Rules:

Rule 1. The index is derived: it follows the change log (``seq`` order) and can be deleted and
        rebuilt at any time. Pushes never wait for it, so full-text indexing (the costliest part of
        accepting a message) runs beside them — on the other core, as SQLite releases the GIL.
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

from sync_protocol.wire import Value

log = logging.getLogger("teamtalk.search")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, channel TEXT NOT NULL, author TEXT NOT NULL,
    at INTEGER NOT NULL, folded TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    folded, content = 'docs', content_rowid = 'rowid', tokenize = 'trigram'
);
"""
BATCH = 2000
IDLE_WAIT_S = 0.5
#: After a poke, wait this long for more before indexing: at a thousand sends a second the index
#: then works in batches instead of competing with every push (a waiting search skips the wait).
COALESCE_S = 0.05
_fields_decoder = msgspec.json.Decoder(dict[str, Value])


class SearchIndex:
    def __init__(self, database: Path, index: Path) -> None:
        self.database = database
        self.index = index
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._indexed = -1
        self._urgent = threading.Event()
        self._reader: sqlite3.Connection | None = None

    # --- the indexer thread ------------------------------------------------------------------

    def poke(self, urgent: bool = False) -> None:
        """New messages were committed: index them soon (starts the thread on first use)."""
        self._ensure_started()
        if urgent:
            self._urgent.set()
        self._wake.set()

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(target=self._run, name="search-index", daemon=True)
                self._thread.start()

    def close(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._reader is not None:
            self._reader.close()

    def _run(self) -> None:
        main = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, isolation_level=None)
        index = sqlite3.connect(self.index, isolation_level=None)
        index.execute("PRAGMA journal_mode=WAL")
        index.execute("PRAGMA synchronous=NORMAL")  # derived data: a crash costs a rebuild, not a loss
        index.executescript(_SCHEMA)
        try:
            while not self._stopping.is_set():
                if not self._urgent.is_set():
                    self._urgent.wait(COALESCE_S)
                self._urgent.clear()
                try:
                    while self._catch_up(main, index):
                        pass
                except sqlite3.Error:
                    log.exception("search indexing failed; retrying")
                    time.sleep(IDLE_WAIT_S)
                self._wake.wait(IDLE_WAIT_S)
                self._wake.clear()
        finally:
            main.close()
            index.close()

    def _catch_up(self, main: sqlite3.Connection, index: sqlite3.Connection) -> bool:
        """Index the next batch of the log; True while more remains."""
        row = index.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        done = int(row[0]) if row else 0
        main.execute("BEGIN")
        try:
            head = int(main.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0])
            upto = min(head, done + BATCH * 10)
            ids = [r[0] for r in main.execute(
                "SELECT DISTINCT record_id FROM changes WHERE seq > ? AND seq <= ? AND collection = 'messages'",
                (done, upto),
            )]
            records = self._records(main, ids)
        finally:
            main.execute("COMMIT")
        index.execute("BEGIN")
        try:
            for record_id in ids:
                self._put(index, record_id, records.get(record_id))
            index.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('seq', ?)", (upto,))
            index.execute("COMMIT")
        except BaseException:
            index.execute("ROLLBACK")
            raise
        self._indexed = upto
        return upto < head

    @staticmethod
    def _records(main: sqlite3.Connection, ids: list[str]) -> dict[str, dict[str, Value]]:
        found: dict[str, dict[str, Value]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = main.execute(
                f"SELECT id, fields FROM records WHERE collection = 'messages' AND id IN ({marks})", chunk
            )
            found.update((rid, _fields_decoder.decode(fields)) for rid, fields in rows)
        return found

    @staticmethod
    def _put(index: sqlite3.Connection, record_id: str, fields: dict[str, Value] | None) -> None:
        old = index.execute("SELECT rowid, folded FROM docs WHERE id = ?", (record_id,)).fetchone()
        if old is not None and old[1]:
            index.execute("INSERT INTO docs_fts (docs_fts, rowid, folded) VALUES ('delete', ?, ?)", old)
        text = fields.get("text") if fields else None
        folded = text.lower() if isinstance(text, str) and fields and fields.get("deleted") is not True else ""
        row = (str(fields.get("channel")) if fields else "", str(fields.get("author")) if fields else "",
               fields.get("at") or 0 if fields else 0, folded)
        if old is None:
            rowid = index.execute(
                "INSERT INTO docs (id, channel, author, at, folded) VALUES (?, ?, ?, ?, ?)", (record_id, *row)
            ).lastrowid
        else:
            rowid = old[0]
            index.execute("UPDATE docs SET channel = ?, author = ?, at = ?, folded = ? WHERE rowid = ?", (*row, rowid))
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
        self, needles: Sequence[str], channels: Sequence[str], authors: Sequence[str],
        after_ms: int | None, before_ms: int | None, limit: int,
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
