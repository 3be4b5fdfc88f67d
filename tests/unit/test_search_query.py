"""The shared search syntax: the same vectors run against frontend/src/lib/search-query.js."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from sync_protocol.search_query import parse, person_named, text_matches, time_matches

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[2] / "sync_protocol" / "vectors" / "search_query.json").read_text()
)


@pytest.mark.parametrize("case", CASES, ids=[c["comment"] for c in CASES])
def test_search_query_vector(case: dict[str, Any]) -> None:
    if "person" in case:
        person = case["person"]
        assert person_named(case["name"], person["id"], person["name"], person["email"]) is case["names_person"]
        return
    query = parse(case["query"])
    if "parsed" in case:
        assert msgspec.to_builtins(query) == case["parsed"]
    if "matches" in case:
        assert text_matches(query, case["text"]) is case["matches"]
    if "time_matches" in case:
        assert time_matches(query, case["at"]) is case["time_matches"]
