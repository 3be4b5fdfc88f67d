"""Tasks in the archive: the records hanging off tasks, and every version of every task.

The ``tasks`` table itself is one of the free-form tables export.py writes (model.EXTRA_COLLECTIONS);
this module adds, for the tasks that export holds:

- ``task_lists``, ``task_assignees``, ``task_labels``, ``task_items`` (the checklists): their
  records as rows, like ``tasks`` (fields as columns, with creation and update times);
- ``task_versions``: one row per field a change set on a task, oldest first, with who and when,
  so an auditor can ask who changed a status, and a history panel's "restore" is visible as the
  later change it is.

Every column the registry declares exists even when no record ever set it, so the canned queries
of datasette_metadata.yml run on any archive. People's private "seen" cursors are not exported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from backend.archive import model
from backend.archive.model import Row
from sync_protocol.collections import REGISTRY

if TYPE_CHECKING:
    from backend.archive.export import _Writer

TASK_TABLES = ("task_lists", "task_assignees", "task_labels", "task_items")
VERSION_COLUMNS: dict[str, Any] = {
    "id": str,
    "task": str,
    "seq": int,
    "hlc": str,
    "author": str,
    "at": int,
    "at_utc": str,
    "field": str,
    "value": str,
}
_SQL_TYPES = {str: "TEXT", int: "INTEGER", bool: "INTEGER"}


def write(writer: _Writer) -> None:
    for name in TASK_TABLES:
        writer._extra(name)
    for name in ("tasks", *TASK_TABLES):
        _declared_columns(writer, name)
    _versions(writer)


def _declared_columns(writer: _Writer, table: str) -> None:
    """Every field the registry declares is a column, set or not (the canned queries rely on it)."""
    have = {row[1] for row in writer.db.conn.execute(f"PRAGMA table_info([{table}])")}
    for name, spec in REGISTRY[table].fields.items():
        if name not in have:
            writer.db.conn.execute(f"ALTER TABLE [{table}] ADD COLUMN [{name}] {_SQL_TYPES[spec.type]}")
    writer.db.conn.commit()


def _versions(writer: _Writer) -> None:
    writer.db["task_versions"].create(VERSION_COLUMNS, pk="id")  # type: ignore[union-attr]

    def rows() -> Iterator[Row]:
        for task_id, entries in writer.snapshot.entries_by_record("tasks"):
            for entry in entries:
                for name, value in entry.fields.items():
                    if entry.redacted and name in entry.redacted:
                        continue
                    yield {
                        "id": f"{entry.seq}:{name}",
                        "task": task_id,
                        "seq": entry.seq,
                        "hlc": entry.hlc,
                        "author": entry.author,
                        "at": entry.received_at,
                        "at_utc": model.utc(entry.received_at),
                        "field": name,
                        "value": value if isinstance(value, str) or value is None else json.dumps(value),
                    }

    exported = {row[0] for row in writer.db.conn.execute("SELECT id FROM tasks")}
    done = 0
    batch: list[Row] = []
    for row in rows():
        if row["task"] not in exported:
            continue
        batch.append(row)
        if len(batch) >= 5000:
            writer.db["task_versions"].insert_all(batch)  # type: ignore[union-attr]
            done, batch = done + len(batch), []
    if batch:
        writer.db["task_versions"].insert_all(batch)  # type: ignore[union-attr]
        done += len(batch)
    writer.counts["task_versions"] = done
    writer.db.conn.commit()
