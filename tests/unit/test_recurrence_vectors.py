"""sync_protocol/vectors/recurrence.json against the server's expansion (python-dateutil).

The browser's expansion (the ``rrule`` package) runs the same file: frontend/test/recurrence.test.js.
Each row of ``expected`` is [start in the event's zone, UTC instant, start in the viewer's zone, title].
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from backend.calendar import recurrence

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[2] / "sync_protocol" / "vectors" / "recurrence.json").read_text("utf-8")
)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _rows(occurrences: list[recurrence.Occurrence], view: str) -> list[list[str]]:
    return [
        [
            o.start,
            o.starts_at().strftime("%Y-%m-%dT%H:%MZ"),
            o.start if o.all_day else o.starts_at().astimezone(ZoneInfo(view)).strftime("%Y-%m-%dT%H:%M"),
            o.title,
        ]
        for o in occurrences
    ]


@pytest.mark.parametrize("case", CASES, ids=[case["comment"] for case in CASES])
def test_recurrence(case: dict[str, Any]) -> None:
    after, before = _at(case["after"]), _at(case["before"])
    event = case["event"]
    if "at" in case:
        old_rule, new_rule = recurrence.split(event, case["at"])
        assert [old_rule, new_rule] == case["expected_rrules"]
        old = {**event, "rrule": old_rule}
        new = {**event, "rrule": new_rule, "start": case["new_start"], "end": case["new_end"]}
        found = recurrence.expand("e1", old, [], after, before) + recurrence.expand("e2", new, [], after, before)
    else:
        found = recurrence.expand("e1", event, case.get("exceptions", []), after, before)
    assert _rows(found, case["view_tz"]) == case["expected"]


def test_vectors_are_named_once() -> None:
    comments = [case["comment"] for case in CASES]
    assert len(comments) == len(set(comments))


@pytest.mark.parametrize(
    "event",
    [
        {"start": "2026-13-01T09:00"},
        {"start": "2026-03-01", "tz": "Europe/Berlin"},
        {"start": "2026-03-01T09:00", "tz": "Mars/Olympus"},
        {"start": "2026-03-01T09:00", "end": "2026-03-01T08:00", "tz": "UTC"},
        {"start": "2026-03-01T09:00", "end": "2026-03-02", "tz": "UTC"},
        {"start": "2026-03-01T09:00", "tz": "UTC", "rrule": "FREQ=SOMETIMES"},
    ],
)
def test_check_refuses_what_an_event_cannot_hold(event: dict[str, Any]) -> None:
    with pytest.raises(recurrence.BadTime):
        recurrence.check(event)
