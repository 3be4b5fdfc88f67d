"""The rights matrix of PROTOCOL.md as a table: every collection and operation, for every role and
membership state. Each cell runs on a fresh world through the real sync service and SQLite.

Columns: owner (and the channel's creator), admin, member, non_member, removed (left the
channel), auditor (no membership). Cells: "ok" or the rejection code. The rows are in
rights_rows/, one module per area (a new collection adds its rows there).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync_protocol.collections import REGISTRY
from tests.integration.rights_rows import ROWS, Row
from tests.integration.rights_world import PERSONAS, RightsLab, World


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RightsLab]:
    lab = RightsLab(Path(tmp_path_factory.mktemp("rights")))
    yield lab
    lab.close()


CASES = [
    pytest.param(row, persona, expected, id=f"{row.what} / {persona}")
    for row in ROWS
    for persona, expected in zip(PERSONAS, row.expected, strict=True)
]


@pytest.mark.parametrize(("row", "persona", "expected"), CASES)
def test_rights(lab: RightsLab, row: Row, persona: str, expected: str) -> None:
    world = lab.world()
    collection, record_id, fields = row.change(world, world.people[persona])
    assert lab.push(world, persona, collection, record_id, fields) == expected


def test_every_collection_and_every_writable_field_has_a_row() -> None:
    """The table covers the registry: a new collection or client-writable field without a row fails."""
    covered: dict[str, set[str]] = {}
    names = World(
        {p: p for p in PERSONAS},
        channel="c",
        archived="a",
        public="p",
        dm="dm_a_b",
        msg_member="m1",
        msg_removed="m2",
        msg_deleted="m3",
        extra={"event": "e", "reminder": "r"},
    )
    for row in ROWS:
        collection, _, fields = row.change(names, "me")
        covered.setdefault(collection, set()).update(fields)
    for spec in REGISTRY:
        writable = {name for name, f in spec.fields.items() if not f.server}
        missing = writable - covered.get(spec.name, set())
        assert not missing, f"{spec.name}: no row writes {missing}"
