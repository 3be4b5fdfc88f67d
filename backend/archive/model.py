"""From a snapshot to the archive's rows. Pure: no I/O, no clock.

Rules:

Rule 1. A message whose merged record is deleted has no text anywhere in the archive: not in
        ``messages``, not in ``message_versions``, not in the change log, where its values move
        to the digests (chain.py, Rule 2) so the chain still verifies. The deletion, its author
        and its time stay.
Rule 2. The archive's change log is always whole, seq 1 up to the snapshot's head, so ``verify``
        starts at GENESIS and ends at the head the server published (GET /api/admin/chain).
        Entries outside the export's filter keep their metadata (seq, scope, ids, clock,
        author, time) and lose their values: digests only.
Rule 3. Secrets never enter an archive: no password hashes, sessions, invites or push keys. The
        snapshot does not read them; values of secret-looking fields are digests only.
Rule 4. Membership history is replayed from the ``members`` entries of the log with the merge
        rule, in log order, so a stale ``left`` that lost the merge does not end a membership.
Rule 5. --since/--until select messages by the time the server accepted them (``at``); a
        selected message comes with its whole history (edits, deletion). --channel selects one
        channel. People and the selected channels are always exported whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backend.archive.snapshot import Snapshot
from backend.storage import chain
from sync_protocol import merge
from sync_protocol.collections import COLLECTIONS

Row = dict[str, Any]

#: The server's own changes (retention, joining #general) carry this author.
SERVER_AUTHOR = "server"
#: Collections whose values never enter an archive (digests only), should they ever be logged.
SECRET_COLLECTIONS = frozenset({"sessions", "devices", "push", "subscriptions", "push_subscriptions", "invites"})
#: Field names whose values never enter an archive.
SECRET_FIELDS = frozenset(
    {"password", "password_hash", "token", "token_hash", "secret", "p256dh", "auth", "endpoint", "keys", "vapid"}
)
#: Optional collections exported as tables of their own when they exist.
EXTRA_COLLECTIONS = ("tasks", "events")
FILE_COLUMNS = ("channel", "message", "name", "size", "type", "sha256", "author")
LOG_POLICY = (
    "whole chain from seq 1 to the export's head; entries outside the export's filter and secret values are "
    "kept as digests only; deleted messages' text is a digest only"
)


def utc(ms: int | None) -> str | None:
    """ISO 8601 UTC with milliseconds, e.g. 2026-11-26T10:00:00.123Z (sorts as text)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@dataclass(frozen=True)
class Filter:
    since_ms: int | None = None
    until_ms: int | None = None  # exclusive
    channel: str | None = None  # a channel's name or id

    @property
    def active(self) -> bool:
        return self.since_ms is not None or self.until_ms is not None or self.channel is not None

    def in_period(self, ms: int | None) -> bool:
        if ms is None:
            return self.since_ms is None and self.until_ms is None
        return (self.since_ms is None or ms >= self.since_ms) and (self.until_ms is None or ms < self.until_ms)


class UnknownChannel(ValueError):
    pass


@dataclass
class ArchiveData:
    people: list[Row]
    channels: list[Row]
    memberships: list[Row]
    messages: list[Row]
    versions: list[Row]
    reactions: list[Row]
    files: list[Row]
    extra: dict[str, list[Row]]
    changes: list[chain.ChainRow]
    info: dict[str, Any]
    #: (collection, id) of every record the export selected.
    selected: set[tuple[str, str]] = field(default_factory=set)


