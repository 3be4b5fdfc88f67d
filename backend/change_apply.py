"""One change, applied: every collection alike, as its registry entry says (sync_service.py, Rule 5).

The round trip (sync_service.py) decides which changes of a push to apply and in which
transaction; this module applies one: the required fields, scope and derived id of a new record;
final deletes and fixed immutable fields; rights (access.py); checks, server fields, derived
tables and follow-ups by name (hooks.py); the merge (sync_protocol/merge.py) and the log entry.
There is no per-collection branch here either.

What only a change's shape decides (its collection, whether it creates the record, its field
names) is looked up once per shape (``_Plan``; issue 15: a push of a hundred messages is a hundred
changes of one shape). A push of one takes the same path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from backend import hooks
from backend.access import Access, Rejected
from backend.push_batch import PushBatch
from backend.storage.base import NewChange, Storage, StoredRecord
from sync_protocol import merge
from sync_protocol.hlc import Clock
from sync_protocol.registry import CollectionSpec, Registry, ScopeError
from sync_protocol.wire import Change, Value

SERVER_DEVICE = "server"
#: Shapes of change whose plan is kept (``_Plan``); a real client sends a few dozen.
MAX_PLANS = 1024
#: ``hooks.Applied`` built without its NamedTuple constructor, a Python frame per change.
_new = tuple.__new__


class ChangeApplier:
    def __init__(self, store: Storage, registry: Registry, clock: Clock) -> None:
        self.store = store
        #: The registry's entries as a plain dict: looked up once per shape of change.
        self._specs = {spec.name: spec for spec in registry}
        #: What each shape of change needs (``_Plan``), by (collection, creating, field names).
        self._plans: dict[tuple[str, bool, tuple[str, ...]], _Plan] = {}
        #: The server's clock, for the changes it writes itself (follow-ups, wipes).
        self.clock = clock

    def apply(
        self,
        access: Access | None,
        author: str,
        device: str,
        mid: int,
        collection: str,
        record_id: str,
        fields: dict[str, Value],
        stamp: str,
        now_ms: int,
        batch: PushBatch,
    ) -> None:
        """Rule 5: one change, for every collection alike, as its registry entry says. What only
        the change's shape decides (its collection, whether it creates the record, its field
        names) is looked up once per shape (``_Plan``); what the values decide runs per change."""
        store = self.store
        existing = store.get_record(collection, record_id)
        shape = (collection, existing is None, tuple(fields))
        plan = self._plans.get(shape)
        if plan is None:
            if len(self._plans) >= MAX_PLANS:  # field order is the client's: keep what it can grow bounded
                self._plans.clear()
            plan = self._plans[shape] = _Plan.of(self._specs[collection], existing is None, fields)
        spec = plan.spec
        if plan.restricted:  # most shapes carry no restricted field: skip the call
            self._check_values(spec, plan.restricted, fields)
        if existing is None:
            scope = self._new_record_scope(plan, record_id, fields)
        else:
            scope = existing.scope
            self._check_still_allowed(spec, record_id, existing, fields, by_client=access is not None)
        if access is not None:
            access.check(spec, record_id, existing, fields, shape)
        change = _new(hooks.Applied, (store, collection, record_id, author, now_ms, existing, fields))
        for check in plan.checks:
            check(change)
        applied = dict(fields)
        if plan.server_fields is not None:
            applied.update(plan.server_fields(change))
        state = self._write(spec, scope, record_id, existing, applied, stamp, author, device, mid, now_ms, batch)
        if access is not None and plan.watched:
            access.saw(collection, record_id, state.fields)
        for follow_up in plan.follow_ups:
            for target_collection, target_id, target_fields in follow_up(change, applied, state.fields):
                self._write_as_server(target_collection, target_id, target_fields, author, now_ms, batch)
        if plan.may_wipe and applied.get("deleted") is True:
            self._wipe(spec, record_id, StoredRecord(scope, state), author, now_ms, batch)

    @staticmethod
    def _new_record_scope(plan: _Plan, record_id: str, fields: Mapping[str, Value]) -> str:
        """A new record: its required fields, its scope and, where the registry derives it, its id."""
        spec = plan.spec
        if plan.missing:
            raise Rejected("not_found", f"{spec.name}/{record_id} does not exist; creating it needs {plan.missing}")
        try:
            scope = spec.scope.scope_of(spec.name, record_id, fields)
        except ScopeError as exc:
            raise Rejected("not_found", str(exc)) from None
        if spec.derived_id is not None:
            expected = spec.derived_id.derive(fields)
            if record_id != expected:
                raise Rejected("invalid", f"{spec.name} ids are derived: expected {expected!r}")
        return scope

    @staticmethod
    def _check_values(
        spec: CollectionSpec, restricted: tuple[tuple[str, tuple[Value, ...]], ...], fields: Mapping[str, Value]
    ) -> None:
        """Values a client may never send although their type is right (a tombstone is only ever
        set: deleting is final). Refused per change, so the rest of an outbox still goes. Walks
        the restricted fields the change carries (``_Plan``), not all of the change's."""
        for name, allowed in restricted:
            if fields[name] not in allowed:
                shown = " or ".join(str(v).lower() for v in allowed)
                raise Rejected("invalid", f"{spec.name}.{name} may only be {shown}: deleting is final")

    @staticmethod
    def _check_still_allowed(
        spec: CollectionSpec, record_id: str, existing: StoredRecord, fields: Mapping[str, Value], by_client: bool
    ) -> None:
        """Deletes are final for clients (the server's own writes, such as retention's, may still
        clear a deleted record); immutable fields are fixed at creation, present or absent."""
        current = existing.state.fields
        if by_client and spec.tombstone and current.get("deleted") is True:
            raise Rejected("deleted", f"this {spec.name.removesuffix('s')} was deleted")
        for name, value in fields.items():
            if spec.fields[name].immutable and (name not in current or current[name] != value):
                raise Rejected("immutable", f"{spec.name}.{name} cannot change after creation")

    def _write(
        self,
        spec: CollectionSpec,
        scope: str,
        record_id: str,
        existing: StoredRecord | None,
        applied: dict[str, Value],
        stamp: str,
        author: str,
        device: str,
        mid: int,
        now_ms: int,
        batch: PushBatch,
    ) -> merge.RecordState:
        """Merge one change into the record, keep derived tables in step, and log it."""
        store = self.store
        state = merge.apply(existing.state if existing else None, applied, stamp)
        if scope not in batch.heads:  # the scope's head before this push's first change to it
            batch.heads[scope] = store.scope_head(scope)
        seq = store.write_change(
            NewChange(scope, spec.name, record_id, stamp, author, device, mid, now_ms, applied),
            StoredRecord(scope, state),
            existing is None,
        )
        for table in spec.derived_tables:
            people = hooks.DERIVED_TABLES[table](store, record_id, state.fields)
            if people:
                batch.memberships_changed(people)
        batch.wrote(Change(seq, scope, spec.name, record_id, stamp, author, applied))
        return state

    def _write_as_server(
        self, collection: str, record_id: str, fields: dict[str, Value], author: str, now_ms: int, batch: PushBatch
    ) -> None:
        """A follow-up change to an existing record, stamped later than every clock it holds."""
        record = self.store.get_record(collection, record_id)
        assert record is not None
        self._write(
            self._specs[collection],
            record.scope,
            record_id,
            record,
            fields,
            self.server_stamp(record.state, now_ms),
            author,
            SERVER_DEVICE,
            0,
            now_ms,
            batch,
        )

    def _wipe(
        self, spec: CollectionSpec, record_id: str, stored: StoredRecord, author: str, now_ms: int, batch: PushBatch
    ) -> None:
        """Deletes win: the wiped fields become null with the server's latest clock and are redacted
        from every logged change of the record, and from what this push publishes (PushBatch, Rule 2)."""
        names = [name for name in spec.wipe_on_delete if stored.state.fields.get(name) is not None]
        if not names:
            return
        self._write(
            spec,
            stored.scope,
            record_id,
            stored,
            dict.fromkeys(names),
            self.server_stamp(stored.state, now_ms),
            author,
            SERVER_DEVICE,
            0,
            now_ms,
            batch,
        )
        self.store.redact(spec.name, record_id, names)
        batch.wiped(spec.name, record_id, names, self.store.scope_head(stored.scope))

    def server_stamp(self, state: merge.RecordState, now_ms: int) -> str:
        """A clock later than every clock this record holds (and any the server has seen)."""
        if state.clocks:
            self.clock.observe(max(state.clocks.values()), now_ms)
        return self.clock.tick(now_ms)


