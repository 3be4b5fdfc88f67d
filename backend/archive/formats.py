"""Compliance exports in shapes existing review tools read: a CSV of message events, and Slack's
export layout (users.json, channels.json, one folder per conversation of daily JSON files).

Both are built from the same ArchiveData as the SQLite archive, so they obey its rules: one
snapshot, no text of deleted messages, no secrets.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from backend.archive.model import ArchiveData, Row, utc

CSV_COLUMNS = (
    "event_id", "event", "at_utc", "at_ms", "message_id", "replaces_event_id", "thread_parent_id",
    "channel_id", "channel_name", "channel_kind", "author_id", "author_name", "author_email", "author_type",
    "by_id", "by_name", "text", "attachments", "change_seq",
)
#: message_versions kinds -> CSV events ("redacted" is the server blanking a deleted message's text).
_EVENTS = {"created": "created", "edited": "edited", "deleted": "deleted", "expired": "expired",
           "redacted": "deleted"}


def _attachments(data: ArchiveData) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in data.files:
        if f.get("message"):
            found[f["message"]].append({"id": f["id"], "name": f.get("name"), "sha256": f.get("sha256"),
                                        "size": f.get("size"), "type": f.get("type")})
    return found


def csv_rows(data: ArchiveData) -> list[dict[str, Any]]:
    """One row per message event: created, edited (with the event it replaced), deleted, expired,
    joined, left. Event ids are ``tt-<seq>``: the change log entry that recorded the event."""
    people = {p["id"]: p for p in data.people}
    channels = {c["id"]: c for c in data.channels}
    messages = {m["id"]: m for m in data.messages}
    attachments = _attachments(data)

    def person(prefix: str, pid: str | None) -> dict[str, Any]:
        p = people.get(pid or "", {})
        out = {f"{prefix}_id": pid, f"{prefix}_name": p.get("name")}
        if prefix == "author":
            out.update(author_email=p.get("email"), author_type="user" if p.get("kind") == "user" else "bot")
        return out

    def place(channel_id: str) -> dict[str, Any]:
        c = channels.get(channel_id, {})
        return {"channel_id": channel_id, "channel_name": c.get("name"), "channel_kind": c.get("kind")}

    rows: list[dict[str, Any]] = []
    for v in data.versions:
        m = messages[v["message"]]
        event = _EVENTS[v["kind"]]
        if v["kind"] == "redacted" and m["deleted_at"] is not None:
            continue  # the deletion itself is already a row
        files = attachments.get(m["id"], []) if event == "created" else []
        rows.append({
            "event_id": f"tt-{v['seq']}", "event": event, "at_utc": v["at_utc"], "at_ms": v["at"],
            "message_id": m["id"], "replaces_event_id": f"tt-{v['replaces']}" if v["replaces"] else None,
            "thread_parent_id": m["thread"], **place(m["channel"]), **person("author", m["author"]),
            **person("by", v["author"]), "text": v["text"],
            "attachments": json.dumps([{"name": f["name"], "sha256": f["sha256"]} for f in files]) if files else None,
            "change_seq": v["seq"],
        })
    for ms in data.memberships:
        for event, at, by, seq in (("joined", ms["joined_at"], ms["joined_by"], ms["joined_seq"]),
                                   ("left", ms["left_at"], ms["left_by"], ms["left_seq"])):
            if at is None:
                continue
            rows.append({
                "event_id": f"tt-{seq}", "event": event, "at_utc": utc(at), "at_ms": at, "message_id": None,
                "replaces_event_id": None, "thread_parent_id": None, **place(ms["channel"]),
                **person("author", ms["user"]), **person("by", by), "text": None, "attachments": None,
                "change_seq": seq,
            })
    rows.sort(key=lambda r: (r["at_ms"], r["change_seq"]))
    return rows


def write_csv(data: ArchiveData, out: Path) -> int:
    rows = csv_rows(data)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


# --- Slack export layout ------------------------------------------------------------------------

def _ts(ms: int) -> str:
    return f"{ms // 1000}.{(ms % 1000) * 1000:06d}"


def _folder(name: str | None, fallback: str, taken: set[str]) -> str:
    clean = re.sub(r"[\\/\x00-\x1f]", "_", name or "").strip(". ") or fallback
    if clean in taken:
        clean = f"{clean}-{fallback}"
    taken.add(clean)
    return clean


def slack_files(data: ArchiveData) -> dict[str, Any]:
    """Path -> JSON value of every file of a Slack export."""
    people = {p["id"]: p for p in data.people}
    members: dict[str, list[str]] = defaultdict(list)
    for ms in data.memberships:
        if ms["left_at"] is None and ms["user"] not in members[ms["channel"]]:
            members[ms["channel"]].append(ms["user"])
    files: dict[str, Any] = {
        "users.json": [
            {"id": p["id"], "name": (p.get("email") or p["id"]).split("@")[0], "real_name": p.get("name"),
             "deleted": bool(p.get("deleted") or p.get("deactivated")), "is_bot": p.get("kind") != "user",
             "is_admin": p.get("role") in ("admin", "owner"), "is_owner": p.get("role") == "owner",
             "profile": {"real_name": p.get("name"), "display_name": p.get("name"), "email": p.get("email")}}
            for p in data.people
        ]
    }
    lists: dict[str, list[dict[str, Any]]] = {"channels.json": [], "groups.json": [], "dms.json": [], "mpims.json": []}
    which = {"public": "channels.json", "private": "groups.json", "dm": "dms.json", "group": "mpims.json"}
    folders: dict[str, str] = {}
    taken: set[str] = set()
    for c in data.channels:
        created = (c["created_at"] or 0) // 1000
        entry: dict[str, Any] = {"id": c["id"], "created": created, "members": members.get(c["id"], [])}
        if c["kind"] != "dm":
            entry.update(name=c["name"], creator=c["created_by"], is_archived=c["archived"],
                         is_general=c["name"] == "general" and c["kind"] == "public",
                         topic={"value": c["topic"] or "", "creator": c["created_by"] or "", "last_set": created},
                         purpose={"value": "", "creator": "", "last_set": 0})
        lists[which.get(c["kind"], "channels.json")].append(entry)
        folders[c["id"]] = _folder(c["id"] if c["kind"] == "dm" else c["name"], c["id"], taken)
    files.update(lists)
    for path, day in _days(data, folders, people).items():
        files[path] = day
    return files


def _days(data: ArchiveData, folders: dict[str, str], people: dict[str, Row]) -> dict[str, list[dict[str, Any]]]:
    used: dict[str, set[str]] = defaultdict(set)

    next_free: dict[tuple[str, int], int] = {}

    def stamp(channel: str, ms: int) -> str:
        """A ts unique in its channel: the time in µs, moved up by 1 µs past any taken."""
        micro = next_free.get((channel, ms), ms * 1000)
        while (ts := f"{micro // 1_000_000}.{micro % 1_000_000:06d}") in used[channel]:
            micro += 1
        used[channel].add(ts)
        next_free[(channel, ms)] = micro + 1
        return ts

    reactions: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for r in data.reactions:
        if r["active"]:
            reactions[r["message"]][r["emoji"]].append(r["user"])
    attachments = _attachments(data)
    items: list[tuple[str, int, dict[str, Any]]] = []
    for m in data.messages:
        at = m["at"] or 0
        ts = stamp(m["channel"], at)
        entry: dict[str, Any] = {"type": "message", "user": m["author"], "text": m["text"] or "", "ts": ts,
                                 "client_msg_id": m["id"],
                                 "user_profile": {"real_name": people.get(m["author"], {}).get("name")}}
        if m["deleted"]:
            entry.update(subtype="tombstone", text="This message was deleted.",
                         deleted_ts=_ts(m["deleted_at"]) if m["deleted_at"] else None)
        elif m["expired"]:
            entry["teamtalk_expired"] = True
        if m["edited_at"] and not m["deleted"]:
            entry["edited"] = {"user": m["author"], "ts": _ts(m["edited_at"])}
        if m["replies"]:
            entry.update(thread_ts=ts, reply_count=m["replies"])
        if m["id"] in reactions:
            entry["reactions"] = [{"name": e, "users": u, "count": len(u)} for e, u in reactions[m["id"]].items()]
        if m["id"] in attachments:
            entry["files"] = attachments[m["id"]]
        items.append((m["channel"], at, entry))
    entries = {e["client_msg_id"]: e for _, _, e in items}
    for m in data.messages:  # replies point at their parent's ts
        parent = entries.get(m["thread"] or "")
        if parent is not None:
            entries[m["id"]].update(thread_ts=parent["ts"], parent_user_id=parent["user"])
    for ms in data.memberships:
        for subtype, at in (("channel_join", ms["joined_at"]), ("channel_leave", ms["left_at"])):
            if at is None:
                continue
            verb = "joined" if subtype == "channel_join" else "left"
            items.append((ms["channel"], at, {"type": "message", "subtype": subtype, "user": ms["user"],
                                              "text": f"<@{ms['user']}> has {verb} the channel",
                                              "ts": stamp(ms["channel"], at)}))
    days: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for channel, at, entry in sorted(items, key=lambda i: (i[0], i[2]["ts"])):
        days[f"{folders[channel]}/{(utc(at) or '')[:10]}.json"].append(entry)
    return days


def write_slack(data: ArchiveData, out: Path) -> int:
    """A directory, or a .zip (what Slack itself hands out) when ``out`` ends in .zip."""
    files = slack_files(data)
    encoded = {path: json.dumps(value, ensure_ascii=False, indent=1).encode() for path, value in files.items()}
    if out.suffix == ".zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, body in sorted(encoded.items()):
                archive.writestr(path, body)
        out.write_bytes(buffer.getvalue())
    else:
        for path, body in encoded.items():
            target = out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
    return len(encoded)
