"""Compliance exports in shapes existing review tools read: a CSV of message events, and Slack's
export layout (users.json, channels.json, one folder per conversation of daily JSON files).

Both are read from a scratch SQLite archive written by export.write_archive (from one snapshot,
without the change log), so they obey the archive's rules — one snapshot, no text of deleted
messages, no secrets — and stream like it: rows come from SQL in the order they are written, and
only people, channels and memberships are held whole. The scratch file sits next to OUT and is
removed at the end.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import sqlite3
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from backend.archive import export
from backend.archive.model import Filter, Progress, no_progress, utc

CSV_COLUMNS = (
    "event_id",
    "event",
    "at_utc",
    "at_ms",
    "message_id",
    "replaces_event_id",
    "thread_parent_id",
    "channel_id",
    "channel_name",
    "channel_kind",
    "author_id",
    "author_name",
    "author_email",
    "author_type",
    "by_id",
    "by_name",
    "text",
    "attachments",
    "change_seq",
)
#: message_versions kinds -> CSV events ("redacted" is the server blanking a deleted message's text).
_EVENTS = {"created": "created", "edited": "edited", "deleted": "deleted", "expired": "expired", "redacted": "deleted"}


def export_format(
    fmt: str, data_db: Path, out: Path, flt: Filter, progress: Progress = no_progress
) -> tuple[export.Summary, int]:
    """Write ``out`` as ``csv`` or ``slack`` from one snapshot of ``data_db``: (what the snapshot
    held, rows or files written)."""
    scratch = out.with_name(f".{out.name}.scratch.db")
    scratch.unlink(missing_ok=True)
    try:
        summary = export.write_archive(data_db, scratch, flt, progress, log=False)
        db = sqlite3.connect(scratch)
        try:
            db.execute("PRAGMA journal_mode=OFF")  # scratch: thrown away, crash or not
            db.execute("PRAGMA synchronous=OFF")
            db.execute("CREATE INDEX files_by_message ON files (message)")
            db.execute("CREATE INDEX reactions_by_message ON reactions (message)")
            written = write_csv(db, out) if fmt == "csv" else write_slack(db, out, progress)
        finally:
            db.close()
    finally:
        scratch.unlink(missing_ok=True)
    return summary, written


def _rows(db: sqlite3.Connection, sql: str, *params: Any) -> Iterator[dict[str, Any]]:
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


# --- CSV ----------------------------------------------------------------------------------------

_CSV_EVENTS = """
SELECT v.at, v.seq, v.kind, m.id AS message, v.replaces, m.thread, m.channel, m.author, v.author AS by_id, v.text,
       CASE WHEN v.kind = 'created' THEN (SELECT json_group_array(json_array(name, sha256))
                                          FROM (SELECT name, sha256 FROM files WHERE message = m.id ORDER BY rowid))
       END AS files
