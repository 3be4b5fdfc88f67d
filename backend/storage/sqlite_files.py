"""The file tables of the SQLite store (the protocol and its rules: files_base.py).

A mixin of SqliteStorage, on its connection and inside its transactions, like sqlite_push.py.

Rule 1. ``file_refs`` follows ``files`` records in the push's own transaction (a derived table):
        a blob is referenced exactly while a record naming it is not deleted.
Rule 2. A blob is collectable when nothing references it, no unfinished upload announces its
        digest, and it was stored before the grace period began (backend/files/worker.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

from backend.storage.files_base import Preview, Upload

FILES_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, device TEXT NOT NULL, channel TEXT NOT NULL,
    length INTEGER NOT NULL, digest TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
    created INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS uploads_open ON uploads (created) WHERE done = 0;
CREATE TABLE IF NOT EXISTS blobs (
    digest TEXT PRIMARY KEY, size INTEGER NOT NULL, stored INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blob_claims (
    user TEXT NOT NULL, digest TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (user, digest)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blob_claims_by_digest ON blob_claims (digest);
CREATE TABLE IF NOT EXISTS file_refs (
    id TEXT PRIMARY KEY, digest TEXT NOT NULL, channel TEXT NOT NULL, live INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS file_refs_by_digest ON file_refs (digest) WHERE live = 1;
CREATE TABLE IF NOT EXISTS previews (
    digest TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL,
    width INTEGER, height INTEGER, detail TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
"""

_UPLOAD = "id, user, device, channel, length, digest, name, type, created, done"
_PREVIEW = "digest, kind, state, width, height, detail"


def _upload(row: Sequence[object]) -> Upload:
    values = list(row)
    values[-1] = bool(values[-1])
    return Upload(*values)  # type: ignore[arg-type]


class FileTables:
    if TYPE_CHECKING:  # SqliteStorage's: one statement inside the open transaction, or its own

        @property
        def _db(self) -> sqlite3.Connection: ...  # the writer in a transaction, else a reader

        def _write(self, sql: str, params: Sequence[object]) -> sqlite3.Cursor: ...

    # --- uploads -------------------------------------------------------------------------------

    def add_upload(self, upload: Upload) -> None:
        self._write(
            f"INSERT INTO uploads ({_UPLOAD}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                upload.id,
                upload.user,
                upload.device,
                upload.channel,
                upload.length,
                upload.digest,
                upload.name,
                upload.type,
                upload.created,
                int(upload.done),
            ),
        )

    def upload(self, upload_id: str) -> Upload | None:
        row = self._db.execute(f"SELECT {_UPLOAD} FROM uploads WHERE id = ?", (upload_id,)).fetchone()
        return _upload(row) if row else None

    def finish_upload(self, upload_id: str) -> None:
        self._write("UPDATE uploads SET done = 1 WHERE id = ?", (upload_id,))

    def remove_upload(self, upload_id: str) -> None:
        self._write("DELETE FROM uploads WHERE id = ?", (upload_id,))

    def uploads_created_before(self, before_ms: int, limit: int) -> list[str]:
        rows = self._db.execute(
            "SELECT id FROM uploads WHERE created < ? ORDER BY created LIMIT ?", (before_ms, limit)
        ).fetchall()
        return [str(row[0]) for row in rows]

    # --- blobs ---------------------------------------------------------------------------------

    def add_blob(self, digest: str, size: int, now_ms: int) -> None:
        self._write("INSERT OR IGNORE INTO blobs (digest, size, stored) VALUES (?, ?, ?)", (digest, size, now_ms))

    def blob_size(self, digest: str) -> int | None:
        row = self._db.execute("SELECT size FROM blobs WHERE digest = ?", (digest,)).fetchone()
        return int(row[0]) if row else None

    def committed_bytes(self) -> int:
        row = self._db.execute(
            "SELECT (SELECT coalesce(sum(size), 0) FROM blobs)"
            " + (SELECT coalesce(sum(length), 0) FROM uploads WHERE done = 0)"
        ).fetchone()
        return int(row[0])

    def claim_blob(self, user_id: str, digest: str, now_ms: int) -> None:
        self._write("INSERT OR REPLACE INTO blob_claims (user, digest, at) VALUES (?, ?, ?)", (user_id, digest, now_ms))

    def has_claim(self, user_id: str, digest: str) -> bool:
        row = self._db.execute("SELECT 1 FROM blob_claims WHERE user = ? AND digest = ?", (user_id, digest)).fetchone()
        return row is not None

    def remove_blob(self, digest: str) -> None:
        for table in ("blobs", "blob_claims", "previews"):
            self._write(f"DELETE FROM {table} WHERE digest = ?", (digest,))

    # --- references (Rule 1) and collection (Rule 2) -------------------------------------------

    def set_file_ref(self, file_id: str, digest: str, channel_id: str, live: bool) -> None:
        self._write(
            "INSERT INTO file_refs (id, digest, channel, live) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET live = excluded.live",
            (file_id, digest, channel_id, int(live)),
        )

    def live_file_ids(self, channel_ids: Sequence[str]) -> list[str]:
        found: list[str] = []
        for start in range(0, len(channel_ids), 500):  # SQLite's bound-parameter limit
            part = channel_ids[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self._db.execute(f"SELECT id FROM file_refs WHERE live = 1 AND channel IN ({marks})", part)
            found.extend(str(row[0]) for row in rows)
        return found

    def unreferenced_blobs(self, stored_before_ms: int, limit: int) -> list[str]:
        rows = self._db.execute(
            "SELECT b.digest FROM blobs b WHERE b.stored < ?"
            " AND NOT EXISTS (SELECT 1 FROM file_refs r WHERE r.digest = b.digest AND r.live = 1)"
            " AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.digest = b.digest AND u.done = 0)"
            " ORDER BY b.stored LIMIT ?",
            (stored_before_ms, limit),
        ).fetchall()
        return [str(row[0]) for row in rows]

    def expired_file_ids(self, now_ms: int, limit: int) -> list[str]:
        rows = self._db.execute(
            "SELECT f.id FROM records f"
            " JOIN records c ON c.collection = 'channels' AND c.id = json_extract(f.fields, '$.channel')"
            " WHERE f.collection = 'files' AND json_extract(f.fields, '$.deleted') IS NOT 1"
            " AND json_extract(c.fields, '$.retention_days') > 0"
            " AND json_extract(f.fields, '$.at') < ? - json_extract(c.fields, '$.retention_days') * 86400000"
            " ORDER BY json_extract(f.fields, '$.at') LIMIT ?",
            (now_ms, limit),
        ).fetchall()
        return [str(row[0]) for row in rows]

    # --- previews ------------------------------------------------------------------------------

    def set_preview(self, preview: Preview) -> None:
        self._write(
            f"INSERT OR REPLACE INTO previews ({_PREVIEW}) VALUES (?, ?, ?, ?, ?, ?)",
            (preview.digest, preview.kind, preview.state, preview.width, preview.height, preview.detail),
        )

    def preview(self, digest: str) -> Preview | None:
        row = self._db.execute(f"SELECT {_PREVIEW} FROM previews WHERE digest = ?", (digest,)).fetchone()
        return Preview(*row) if row else None

    def previews(self, digests: Sequence[str]) -> dict[str, Preview]:
        found: dict[str, Preview] = {}
        for start in range(0, len(digests), 500):
            chunk = list(digests[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for row in self._db.execute(f"SELECT {_PREVIEW} FROM previews WHERE digest IN ({marks})", chunk):
                found[row[0]] = Preview(*row)
        return found
