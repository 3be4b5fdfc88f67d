"""The collection registry's machinery: what a collection entry declares, and the pure rules that
read it. The entries themselves (TeamTalk's collections) live in ``sync_protocol/collections.py``.

Rules:

Rule 1. One entry per collection is the single source of truth: its fields (type, limit,
        immutability, server-only), its scope rule, its derived-id rule, its rights (named rules),
        the server fields it fills on acceptance, its follow-up changes and its derived tables.
        The server iterates the registry; it has no per-collection branches.
Rule 2. Deny by default. A collection with no ``rights``, or a field with no rule in them, is
        refused for everyone. Server-only fields have no rule: only the server writes them.
Rule 3. Scope and id rules are data, not code, so they export as JSON (``export()``) and the
        browser interprets the same table (``frontend/src/sync/registry.js``); both pass
        ``vectors/scopes.json`` and the exported table is tested to match ``vectors/registry.json``.
Rule 4. Rights, hooks and derived tables are *names* here. Their code lives at the edge that
        runs them: rights in ``backend/access.py``, hooks in ``backend/hooks.py``; a test fails
        if the registry names one that does not exist.

Pure: stdlib and msgspec only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from sync_protocol.wire import Value

WORKSPACE = "ws"


class Field(NamedTuple):
    type: type
    #: Longest allowed string, or greatest allowed int.
    limit: int | None = None
    #: Written only by the server (author, per-channel number, ...); a client sending it is forging.
    server: bool = False
    #: Fixed at creation, present or absent; a later change to it is refused.
    immutable: bool = False
    #: Must be present in the change that creates the record.
    required: bool = False
    choices: tuple[str, ...] = ()
    #: Values a client may send, when fewer than the type allows (a tombstone: only ``True``).
    only: tuple[Value, ...] = ()


class ScopeError(ValueError):
    """The record's fields do not determine a scope (a required field is missing)."""


@dataclass(frozen=True)
class ScopeRule:
    """Which scope a record belongs to, from its immutable fields (or its own id).

    ``rule`` is ``workspace`` (always ``ws``), ``field`` (``prefix`` + the value of ``field``) or
    ``own`` (``prefix`` + the record's id, unless ``field`` equals ``workspace_if``: then ``ws``).
    """

    rule: Literal["workspace", "field", "own"]
    field: str | None = None
    prefix: str = ""
    workspace_if: str | None = None

    def scope_of(self, collection: str, record_id: str, fields: Mapping[str, Value]) -> str:
        if self.rule == "workspace":
            return WORKSPACE
        assert self.field is not None
        value = fields.get(self.field)
        if not isinstance(value, str):
            raise ScopeError(f"{collection} need a {self.field}")
        if self.rule == "field":
            return self.prefix + value
        return WORKSPACE if value == self.workspace_if else self.prefix + record_id


@dataclass(frozen=True)
class IdRule:
    """An id derived from fields, so two devices minting it offline meet in one record: the
    ``parts`` joined by ``:``. A part ``emoji/hex`` is the field's code points in lowercase hex
    joined by ``-`` (ids stay in the id alphabet whatever the field holds)."""

    parts: tuple[str, ...]

    def derive(self, fields: Mapping[str, Value]) -> str:
        out = []
        for part in self.parts:
            name, _, transform = part.partition("/")
            value = str(fields[name])
            out.append("-".join(f"{ord(c):x}" for c in value) if transform == "hex" else value)
        return ":".join(out)


@dataclass(frozen=True)
class Rights:
    """Who may do what, as names of rules (``backend/access.py`` holds them).

    ``create`` is checked when a change creates the record; ``fields`` names the rule for each
    field a client may write, checked whenever a change sets it (creation included);
    ``delete`` is the rule for the tombstone ``deleted: true``. A missing name is a refusal.
    """

    create: str | None = None
    fields: Mapping[str, str] = field(default_factory=dict)
    delete: str | None = None


