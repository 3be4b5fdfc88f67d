"""Write an immutable SQLite archive with sqlite-utils, streaming from one snapshot.

The archive is built in a temporary file next to OUT, vacuumed, made read-only (mode 0444) and
renamed into place, so OUT is either absent or complete. Tables (docs/archive.md has every column):
people, channels, memberships, messages (+ messages_fts), message_versions, reactions, files,
tasks and events when those collections exist, changes (the hash-chained log, the live table's
columns) and archive_info (the export's head hash and filters).

Memory does not grow with the store: rows go from the snapshot's cursors (storage.Snapshot)
through model.py into the archive in batches of BATCH, and what needs a whole table — which
reactions belong to exported messages, which log entries are of selected records, who is named
but has no account — is asked of the archive being written, with SQL. Only channels and people
are held whole.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import msgspec
import sqlite_utils

from backend.archive import calendar, export_tasks, model
from backend.archive import files as archive_files
from backend.archive.model import Filter, Progress, Row, no_progress
from backend.archive.schema import CHANGES_TABLE, SCHEMAS, VIEWS
from backend.storage import Snapshot, chain, open_readonly
from sync_protocol.collections import COLLECTIONS

#: Rows per INSERT batch (and between progress reports).
BATCH = 5000

#: Tables whose rows are records of a collection: a log entry of such a record is selected
#: when the record is in its table (model.py, Rule 2).
_RECORD_TABLES = {
    "messages": "messages",
    "reactions": "reactions",
    "files": "files",
    **{name: name for name in model.EXTRA_COLLECTIONS},
    **{name: name for name in export_tasks.TASK_TABLES},
}


class ArchiveExists(FileExistsError):
    pass


@dataclass
class Summary:
    """What an export wrote: rows per table, and archive_info."""

    info: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)


def export_sqlite(
    data_db: Path, out: Path, flt: Filter | None = None, progress: Progress = no_progress, force: bool = False
) -> Summary:
    """Snapshot the live store and write the archive to ``out``; returns what was written."""
    if out.exists() and not force:
        raise ArchiveExists(f"{out} exists; pass --force to replace it")
    tmp = out.with_name(f".{out.name}.partial")
    tmp.unlink(missing_ok=True)
    try:
        summary = write_archive(data_db, tmp, flt or Filter(), progress)
        with tmp.open("rb") as written:
            os.fsync(written.fileno())
        if out.exists():
            out.unlink()
        os.chmod(tmp, 0o444)
        tmp.rename(out)
    finally:
        tmp.unlink(missing_ok=True)
    return summary


def write_archive(
    data_db: Path, path: Path, flt: Filter, progress: Progress = no_progress, log: bool = True
) -> Summary:
    """Write the archive's tables to the new file ``path`` from one snapshot of ``data_db``. With
    ``log=False`` the change log stays empty and the file is left as written (no full-text index,
    no views, no vacuum): the compliance formats read their rows from such a scratch archive."""
    db = sqlite_utils.Database(path)
    try:
        # A fresh file that is renamed into place only when complete (and synced, below): it needs
        # no journal, and no fsync at each batch's commit.
        db.conn.execute("PRAGMA journal_mode=OFF")
        db.conn.execute("PRAGMA synchronous=OFF")
        db.conn.execute("PRAGMA temp_store=FILE")
        db.conn.execute(CHANGES_TABLE)
        for name, (columns, pk, fks) in SCHEMAS.items():
            db[name].create(columns, pk=pk, foreign_keys=fks, not_null=[pk])  # type: ignore[union-attr]
        store = open_readonly(data_db)
        try:
            with store.snapshot() as snapshot:
                summary = _Writer(db, snapshot, flt, progress).write(log)
        finally:
            store.close()
        if log:
            _finish(db, summary, progress)
        return summary
    finally:
        db.close()


def _finish(db: sqlite_utils.Database, summary: Summary, progress: Progress) -> None:
    db["archive_info"].insert_all(  # type: ignore[union-attr]
        [{"key": k, "value": None if v is None else str(v)} for k, v in summary.info.items()], pk="key"
    )
    progress("full-text index", 0, 1)
    db["messages"].enable_fts(["text"], fts_version="FTS5")  # type: ignore[union-attr]
    for column in ("channel", "author", "at", "thread"):
        db["messages"].create_index([column])  # type: ignore[union-attr]
    db["message_versions"].create_index(["message"])  # type: ignore[union-attr]
    db["message_versions"].create_index(["author", "at"])  # type: ignore[union-attr]
    db["memberships"].create_index(["channel", "joined_at"])  # type: ignore[union-attr]
    db["changes"].create_index(["collection", "record_id", "seq"])  # type: ignore[union-attr]
    db["changes"].create_index(["record_id"])  # type: ignore[union-attr]
    for name, sql in VIEWS.items():
        db.create_view(name, sql)
    progress("full-text index", 1, 1)
    progress("vacuum", 0, 1)
    db.vacuum()
    progress("vacuum", 1, 1)


def _values(batch: list[Row], columns: list[str]) -> list[tuple[Any, ...]]:
    """The rows' values in the columns' order (a missing key is NULL)."""
    values = itemgetter(*columns)
    try:
        return [values(row) for row in batch]
    except KeyError:
        return [tuple(row.get(c) for c in columns) for row in batch]


def batches(rows: Iterable[Row], size: int | None = None) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= (size or BATCH):
            yield batch
            batch = []
    if batch:
        yield batch


class _Writer:
    """One export: the snapshot's cursors in, the archive's tables out, a batch at a time."""

    def __init__(self, db: sqlite_utils.Database, snapshot: Snapshot, flt: Filter, progress: Progress) -> None:
        self.db, self.snapshot, self.flt, self.progress = db, snapshot, flt, progress
        self.counts: dict[str, int] = {}
        self.channel_ids: set[str] = set()

    def write(self, log: bool) -> Summary:
        s = self.snapshot
        self.progress("reading channels and people", 0, 1)
        channels = model.channels(((rid, f, t) for rid, _, f, t in s.records("channels")), self.flt)
        self.channel_ids = {c["id"] for c in channels}
        users = [(rid, f, t) for rid, _, f, t in s.records("users")]
        accounts = list(s.accounts())
        self.progress("reading channels and people", 1, 1)
        self._insert("channels", channels, len(channels))
        self._messages()
        self._memberships()
        self._reactions()
        self._insert("files", archive_files.archive_rows(self._generic("files")), s.count("files"))
        for name in model.EXTRA_COLLECTIONS:
            if name in COLLECTIONS or s.count(name):
                self._extra(name)
        export_tasks.write(self)
        self.counts["event_occurrences"] = calendar.write(self.db)
        server_wrote = self._log() if log else s.wrote(model.SERVER_AUTHOR)
        people = model.people(users, accounts, server_wrote)
        people += self._missing_people(people)
        self._insert("people", people, len(people))
        return Summary(model.info(s.head_seq, s.head_hash, self.flt, int(time.time() * 1000)), self.counts)

    # --- writing rows ---------------------------------------------------------------------

    def _insert(self, table: str, rows: Iterable[Row], total: int | None = None) -> int:
        """Rows of a fixed table, one executemany per batch (sqlite-utils' insert_all costs ~10x more
        per row, for type checks these rows do not need); reports progress against ``total``."""
        columns = list(SCHEMAS[table][0])
        sql = (
            f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) VALUES ({', '.join('?' for _ in columns)})"
        )
        done = 0
        for batch in batches(rows):
            self.db.conn.executemany(sql, _values(batch, columns))
            done += len(batch)
            if total is not None:
                self.progress(f"writing {table}", done, max(done, total))
        if total is not None:
            self.progress(f"writing {table}", total, total)
        self.counts[table] = self.counts.get(table, 0) + done
        self.db.conn.commit()
        return done

    def _existing(self, table: str, ids: Iterable[Any]) -> set[str]:
        """Which of these ids the archive's ``table`` holds."""
        wanted = msgspec.json.encode([i for i in ids if isinstance(i, str)]).decode()
        sql = f"SELECT id FROM [{table}] WHERE id IN (SELECT value FROM json_each(?))"
        return {row[0] for row in self.db.conn.execute(sql, (wanted,))}

    def _messages(self) -> None:
        """Messages oldest first, each with its versions (folded into its edit count and deletion)."""
        total = self.snapshot.count("messages")
        versions: list[Row] = []
        seen = 0

        def selected() -> Iterator[Row]:
            nonlocal seen
            channels = sorted(self.channel_ids) if self.flt.channel is not None else None
            for rid, f, entries in self.snapshot.messages(channels, self.flt.since_ms, self.flt.until_ms):
                seen += 1
                if model.message_selected(f, self.channel_ids, self.flt):
                    row, found = model.message(rid, f, entries)
                    versions.extend(found)
                    yield row

        self.counts.update(messages=0, message_versions=0)
        for batch in batches(selected()):
            self._insert("messages", batch)
            self._insert("message_versions", versions)
            versions.clear()
            self.progress("writing messages", seen, max(seen, total))
        self.progress("writing messages", total, total)

    def _memberships(self) -> None:
        """Periods are replayed record by record, then copied in the order they began."""
        db = self.db.conn
        db.execute("CREATE TEMP TABLE periods AS SELECT * FROM main.memberships WHERE 0")
        columns = list(SCHEMAS["memberships"][0])
        insert = f"INSERT INTO temp.periods VALUES ({', '.join('?' for _ in columns)})"

        def periods() -> Iterator[Row]:
            for rid, entries in self.snapshot.entries_by_record("members"):
                yield from model.memberships(rid, entries, self.channel_ids, self.flt)

        for batch in batches(periods()):
            db.executemany(insert, _values(batch, columns))
        db.execute("INSERT INTO main.memberships SELECT * FROM temp.periods ORDER BY joined_seq")
        self.counts["memberships"] = db.execute("SELECT count(*) FROM temp.periods").fetchone()[0]
        db.execute("DROP TABLE temp.periods")
        db.commit()

    def _reactions(self) -> None:
        """Reactions to exported messages."""

        def rows() -> Iterator[Row]:
            for batch in batches(model.reaction(rid, f, t) for rid, _, f, t in self.snapshot.records("reactions")):
                known = self._existing("messages", (r["message"] for r in batch))
                yield from (r for r in batch if r["message"] in known)

        self._insert("reactions", rows(), self.snapshot.count("reactions"))

    def _generic(self, collection: str) -> Iterator[Row]:
        for rid, scope, f, timing in self.snapshot.records(collection, by_creation=True):
            row = model.generic(collection, rid, scope, f, timing, self.channel_ids, self.flt)
            if row is not None:
                yield row

    def _extra(self, name: str) -> None:
        """Tasks, events: free-form, so a first pass finds the columns (and their types), a second
        inserts through sqlite-utils, which adds columns that only ever hold nulls."""
        columns: dict[str, Any] = {"id": str}
        # The registry's fields too, so a table with no rows yet has its columns (canned queries run).
        spec = COLLECTIONS.get(name, {})
        columns.update(
            {k: f.type if f.type in (str, int, bool) else str for k, f in spec.items() if k not in model.SECRET_FIELDS}
        )
        for row in self._generic(name):
            columns.update({k: type(v) for k, v in row.items() if v is not None and k not in columns})
        self.db[name].create(columns, pk="id")  # type: ignore[union-attr]
        done = 0
        for batch in batches(self._generic(name)):
            self.db[name].insert_all(batch, alter=True)  # type: ignore[union-attr]
            done += len(batch)
            self.progress(f"writing {name}", done, done)
        self.counts[name] = done
        self.db.conn.commit()

    # --- the change log -------------------------------------------------------------------

    def _log(self) -> bool:
        """The whole chain, each entry redacted as model.log_entry says; returns whether the
        server itself wrote any entry (it then has a row in people)."""
        total = self.snapshot.head_seq
        server_wrote = False
        sql = (
            "INSERT INTO changes (seq, scope, collection, record_id, hlc, author, device, mid, received_at, "
            "fields, hash, redacted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        done = 0
        batch: list[tuple[chain.ChainRow, Any]] = []
        for entry in self.snapshot.log():
            batch.append(entry)
            if len(batch) == BATCH:
                server_wrote = self._log_batch(sql, batch) or server_wrote
                done += len(batch)
                batch = []
                self.progress("writing the change log", done, total)
        server_wrote = self._log_batch(sql, batch) or server_wrote
        self.counts["changes"] = done + len(batch)
        self.progress("writing the change log", total, total)
        self.db.conn.commit()
        return server_wrote

    def _log_batch(self, sql: str, batch: list[tuple[chain.ChainRow, Any]]) -> bool:
        selected = self._selected(batch) if self.flt.active else None
        out = []
        for row, about in batch:
            chosen = selected is None or (row.collection, row.record_id) in selected
            r = model.log_entry(row, chosen, row.collection == "messages" and about == 1)
            out.append(
                (
                    r.seq,
                    r.scope,
                    r.collection,
                    r.record_id,
                    r.hlc,
                    r.author,
                    r.device,
                    r.mid,
                    r.received_at,
                    chain.canonical(r.fields).decode(),
                    r.hash,
                    chain.canonical(r.redacted).decode() if r.redacted else None,
                )
            )
        self.db.conn.executemany(sql, out)
        return any(row.author == model.SERVER_AUTHOR for row, _ in batch)

    def _selected(self, batch: list[tuple[chain.ChainRow, Any]]) -> set[tuple[str, str]]:
        """Which of these entries' records the export selected: every person; the exported
        channels; memberships of those channels; and messages, reactions, files, tasks and
        events that are in their tables."""
        found: set[tuple[str, str]] = set()
        wanted: dict[str, list[str]] = {}
        for row, about in batch:
            key = (row.collection, row.record_id)
            if row.collection == "users" and about == 1:
                found.add(key)
            elif row.collection == "channels" and row.record_id in self.channel_ids:
                found.add(key)
            elif row.collection == "members" and about in self.channel_ids:
                found.add(key)
            elif row.collection in _RECORD_TABLES:
                wanted.setdefault(row.collection, []).append(row.record_id)
        for collection, ids in wanted.items():
            if collection in self.counts:
                found |= {(collection, i) for i in self._existing(_RECORD_TABLES[collection], ids)}
        return found

    # --- people named but unknown ---------------------------------------------------------

    def _missing_people(self, people: list[Row]) -> list[Row]:
        """Placeholders for ids the tables name that are nobody's (so the foreign keys hold), in
        the order the tables first name them."""
        params = {"known": msgspec.json.encode([p["id"] for p in people]).decode()}
        unknown = "typeof(person) = 'text' AND person NOT IN (SELECT value FROM json_each(:known))"
        if (
            self.db.conn.execute(
                f"SELECT 1 FROM ({_NAMED.format(version_order='seq')}) WHERE {unknown} LIMIT 1", params
            ).fetchone()
            is None
        ):
            return []
        named = _NAMED.format(version_order="row_number() OVER (ORDER BY hlc, seq)")
        sql = (
            f"SELECT person FROM ({named}) WHERE {unknown} GROUP BY person "
            "ORDER BY min(printf('%d %020d %d', t, pos, col))"
        )
        return [model.placeholder(row[0]) for row in self.db.conn.execute(sql, params)]


#: Every person a table names: (person, table, position of the row in the table, column), in the
#: order model.PERSON_COLUMNS lists the columns.
_NAMED = """
    SELECT created_by AS person, 0 AS t, rowid AS pos, 0 AS col FROM channels
    UNION ALL SELECT user, 1, rowid, 1 FROM memberships
    UNION ALL SELECT joined_by, 1, rowid, 2 FROM memberships
    UNION ALL SELECT left_by, 1, rowid, 3 FROM memberships
    UNION ALL SELECT author, 2, rowid, 4 FROM messages
    UNION ALL SELECT deleted_by, 2, rowid, 5 FROM messages
    UNION ALL SELECT author, 3, {version_order}, 4 FROM message_versions
    UNION ALL SELECT user, 4, rowid, 1 FROM reactions"""
