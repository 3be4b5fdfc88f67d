"""The collection registry: deny by default, names that resolve, the browser's copy, and a toy
collection added in a few lines that works end to end with nothing else changed."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from backend import access, hooks
from sync_protocol.collections import IN_CHANNEL, REGISTRY, TOMBSTONE, export_json
from sync_protocol.registry import CollectionSpec, Field, Rights
from tests.integration.rights_world import PERSONAS, RightsLab, new_id

VECTOR = Path(__file__).resolve().parents[2] / "sync_protocol" / "vectors" / "registry.json"

#: A toy collection: a note in a channel (docs/adding-a-collection.md). Its entry is all it takes.
NOTES = CollectionSpec(
    "notes",
    {
        "channel": Field(str, 80, immutable=True, required=True),
        "text": Field(str, 500, required=True),
        "done": Field(bool),
        "deleted": TOMBSTONE,
        "author": Field(str, server=True),
        "at": Field(int, server=True),
    },
    IN_CHANNEL,
    rights=Rights(
        create="channel_poster",
        fields={"channel": "fixed", "text": "message_author", "done": "channel_poster"},
        delete="message_deleter",
    ),
    on_create="author",
)


def test_every_rule_and_hook_the_registry_names_exists() -> None:
    assert REGISTRY.rule_names() <= set(access.RULES), REGISTRY.rule_names() - set(access.RULES)
    assert REGISTRY.hook_names() <= hooks.known(), REGISTRY.hook_names() - hooks.known()


def test_every_rule_is_used_by_some_collection() -> None:
    assert set(access.RULES) == REGISTRY.rule_names()


def test_the_browser_reads_the_same_table() -> None:
    """frontend/src/sync/registry.js imports this vector; regenerate it with
    `python -m sync_protocol.collections > sync_protocol/vectors/registry.json`."""
    assert VECTOR.read_text() == export_json()
    assert set(json.loads(VECTOR.read_text())) == set(REGISTRY.names())


@pytest.fixture
def lab_with(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[RightsLab]:
    lab = RightsLab(tmp_path, REGISTRY.with_collection(request.param))
    yield lab
    lab.close()


@pytest.mark.parametrize("lab_with", [dataclasses.replace(NOTES, rights=None)], indirect=True)
@pytest.mark.parametrize("persona", list(PERSONAS))
def test_a_collection_without_rights_is_refused_to_everyone(lab_with: RightsLab, persona: str) -> None:
    world = lab_with.world()
    note = new_id()
    assert lab_with.push(world, persona, "notes", note, {"channel": world.public, "text": "hi"}) == "forbidden"
    # ...and updating one the server wrote is refused too.
    lab_with.sync.write_as_server(
        world.people["owner"], [("notes", note, {"channel": world.channel, "text": "x"})], 1_780_000_000_000
    )
    assert lab_with.push(world, persona, "notes", note, {"done": True}) == "forbidden"


WITHOUT_DONE = dataclasses.replace(
    NOTES, rights=Rights(create="channel_poster", fields={"channel": "fixed", "text": "channel_poster"})
)


@pytest.mark.parametrize("lab_with", [WITHOUT_DONE], indirect=True)
def test_a_field_without_a_rule_is_refused_to_everyone(lab_with: RightsLab) -> None:
    world = lab_with.world()
    note = new_id()
    assert lab_with.push(world, "member", "notes", note, {"channel": world.channel, "text": "hi"}) == "ok"
    for persona in PERSONAS:
        assert lab_with.push(world, persona, "notes", note, {"done": True}) == "forbidden"


@pytest.mark.parametrize("lab_with", [NOTES], indirect=True)
def test_a_toy_collection_works_from_its_registry_entry_alone(lab_with: RightsLab) -> None:
    world = lab_with.world()
    note = new_id()
    sneaky = {"channel": world.channel, "text": "sneaky"}
    assert lab_with.push(world, "non_member", "notes", note, sneaky) == "forbidden"
    assert lab_with.push(world, "member", "notes", note, {"channel": world.channel, "text": "buy bolts"}) == "ok"
    assert lab_with.push(world, "admin", "notes", note, {"done": True}) == "ok"
    assert lab_with.push(world, "admin", "notes", note, {"text": "not yours"}) == "forbidden"
    assert lab_with.push(world, "member", "notes", note, {"channel": world.public}) == "immutable"
    assert lab_with.push(world, "member", "notes", note, {"deleted": True}) == "ok"
    assert lab_with.push(world, "member", "notes", note, {"text": "back again"}) == "deleted"
    # It replicates in its channel's scope, to members only.
    stored = lab_with.store.get_record("notes", note)
    assert stored is not None and stored.scope == f"c:{world.channel}"
    author, at = world.people["member"], 1_780_000_000_000
    assert stored.state.fields == {
        "channel": world.channel,
        "text": "buy bolts",
        "done": True,
        "deleted": True,
        "author": author,
        "at": at,
    }
    member_pull, _, _, _ = lab_with.sync.pull(world.people["member"], {}, 1000)
    outsider_pull, _, _, _ = lab_with.sync.pull(world.people["non_member"], {}, 1000)
    assert [c.id for c in member_pull if c.collection == "notes"] == [note, note, note]  # create, done, delete
    assert not [c for c in outsider_pull if c.collection == "notes"]


def test_the_browser_reads_the_same_roles_and_rule_names() -> None:
    """frontend/src/sync/rights.js imports this vector; it is written from backend/access.py."""
    path = VECTOR.with_name("rights.json")
    assert json.loads(path.read_text()) == access.export_rights()


def test_archives_admit_exactly_the_audit_roles() -> None:
    """datasette_metadata.yml repeats access.py's audit roles (Datasette reads only YAML): keep them one rule."""
    metadata = yaml.safe_load((VECTOR.parents[2] / "datasette_metadata.yml").read_text())
    assert set(metadata["allow"]["role"]) == access.AUDIT_ROLES
