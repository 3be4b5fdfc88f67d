"""What the server adds to a change on acceptance, by name: the hooks a registry entry names.

Rules:

Rule 1. A hook is named in the collection's registry entry (``on_create``, ``on_update``,
        ``checks``, ``follow_ups``, ``derived_tables``) and written here once; the sync service
        runs them in that order for every collection alike, inside the push's transaction.
Rule 2. ``on_create``/``on_update`` return server fields to merge into the change, stamped with the
        change's own clock. ``checks`` raise ``Rejected`` before anything is written.
Rule 3. ``follow_ups`` return further changes (collection, id, fields) that the service writes as
        the server, with a clock later than every clock on their record.
        A follow-up that can write nothing for some shapes of change (a new message without a
        ``thread`` has no parent to count) says so in ``FOLLOW_UP_WHEN``, and the service skips
        it for those shapes; its own code still decides per change.
Rule 4. ``derived_tables`` keep a table in step with the record just written and return the
        users whose visible scopes changed (the live hub re-subscribes them after the commit).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import NamedTuple

from backend import message_rules, task_rules
from backend.access import Rejected
from backend.calendar import recurrence
from backend.storage.base import Storage, StoredRecord
from sync_protocol.collections_files import DIGEST
from sync_protocol.wire import Value


class Applied(NamedTuple):
    """One change as the service applies it: the record before, the fields sent, and the result.
    (A tuple: one is made per change, and a frozen dataclass's ``__init__`` costs seven calls.)"""

    store: Storage
    collection: str
    record_id: str
    author: str
    now_ms: int
    existing: StoredRecord | None
    fields: Mapping[str, Value]


ServerFields = Callable[[Applied], dict[str, Value]]
Check = Callable[[Applied], None]
FollowUp = Callable[[Applied, Mapping[str, Value], Mapping[str, Value]], list[tuple[str, str, dict[str, Value]]]]
DerivedTable = Callable[[Storage, str, Mapping[str, Value]], Iterable[str]]
#: (collection, creating, the change's field names) -> can the follow-up write anything? (Rule 3)
ShapeTest = Callable[[str, bool, Collection[str]], bool]


def always(collection: str, creating: bool, names: Collection[str]) -> bool:
    return True


def _created_by(change: Applied) -> dict[str, Value]:
    return {"created_by": change.author}


def _author(change: Applied) -> dict[str, Value]:
    """For collections whose edits the ``message_author`` rule guards: who wrote it, and when."""
    return {"author": change.author, "at": change.now_ms}


def _message_numbers(change: Applied) -> dict[str, Value]:
    return message_rules.on_create(change.store, change.fields, change.author, change.now_ms)


def _message_marks(change: Applied) -> dict[str, Value]:
    return message_rules.on_update(change.fields, change.author, change.now_ms)


def _unique_channel_name(change: Applied) -> None:
    if "name" not in change.fields:
        return
    current = change.existing.state.fields if change.existing else {}
    kind = change.fields.get("kind") or current.get("kind")
    name = change.fields["name"]
    if kind not in ("public", "private") or not isinstance(name, str):
        return
    if not name.strip():
        raise Rejected("invalid", "a channel needs a name")
    if change.store.channel_name_taken(name, change.record_id):
        raise Rejected("conflict", f"a channel named {name!r} already exists")


def _thread_parent_counters(
    change: Applied, applied: Mapping[str, Value], state: Mapping[str, Value]
) -> list[tuple[str, str, dict[str, Value]]]:
    """A new reply updates its parent's reply count and last repliers."""
    if not _replies(change.collection, change.existing is None, applied.keys()):
        return []
    thread, tn = state.get("thread"), applied.get("tn")
    if not isinstance(thread, str) or not isinstance(tn, int):
        return []
    parent = change.store.get_record("messages", thread)
    assert parent is not None  # message_numbers refused a reply without one
    counters = message_rules.parent_after_reply(parent.state.fields, change.author, tn, change.now_ms)
    return [("messages", thread, counters)]


def _replies(collection: str, creating: bool, names: Collection[str]) -> bool:
    """Only a new reply (a new record that names its thread) updates a parent: the rule of
    ``_thread_parent_counters``, which asks it first, and of its shape test (Rule 3)."""
    return creating and "thread" in names


def _memberships(store: Storage, record_id: str, fields: Mapping[str, Value]) -> Iterable[str]:
    person = str(fields["user"])
    store.set_membership(str(fields["channel"]), person, fields.get("left") is not True)
    return (person,)


def _message_index(store: Storage, record_id: str, fields: Mapping[str, Value]) -> Iterable[str]:
    store.index_message(record_id, fields)
    return ()


# --- files ---------------------------------------------------------------------------------


def _file_uploader(change: Applied) -> dict[str, Value]:
    return {"uploader": change.author, "at": change.now_ms}


def _file_stored(change: Applied) -> None:
    """A file record names bytes the server holds, of its size, that its author uploaded (or had
    linked by dedup): knowing a digest is not enough to share the bytes behind it."""
    if change.existing is not None:
        return
    digest, size = change.fields.get("digest"), change.fields.get("size")
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise Rejected("invalid", "files.digest must be a SHA-256 in lowercase hex")
    if change.store.blob_size(digest) != size or not change.store.has_claim(change.author, digest):
        raise Rejected("not_stored", "upload the file's bytes before sharing it (PROTOCOL.md, Files)")
    version_of = change.fields.get("version_of")
    if isinstance(version_of, str):
        # Versions form one flat list under the first version: a version of a version would
        # split it (PROTOCOL.md, Files: "Versions").
        first = change.store.get_record("files", version_of)
        if first is None or first.state.fields.get("channel") != change.fields.get("channel"):
            raise Rejected("not_found", "a new version names a file of the same channel")
        if first.state.fields.get("deleted") is True:
            raise Rejected("not_found", "the file this is a version of was deleted")
        if isinstance(first.state.fields.get("version_of"), str):
            raise Rejected("invalid", "a new version names the first version of the file (its version_of)")


def _file_refs(store: Storage, record_id: str, fields: Mapping[str, Value]) -> Iterable[str]:
    store.set_file_ref(record_id, str(fields["digest"]), str(fields["channel"]), fields.get("deleted") is not True)
    return ()


# --- tasks ---


def _task_created(change: Applied) -> dict[str, Value]:
    return task_rules.created(change.author, change.now_ms)


def _task_values(change: Applied) -> None:
    task_rules.check_values(change.fields)


def _task_assignee_member(change: Applied) -> None:
    task_rules.check_assignee(change.store, change.fields, change.existing.state.fields if change.existing else {})


def _task_touch(
    change: Applied, applied: Mapping[str, Value], state: Mapping[str, Value]
) -> list[tuple[str, str, dict[str, Value]]]:
    creating = change.existing is None
    return task_rules.touch(
        change.store, change.collection, change.record_id, state, creating, change.author, change.now_ms
    )


TASK_SERVER_FIELDS: dict[str, ServerFields] = {"task_created": _task_created}
TASK_CHECKS: dict[str, Check] = {"task_values": _task_values, "task_assignee_member": _task_assignee_member}
TASK_FOLLOW_UPS: dict[str, FollowUp] = {"task_touch": _task_touch}


# --- calendar ---------------------------------------------------------------------------------


def _calendar_times(change: Applied) -> None:
    """An event's (or an exception's) times, zone and rule, as they will be after the change, make
    sense together: a wall time of the right shape, a real IANA zone, an RRULE dateutil reads."""
    if not {"start", "end", "tz", "rrule"} & change.fields.keys():
        return
    current = change.existing.state.fields if change.existing else {}
    merged = {**current, **change.fields}
    if change.collection == "occurrences":
        series = change.store.get_record("events", str(merged["event"]))
        base = series.state.fields if series else {}
        merged = {
            "start": merged.get("start") or merged["recurrence_id"],
            "end": merged.get("end"),
            "tz": base.get("tz"),
        }
    try:
        recurrence.check(merged)
    except recurrence.BadTime as exc:
        raise Rejected("invalid", f"{change.collection}/{change.record_id}: {exc}") from None


SERVER_FIELDS: dict[str, ServerFields] = {
    "created_by": _created_by,
    "author": _author,
    "message_numbers": _message_numbers,
    "message_marks": _message_marks,
    "file_uploader": _file_uploader,
    **TASK_SERVER_FIELDS,
}
CHECKS: dict[str, Check] = {
    "unique_channel_name": _unique_channel_name,
    "file_stored": _file_stored,
    "calendar_times": _calendar_times,
    **TASK_CHECKS,
}
FOLLOW_UPS: dict[str, FollowUp] = {"thread_parent_counters": _thread_parent_counters, **TASK_FOLLOW_UPS}
#: Follow-ups that can write nothing for some shapes of change (Rule 3); the rest always run.
FOLLOW_UP_WHEN: dict[str, ShapeTest] = {"thread_parent_counters": _replies, "task_touch": task_rules.may_touch}
DERIVED_TABLES: dict[str, DerivedTable] = {
    "memberships": _memberships,
    "message_index": _message_index,
    "file_refs": _file_refs,
}


def known() -> set[str]:
    return {*SERVER_FIELDS, *CHECKS, *FOLLOW_UPS, *DERIVED_TABLES}
