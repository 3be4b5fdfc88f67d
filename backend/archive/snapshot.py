"""One consistent read of the live store: the change log, the merged records and the accounts.

Rule 1. Everything is read inside ONE read transaction on a separate, read-only connection. In
        WAL mode the first SELECT pins a snapshot: the server keeps committing, and we keep
        seeing the database as it was, so the log, the records and the accounts agree.
Rule 2. Secrets are never read: no password hashes, no session tokens, no invites, no settings.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from backend.storage import chain

#: Called between the phases of a long read or write: (phase, done, total).
Progress = Callable[[str, int, int], None]


def no_progress(phase: str, done: int, total: int) -> None:
    pass


def connect_readonly(path: Path | str) -> sqlite3.Connection:
    """A connection that cannot write, whatever SQL it is given (mode=ro + query_only)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no database at {path}")
    db = sqlite3.connect(f"file:{quote(str(Path(path).resolve()))}?mode=ro", uri=True, isolation_level=None,
                         check_same_thread=False)
    db.execute("PRAGMA query_only=ON")
    db.execute("PRAGMA busy_timeout=5000")
    return db


@dataclass
class Record:
    scope: str
    fields: dict[str, Any]


@dataclass
class AccountInfo:
    id: str
    email: str
    name: str
    role: str
    created: int
    deactivated: bool


@dataclass
class Snapshot:
    head_seq: int
    head_hash: str
    changes: list[chain.ChainRow]
    #: Merged current records by collection, then id.
    records: dict[str, dict[str, Record]] = field(default_factory=dict)
    accounts: dict[str, AccountInfo] = field(default_factory=dict)

    def collection(self, name: str) -> dict[str, Record]:
        return self.records.get(name, {})


def read_snapshot(path: Path | str, progress: Progress = no_progress) -> Snapshot:
    db = connect_readonly(path)
    try:
        db.execute("BEGIN")
        head = db.execute("SELECT seq, hash FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
        head_seq, head_hash = (int(head[0]), str(head[1])) if head else (0, chain.GENESIS)
        changes: list[chain.ChainRow] = []
        for row in db.execute(f"SELECT {chain.ROW_COLUMNS} FROM changes ORDER BY seq"):
            changes.append(chain.row_from_sql(row))
            if len(changes) % 5000 == 0:
                progress("reading the change log", len(changes), head_seq)
        progress("reading the change log", len(changes), head_seq)
        progress("reading records", 0, 1)
        records: dict[str, dict[str, Record]] = {}
        for collection, record_id, scope, fields in db.execute("SELECT collection, id, scope, fields FROM records"):
            records.setdefault(collection, {})[record_id] = Record(scope, json.loads(fields))
        accounts = {
            r[0]: AccountInfo(r[0], r[1], r[2], r[3], int(r[4]), bool(r[5]))
            for r in db.execute("SELECT id, email, name, role, created, deactivated FROM accounts")
        }
        progress("reading records", 1, 1)
        db.execute("COMMIT")
    finally:
        db.close()
    return Snapshot(head_seq, head_hash, changes, records, accounts)