def build(snapshot: Snapshot, flt: Filter | None = None, exported_at: int | None = None) -> ArchiveData:
    flt = flt or Filter()
    first_seen: dict[tuple[str, str], chain.ChainRow] = {}
    last_seen: dict[tuple[str, str], chain.ChainRow] = {}
    for row in snapshot.changes:
        key = (row.collection, row.record_id)
        first_seen.setdefault(key, row)
        last_seen[key] = row

    authors = {key: row.author for key, row in first_seen.items()}

    def created(collection: str, record_id: str) -> int | None:
        found = first_seen.get((collection, record_id))
        return found.received_at if found else None

    channels = _channels(snapshot, flt, created)
    channel_ids = {c["id"] for c in channels}
    deleted = {rid for rid, rec in snapshot.collection("messages").items() if rec.fields.get("deleted") is True}
    messages = [
        _message(rid, rec.fields, rid in deleted)
        for rid, rec in snapshot.collection("messages").items()
        if rec.fields.get("channel") in channel_ids and flt.in_period(_int(rec.fields.get("at")))
    ]
    messages.sort(key=lambda m: (m["at"] or 0, m["id"]))
    message_ids = {m["id"] for m in messages}
    versions = _versions(snapshot.changes, message_ids, deleted)
    _fold_versions(messages, versions)
    memberships = _memberships(snapshot.changes, channel_ids, flt)
    reactions = _reactions(snapshot, message_ids, last_seen)
    files = _generic(snapshot, "files", channel_ids, flt, created, last_seen, authors)
    extra = {
        name: _generic(snapshot, name, channel_ids, flt, created, last_seen, authors)
        for name in EXTRA_COLLECTIONS
        if name in snapshot.records or name in COLLECTIONS
    }
    selected = {("users", rid) for rid in snapshot.collection("users")}
    selected |= {("channels", c["id"]) for c in channels}
    selected |= {("members", rid) for rid, rec in snapshot.collection("members").items()
                 if rec.fields.get("channel") in channel_ids}
    selected |= {("messages", str(m["id"])) for m in messages} | {("reactions", str(r["id"])) for r in reactions}
    selected |= {("files", f["id"]) for f in files}
    for name, rows in extra.items():
        selected |= {(name, r["id"]) for r in rows}
    changes = [_log_entry(row, flt.active, selected, deleted) for row in snapshot.changes]
    people = _people(snapshot, created)
    _add_missing_people(people, channels, memberships, messages, versions, reactions)
    info = {
        "format": "teamtalk-archive 1",
        "exported_at": utc(exported_at),
        "head_seq": snapshot.head_seq,
        "head_hash": snapshot.head_hash,
        "chain_first_seq": 1,
        "chain_prev_hash": chain.GENESIS,
        "since": utc(flt.since_ms),
        "until": utc(flt.until_ms),
        "channel": flt.channel,
        "log_policy": LOG_POLICY,
    }
    return ArchiveData(people, channels, memberships, messages, versions, reactions, files, extra, changes, info,
                       selected)


def _reactions(
    snapshot: Snapshot, message_ids: set[str], last_seen: dict[tuple[str, str], chain.ChainRow]
) -> list[Row]:
    rows: list[Row] = []
    for rid, rec in snapshot.collection("reactions").items():
        f = rec.fields
        if f.get("message") not in message_ids:
            continue
        last = last_seen.get(("reactions", rid))
        at = last.received_at if last else None
        rows.append({"id": rid, "message": f.get("message"), "channel": f.get("channel"), "user": f.get("user"),
                     "emoji": f.get("emoji"), "active": bool(f.get("on")), "at": at, "at_utc": utc(at)})
    return rows


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _channels(snapshot: Snapshot, flt: Filter, created: Any) -> list[Row]:
    found = snapshot.collection("channels")
    chosen = found
    if flt.channel is not None:
        if flt.channel in found:
            chosen = {flt.channel: found[flt.channel]}
        else:
            chosen = {rid: rec for rid, rec in found.items() if rec.fields.get("name") == flt.channel}
        if not chosen:
            raise UnknownChannel(f"there is no channel named {flt.channel!r}")
    rows = []
    for rid, rec in chosen.items():
        f = rec.fields
        at = created("channels", rid)
        rows.append({
            "id": rid, "name": f.get("name"), "kind": f.get("kind"), "topic": f.get("topic"),
            "created_by": f.get("created_by"), "created_at": at, "created_utc": utc(at),
            "archived": bool(f.get("archived")), "deleted": bool(f.get("deleted")),
            "retention_days": _int(f.get("retention_days")),
        })
    rows.sort(key=lambda c: (c["created_at"] or 0, c["id"]))
    return rows


