"""The merge rule for records: a last-writer-wins register per field, ordered by HLC.

Laws (property-tested in tests/unit/test_merge_properties.py, and shared with the JS
implementation in frontend/src/sync/merge.js through sync_protocol/vectors/merge.json):

Law 1. Idempotent:   apply(apply(s, c), c) == apply(s, c).
Law 2. Commutative:  applying a set of changes in any order gives the same state.
Law 3. Deterministic tie-break: when two writes carry the same HLC (which honest devices never
       produce), the one whose value has the greater canonical JSON encoding wins, so even
       forged duplicates converge. Text compares by Unicode code point (the order of its UTF-8
       bytes, and Python's ``<`` on str); JS must not use its UTF-16 ``<``, which puts an emoji
       below U+E000-U+FFFF.

The module does not know whether it runs on the server, in a browser or in a test.
A record is deleted by writing its tombstone field ``deleted = true``; like any field, the
write with the greater clock wins.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import msgspec

from sync_protocol.wire import Value


class RecordState(msgspec.Struct):
    """A record's current field values and, per field, the HLC of the write that set it."""

    fields: dict[str, Value] = msgspec.field(default_factory=dict)
    clocks: dict[str, str] = msgspec.field(default_factory=dict)


def canonical(value: Value) -> str:
    """The encoding the tie-break compares; JSON.stringify gives the same text in JS."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def wins(new_hlc: str, new_value: Value, old_hlc: str | None, old_value: Value) -> bool:
    """True when a write (new_hlc, new_value) replaces the held (old_hlc, old_value)."""
    if old_hlc is None or new_hlc > old_hlc:
        return True
    if new_hlc < old_hlc:
        return False
    return canonical(new_value) > canonical(old_value)


def apply(state: RecordState | None, fields: Mapping[str, Value], hlc: str) -> RecordState:
    """Merge one change into a record's state and return the new state (the input is untouched)."""
    if state is None:  # every write wins over nothing (the loop below, without the comparisons)
        return RecordState(dict(fields), dict.fromkeys(fields, hlc))
    merged = RecordState(dict(state.fields), dict(state.clocks))
    for name, value in fields.items():
        if wins(hlc, value, merged.clocks.get(name), merged.fields.get(name)):
            merged.fields[name] = value
            merged.clocks[name] = hlc
    return merged


def snapshot_changes(fields: Mapping[str, Value], clocks: Mapping[str, str]) -> list[tuple[dict[str, Value], str]]:
    """A record snapshot (each field with its own clock) as the changes that wrote it: fields grouped
    by clock, in order of first appearance. A field without a clock is not part of any change.
    Shared vectors: vectors/snapshot.json."""
    grouped: dict[str, dict[str, Value]] = {}
    for name, value in fields.items():
        clock = clocks.get(name)
        if clock is not None:
            grouped.setdefault(clock, {})[name] = value
    return [(group, clock) for clock, group in grouped.items()]


def apply_snapshot(state: RecordState | None, fields: Mapping[str, Value], clocks: Mapping[str, str]) -> RecordState:
    """Merge a record snapshot: the same rule, applied to the changes the snapshot stands for."""
    merged = state
    for group, clock in snapshot_changes(fields, clocks):
        merged = apply(merged, group, clock)
    return merged if merged is not None else RecordState()


def changed_fields(state: RecordState | None, fields: Mapping[str, Value], hlc: str) -> dict[str, Value]:
    """The subset of ``fields`` that would win against ``state`` (what a change really alters)."""
    if state is None:
        return dict(fields)
    return {
        name: value
        for name, value in fields.items()
        if wins(hlc, value, state.clocks.get(name), state.fields.get(name))
    }