@dataclass(frozen=True)
class CollectionSpec:
    name: str
    fields: Mapping[str, Field]
    scope: ScopeRule
    #: Rights; None refuses every write by a client (the server may still write).
    rights: Rights | None = None
    derived_id: IdRule | None = None
    #: Hooks (backend/hooks.py) that add server fields when a record is created / changed.
    on_create: str | None = None
    on_update: str | None = None
    #: Hooks that check a change against other records before it is applied (name uniqueness...).
    checks: tuple[str, ...] = ()
    #: Hooks that write more changes after this one (a thread parent's counters, a delete's wipe).
    follow_ups: tuple[str, ...] = ()
    #: Derived tables kept in step in the same transaction (memberships, message numbers...).
    derived_tables: tuple[str, ...] = ()
    #: Fields wiped (set to null and redacted from the log) when the record is deleted.
    wipe_on_delete: tuple[str, ...] = ()
    #: Snapshots leave these out of a scope's bulk records (they come newest first instead).
    paged: bool = False

    @cached_property
    def required(self) -> tuple[str, ...]:
        # Cached: asked for every new record a push creates (~7% of the server's CPU per pushed
        # message when it was computed each time, issue 15's profile).
        return tuple(name for name, spec in self.fields.items() if spec.required)

    @cached_property
    def tombstone(self) -> bool:
        return "deleted" in self.fields and not self.fields["deleted"].server

    @cached_property
    def restricted(self) -> dict[str, tuple[Value, ...]]:
        """Fields with ``only`` values, and those values: checked for every change a push applies."""
        return {name: spec.only for name, spec in self.fields.items() if spec.only}

    def scope_of(self, record_id: str, fields: Mapping[str, Value]) -> str:
        return self.scope.scope_of(self.name, record_id, fields)

    def rule_for(self, name: str) -> str | None:
        """The rights rule for a client writing field ``name`` (None: refused)."""
        if self.rights is None:
            return None
        if name == "deleted" and self.tombstone:
            return self.rights.delete
        return self.rights.fields.get(name)


class Registry:
    """The collections a server accepts and a client replicates, by name."""

    def __init__(self, specs: list[CollectionSpec]) -> None:
        self._specs = {spec.name: spec for spec in specs}

    @property
    def specs(self) -> Mapping[str, CollectionSpec]:
        """The entries by name, read-only: a plain mapping for lookups on the hot path."""
        return MappingProxyType(self._specs)

    def __getitem__(self, name: str) -> CollectionSpec:
        return self._specs[name]

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[CollectionSpec]:
        return iter(self._specs.values())

    def get(self, name: str) -> CollectionSpec | None:
        return self._specs.get(name)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def with_collection(self, spec: CollectionSpec) -> Registry:
        """A registry with one more (or a replaced) collection: what a test or a plugin adds."""
        return Registry([*(s for s in self if s.name != spec.name), spec])

    def scope_of(self, collection: str, record_id: str, fields: Mapping[str, Value]) -> str:
        spec = self._specs.get(collection)
        if spec is None:
            raise ScopeError(f"unknown collection {collection!r}")
        return spec.scope_of(record_id, fields)

    def rule_names(self) -> set[str]:
        names: set[str] = set()
        for spec in self:
            if spec.rights is not None:
                names.update(n for n in (spec.rights.create, spec.rights.delete, *spec.rights.fields.values()) if n)
        return names

    def hook_names(self) -> set[str]:
        names: set[str] = set()
        for spec in self:
            names.update(n for n in (spec.on_create, spec.on_update) if n)
            names.update(spec.checks, spec.follow_ups, spec.derived_tables)
        return names

    def export(self) -> dict[str, Any]:
        """The table the browser reads: fields, scope and id rules, rights names (JSON-ready)."""
        return {spec.name: _export(spec) for spec in sorted(self, key=lambda s: s.name)}


def _export(spec: CollectionSpec) -> dict[str, Any]:
    fields = {}
    for name, f in spec.fields.items():
        entry: dict[str, Any] = {"type": {str: "string", int: "integer", bool: "boolean"}[f.type]}
        if f.limit is not None:
            entry["limit"] = f.limit
        for flag in ("server", "immutable", "required"):
            if getattr(f, flag):
                entry[flag] = True
        if f.choices:
            entry["choices"] = list(f.choices)
        if f.only:
            entry["only"] = list(f.only)
        fields[name] = entry
    scope: dict[str, Any] = {"rule": spec.scope.rule}
    if spec.scope.field:
        scope["field"] = spec.scope.field
    if spec.scope.prefix:
        scope["prefix"] = spec.scope.prefix
    if spec.scope.workspace_if is not None:
        scope["workspace_if"] = spec.scope.workspace_if
    out: dict[str, Any] = {"fields": fields, "scope": scope}
    if spec.derived_id is not None:
        out["derived_id"] = list(spec.derived_id.parts)
    if spec.rights is not None:
        rights: dict[str, Any] = {"fields": dict(sorted(spec.rights.fields.items()))}
        if spec.rights.create:
            rights["create"] = spec.rights.create
        if spec.rights.delete:
            rights["delete"] = spec.rights.delete
        out["rights"] = rights
    return out
