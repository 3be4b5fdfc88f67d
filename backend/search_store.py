"""The search index file (search.db): its schema, how the indexer writes it, and how a search reads it.

Rules:

Rule 1. Everything here is derived from the log (backend/search_index.py feeds it): delete the
        file and it is rebuilt; a file of another VERSION is dropped and rebuilt the same way.
Rule 2. Two full-text indexes over each message's lower-cased text: ``docs_fts`` (trigram, any
        script, substrings) and ``docs_words`` (unicode61 with diacritics removed, over the text
        with unspaced scripts blanked: backend/search_plan.py). Beside them, the statistics the
        planner estimates with: ``terms`` (every word of the word index with the number of
        messages it was indexed for, and ``terms_fts``, a trigram index over those words, to
        find the words containing a fragment), ``counts`` (messages per channel and per author),
        and ``docs_fts_vocab`` (FTS5's own trigram counts, cached by the reader).
Rule 3. Counts only grow: an edit or a deletion leaves the old words counted. They are
        estimates, and a word never indexed is never counted, so a word with no count is in no
        message (the planner's "empty").
Rule 4. Results are newest first: rowid order, which is first-seen order of the log.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import msgspec

from backend import search_plan
from sync_protocol.merge import RecordState

#: Bump when the index's shape changes: an index of another version is rebuilt from the log.
VERSION = 5
_WORDS = "tokenize = 'unicode61 remove_diacritics 2'"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, channel TEXT NOT NULL, author TEXT NOT NULL,
    at INTEGER NOT NULL, folded TEXT NOT NULL
);
-- The indexed fields with their clocks (search_index Rule 1), apart: a search verifies its
-- candidates on docs rows, which stay three times narrower (and their pages cached) without it.
CREATE TABLE IF NOT EXISTS states (rowid INTEGER PRIMARY KEY, state BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS docs_by_channel ON docs (channel);
CREATE INDEX IF NOT EXISTS docs_by_author ON docs (author);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    folded, content = 'docs', content_rowid = 'rowid', tokenize = 'trigram'
);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts_vocab USING fts5vocab(docs_fts, 'row');
CREATE VIRTUAL TABLE IF NOT EXISTS docs_words USING fts5(words, content = '', columnsize = 0, {_WORDS});
CREATE TABLE IF NOT EXISTS terms (rowid INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE, docs INTEGER NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS terms_fts USING fts5(
    term, content = 'terms', content_rowid = 'rowid', tokenize = 'trigram'
);
CREATE TABLE IF NOT EXISTS counts (
    kind TEXT NOT NULL, key TEXT NOT NULL, docs INTEGER NOT NULL, PRIMARY KEY (kind, key)
) WITHOUT ROWID;
"""
#: Segments per level before FTS5 merges them. At FTS5's default (4) a single-message commit over
#: a long history pays for merges that grow with it: 0.11 ms per message with nothing indexed,
#: 0.46 ms at 100,000 (bench/push_cost.py, issue 17). At 8 it stays ~0.10-0.14 ms and searches
#: measured no slower.
AUTOMERGE = 8
#: How long a cached trigram count is trusted (it only orders the plan).
TRIGRAM_TTL_S = 600.0
_encode = msgspec.json.encode


