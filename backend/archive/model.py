"""The archive's rows, one record (or one record's log entries) at a time. Pure: no I/O, no clock.

Everything here looks at one record and what the log says about it, so an export streams: the
writer (export.py) feeds records and their entries through these functions in batches and never
holds a whole table.

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

import functools
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backend.storage import chain
from backend.storage.base import PublicAccount, Timing
from sync_protocol import merge

Row = dict[str, Any]

#: Called between the phases of a long read or write: (phase, done, total).
Progress = Callable[[str, int, int], None]


def no_progress(phase: str, done: int, total: int) -> None:
    pass


#: The server's own changes (retention, joining #general) carry this author.
SERVER_AUTHOR = "server"
#: Collections whose values never enter an archive (digests only), should they ever be logged.
SECRET_COLLECTIONS = frozenset({"sessions", "devices", "push", "subscriptions", "push_subscriptions", "invites"})
#: Field names whose values never enter an archive.
SECRET_FIELDS = frozenset(
    {"password", "password_hash", "token", "token_hash", "secret", "p256dh", "auth", "endpoint", "keys", "vapid"}
)
#: Optional collections exported as tables of their own when they exist.
EXTRA_COLLECTIONS = ("tasks", "events", "occurrences", "rsvps", "meetings", "meeting_attendance")
FILE_COLUMNS = ("channel", "message", "name", "size", "type", "sha256", "author")
#: Columns of the archive's tables that name a person (each must exist in ``people``).
PERSON_COLUMNS = ("created_by", "user", "joined_by", "left_by", "author", "deleted_by")
LOG_POLICY = (
    "whole chain from seq 1 to the export's head; entries outside the export's filter and secret values are "
    "kept as digests only; deleted messages' text is a digest only"
)


def utc(ms: int | None) -> str | None:
    """ISO 8601 UTC with milliseconds, e.g. 2026-11-26T10:00:00.123Z (sorts as text)."""
    if ms is None:
        return None
    seconds = ms // 1000
    s = seconds % 86_400
    return f"{_day(seconds // 86_400)}{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{ms % 1000:03d}Z"


@functools.lru_cache(maxsize=1024)
def _day(days: int) -> str:
    """The date part of utc(), once per day (strftime is most of an export's time per row)."""
    return datetime.fromtimestamp(days * 86_400, UTC).strftime("%Y-%m-%dT")


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


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def info(head_seq: int, head_hash: str, flt: Filter, exported_at: int | None) -> dict[str, Any]:
    return {
        "format": "teamtalk-archive 1",
        "exported_at": utc(exported_at),
        "head_seq": head_seq,
        "head_hash": head_hash,
        "chain_first_seq": 1,
        "chain_prev_hash": chain.GENESIS,
        "since": utc(flt.since_ms),
        "until": utc(flt.until_ms),
        "channel": flt.channel,
        "log_policy": LOG_POLICY,
    }


# --- channels and people (few: held whole) ----------------------------------------------------


def channels(found: Iterable[tuple[str, dict[str, Any], Timing]], flt: Filter) -> list[Row]:
    """The exported channels, oldest first: all of them, or the one --channel names (by id or name)."""
    every = list(found)
    chosen = every
    if flt.channel is not None:
        chosen = [c for c in every if c[0] == flt.channel] or [c for c in every if c[1].get("name") == flt.channel]
        if not chosen:
            raise UnknownChannel(f"there is no channel named {flt.channel!r}")
    rows = []
    for rid, f, timing in chosen:
        at = timing.created
        rows.append(
            {
                "id": rid,
                "name": f.get("name"),
                "kind": f.get("kind"),
                "topic": f.get("topic"),
                "created_by": f.get("created_by"),
                "created_at": at,
                "created_utc": utc(at),
                "archived": bool(f.get("archived")),
                "deleted": bool(f.get("deleted")),
                "retention_days": as_int(f.get("retention_days")),
            }
        )
    rows.sort(key=lambda c: (c["created_at"] or 0, c["id"]))
    return rows


def people(
    users: Iterable[tuple[str, dict[str, Any], Timing]], accounts: Iterable[PublicAccount], server_wrote: bool
) -> list[Row]:
    """Every person: users' profiles merged with their accounts (no password hashes), oldest first."""
    rows: dict[str, Row] = {}
    for rid, f, timing in users:
        at = timing.created
        rows[rid] = {
            "id": rid,
            "name": f.get("name"),
            "email": f.get("email"),
            "role": f.get("role"),
            "kind": "bot" if f.get("role") == "bot" else "user",
            "created_at": at,
            "created_utc": utc(at),
            "deactivated": False,
            "deleted": bool(f.get("deleted")),
        }
    for account in accounts:
        row = rows.setdefault(account.id, {"id": account.id, "deleted": False})
        row.update(
            name=row.get("name") or account.name,
            email=account.email,
            role=account.role,
            kind="bot" if account.role == "bot" else "user",
            created_at=account.created,
            created_utc=utc(account.created),
            deactivated=account.deactivated,
        )
    if server_wrote:
        rows.setdefault(SERVER_AUTHOR, placeholder(SERVER_AUTHOR))
    return sorted(rows.values(), key=lambda r: (r["created_at"] or 0, r["id"]))


def placeholder(person: str) -> Row:
    """A person the archive's tables name but who has no account or profile (the server, or gone)."""
    kind = "system" if person == SERVER_AUTHOR else "unknown"
    return {
        "id": person,
        "name": "TeamTalk server" if kind == "system" else person,
        "email": None,
        "role": None,
        "kind": kind,
        "created_at": None,
        "created_utc": None,
        "deactivated": False,
        "deleted": False,
    }


# --- messages, their versions, reactions ------------------------------------------------------


def message_selected(f: Mapping[str, Any], channel_ids: Container[str], flt: Filter) -> bool:
    return f.get("channel") in channel_ids and flt.in_period(as_int(f.get("at")))


def message(rid: str, f: Mapping[str, Any], entries: Iterable[chain.ChainRow]) -> tuple[Row, list[Row]]:
    """A message's row and its versions, from its merged record and its log entries in merge
    (HLC, then seq) order; the row's edit count and deletion come from the versions."""
    gone = f.get("deleted") is True
    at = as_int(f.get("at"))
    text = None if gone else f.get("text")
    row: Row = {
        "id": rid,
        "channel": f.get("channel"),
        "thread": f.get("thread"),
        "n": as_int(f.get("n")),
        "tn": as_int(f.get("tn")),
        "author": f.get("author"),
        "at": at,
        "at_utc": utc(at),
        "text": text,
        "mentions": f.get("mentions"),
        "pinned": bool(f.get("pinned")),
        "edited_at": as_int(f.get("edited")),
        "edited_utc": utc(as_int(f.get("edited"))),
        "edits": 0,
        "deleted": gone,
        "deleted_at": None,
        "deleted_utc": None,
        "deleted_by": None,
        "expired": not gone and text is None,
        "replies": as_int(f.get("replies")),
    }
    versions = _versions(rid, entries, gone)
    for v in versions:
        if v["kind"] == "edited":
            row["edits"] += 1
        elif v["kind"] == "deleted" and row["deleted_at"] is None:
            row["deleted_at"], row["deleted_utc"], row["deleted_by"] = v["at"], v["at_utc"], v["author"]
    return row, versions


def _versions(rid: str, entries: Iterable[chain.ChainRow], gone: bool) -> list[Row]:
    """One row per entry that set the message's text or deleted it."""
    previous: int | None = None  # seq of its latest text version
    rows: list[Row] = []
    for r in entries:
        redacted = r.redacted or {}
        if r.fields.get("deleted") is True:
            kind = "deleted"
        elif "text" in r.fields or "text" in redacted:
            value = r.fields.get("text")
            if previous is None:
                kind = "created"
            elif value is None and "text" not in redacted:
                kind = "redacted" if gone else "expired"
            else:
                kind = "edited"
        else:
            continue
        text = r.fields.get("text") if kind in ("created", "edited") and not gone else None
        rows.append(
            {
                "seq": r.seq,
                "message": rid,
                "kind": kind,
                "at": r.received_at,
                "at_utc": utc(r.received_at),
                "hlc": r.hlc,
                "author": r.author,
                "device": r.device,
                "text": text,
                "text_removed": kind in ("created", "edited") and text is None,
                "replaces": previous if kind != "created" else None,
            }
        )
        if kind in ("created", "edited"):
            previous = r.seq
    return rows


def reaction(rid: str, f: Mapping[str, Any], timing: Timing) -> Row:
    at = timing.updated
    return {
        "id": rid,
        "message": f.get("message"),
        "channel": f.get("channel"),
        "user": f.get("user"),
        "emoji": f.get("emoji"),
        "active": bool(f.get("on")),
        "at": at,
        "at_utc": utc(at),
    }


# --- memberships ------------------------------------------------------------------------------


def memberships(rid: str, entries: Iterable[chain.ChainRow], channel_ids: set[str], flt: Filter) -> list[Row]:
    """The periods of one membership record, from its log entries in log order, that overlap the
    export's period. Row ids are ``<record>#1``, ``#2``, … in the order the periods began."""
    state: merge.RecordState | None = None
    current: Row | None = None
    count = 0
    rows: list[Row] = []
    for r in entries:
        state = merge.apply(state, r.fields, r.hlc)
        channel, user = state.fields.get("channel"), state.fields.get("user")
        if channel not in channel_ids:
            continue
        active = state.fields.get("left") is not True
        if active and current is None:
            count += 1
            current = {
                "id": f"{rid}#{count}",
                "channel": channel,
                "user": user,
                "joined_at": r.received_at,
                "joined_utc": utc(r.received_at),
                "joined_by": r.author,
                "joined_seq": r.seq,
                "left_at": None,
                "left_utc": None,
                "left_by": None,
                "left_seq": None,
            }
            rows.append(current)
        elif not active and current is not None:
            current.update(left_at=r.received_at, left_utc=utc(r.received_at), left_by=r.author, left_seq=r.seq)
            current = None
    return [
        m
        for m in rows
        if (flt.until_ms is None or m["joined_at"] < flt.until_ms)
        and (flt.since_ms is None or m["left_at"] is None or m["left_at"] >= flt.since_ms)
    ]


# --- files, tasks, events ---------------------------------------------------------------------


def generic(
    collection: str, rid: str, scope: str, f: Mapping[str, Any], timing: Timing, channel_ids: set[str], flt: Filter
) -> Row | None:
    """Files, tasks, events: their fields as columns (secrets dropped), with creation and update
    times; None when the export's filter leaves the record out."""
    channel = f.get("channel") or (scope[2:] if scope.startswith("c:") else None)
    if flt.channel is not None and channel not in channel_ids:
        return None
    at = timing.created
    if not flt.in_period(at):
        return None
    row: Row = {name: None for name in FILE_COLUMNS} if collection == "files" else {}
    row.update({k: v for k, v in f.items() if k not in SECRET_FIELDS and k != "id"})
    if row.get("author") is None and timing.author is not None:
        row["author"] = timing.author
    row.update(
        id=rid,
        channel=channel,
        created_at=at,
        created_utc=utc(at),
        updated_at=timing.updated,
        updated_utc=utc(timing.updated),
    )
    return row


# --- the change log ---------------------------------------------------------------------------


def log_entry(row: chain.ChainRow, selected: bool, deleted_message: bool) -> chain.ChainRow:
    """An entry as the archive keeps it: values of unselected records, secret collections and
    secret fields, and a deleted message's text, move to the digests (Rules 1-3)."""
    if row.collection in SECRET_COLLECTIONS or not selected:
        names = list(row.fields)
    else:
        names = [n for n in row.fields if n in SECRET_FIELDS]
        if deleted_message:
            names.append("text")
    return redact(row, names)


def redact(row: chain.ChainRow, names: list[str]) -> chain.ChainRow:
    """Move these fields' values to the digests (the same rule as the live store's redact)."""
    removed = {n: chain.value_digest(row.fields[n]) for n in names if n in row.fields and row.fields[n] is not None}
    if not removed:
        return row
    fields = {k: v for k, v in row.fields.items() if k not in removed}
    return row._replace(fields=fields, redacted={**(row.redacted or {}), **removed})