FROM message_versions v JOIN messages m ON m.id = v.message
WHERE NOT (v.kind = 'redacted' AND m.deleted_at IS NOT NULL)  -- the deletion itself is already a row
UNION ALL
SELECT joined_at, joined_seq, 'joined', NULL, NULL, NULL, channel, user, joined_by, NULL, NULL FROM memberships
UNION ALL
SELECT left_at, left_seq, 'left', NULL, NULL, NULL, channel, user, left_by, NULL, NULL FROM memberships
WHERE left_at IS NOT NULL
ORDER BY 1, 2
"""


def csv_rows(db: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    """One row per message event, by time: created, edited (with the event it replaced), deleted,
    expired, joined, left. Event ids are ``tt-<seq>``: the change log entry that recorded the event."""
    people = {p["id"]: p for p in _rows(db, "SELECT id, name, email, kind FROM people")}
    channels = {c["id"]: c for c in _rows(db, "SELECT id, name, kind FROM channels")}

    def person(prefix: str, pid: str | None) -> dict[str, Any]:
        p = people.get(pid or "", {})
        out = {f"{prefix}_id": pid, f"{prefix}_name": p.get("name")}
        if prefix == "author":
            out.update(author_email=p.get("email"), author_type="user" if p.get("kind") == "user" else "bot")
        return out

    for e in _rows(db, _CSV_EVENTS):
        c = channels.get(e["channel"], {})
        files = json.loads(e["files"]) if e["files"] else []
        yield {
            "event_id": f"tt-{e['seq']}",
            "event": _EVENTS.get(e["kind"], e["kind"]),
            "at_utc": utc(e["at"]),
            "at_ms": e["at"],
            "message_id": e["message"],
            "replaces_event_id": f"tt-{e['replaces']}" if e["replaces"] else None,
            "thread_parent_id": e["thread"],
            "channel_id": e["channel"],
            "channel_name": c.get("name"),
            "channel_kind": c.get("kind"),
            **person("author", e["author"]),
            **person("by", e["by_id"]),
            "text": e["text"],
            "attachments": json.dumps([{"name": n, "sha256": h} for n, h in files]) if files else None,
            "change_seq": e["seq"],
        }


def write_csv(db: sqlite3.Connection, out: Path) -> int:
    count = 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for row in csv_rows(db):
            writer.writerow(row)
            count += 1
    return count


# --- Slack export layout ------------------------------------------------------------------------


def _ts(ms: int) -> str:
    return f"{ms // 1000}.{(ms % 1000) * 1000:06d}"


def _micro_ts(micro: int) -> str:
    return f"{micro // 1_000_000}.{micro % 1_000_000:06d}"


def _folder(name: str | None, fallback: str, taken: set[str]) -> str:
    clean = re.sub(r"[\\/\x00-\x1f]", "_", name or "").strip(". ") or fallback
    if clean in taken:
        clean = f"{clean}-{fallback}"
    taken.add(clean)
    return clean


def _json_list(items: Iterator[dict[str, Any]], write: Callable[[bytes], Any]) -> None:
    """The bytes of json.dumps(list(items), ensure_ascii=False, indent=1), written item by item."""
    first = True
    for item in items:
        body = json.dumps(item, ensure_ascii=False, indent=1).replace("\n", "\n ")
        write((b"[\n " if first else b",\n ") + body.encode())
        first = False
    write(b"[]" if first else b"\n]")


def top_files(db: sqlite3.Connection) -> tuple[dict[str, Any], dict[str, str]]:
    """users.json and the conversation lists (path -> value), and each channel's folder."""
    people = list(_rows(db, "SELECT id, name, email, role, kind, deactivated, deleted FROM people ORDER BY rowid"))
    members: dict[str, list[str]] = {}
    for channel, user in db.execute("SELECT channel, user FROM memberships WHERE left_at IS NULL ORDER BY rowid"):
        current = members.setdefault(channel, [])
        if user not in current:
            current.append(user)
    files: dict[str, Any] = {
        "users.json": [
            {
                "id": p["id"],
                "name": (p["email"] or p["id"]).split("@")[0],
                "real_name": p["name"],
                "deleted": bool(p["deleted"] or p["deactivated"]),
                "is_bot": p["kind"] != "user",
                "is_admin": p["role"] in ("admin", "owner"),
                "is_owner": p["role"] == "owner",
                "profile": {"real_name": p["name"], "display_name": p["name"], "email": p["email"]},
            }
            for p in people
        ]
    }
    lists: dict[str, list[dict[str, Any]]] = {"channels.json": [], "groups.json": [], "dms.json": [], "mpims.json": []}
    which = {"public": "channels.json", "private": "groups.json", "dm": "dms.json", "group": "mpims.json"}
    folders: dict[str, str] = {}
    taken: set[str] = set()
    for c in _rows(db, "SELECT id, name, kind, topic, created_by, created_at, archived FROM channels ORDER BY rowid"):
        created = (c["created_at"] or 0) // 1000
        entry: dict[str, Any] = {"id": c["id"], "created": created, "members": members.get(c["id"], [])}
        if c["kind"] != "dm":
            entry.update(
                name=c["name"],
                creator=c["created_by"],
                is_archived=bool(c["archived"]),
                is_general=c["name"] == "general" and c["kind"] == "public",
                topic={"value": c["topic"] or "", "creator": c["created_by"] or "", "last_set": created},
                purpose={"value": "", "creator": "", "last_set": 0},
            )
        lists[which.get(c["kind"], "channels.json")].append(entry)
        folders[c["id"]] = _folder(c["id"] if c["kind"] == "dm" else c["name"], c["id"], taken)
    files.update(lists)
    return files, folders