def _message(rid: str, f: dict[str, Any], deleted: bool) -> Row:
    at = _int(f.get("at"))
    text = None if deleted else f.get("text")
    return {
        "id": rid, "channel": f.get("channel"), "thread": f.get("thread"), "n": _int(f.get("n")),
        "tn": _int(f.get("tn")), "author": f.get("author"), "at": at, "at_utc": utc(at), "text": text,
        "mentions": f.get("mentions"), "pinned": bool(f.get("pinned")), "edited_at": _int(f.get("edited")),
        "edited_utc": utc(_int(f.get("edited"))), "edits": 0, "deleted": deleted, "deleted_at": None,
        "deleted_utc": None, "deleted_by": None, "expired": not deleted and text is None,
        "replies": _int(f.get("replies")),
    }


def _versions(changes: list[chain.ChainRow], message_ids: set[str], deleted: set[str]) -> list[Row]:
    """One row per change that set a message's text or deleted it, in merge (HLC) order."""
    entries = sorted(
        (r for r in changes if r.collection == "messages" and r.record_id in message_ids),
        key=lambda r: (r.hlc, r.seq),
    )
    previous: dict[str, int] = {}  # message -> seq of its latest text version
    rows: list[Row] = []
    for r in entries:
        redacted = r.redacted or {}
        gone = r.record_id in deleted
        if r.fields.get("deleted") is True:
            kind = "deleted"
        elif "text" in r.fields or "text" in redacted:
            value = r.fields.get("text")
            if r.record_id not in previous:
                kind = "created"
            elif value is None and "text" not in redacted:
                kind = "redacted" if gone else "expired"
            else:
                kind = "edited"
        else:
            continue
        text = r.fields.get("text") if kind in ("created", "edited") and not gone else None
        rows.append({
            "seq": r.seq, "message": r.record_id, "kind": kind, "at": r.received_at, "at_utc": utc(r.received_at),
            "hlc": r.hlc, "author": r.author, "device": r.device, "text": text,
            "text_removed": kind in ("created", "edited") and text is None,
            "replaces": previous.get(r.record_id) if kind != "created" else None,
        })
        if kind in ("created", "edited"):
            previous[r.record_id] = r.seq
    return rows


def _fold_versions(messages: list[Row], versions: list[Row]) -> None:
    by_id = {m["id"]: m for m in messages}
    for v in versions:
        m = by_id[v["message"]]
        if v["kind"] == "edited":
            m["edits"] += 1
        elif v["kind"] == "deleted" and m["deleted_at"] is None:
            m["deleted_at"], m["deleted_utc"], m["deleted_by"] = v["at"], v["at_utc"], v["author"]


def _memberships(changes: list[chain.ChainRow], channel_ids: set[str], flt: Filter) -> list[Row]:
    states: dict[str, merge.RecordState] = {}
    open_rows: dict[str, Row] = {}
    counts: dict[str, int] = {}
    rows: list[Row] = []
    for r in changes:
        if r.collection != "members":
            continue
        state = merge.apply(states.get(r.record_id), r.fields, r.hlc)
        states[r.record_id] = state
        channel, user = state.fields.get("channel"), state.fields.get("user")
        if channel not in channel_ids:
            continue
        active = state.fields.get("left") is not True
        current = open_rows.get(r.record_id)
        if active and current is None:
            counts[r.record_id] = counts.get(r.record_id, 0) + 1
            current = {
                "id": f"{r.record_id}#{counts[r.record_id]}", "channel": channel, "user": user,
                "joined_at": r.received_at, "joined_utc": utc(r.received_at), "joined_by": r.author,
                "joined_seq": r.seq, "left_at": None, "left_utc": None, "left_by": None, "left_seq": None,
            }
            open_rows[r.record_id] = current
            rows.append(current)
        elif not active and current is not None:
            current.update(left_at=r.received_at, left_utc=utc(r.received_at), left_by=r.author, left_seq=r.seq)
            del open_rows[r.record_id]
    return [
        m for m in rows
        if (flt.until_ms is None or m["joined_at"] < flt.until_ms)
        and (flt.since_ms is None or m["left_at"] is None or m["left_at"] >= flt.since_ms)
    ]


