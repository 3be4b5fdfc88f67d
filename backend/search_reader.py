"""Answering a search from the index file: the planner's statistics, and the query its plan makes.

The plan (backend/search_plan.py) names a driver: an index query or a filter that proposes
candidates newest first. Every needle is then verified on each candidate with ``instr`` over its
lower-cased text, and the filters applied, until ``limit`` match (search_store Rule 4: rowid order
is newest first). Only filters that do not drive are written ``+column``: SQLite must not walk
their indexes instead of the driver.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from backend import search_plan
from backend.search_store import TRIGRAM_TTL_S, _Tokenizer

_MAX_PREFIX_TERMS = 5000
_KEY_COLUMN = {"channels": "channel", "authors": "author"}
_FTS = {"words": "docs_words", "trigram": "docs_fts"}
#: Intersected candidates are verified this many at a time (Rule 5 of search_plan).
_CHUNK = 256


class Reader:
    """One read-only connection to search.db (the event loop's thread uses it)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._tokenizer = _Tokenizer()
        self._trigrams: dict[str, tuple[int, float]] = {}

    def close(self) -> None:
        self.db.close()
        self._tokenizer.db.close()

    # --- search_plan.Stats -------------------------------------------------------------------

    def tokens(self, text: str) -> list[str]:
        return self._tokenizer.tokens(text)

    def term_docs(self, term: str) -> int:
        row = self.db.execute("SELECT docs FROM terms WHERE term = ?", (term,)).fetchone()
        return int(row[0]) if row else 0

    def prefix_docs(self, prefix: str) -> int:
        row = self.db.execute(
            "SELECT sum(docs) FROM (SELECT docs FROM terms WHERE term >= ? AND term < ? LIMIT ?)",
            (prefix, prefix + "\U0010ffff", _MAX_PREFIX_TERMS),
        ).fetchone()
        return int(row[0] or 0)

    def terms_with(self, fragment: str, suffix: bool) -> list[tuple[str, int]] | None:
        if "%" in fragment or "_" in fragment:
            return None  # not a word's fragment (the tokenizer splits at both)
        # No ESCAPE clause: with one, SQLite does not hand the LIKE to FTS5, which then scans.
        found = self.db.execute(
            "SELECT t.term, t.docs FROM terms_fts f JOIN terms t ON t.rowid = f.rowid WHERE f.term LIKE ? LIMIT ?",
            (f"%{fragment}" if suffix else f"%{fragment}%", search_plan.MAX_EXPANSION + 1),
        ).fetchall()
        if len(found) > search_plan.MAX_EXPANSION:
            return None
        return sorted((str(t), int(n)) for t, n in found)

    def trigram_docs(self, trigram: str) -> int:
        """FTS5's count of messages holding ``trigram``. Counting walks the trigram's whole list
        (tens of ms for the commonest), so counts are cached for TRIGRAM_TTL_S."""
        now = time.monotonic()
        cached = self._trigrams.get(trigram)
        if cached is not None and now - cached[1] < TRIGRAM_TTL_S:
            return cached[0]
        row = self.db.execute("SELECT doc FROM docs_fts_vocab WHERE term = ?", (trigram,)).fetchone()
        count = int(row[0]) if row else 0
        if count:  # never a cached zero: the planner stops at a zero, and the trigram may come
            if len(self._trigrams) > 100_000:
                self._trigrams.clear()
            self._trigrams[trigram] = (count, now)
        return count

    def key_docs(self, kind: str, keys: list[str]) -> int:
        row = self.db.execute(
            f"SELECT sum(docs) FROM counts WHERE kind = ? AND key IN ({','.join('?' * len(keys))})", (kind, *keys)
        ).fetchone()
        return int(row[0] or 0)

    def total(self) -> int:
        row = self.db.execute("SELECT max(rowid) FROM docs").fetchone()
        return int(row[0] or 0)

    # --- searching ---------------------------------------------------------------------------

    def plan(self, needles: Sequence[str], channels: Sequence[str], authors: Sequence[str]) -> search_plan.Plan:
        return search_plan.plan(list(needles), list(channels), list(authors), self)

    def search(
        self,
        needles: Sequence[str],
        channels: Sequence[str],
        authors: Sequence[str],
        after_ms: int | None,
        before_ms: int | None,
        limit: int,
    ) -> list[str]:
        """Ids of matching messages, newest first."""
        chosen = self.plan(needles, channels, authors)
        if chosen.driver == "empty":
            return []
        where, args = self._conditions(chosen.driver, needles, channels, authors, after_ms, before_ms)
        if chosen.also is not None:
            return self._intersected(chosen, channels, authors, where, args, limit)
        if chosen.driver in _FTS:
            fts = _FTS[chosen.driver]
            source, order = f"{fts} f JOIN docs d ON d.rowid = f.rowid", "f.rowid"
            where.insert(0, f"{fts} MATCH ?")
            args.insert(0, chosen.match)
        else:
            source, order = "docs d", "d.rowid"
            if chosen.driver in _KEY_COLUMN:
                source = f"docs d INDEXED BY docs_by_{_KEY_COLUMN[chosen.driver]}"
        sql = f"SELECT d.id FROM {source} WHERE {' AND '.join(where)} ORDER BY {order} DESC LIMIT ?"
        return [r[0] for r in self.db.execute(sql, (*args, limit))]

    def _intersected(
        self,
        chosen: search_plan.Plan,
        channels: Sequence[str],
        authors: Sequence[str],
        where: list[str],
        args: list[object],
        limit: int,
    ) -> list[str]:
        """Rule 5 of the planner: both proposals read whole, then the common ones verified, newest
        first, a chunk at a time until ``limit`` match."""
        assert chosen.also is not None
        lists = []
        for source, match in ((chosen.driver, chosen.match), chosen.also):
            # One string per list: reading rowids a row at a time costs more in Python than in SQLite.
            if source in _FTS:
                sql, params = f"SELECT group_concat(rowid) FROM {_FTS[source]} WHERE {_FTS[source]} MATCH ?", [match]
            else:
                column, keys = _KEY_COLUMN[source], channels if source == "channels" else authors
                sql = (
                    f"SELECT group_concat(rowid) FROM docs INDEXED BY docs_by_{column} "
                    f"WHERE {column} IN ({','.join('?' * len(keys))})"
                )
                params = list(keys)
            joined = self.db.execute(sql, params).fetchone()[0]
            lists.append(set(map(int, joined.split(","))) if joined else set())
        candidates = sorted(lists[0] & lists[1], reverse=True)
        found: list[str] = []
        sql = (
            "SELECT d.id FROM docs d WHERE d.rowid IN (SELECT value FROM json_each(?)) AND "
            f"{' AND '.join(where)} ORDER BY d.rowid DESC"
        )
        for start in range(0, len(candidates), _CHUNK):
            chunk = json.dumps(candidates[start : start + _CHUNK])
            found += [r[0] for r in self.db.execute(sql, (chunk, *args))]
            if len(found) >= limit:
                break
        return found[:limit]

    @staticmethod
    def _conditions(
        driver: str,
        needles: Sequence[str],
        channels: Sequence[str],
        authors: Sequence[str],
        after_ms: int | None,
        before_ms: int | None,
    ) -> tuple[list[str], list[object]]:
        where = ["d.folded != ''"]
        args: list[object] = []
        for kind, keys in (("channels", channels), ("authors", authors)):
            if keys or kind == "channels":  # no channel at all finds nothing (the caller checks first)
                plus = "" if driver == kind else "+"
                where.append(f"{plus}d.{_KEY_COLUMN[kind]} IN ({','.join('?' * len(keys))})")
                args.extend(keys)
        for needle in dict.fromkeys(needles):
            where.append("instr(d.folded, ?) > 0")
            args.append(needle)
        if after_ms is not None:
            where.append("d.at >= ?")
            args.append(after_ms)
        if before_ms is not None:
            where.append("d.at < ?")
            args.append(before_ms)
        return where, args

    def search_trigrams_only(
        self,
        needles: Sequence[str],
        channels: Sequence[str],
        authors: Sequence[str],
        after_ms: int | None,
        before_ms: int | None,
        limit: int,
        escape: bool = True,
    ) -> list[str]:
        """The query of search.db version 2 (the trigram index alone), kept so that the benchmark
        (bench/server_scale.py) measures before and after on the same file in one run.
        ``escape=False`` drops its ESCAPE clause (for needles without ``%`` or ``_``), with which
        SQLite never handed the LIKE to FTS5: that query scanned. Without, it is the trigram
        index at its best, the baseline the word index and planner must beat."""
        # Version 2 had no channel or author index: + keeps SQLite from using this version's.
        where = [f"+d.channel IN ({','.join('?' * len(channels))})", "d.folded != ''"]
        args: list[object] = list(channels)
        indexed = [n for n in needles if len(n) >= 3]
        for needle in needles:
            if needle in indexed:
                escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                where.append("f.folded LIKE ? ESCAPE '\\'" if escape else "f.folded LIKE ?")
                args.append(f"%{escaped}%")
            else:
                where.append("instr(d.folded, ?) > 0")
                args.append(needle)
        if authors:
            where.append(f"+d.author IN ({','.join('?' * len(authors))})")
            args.extend(authors)
        if after_ms is not None:
            where.append("d.at >= ?")
            args.append(after_ms)
        if before_ms is not None:
            where.append("d.at < ?")
            args.append(before_ms)
        source, order = ("docs_fts f JOIN docs d ON d.rowid = f.rowid", "f.rowid") if indexed else ("docs d", "d.rowid")
        sql = f"SELECT d.id FROM {source} WHERE {' AND '.join(where)} ORDER BY {order} DESC LIMIT ?"
        return [r[0] for r in self.db.execute(sql, (*args, limit))]
