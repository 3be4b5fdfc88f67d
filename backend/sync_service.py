"""The sync core on the server: apply a device's push, then answer its pull.

Sans-I/O apart from the storage interface: time arrives as ``now_ms``; what each commit wrote is
published to the feed of committed changes (backend/feed.py) after it. Rules (PROTOCOL.md, "Rules the server keeps"):

Rule 1. A push is schema-checked whole first (validation.py); then, in ONE transaction, each
        mutation is applied or rejected in order and the device's last mutation counter is
        written with the effects, so an acked push survives a crash and a retry applies nothing twice.
        Over HTTP that transaction may hold other devices' pushes too, each in its own savepoint
        (storage/group_commit.py): one push's failure never touches another's changes.
Rule 2. Server-only fields (``author``, ``n``, ``at``, ``created_by``) come from the session and
        the server, stamped with the mutation's own clock.
Rule 3. A membership change updates the derived memberships table in the same transaction and
        names the person in what is published, so live fan-out re-subscribes their connections.
Rule 4. Publishing happens only after COMMIT, once per push, naming the device that pushed:
        nobody hears of a change that could still roll back.
Rule 5. Every collection is applied alike, as its registry entry (sync_protocol/collections.py)
        says: required fields, scope and derived id for a new record; deletes are final and
        immutable fields fixed; rights (access.py); checks, server fields, derived tables and
        follow-ups by name (hooks.py). There is no per-collection branch in this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple, Protocol

from backend import hooks
from backend.access import Access, Rejected
from backend.feed import Committed, Feed, InProcessFeed
from backend.push_batch import PushBatch
from backend.settings import Settings
from backend.storage.base import NewChange, Storage, StoredRecord
from backend.storage.group_commit import GroupCommit
from backend.validation import validate_push
from sync_protocol import merge
from sync_protocol.collections import REGISTRY, WORKSPACE, channel_scope, user_scope
from sync_protocol.hlc import Clock, Hlc
from sync_protocol.registry import CollectionSpec, Registry, ScopeError
from sync_protocol.wire import (
    PROTOCOL_VERSION,
    Change,
    Mutation,
    RecordSnapshot,
    Rejection,
    SyncRequest,
    SyncResponse,
    Value,
)

SERVER_DEVICE = "server"
#: Shapes of change whose plan is kept (``_Plan``); a real client sends a few dozen.
MAX_PLANS = 1024
#: ``hooks.Applied`` built without its NamedTuple constructor, a Python frame per change.
_new = tuple.__new__
MAX_RECENT = 500
#: Replies carried with a snapshot or a history page: the newest ones in its threads. Enough for
#: Mentions and thread badges on a new device; a whole long thread loads when it is opened.
RECENT_REPLIES = 200
SNAPSHOT_CHANNELS = 20


class Actor(Protocol):
    @property
    def user_id(self) -> str: ...
    @property
    def device_id(self) -> str: ...
    @property
    def role(self) -> str: ...


class SyncService:
    def __init__(
        self, store: Storage, settings: Settings, feed: Feed | None = None, registry: Registry = REGISTRY
    ) -> None:
        self.store = store
        self.settings = settings
        #: The collections this server accepts (sync_protocol/collections.py); tests add toys.
        self.registry = registry
        #: The same entries as a plain dict: looked up once per shape of change.
        self._specs = {spec.name: spec for spec in registry}
        #: What each shape of change needs (``_Plan``), by (collection, creating, field names).
        self._plans: dict[tuple[str, bool, tuple[str, ...]], _Plan] = {}
        #: Collections a snapshot pages newest first rather than sending whole.
        self._paged = tuple(spec.name for spec in registry if spec.paged)
        #: Where each commit's changes are published (Rule 4); live fan-out and search follow it.
        self.feed: Feed = feed or InProcessFeed(store)
        # The server's own clock resumes past every clock in the log, so a server write after a
        # restart (a wipe, a counter) never loses to a change it accepted before (up to 60 s ahead).
        self.clock = Clock(SERVER_DEVICE, store.greatest_clock())
        #: Where HTTP pushes are written: pushes queued together share a transaction and a COMMIT.
        self.writes = GroupCommit(store)

    # --- the round trip ----------------------------------------------------------------------

    def sync(self, actor: Actor, request: SyncRequest, now_ms: int) -> SyncResponse:
        """The round trip on the calling thread (tools, tests, in-process seeding); like
        ``sync_async``, the pull takes the push's own changes from memory."""
        if not request.changes:
            return self._reply(actor, request, now_ms, [], [])
        batch = PushBatch(actor.device_id)
        acks, rejections = self.push(actor, request, now_ms, batch)
        return self._reply(actor, request, now_ms, acks, rejections, batch.committed())

    async def sync_async(self, actor: Actor, request: SyncRequest, now_ms: int) -> SyncResponse:
        """The round trip for the HTTP shell: the push joins a group commit on the writer thread;
        the pull runs here once the push is durable, and takes the push's own changes from
        memory rather than reading them back (pull, ``written``)."""
        if not request.changes:
            return self._reply(actor, request, now_ms, [], [])
        batch = PushBatch(actor.device_id)
        acks, rejections = await self._push_async(actor, request, now_ms, batch)
        return self._reply(actor, request, now_ms, acks, rejections, batch.committed())

    def _reply(
        self,
        actor: Actor,
        request: SyncRequest,
        now_ms: int,
        acks: list[int],
        rejections: list[Rejection],
        written: Committed | None = None,
    ) -> SyncResponse:
        limit = max(1, min(request.limit, self.settings.max_page))
        records, snapshot_cursors, unsnapshotted = self.snapshot_new_scopes(
            actor.user_id, request.cursors, request.recent
        )
        cursors_in = {**request.cursors, **snapshot_cursors}
        changes, cursors, scopes, more = self.pull(
            actor.user_id, cursors_in, limit, skip=unsnapshotted, written=written
        )
        return SyncResponse(
            v=PROTOCOL_VERSION,
            server_time=now_ms,
            acks=acks,
            rejections=rejections,
            changes=changes,
            cursors=cursors,
            scopes=scopes,
            more=more or bool(unsnapshotted),
            records=records,
        )

    def push(
        self, actor: Actor, request: SyncRequest, now_ms: int, batch: PushBatch | None = None
    ) -> tuple[list[int], list[Rejection]]:
        stamps = validate_push(request.changes, actor.device_id, now_ms, self.settings, self.registry)
        with self.store.transaction():
            outcome, publish = self._push_in_transaction(actor, request.changes, stamps, now_ms, batch)
            self.store.after_commit(publish)
        return outcome

    async def push_async(self, actor: Actor, request: SyncRequest, now_ms: int) -> tuple[list[int], list[Rejection]]:
        return await self._push_async(actor, request, now_ms, PushBatch(actor.device_id))

    async def _push_async(
        self, actor: Actor, request: SyncRequest, now_ms: int, batch: PushBatch
    ) -> tuple[list[int], list[Rejection]]:
        # The schema check runs here, before the push joins a group: a malformed batch is refused
        # whole without ever reaching the writer.
        stamps = validate_push(request.changes, actor.device_id, now_ms, self.settings, self.registry)
        return await self.writes.run(
            lambda: self._push_in_transaction(actor, request.changes, stamps, now_ms, batch),
            weight=len(request.changes),
        )

    def _push_in_transaction(
        self, actor: Actor, mutations: list[Mutation], stamps: list[Hlc], now_ms: int, batch: PushBatch | None = None
    ) -> tuple[tuple[list[int], list[Rejection]], Callable[[], None]]:
        """Rule 1, inside the caller's transaction. Returns (acks, rejections) and the fan-out to
        run once committed (Rule 4); ``batch`` collects what it wrote."""
        acks: list[int] = []
        rejections: list[Rejection] = []
        batch = batch if batch is not None else PushBatch(actor.device_id)
        access = Access(self.store, actor.user_id, actor.role)
        device = self.store.session(actor.device_id)
        last_mid = device.last_mid if device else 0
        self._preload(mutations, last_mid)
        # Bound once: the loop below runs once per change of the push.
        apply, observe, ack = self._apply, self.clock.observe_hlc, acks.append
        user_id, device_id = actor.user_id, actor.device_id
        for mutation, stamp in zip(mutations, stamps, strict=True):
            mid = mutation.mid
            if mid <= last_mid:
                rejection = self._retried(device_id, mutation, last_mid)
                if rejection is None:
                    ack(mid)
                else:
                    rejections.append(rejection)
                continue
            try:
                apply(
                    access,
                    user_id,
                    device_id,
                    mid,
                    mutation.collection,
                    mutation.id,
                    mutation.fields,
                    mutation.hlc,
                    now_ms,
                    batch,
                )
            except Rejected as exc:
                self.store.save_rejection(device_id, mid, exc.code, exc.reason)
                rejections.append(Rejection(mid, exc.code, exc.reason))
            else:
                ack(mid)
            observe(stamp, now_ms)
            last_mid = mid
        self.store.set_last_mid(actor.device_id, last_mid)
        return (acks, rejections), lambda: self._publish(batch)

    def _retried(self, device: str, mutation: Mutation, last_mid: int) -> Rejection | None:
        """A mutation at or below the device's last applied one: a true retry is acked (or refused)
        again; one that never applied arrived out of order and is refused, never silently acked."""
        earlier = self.store.rejection(device, mutation.mid)
        if earlier:
            return Rejection(mutation.mid, *earlier)
        if self.store.mutation_applied(device, mutation.mid, mutation.collection, mutation.id):
            return None
        reason = (
            f"mutation {mutation.mid} is not above this device's last applied mutation {last_mid} and was never"
            " applied: send pending mutations oldest first, each with a greater mid"
        )
        self.store.save_rejection(device, mutation.mid, "stale_mid", reason)
        return Rejection(mutation.mid, "stale_mid", reason)

    def _preload(self, mutations: list[Mutation], last_mid: int) -> None:
        """Read the records a push is about to change, one query per collection."""
        wanted: dict[str, list[str]] = {}
        for mutation in mutations:
            if mutation.mid > last_mid:
                ids = wanted.get(mutation.collection)
                if ids is None:
                    ids = wanted[mutation.collection] = []
                ids.append(mutation.id)
        for collection, record_ids in wanted.items():
            self.store.preload(collection, record_ids)

    def write_as_server(self, author: str, writes: list[tuple[str, str, dict[str, Value]]], now_ms: int) -> None:
        """Changes the server makes itself (a new account's profile, joining #general, ...).
        They go through the same log and merge as a device's, without the rights check."""
        batch = PushBatch(SERVER_DEVICE)
        with self.store.transaction():
            for collection, record_id, fields in writes:
                existing = self.store.get_record(collection, record_id)
                stamp = self._server_stamp(existing.state, now_ms) if existing else self.clock.tick(now_ms)
                self._apply(None, author, SERVER_DEVICE, 0, collection, record_id, fields, stamp, now_ms, batch)
            self.store.after_commit(lambda: self._publish(batch))

    def pull(
        self,
        user_id: str,
        cursors: Mapping[str, int],
        limit: int,
        skip: set[str] | frozenset[str] = frozenset(),
        written: Committed | None = None,
    ) -> tuple[list[Change], dict[str, int], list[str], bool]:
        """Changes after the cursors, scope by scope; ``skip`` names scopes left for a later reply.
        Only scopes whose head is past the cursor are read (one read of the heads first): a
        device that is up to date costs one small query, however long the log.

        ``written``: what the caller's own push just committed. Where the cursor stood at the
        scope's head before that push and the head is now its last change, the changes after the
        cursor are exactly the push's own (nothing else wrote in between: a later write, a wipe or
        retention's, moves the head), so they come from memory, redacted as published (push_batch.py,
        Rule 2), not read back from the log."""
        scopes = self.visible_scopes(user_id)
        heads = self.store.scope_heads(scopes)
        own = _by_scope(written) if written is not None else {}
        changes: list[Change] = []
        new_cursors: dict[str, int] = {}
        remaining = limit
        more = False
        for scope in scopes:
            if scope in skip:
                continue
            after = max(0, cursors.get(scope, 0))
            if heads[scope] <= after:
                new_cursors[scope] = after
                continue
            if remaining == 0:
                new_cursors[scope] = after
                more = True
                continue
            mine = own.get(scope)
            if mine and written is not None and written.prev.get(scope) == after and mine[-1].seq == heads[scope]:
                batch = mine[:remaining]
            else:
                batch = self.store.changes_after(scope, after, remaining)
            changes.extend(batch)
            remaining -= len(batch)
            new_cursors[scope] = batch[-1].seq if batch else after
            if remaining == 0 and batch:
                more = more or heads[scope] > batch[-1].seq
        return changes, new_cursors, scopes, more

    def snapshot_new_scopes(
        self, user_id: str, cursors: Mapping[str, int], recent: int
    ) -> tuple[list[RecordSnapshot], dict[str, int], set[str]]:
        """Bootstrap channels the device has no cursor for from their current records, with only the
        ``recent`` newest top-level messages and the newest replies in their threads, and move their
        cursors to the head (PROTOCOL.md, "Recent first"). Older messages come through
        POST /api/history. At most
        SNAPSHOT_CHANNELS channels per reply, so the first reply (which also carries the channel
        list) stays small; the scopes left for later are returned so the pull skips them."""
        if recent <= 0:
            return [], {}, set()
        recent = min(recent, MAX_RECENT)
        records: list[RecordSnapshot] = []
        new_cursors: dict[str, int] = {}
        later: set[str] = set()
        for channel in self.store.channels_of(user_id):
            scope = channel_scope(channel)
            if scope in cursors:
                continue
            if len(new_cursors) == SNAPSHOT_CHANNELS:
                later.add(scope)
                continue
            new_cursors[scope] = self.store.scope_head(scope)
            records += self.store.records_in_scope(scope, skip=self._paged)
            newest = self.store.message_ids_before(channel, None, recent)
            newest += self.store.latest_reply_ids(newest, RECENT_REPLIES)
            records += self.store.snapshots("messages", newest)
            records += self.store.reactions_to(newest)
        return records, new_cursors, later

    def visible_scopes(self, user_id: str) -> list[str]:
        """Workspace first, then the user's own space, then channels: a new device can draw its
        channel list before the messages arrive."""
        return [WORKSPACE, user_scope(user_id)] + [channel_scope(c) for c in self.store.channels_of(user_id)]

    # --- one change --------------------------------------------------------------------------

    def _apply(
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
            self.registry[collection],
            record.scope,
            record_id,
            record,
            fields,
            self._server_stamp(record.state, now_ms),
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
            self._server_stamp(stored.state, now_ms),
            author,
            SERVER_DEVICE,
            0,
            now_ms,
            batch,
        )
        self.store.redact(spec.name, record_id, names)
        batch.wiped(spec.name, record_id, names, self.store.scope_head(stored.scope))

    def _server_stamp(self, state: merge.RecordState, now_ms: int) -> str:
        """A clock later than every clock this record holds (and any the server has seen)."""
        if state.clocks:
            self.clock.observe(max(state.clocks.values()), now_ms)
        return self.clock.tick(now_ms)

    def _publish(self, batch: PushBatch) -> None:
        unit = batch.committed()
        if unit is not None:
            self.feed.publish(unit)


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


def _by_scope(unit: Committed) -> dict[str, list[Change]]:
    """A committed unit's changes by scope, each list in ``seq`` order (as the unit is)."""
    found: dict[str, list[Change]] = {}
    for change in unit.changes:
        found.setdefault(change.scope, []).append(change)
    return found