def open_index(path: Path) -> sqlite3.Connection:
    """The index file for writing, rebuilt from scratch (position 0) when it has another VERSION."""
    index = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    index.execute("PRAGMA journal_mode=WAL")
    index.execute("PRAGMA synchronous=NORMAL")  # derived data: a crash costs a rebuild, not a loss
    if int(index.execute("PRAGMA user_version").fetchone()[0]) != VERSION:
        tables = [r[0] for r in index.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:  # virtual tables first drop their shadow tables with them
            index.execute(f'DROP TABLE IF EXISTS "{table}"')
        index.execute(f"PRAGMA user_version={VERSION}")
    index.executescript(_SCHEMA)
    for fts in ("docs_fts", "docs_words"):  # kept in the index's own config: set at every open
        index.execute(f"INSERT INTO {fts} ({fts}, rank) VALUES ('automerge', {AUTOMERGE})")
    return index


class _Tokenizer:
    """The word index's own tokenizer (an in-memory FTS5 table), so the words the planner looks
    up are exactly the words indexed, diacritics and case folded the same way."""

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self.db.execute(f"CREATE VIRTUAL TABLE t USING fts5(words, content = '', {_WORDS})")
        self.db.execute("CREATE VIRTUAL TABLE t_rows USING fts5vocab(t, 'row')")
        self.db.execute("CREATE VIRTUAL TABLE t_each USING fts5vocab(t, 'instance')")

    def tokens(self, text: str) -> list[str]:
        """The words of ``text`` in order."""
        self.db.execute("INSERT INTO t (rowid, words) VALUES (1, ?)", (text,))
        found = [r[0] for r in self.db.execute("SELECT term FROM t_each ORDER BY offset")]
        self.db.execute("INSERT INTO t (t) VALUES ('delete-all')")
        return found

    def words(self, texts: list[str]) -> list[tuple[str, int]]:
        """Each word of these texts with the number of texts holding it."""
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO t (words) VALUES (?)", ((t,) for t in texts))
        found = [(str(r[0]), int(r[1])) for r in self.db.execute("SELECT term, doc FROM t_rows")]
        self.db.execute("INSERT INTO t (t) VALUES ('delete-all')")
        self.db.execute("COMMIT")
        return found


def _fts_text(folded: str) -> str:
    """What the full-text indexes are given: FTS5 stops reading a text at NUL, so NUL becomes a
    space there (docs keeps the text as it is, for verification)."""
    return folded.replace("\x00", " ")


def indexed(index: sqlite3.Connection, record_id: str) -> tuple[int, str, bytes] | None:
    """A message as the index holds it: (rowid, folded text, encoded state), or None."""
    row = index.execute(
        "SELECT d.rowid, d.folded, s.state FROM docs d JOIN states s ON s.rowid = d.rowid WHERE d.id = ?", (record_id,)
    ).fetchone()
    return (int(row[0]), str(row[1]), bytes(row[2])) if row else None


def indexed_many(index: sqlite3.Connection, record_ids: list[str]) -> dict[str, tuple[int, str, bytes]]:
    """``indexed`` for many messages in a few queries (a batch of new messages is mostly absent:
    one query per message was 11% of the indexer's py-spy samples in bench 2)."""
    found: dict[str, tuple[int, str, bytes]] = {}
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for record_id, rowid, folded, state in index.execute(
            "SELECT d.id, d.rowid, d.folded, s.state FROM docs d JOIN states s ON s.rowid = d.rowid "
            f"WHERE d.id IN ({marks})",
            chunk,
        ):
            found[str(record_id)] = (int(rowid), str(folded), bytes(state))
    return found


class Writer:
    """Puts merged messages into the index; ``finish`` adds the batch's statistics (Rule 2)."""

    def __init__(self) -> None:
        self._tokenizer = _Tokenizer()
        self._texts: list[str] = []
        self._counts: Counter[tuple[str, str]] = Counter()
        #: New messages of this batch, written by ``finish`` a table at a time rather than four
        #: statements per message (with ``indexed_many``: 6% fewer instructions per indexed
        #: message, bench/push_instructions.py): (id, channel, author, at, folded, state).
        self._new: list[tuple[str, str, str, int, str, bytes]] = []

    def put(self, index: sqlite3.Connection, record_id: str, old: tuple[int, str] | None, state: RecordState) -> None:
        """Index one message as ``state`` holds it; ``old`` is its (rowid, folded text) in the index."""
        if old is not None and old[1]:
            index.execute(
                "INSERT INTO docs_fts (docs_fts, rowid, folded) VALUES ('delete', ?, ?)", (old[0], _fts_text(old[1]))
            )
            index.execute(
                "INSERT INTO docs_words (docs_words, rowid, words) VALUES ('delete', ?, ?)",
                (old[0], search_plan.words_text(_fts_text(old[1]))),
            )
        fields = state.fields
        text = fields.get("text")
        folded = text.lower() if isinstance(text, str) and fields.get("deleted") is not True else ""
        at = fields.get("at")
        row = (str(fields.get("channel")), str(fields.get("author")), at if isinstance(at, int) else 0, folded)
        if old is None:
            self._new.append((record_id, *row, _encode(state)))
            self._counts["channels", row[0]] += 1
            self._counts["authors", row[1]] += 1
            return
        rowid = old[0]
        index.execute("UPDATE docs SET channel = ?, author = ?, at = ?, folded = ? WHERE rowid = ?", (*row, rowid))
        index.execute("INSERT OR REPLACE INTO states (rowid, state) VALUES (?, ?)", (rowid, _encode(state)))
        if folded:
            words = search_plan.words_text(_fts_text(folded))
            index.execute("INSERT INTO docs_fts (rowid, folded) VALUES (?, ?)", (rowid, _fts_text(folded)))
            index.execute("INSERT INTO docs_words (rowid, words) VALUES (?, ?)", (rowid, words))
            self._texts.append(words)

    def finish(self, index: sqlite3.Connection) -> None:
        """Write the new messages put since the last call, and count their words and messages (in
        the caller's transaction)."""
        new, self._new = self._new, []
        if new:
            # The rowids SQLite would give them one by one (past the greatest), in put order (Rule 4).
            first = int(index.execute("SELECT coalesce(max(rowid), 0) FROM docs").fetchone()[0]) + 1
            rows = [(rowid, *message) for rowid, message in enumerate(new, start=first)]
            index.executemany(
                "INSERT INTO docs (rowid, id, channel, author, at, folded) VALUES (?, ?, ?, ?, ?, ?)",
                [row[:6] for row in rows],
            )
            index.executemany(
                "INSERT OR REPLACE INTO states (rowid, state) VALUES (?, ?)", [(r[0], r[6]) for r in rows]
            )
            folded = [(row[0], _fts_text(row[5])) for row in rows if row[5]]
            index.executemany("INSERT INTO docs_fts (rowid, folded) VALUES (?, ?)", folded)
            words = [(rowid, search_plan.words_text(text)) for rowid, text in folded]
            index.executemany("INSERT INTO docs_words (rowid, words) VALUES (?, ?)", words)
            self._texts.extend(text for _, text in words)
        texts, self._texts = self._texts, []
        counts, self._counts = self._counts, Counter()
        if texts:
            # New words take rowids past the last: those are the ones terms_fts has not seen.
            last = index.execute("SELECT coalesce(max(rowid), 0) FROM terms").fetchone()[0]
            index.executemany(
                "INSERT INTO terms (term, docs) VALUES (?, ?) "
                "ON CONFLICT (term) DO UPDATE SET docs = docs + excluded.docs",
                self._tokenizer.words(texts),
            )
            index.execute("INSERT INTO terms_fts (rowid, term) SELECT rowid, term FROM terms WHERE rowid > ?", (last,))
        index.executemany(
            "INSERT INTO counts (kind, key, docs) VALUES (?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET docs = docs + excluded.docs",
            ((kind, key, docs) for (kind, key), docs in counts.items()),
        )

    def close(self) -> None:
        self._tokenizer.db.close()
