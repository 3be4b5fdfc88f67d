"""Recompute a change log's hash chain, in an archive or in the live store.

An entry that does not match is named by its seq: a changed byte in any of its columns (or a
value that no longer matches its kept digest), a missing, extra or reordered entry. An archive
must also end at the head its export recorded; compare that head with the one the server
published (GET /api/admin/chain) to know nothing was cut off the end.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.archive.model import utc
from backend.storage import chain, open_readonly
from backend.storage.sqlite_snapshot import connect_readonly


@dataclass
class Verdict:
    entries: int
    head_seq: int
    head_hash: str
    #: seq of the first entry that does not match, or None.
    first_bad: int | None = None
    problem: str | None = None
    where: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad is None and self.problem is None


class _Rows:
    """ChainRows from stored rows (chain.ROW_COLUMNS, JSON undecoded), remembering the last one
    seen; an undecodable row is a mismatch."""

    def __init__(self, stored: Iterable[tuple[Any, ...]]) -> None:
        self.stored = stored
        self.count = 0
        self.last: chain.ChainRow | None = None
        self.broken: int | None = None

    def __iter__(self) -> Iterator[chain.ChainRow]:
        for raw in self.stored:
            try:
                row = chain.row_from_sql(raw)
                if not isinstance(row.fields, dict) or not (row.redacted is None or isinstance(row.redacted, dict)):
                    raise ValueError("fields are not an object")
            except (ValueError, TypeError, IndexError):
                self.broken = int(raw[0]) if isinstance(raw[0], int) else (self.last.seq + 1 if self.last else 1)
                return
            self.count += 1
            self.last = row
            yield row


def verify_rows(stored: Iterable[tuple[Any, ...]], prev: str = chain.GENESIS, first_seq: int = 1) -> Verdict:
    rows = _Rows(stored)
    bad = chain.first_mismatch(rows, prev, first_seq)
    if bad is None and rows.broken is not None:
        bad = rows.broken
    head = rows.last
    return Verdict(rows.count, head.seq if head else 0, head.hash if head else prev, bad)


def verify_archive(path: Path) -> Verdict:
    """An archive file (its own schema, written by export.py; not the live store)."""
    db = connect_readonly(path)
    try:
        try:
            info = dict(db.execute("SELECT key, value FROM archive_info").fetchall())
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{path} is not a TeamTalk archive ({exc})") from None
        # an archive always holds the whole chain (model.py, Rule 2)
        verdict = verify_rows(db.execute(f"SELECT {chain.ROW_COLUMNS} FROM changes ORDER BY seq"))
        if verdict.first_bad is not None:
            verdict.where = _describe(
                db.execute(f"SELECT {chain.ROW_COLUMNS} FROM changes WHERE seq = ?", (verdict.first_bad,)).fetchone()
            )
        if verdict.ok and (str(verdict.head_seq), verdict.head_hash) != (info.get("head_seq"), info.get("head_hash")):
            verdict.problem = (
                f"the log ends at seq {verdict.head_seq} but the export recorded head seq {info.get('head_seq')} "
                f"hash {info.get('head_hash')}"
            )
        return verdict
    finally:
        db.close()


def verify_live(database: Path) -> Verdict:
    """The server's own store, read in one snapshot while the server keeps writing."""
    store = open_readonly(database)
    try:
        with store.snapshot() as snapshot:
            verdict = verify_rows(snapshot.stored_log())
            if verdict.first_bad is not None:
                verdict.where = _describe(snapshot.stored_entry(verdict.first_bad))
            return verdict
    finally:
        store.close()


def _describe(row: tuple[Any, ...] | None) -> str:
    """Where a bad entry is, from its stored columns (chain.ROW_COLUMNS)."""
    if row is None:
        return "(missing)"
    collection, record_id, author, received_at = row[2], row[3], row[5], row[8]
    try:
        when = utc(int(received_at))
    except (TypeError, ValueError):
        when = str(received_at)
    return f"({collection}/{record_id} by {author} at {when})"


def report(verdict: Verdict) -> str:
    if verdict.first_bad is not None:
        return f"FAILED: change log entry seq {verdict.first_bad} does not match {verdict.where}".rstrip()
    if verdict.problem:
        return f"FAILED: {verdict.problem}"
    return f"ok: {verdict.entries} entries match; head seq {verdict.head_seq} hash {verdict.head_hash}"
