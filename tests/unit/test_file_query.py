"""Finding files by name (sync_protocol/file_query.py) against the shared vectors; the PWA runs the
same file in frontend/test/file-query.test.js."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sync_protocol import file_query, search_query

VECTORS = Path(__file__).resolve().parents[2] / "sync_protocol" / "vectors" / "file_query.json"
CASES: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))


def test_comments_are_unique() -> None:
    assert len({c["comment"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", [pytest.param(c, id=c["comment"]) for c in CASES])
def test_file_query(case: dict[str, Any]) -> None:
    if "split" in case:
        assert file_query.split(case["split"]) == (case["asks"], case["rest"])
    else:
        query = search_query.parse(case["query"])
        assert file_query.search(query, case["files"], case["channels"], case["people"]) == case["expected"]