def _stamp(db: sqlite3.Connection) -> None:
    """Give every message and membership event a ``ts`` unique in its channel: its time in µs,
    moved up by 1 µs past any taken. Messages first, oldest first (so a message's is the larger
    of its time and the previous one's + 1), then joins and leaves, which look for a free µs."""
    db.execute("CREATE TEMP TABLE slack_ts (id TEXT PRIMARY KEY, channel TEXT, micro INTEGER) WITHOUT ROWID")
    db.execute("CREATE TEMP TABLE slack_events (channel TEXT, micro INTEGER, day TEXT, subtype TEXT, user TEXT)")
    last: dict[str, int] = {}
    batch: list[tuple[str, str, int]] = []
    for mid, channel, at in db.execute("SELECT id, channel, coalesce(at, 0) FROM messages ORDER BY rowid"):
        micro = max(at * 1000, last.get(channel, at * 1000 - 1) + 1)
        last[channel] = micro
        batch.append((mid, channel, micro))
        if len(batch) >= export.BATCH:
            db.executemany("INSERT INTO slack_ts VALUES (?, ?, ?)", batch)
            batch = []
    db.executemany("INSERT INTO slack_ts VALUES (?, ?, ?)", batch)
    db.execute("CREATE INDEX temp.slack_ts_by_micro ON slack_ts (channel, micro)")
    taken: dict[str, set[int]] = {}
    events = []
    for channel, user, joined, left in db.execute(
        "SELECT channel, user, joined_at, left_at FROM memberships ORDER BY rowid"
    ).fetchall():
        for subtype, at in (("channel_join", joined), ("channel_leave", left)):
            if at is None:
                continue
            mine = taken.setdefault(channel, set())
            micro = at * 1000
            while (
                micro in mine
                or db.execute("SELECT 1 FROM slack_ts WHERE channel = ? AND micro = ?", (channel, micro)).fetchone()
            ):
                micro += 1
            mine.add(micro)
            events.append((channel, micro, (utc(at) or "")[:10], subtype, user))
    db.executemany("INSERT INTO slack_events VALUES (?, ?, ?, ?, ?)", events)


#: Every entry of the day files, in file (path) order, then ts: messages, then joins and leaves.
_DAY_ITEMS = """
SELECT f.folder || '/' || coalesce(substr(m.at_utc, 1, 10), '1970-01-01') || '.json' AS path,
       printf('%d.%06d', t.micro / 1000000, t.micro % 1000000) AS ts, NULL AS subtype, m.author AS user,
       m.id, m.text, m.deleted, m.deleted_at, m.expired, m.edited_at, m.replies,
       pt.micro AS parent_micro, pm.author AS parent_user,
       (SELECT json_group_array(json_array(emoji, user))
        FROM (SELECT emoji, user FROM reactions WHERE message = m.id AND active ORDER BY rowid)) AS reactions,
       (SELECT json_group_array(json_array(id, name, sha256, size, type))
        FROM (SELECT id, name, sha256, size, type FROM files WHERE message = m.id ORDER BY rowid)) AS files
FROM slack_ts t JOIN messages m ON m.id = t.id JOIN slack_folders f ON f.channel = t.channel
LEFT JOIN slack_ts pt ON pt.id = m.thread LEFT JOIN messages pm ON pm.id = m.thread
UNION ALL
SELECT f.folder || '/' || e.day || '.json',
       printf('%d.%06d', e.micro / 1000000, e.micro % 1000000), e.subtype, e.user,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM slack_events e JOIN slack_folders f ON f.channel = e.channel
ORDER BY path, ts
"""


