"""The shared vectors in sync_protocol/vectors/, run against the Python sync core.

The JS core runs the same files (frontend/test/vectors.test.js): a rule that lives in two
languages is only trusted when both pass them. One test per case, named by its comment.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from sync_protocol import collections, hlc, merge
from sync_protocol.replica import Replica, unread_count
from sync_protocol.wire import Change, SyncResponse

VECTORS = Path(__file__).resolve().parents[2] / "sync_protocol" / "vectors"


def load(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
    return cases


def by_comment(name: str) -> pytest.MarkDecorator:
    cases = load(name)
    return pytest.mark.parametrize("case", cases, ids=[case["comment"] for case in cases])


def test_every_vector_is_named_once() -> None:
    for name in ("merge", "scopes", "hlc", "snapshot", "unread", "replica"):
        comments = [case["comment"] for case in load(name)]
        assert len(comments) == len(set(comments)), f"{name}.json repeats a comment"


# --- merge.json --------------------------------------------------------------------------------


def state_of(raw: dict[str, Any] | None) -> merge.RecordState | None:
    return None if raw is None else merge.RecordState(fields=raw["fields"], clocks=raw["clocks"])


def merge_all(given: merge.RecordState | None, changes: list[dict[str, Any]]) -> merge.RecordState | None:
    state = given
    for change in changes:
        merged = merge.apply(state, change["fields"], change["hlc"])
        # Applying only the fields that win must give the same state as applying them all.
        winners = merge.changed_fields(state, change["fields"], change["hlc"])
        assert merge.apply(state, winners, change["hlc"]) == merged
        assert merge.changed_fields(merged, change["fields"], change["hlc"]) == {}, "applied twice"
        state = merged
    return state


@by_comment("merge")
def test_merge(case: dict[str, Any]) -> None:
    given = state_of(case["given"])
    untouched = copy.deepcopy(given)
    expected = state_of(case["expected"])

    assert merge_all(given, case["changes"]) == expected
    assert merge_all(given, case["changes"][::-1]) == expected, "in reverse order"
    assert given == untouched, "apply changed its input"


# --- scopes.json -------------------------------------------------------------------------------

DERIVED: dict[str, Callable[..., str]] = {
    "dm_id": collections.dm_id,
    "member_id": collections.member_id,
    "read_id": collections.read_id,
    "channel_scope": collections.channel_scope,
    "user_scope": collections.user_scope,
}


@by_comment("scopes")
def test_scopes(case: dict[str, Any]) -> None:
    if "derive" in case:
        assert DERIVED[case["derive"]](*case["args"]) == case["expected"]
    elif "error" in case:
        with pytest.raises(collections.ScopeError, match=case["error"]):
            collections.scope_of(case["collection"], case["id"], case["fields"])
    else:
        assert collections.scope_of(case["collection"], case["id"], case["fields"]) == case["expected"]


# --- hlc.json ----------------------------------------------------------------------------------


@by_comment("hlc")
def test_hlc(case: dict[str, Any]) -> None:
    if case["op"] == "parse":
        if "error" in case:
            assert not hlc.is_valid(case["value"])
            with pytest.raises(ValueError, match=f"^{case['error']}"):
                hlc.parse(case["value"])
        else:
            assert hlc.is_valid(case["value"])
            assert hlc.parse(case["value"])._asdict() == case["expected"]
            assert hlc.parse(case["value"]).encode() == case["value"]
        return

    clock = hlc.Clock(hlc.parse(case["last"]).device, case["last"])
    assert clock.last == case["last"]
    if case["op"] == "tick":
        assert clock.tick(case["wall"]) == case["expected"]
    elif case["op"] == "observe":
        clock.observe(case["remote"], case["wall"])
    else:
        pytest.fail(f"unknown op {case['op']!r}")
    assert clock.last == case["expected"]


# --- snapshot.json -----------------------------------------------------------------------------


@by_comment("snapshot")
def test_snapshot(case: dict[str, Any]) -> None:
    snapshot = case["snapshot"]
    changes = merge.snapshot_changes(snapshot["fields"], snapshot["clocks"])
    assert [{"hlc": clock, "fields": fields} for fields, clock in changes] == case["changes"]
    merged = merge.apply_snapshot(state_of(case["given"]), snapshot["fields"], snapshot["clocks"])
    assert merged == state_of(case["expected"])


# --- unread.json -------------------------------------------------------------------------------


@by_comment("unread")
def test_unread_vector(case: dict[str, Any]) -> None:
    held = [(n, author) for n, author in case["messages"]]
    assert unread_count(held, case["read"], case["me"]) == case["unread"]


# --- replica.json ------------------------------------------------------------------------------

T0 = 1_764_172_800_000


@by_comment("replica")
def test_replica_vector(case: dict[str, Any]) -> None:
    replica = Replica("dev1", "U1")
    for step in case["steps"]:
        if "write" in step:
            replica.write(step["write"]["collection"], step["write"]["id"], step["write"]["fields"], T0)
        elif "reply" in step:
            body = {k: v for k, v in step["reply"].items() if k != "sent"}
            response = msgspec.convert({"v": 1, "server_time": T0, **body}, SyncResponse)
            replica.apply_response(response, T0, step["reply"].get("sent"))
        else:
            frame = step["live"]
            changes = msgspec.convert(frame["changes"], list[Change])
            assert replica.apply_live(frame["scope"], frame["prev"], changes, T0) is step["applied"]
    expected = case["expected"]
    assert {f"{c}/{i}": dict(state.fields) for (c, i), state in replica.records.items()} == expected["records"]
    assert [m.mid for m in replica.pending] == expected["pending"]
    assert {str(mid): rejection.code for mid, (_, rejection) in replica.failed.items()} == expected["failed"]
    assert replica.cursors == expected["cursors"]