class _Plan(NamedTuple):
    """What a change of one shape (collection, creating the record or not, field names) needs from
    its registry entry, looked up once per shape rather than once per change (issue 15: a push of
    a hundred messages is a hundred changes of one shape). The same sequence runs for a push of
    one; only the lookups are shared."""

    spec: CollectionSpec
    #: The restricted fields the shape carries, with their allowed values.
    restricted: tuple[tuple[str, tuple[Value, ...]], ...]
    #: A new record: the required fields the shape lacks, named for the rejection ("" when none).
    missing: str
    checks: tuple[hooks.Check, ...]
    server_fields: hooks.ServerFields | None
    #: Only the follow-ups that can write something for this shape (hooks.FOLLOW_UP_WHEN).
    follow_ups: tuple[hooks.FollowUp, ...]
    #: Does ``Access.saw`` need to hear of it (a channel or a membership)?
    watched: bool
    #: Can it delete the record, and has the collection fields to wipe then?
    may_wipe: bool

    @classmethod
    def of(cls, spec: CollectionSpec, creating: bool, names: Iterable[str]) -> _Plan:
        names = tuple(names)
        hook = spec.on_create if creating else spec.on_update
        return cls(
            spec,
            tuple((name, allowed) for name, allowed in spec.restricted.items() if name in names),
            ", ".join(name for name in spec.required if name not in names) if creating else "",
            tuple(hooks.CHECKS[name] for name in spec.checks),
            hooks.SERVER_FIELDS[hook] if hook is not None else None,
            tuple(
                hooks.FOLLOW_UPS[name]
                for name in spec.follow_ups
                if hooks.FOLLOW_UP_WHEN.get(name, hooks.always)(spec.name, creating, names)
            ),
            spec.name in Access.WATCHED,
            "deleted" in names and bool(spec.wipe_on_delete),
        )