def _entry(m: dict[str, Any], people: dict[str, str | None]) -> dict[str, Any]:
    """One message of a day file, or one join or leave."""
    ts, user = m["ts"], m["user"]
    if m["subtype"] is not None:
        verb = "joined" if m["subtype"] == "channel_join" else "left"
        return {
            "type": "message",
            "subtype": m["subtype"],
            "user": user,
            "text": f"<@{user}> has {verb} the channel",
            "ts": ts,
        }
    entry: dict[str, Any] = {
        "type": "message",
        "user": user,
        "text": m["text"] or "",
        "ts": ts,
        "client_msg_id": m["id"],
        "user_profile": {"real_name": people.get(user)},
    }
    if m["deleted"]:
        entry.update(
            subtype="tombstone",
            text="This message was deleted.",
            deleted_ts=_ts(m["deleted_at"]) if m["deleted_at"] else None,
        )
    elif m["expired"]:
        entry["teamtalk_expired"] = True
    if m["edited_at"] and not m["deleted"]:
        entry["edited"] = {"user": user, "ts": _ts(m["edited_at"])}
    if m["replies"]:
        entry.update(thread_ts=ts, reply_count=m["replies"])
    reactions: dict[str, list[str]] = {}
    for emoji, person in json.loads(m["reactions"]):
        reactions.setdefault(emoji, []).append(person)
    if reactions:
        entry["reactions"] = [{"name": e, "users": u, "count": len(u)} for e, u in reactions.items()]
    files = json.loads(m["files"])
    if files:
        entry["files"] = [{"id": i, "name": n, "sha256": h, "size": s, "type": t} for i, n, h, s, t in files]
    if m["parent_micro"] is not None:  # a reply points at its parent's ts
        entry.update(thread_ts=_micro_ts(m["parent_micro"]), parent_user_id=m["parent_user"])
    return entry


class _Sink:
    """Where the files go: a directory, or a .zip (what Slack itself hands out)."""

    def __init__(self, out: Path, stack: ExitStack) -> None:
        self.out = out
        zipped = out.suffix == ".zip"
        self.zip = stack.enter_context(zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED)) if zipped else None
        self.count = 0

    def open(self, path: str) -> IO[bytes]:
        self.count += 1
        if self.zip is not None:
            info = zipfile.ZipInfo(path, date_time=time.localtime(time.time())[:6])  # as ZipFile.writestr does
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            return self.zip.open(info, "w")
        target = self.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        return target.open("wb")


def write_slack(db: sqlite3.Connection, out: Path, progress: Progress = no_progress) -> int:
    """Files in path order (a zip lists them sorted); returns how many were written."""
    top, folders = top_files(db)
    db.execute("CREATE TEMP TABLE slack_folders (channel TEXT PRIMARY KEY, folder TEXT)")
    db.executemany("INSERT INTO slack_folders VALUES (?, ?)", folders.items())
    _stamp(db)
    people = {pid: name for pid, name in db.execute("SELECT id, name FROM people")}
    total = db.execute("SELECT count(*) FROM messages").fetchone()[0]
    pending = sorted(top)
    done = 0

    def entries(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        nonlocal done
        for row in rows:
            yield _entry(row, people)
            done += 1
            if done % export.BATCH == 0:
                progress("writing the slack files", min(done, total), total)

    with ExitStack() as stack:
        sink = _Sink(out, stack)

        def write_top(before: str | None) -> None:
            while pending and (before is None or pending[0] < before):
                path = pending.pop(0)
                with sink.open(path) as handle:
                    handle.write(json.dumps(top[path], ensure_ascii=False, indent=1).encode())

        for path, rows in itertools.groupby(_rows(db, _DAY_ITEMS), key=itemgetter("path")):
            write_top(path)
            with sink.open(path) as handle:
                _json_list(entries(rows), handle.write)
        write_top(None)
    progress("writing the slack files", total, total)
    return sink.count