def _generic(
    snapshot: Snapshot, collection: str, channel_ids: set[str], flt: Filter, created: Any,
    last_seen: dict[tuple[str, str], chain.ChainRow], created_by: dict[tuple[str, str], str],
) -> list[Row]:
    """Files, tasks, events: their fields as columns (secrets dropped), with creation and update times."""
    rows = []
    for rid, rec in snapshot.collection(collection).items():
        channel = rec.fields.get("channel") or (rec.scope[2:] if rec.scope.startswith("c:") else None)
        if flt.channel is not None and channel not in channel_ids:
            continue
        at = created(collection, rid)
        if not flt.in_period(at):
            continue
        last = last_seen.get((collection, rid))
        row: Row = {name: None for name in FILE_COLUMNS} if collection == "files" else {}
        row.update({k: v for k, v in rec.fields.items() if k not in SECRET_FIELDS and k != "id"})
        first = created_by.get((collection, rid))
        if row.get("author") is None and first is not None:
            row["author"] = first
        row.update(id=rid, channel=channel, created_at=at, created_utc=utc(at),
                   updated_at=last.received_at if last else None, updated_utc=utc(last.received_at if last else None))
        rows.append(row)
    rows.sort(key=lambda r: (r["created_at"] or 0, r["id"]))
    return rows


def _log_entry(
    row: chain.ChainRow, filtered: bool, selected: set[tuple[str, str]], deleted: set[str]
) -> chain.ChainRow:
    key = (row.collection, row.record_id)
    if row.collection in SECRET_COLLECTIONS or (filtered and key not in selected):
        names = list(row.fields)
    else:
        names = [n for n in row.fields if n in SECRET_FIELDS]
        if row.collection == "messages" and row.record_id in deleted:
            names.append("text")
    return redact(row, names)


def redact(row: chain.ChainRow, names: list[str]) -> chain.ChainRow:
    """Move these fields' values to the digests (the same rule as the live store's redact)."""
    removed = {n: chain.value_digest(row.fields[n]) for n in names if n in row.fields and row.fields[n] is not None}
    if not removed:
        return row
    fields = {k: v for k, v in row.fields.items() if k not in removed}
    return row._replace(fields=fields, redacted={**(row.redacted or {}), **removed})


def _people(snapshot: Snapshot, created: Any) -> list[Row]:
    rows: dict[str, Row] = {}
    for rid, rec in snapshot.collection("users").items():
        f = rec.fields
        at = created("users", rid)
        rows[rid] = {
            "id": rid, "name": f.get("name"), "email": f.get("email"), "role": f.get("role"),
            "kind": "bot" if f.get("role") == "bot" else "user", "created_at": at, "created_utc": utc(at),
            "deactivated": False, "deleted": bool(f.get("deleted")),
        }
    for account in snapshot.accounts.values():
        row = rows.setdefault(account.id, {"id": account.id, "deleted": False})
        row.update(name=row.get("name") or account.name, email=account.email, role=account.role,
                   kind="bot" if account.role == "bot" else "user", created_at=account.created,
                   created_utc=utc(account.created), deactivated=account.deactivated)
    if any(r.author == SERVER_AUTHOR for r in snapshot.changes):
        rows.setdefault(SERVER_AUTHOR, _placeholder(SERVER_AUTHOR, "TeamTalk server", "system"))
    return sorted(rows.values(), key=lambda r: (r["created_at"] or 0, r["id"]))


def _placeholder(person: str, name: str, kind: str) -> Row:
    return {"id": person, "name": name, "email": None, "role": None, "kind": kind, "created_at": None,
            "created_utc": None, "deactivated": False, "deleted": False}


def _add_missing_people(people: list[Row], *tables: list[Row]) -> None:
    """Every id a table points to exists in people, so the foreign keys hold."""
    known = {p["id"] for p in people}
    columns = ("created_by", "user", "joined_by", "left_by", "author", "deleted_by")
    for rows in tables:
        for row in rows:
            for column in columns:
                person = row.get(column)
                if isinstance(person, str) and person not in known:
                    kind = "system" if person == SERVER_AUTHOR else "unknown"
                    people.append(_placeholder(person, "TeamTalk server" if kind == "system" else person, kind))
                    known.add(person)
