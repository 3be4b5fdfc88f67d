"""No Python pattern ends in ``$`` (issue 8, bug 5).

In Python, ``$`` also matches just before a final newline, so ``re.match(r"^[a-z]+$", "id\\n")``
succeeds: an id with a trailing newline was accepted and replicated. Whole-string checks use
``fullmatch`` (or ``\\Z``). JavaScript's ``$`` (without the ``m`` flag) only matches at the end,
so the frontend's patterns are not affected.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from backend import accounts
from backend.errors import ApiError
from sync_protocol import search_query

ROOT = Path(__file__).resolve().parents[2]
RE_FUNCTIONS = {"compile", "match", "fullmatch", "search"}


def _patterns() -> list[tuple[str, str]]:
    found = []
    for path in [*(ROOT / "backend").rglob("*.py"), *(ROOT / "sync_protocol").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.func.attr in RE_FUNCTIONS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node.args[0].value))
    return found


def test_the_scan_sees_the_patterns() -> None:
    assert len(_patterns()) >= 5  # the check below would pass vacuously if the scan found nothing


def test_no_pattern_ends_in_a_dollar() -> None:
    offenders = [where for where, pattern in _patterns() if pattern.endswith("$") and not pattern.endswith("\\$")]
    assert not offenders, f"use fullmatch or \\Z, not $: {offenders}"


def test_an_email_with_a_trailing_newline_is_not_an_email() -> None:
    with pytest.raises(ApiError) as caught:
        accounts._check_new_account("Ada", "ada@example.com\n", "correct horse battery")
    assert caught.value.body.field == "email"


@pytest.mark.parametrize("day", ["2024-01-01\n", "٢٠٢٤-٠١-٠١"])
def test_a_search_day_is_exactly_ten_ascii_characters(day: str) -> None:
    assert not search_query._DAY.fullmatch(day)
