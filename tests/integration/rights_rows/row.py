"""One row of the rights matrix (tests/integration/test_rights_matrix.py): a change a persona
attempts, and what each persona is answered. The rows live beside this module, one per area."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from sync_protocol.wire import Value
from tests.integration.rights_world import World

Change = tuple[str, str, dict[str, Value]]
OK, NO = "ok", "forbidden"
Expected = tuple[str, str, str, str, str, str]


class Row(NamedTuple):
    what: str
    change: Callable[[World, str], Change]
    #: owner, admin, member, non_member, removed, auditor
    expected: Expected


def everyone(code: str) -> Expected:
    return (code,) * 6


def seeded(world: World, key: str) -> str:
    """A record the world seeded (its name stands in when the coverage test builds no world)."""
    return world.extra.get(key, key)


def shared_file(w: World) -> str:
    """The file the member shared (the coverage test's world has none)."""
    return w.extra.get("file", "f")


def file_fields(w: World) -> dict[str, Value]:
    return {
        "channel": w.channel,
        "name": "site.jpg",
        "size": 3,
        "type": "image/jpeg",
        "digest": w.extra.get("digest", ""),
    }
