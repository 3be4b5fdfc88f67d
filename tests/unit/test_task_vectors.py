"""Tasks' shared vectors (positions.json, tasks.json) against the Python core; the browser runs the
same files in frontend/test/tasks.test.js."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from sync_protocol import merge, task_query, tasks
from sync_protocol.positions import PositionError, key_at, key_between, keys_between, ordered

VECTORS = Path(__file__).resolve().parents[2] / "sync_protocol" / "vectors"


def cases(name: str) -> list[Any]:
    loaded: list[dict[str, Any]] = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
    assert len({c["comment"] for c in loaded}) == len(loaded), f"{name}.json repeats a comment"
    return [pytest.param(c, id=c["comment"]) for c in loaded]


@pytest.mark.parametrize("case", cases("positions"))
def test_positions(case: dict[str, Any]) -> None:
    if "between" in case:
        a, b = case["between"]
        if case.get("error"):
            with pytest.raises(PositionError):
                key_between(a, b)
        elif "n" in case:
            assert keys_between(a, b, case["n"]) == case["expected"]
        else:
            assert key_between(a, b) == case["expected"]
    elif "drop" in case:
        drop = case["drop"]
        assert key_at(drop["ids"], drop["positions"], drop["index"]) == case["expected"]
    elif "moves" in case:
        for moves in (case["moves"], case["moves"][::-1]):  # delivery order does not matter
            states = {
                i: merge.apply(None, {"position": p}, "1780000000000-00000-seed") for i, p in case["cards"].items()
            }
            for move in moves:
                states[move["id"]] = merge.apply(states[move["id"]], {"position": move["position"]}, move["hlc"])
            assert ordered((i, s.fields) for i, s in states.items()) == case["expected"]
    else:
        assert ordered((i, {"position": p}) for i, p in case["order"].items()) == case["expected"]


def _merged_records(spec: dict[str, Any], changes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Part records after the changes of two devices (Rule: separate records merge per field)."""
    states = {i: merge.apply(None, f, "1780000000000-00000-seed") for i, f in spec["held"].items()}
    for c in changes:
        states[c["id"]] = merge.apply(states.get(c["id"]), c["fields"], c["hlc"])
    return {i: dict(s.fields) for i, s in states.items()}


@pytest.mark.parametrize("case", cases("tasks"))
def test_task_rules(case: dict[str, Any]) -> None:
    if "records" in case:
        spec = case["records"]
        for changes in (spec["changes"], spec["changes"][::-1]):  # delivery order does not matter
            held = _merged_records(spec, changes)
            if spec["kind"] == "items":
                assert tasks.checklist(held) == case["expected"]["order"]
                assert list(tasks.progress(held)) == case["expected"]["progress"]
                assert [held[i]["text"] for i in case["expected"]["order"]] == case["expected"]["texts"]
            else:
                derive = tasks.assignees if spec["kind"] == "assignees" else tasks.labels
                assert derive(held.values()) == case["expected"]
    elif "assignees" in case:
        assert tasks.assignees(case["assignees"]) == case["expected"]
    elif "labels" in case:
        assert tasks.labels(case["labels"]) == case["expected"]
    elif "items" in case:
        assert tasks.checklist(case["items"]) == case["expected"]["order"]
        assert list(tasks.progress(case["items"])) == case["expected"]["progress"]
    elif "seen" in case:
        assert tasks.changed_since_seen(case["task"], case["seen"], case["me"]) is case["expected"]
    else:
        assert tasks.due_group(case["due"], case["due_tz"], case["now"], case["zone"]) == case["expected"]


@pytest.mark.parametrize("case", cases("task_query"))
def test_task_query(case: dict[str, Any]) -> None:
    filters, rest = task_query.split(case["query"])
    if "filters" in case:
        assert msgspec.to_builtins(filters) == case["filters"]
        assert rest == case["rest"]
    if "status_matches" in case:
        assert task_query.status_matches(filters, case["status"]) is case["status_matches"]
    if "due_matches" in case:
        assert task_query.due_matches(filters, case["due"], case["group"]) is case["due_matches"]
