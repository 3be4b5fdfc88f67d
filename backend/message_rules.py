"""What the server adds to messages: numbers, authorship, thread counters, edit and pin marks.

Rules:

Rule 1. A top-level message gets the channel's next ``n``; a thread reply gets its thread's next
        ``tn`` and no ``n``, so channel unread counts and gap detection concern top-level messages.
Rule 2. A reply's parent must be a top-level, undeleted message of the same channel.
Rule 3. After each reply the parent carries ``replies`` (the count), ``repliers`` (the last three
        distinct repliers, most recent last) and ``last_reply_at``.
Rule 4. A comment on a task (``task`` set) is numbered in its task (``tn``), like a reply.
Rule 5. Changing the text of an existing message sets ``edited``; pinning records ``pinned_by``.
"""

from __future__ import annotations

from collections.abc import Mapping

from backend import task_rules
from backend.access import Rejected
from backend.storage.base import Storage
from sync_protocol.wire import Value

MAX_REPLIERS = 3


def on_create(store: Storage, fields: Mapping[str, Value], author: str, now_ms: int) -> dict[str, Value]:
    added: dict[str, Value] = {"author": author, "at": now_ms}
    thread = fields.get("thread")
    if isinstance(fields.get("task"), str):  # a comment on a task (backend/task_rules.py, Rule 5)
        added["tn"] = task_rules.comment_number(store, fields)
    elif isinstance(thread, str):
        parent = store.get_record("messages", thread)
        info = parent.state.fields if parent else {}
        if parent is None or info.get("channel") != fields["channel"]:
            raise Rejected("not_found", "a reply's thread must be a message of the same channel")
        if info.get("thread") is not None:
            raise Rejected("invalid", "threads do not nest: reply to the thread's first message")
        if info.get("deleted") is True:
            raise Rejected("deleted", "this thread's first message was deleted")
        added["tn"] = store.next_message_number(f"thread:{thread}")
    else:
        added["n"] = store.next_message_number(str(fields["channel"]))
    if fields.get("pinned") is True:
        added["pinned_by"] = author
    return added


def on_update(fields: Mapping[str, Value], author: str, now_ms: int) -> dict[str, Value]:
    added: dict[str, Value] = {}
    if isinstance(fields.get("text"), str):  # a wipe (delete, retention) is not an edit
        added["edited"] = now_ms
    if "pinned" in fields:
        added["pinned_by"] = author if fields["pinned"] is True else None
    return added


def parent_after_reply(parent: Mapping[str, Value], replier: str, tn: int, now_ms: int) -> dict[str, Value]:
    earlier = str(parent.get("repliers") or "").split()
    repliers = [*[p for p in earlier if p != replier][-(MAX_REPLIERS - 1) :], replier]
    return {"replies": tn, "repliers": " ".join(repliers), "last_reply_at": now_ms}
