"""Displayed file names (sync_protocol/collections_files.display_name) against the shared vectors,
which the PWA runs too (frontend/test/file-names.test.js)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sync_protocol.collections_files import display_name

CASES = json.loads((Path(__file__).parents[2] / "sync_protocol" / "vectors" / "file_names.json").read_text())


def _text(case: dict[str, Any], key: str) -> str:
    if f"{key}_repeat" in case:
        unit, times = case[f"{key}_repeat"]
        return str(unit) * int(times)
    return str(case[key])


@pytest.mark.parametrize("case", CASES, ids=[c["comment"] for c in CASES])
def test_display_name(case: dict[str, Any]) -> None:
    assert display_name(_text(case, "given")) == _text(case, "expected")
