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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from backend import message_rules
from backend.access import Access, Rejected
from backend.feed import Committed, Feed, InProcessFeed
from backend.settings import Settings
from backend.storage.base import NewChange, Storage, StoredRecord
from backend.storage.group_commit import GroupCommit
from backend.validation import validate_push
from sync_protocol import collections as ids
from sync_protocol import merge
from sync_protocol.collections import COLLECTIONS, WORKSPACE, ScopeError, channel_scope, scope_of, user_scope
from sync_protocol.hlc import Clock, Hlc
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
MAX_RECENT = 500
#: Replies carried with a snapshot or a history page: the newest ones in its threads. Enough for
#: Mentions and thread badges on a new device; a whole long thread loads when it is opened.
RECENT_REPLIES = 200
SNAPSHOT_CHANNELS = 20
#: The fields a new record of each collection must carry.
REQUIRED = {name: tuple(f for f, spec in schema.items() if spec.required) for name, schema in COLLECTIONS.items()}

DERIVED_IDS: dict[str, Callable[[Mapping[str, Value]], str]] = {
    "members": lambda f: ids.member_id(str(f["channel"]), str(f["user"])),
    "reads": lambda f: ids.read_id(str(f["user"]), str(f["channel"])),
    "reactions": lambda f: ids.reaction_id(str(f["message"]), str(f["user"]), str(f["emoji"])),
    "receipts": lambda f: ids.receipt_id(str(f["channel"]), str(f["user"])),
    "follows": lambda f: ids.follow_id(str(f["user"]), str(f["message"])),
    "prefs": lambda f: ids.pref_id(str(f["user"]), str(f["channel"])),
}


class Actor(Protocol):
    @property
    def user_id(self) -> str: ...
    @property
    def device_id(self) -> str: ...
    @property
    def role(self) -> str: ...


class SyncService:
    def __init__(self, store: Storage, settings: Settings, feed: Feed | None = None) -> None:
        self.store = store
        self.settings = settings
        #: Where each commit's changes are published (Rule 4); live fan-out and search follow it.
        self.feed: Feed = feed or InProcessFeed(store)
        self.clock = Clock(SERVER_DEVICE)
        #: Where HTTP pushes are written: pushes queued together share a transaction and a COMMIT.
        self.writes = GroupCommit(store)

    # --- the round trip ----------------------------------------------------------------------

    def sync(self, actor: Actor, request: SyncRequest, now_ms: int) -> SyncResponse:
        """The round trip on the calling thread (tools, tests, in-process seeding)."""
        acks, rejections = self.push(actor, request, now_ms) if request.changes else ([], [])
        return self._reply(actor, request, now_ms, acks, rejections)

    async def sync_async(self, actor: Actor, request: SyncRequest, now_ms: int) -> SyncResponse:
        """The round trip for the HTTP shell: the push joins a group commit on the writer thread;
        the pull runs here once the push is durable."""
        acks, rejections = await self.push_async(actor, request, now_ms) if request.changes else ([], [])
        return self._reply(actor, request, now_ms, acks, rejections)

    def _reply(
        self, actor: Actor, request: SyncRequest, now_ms: int, acks: list[int], rejections: list[Rejection]
    ) -> SyncResponse:
        limit = max(1, min(request.limit, self.settings.max_page))
        records, snapshot_cursors, unsnapshotted = self.snapshot_new_scopes(
            actor.user_id, request.cursors, request.recent
        )
        cursors_in = {**request.cursors, **snapshot_cursors}
        changes, cursors, scopes, more = self.pull(actor.user_id, cursors_in, limit, skip=unsnapshotted)
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

    def push(self, actor: Actor, request: SyncRequest, now_ms: int) -> tuple[list[int], list[Rejection]]:
        stamps = validate_push(request.changes, actor.device_id, now_ms, self.settings)
        with self.store.transaction():
            outcome, publish = self._push_in_transaction(actor, request.changes, stamps, now_ms)
            self.store.after_commit(publish)
        return outcome

    async def push_async(self, actor: Actor, request: SyncRequest, now_ms: int) -> tuple[list[int], list[Rejection]]:
        # The schema check runs here, before the push joins a group: a malformed batch is refused
        # whole without ever reaching the writer.
        stamps = validate_push(request.changes, actor.device_id, now_ms, self.settings)
        return await self.writes.run(
            lambda: self._push_in_transaction(actor, request.changes, stamps, now_ms), weight=len(request.changes)
        )

    def _push_in_transaction(
        self, actor: Actor, mutations: list[Mutation], stamps: list[Hlc], now_ms: int
    ) -> tuple[tuple[list[int], list[Rejection]], Callable[[], None]]:
        """Rule 1, inside the caller's transaction. Returns (acks, rejections) and the fan-out to
        run once committed (Rule 4)."""
        acks: list[int] = []
        rejections: list[Rejection] = []
        heads: dict[str, int] = {}
        written: dict[str, list[Change]] = {}
        members_changed: set[str] = set()
        access = Access(self.store, actor.user_id, actor.role)
        device = self.store.session(actor.device_id)
        last_mid = device.last_mid if device else 0
        self._preload(mutations, last_mid)
        for mutation, stamp in zip(mutations, stamps, strict=True):
            if mutation.mid <= last_mid:
                earlier = self.store.rejection(actor.device_id, mutation.mid)
                if earlier:
                    rejections.append(Rejection(mutation.mid, *earlier))
                else:
                    acks.append(mutation.mid)
                continue
            try:
                changes = self._apply(
                    access, actor.user_id, actor.device_id, mutation.mid, mutation.collection,
                    mutation.id, mutation.fields, mutation.hlc, now_ms, heads, members_changed,
                )
            except Rejected as exc:
                self.store.save_rejection(actor.device_id, mutation.mid, exc.code, exc.reason)
                rejections.append(Rejection(mutation.mid, exc.code, exc.reason))
            else:
                acks.append(mutation.mid)
                for change in changes:
                    written.setdefault(change.scope, []).append(change)
            self.clock.observe_hlc(stamp, now_ms)
            last_mid = mutation.mid
        self.store.set_last_mid(actor.device_id, last_mid)
        return (acks, rejections), lambda: self._publish(heads, written, members_changed, actor.device_id)

    def _preload(self, mutations: list[Mutation], last_mid: int) -> None:
        """Read the records a push is about to change, one query per collection."""
        wanted: dict[str, list[str]] = {}
        for mutation in mutations:
            if mutation.mid > last_mid:
                wanted.setdefault(mutation.collection, []).append(mutation.id)
        for collection, record_ids in wanted.items():
            self.store.preload(collection, record_ids)

    def write_as_server(self, author: str, writes: list[tuple[str, str, dict[str, Value]]], now_ms: int) -> None:
        """Changes the server makes itself (a new account's profile, joining #general, ...).
        They go through the same log and merge as a device's, without the rights check."""
        heads: dict[str, int] = {}
        written: dict[str, list[Change]] = {}
        members_changed: set[str] = set()
        with self.store.transaction():
            for collection, record_id, fields in writes:
                for change in self._apply(
                    None, author, SERVER_DEVICE, 0, collection, record_id, fields,
                    self.clock.tick(now_ms), now_ms, heads, members_changed,
                ):
                    written.setdefault(change.scope, []).append(change)
            self.store.after_commit(lambda: self._publish(heads, written, members_changed, SERVER_DEVICE))

    def pull(
        self, user_id: str, cursors: Mapping[str, int], limit: int, skip: set[str] | frozenset[str] = frozenset()
    ) -> tuple[list[Change], dict[str, int], list[str], bool]:
        """Changes after the cursors, scope by scope; ``skip`` names scopes left for a later reply."""
        scopes = self.visible_scopes(user_id)
        changes: list[Change] = []
        new_cursors: dict[str, int] = {}
        remaining = limit
        more = False
        for scope in scopes:
            if scope in skip:
                continue
            after = max(0, cursors.get(scope, 0))
            if remaining == 0:
                new_cursors[scope] = after
                more = more or self.store.scope_head(scope) > after
                continue
            batch = self.store.changes_after(scope, after, remaining)
            changes.extend(batch)
            remaining -= len(batch)
            new_cursors[scope] = batch[-1].seq if batch else after
            if remaining == 0 and batch:
                more = more or self.store.scope_head(scope) > batch[-1].seq
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
            records += self.store.records_in_scope(scope, skip=("messages", "reactions"))
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
        heads: dict[str, int],
        members_changed: set[str],
    ) -> list[Change]:
        existing = self.store.get_record(collection, record_id)
        schema = COLLECTIONS[collection]
        if existing is None:
            missing = [name for name in REQUIRED[collection] if name not in fields]
            if missing:
                raise Rejected(
                    "not_found",
                    f"{collection}/{record_id} does not exist; creating it needs {', '.join(missing)}",
                )
            try:
                scope = scope_of(collection, record_id, fields)
            except ScopeError as exc:
                raise Rejected("not_found", str(exc)) from None
            self._check_derived_id(collection, record_id, fields)
        else:
            scope = existing.scope
            for name, value in fields.items():
                if schema[name].immutable and existing.state.fields.get(name, value) != value:
                    raise Rejected("immutable", f"{collection}.{name} cannot change after creation")
        if access is not None:
            access.check(collection, record_id, existing, fields)
        if collection == "channels" and "name" in fields:
            self._check_channel_name(record_id, fields, existing)
        applied = dict(fields)
        if existing is None:
            applied.update(self._server_fields(collection, author, applied, now_ms))
        elif collection == "messages":
            applied.update(message_rules.on_update(fields, author, now_ms))
        change, state = self._write(
            scope, collection, record_id, existing, applied, stamp, author, device, mid, now_ms, heads, members_changed
        )
        if access is not None and collection in ("channels", "members"):
            access.forget(record_id if collection == "channels" else str(state.fields["channel"]))
        if collection == "messages":
            stored = StoredRecord(scope, state)
            return [change, *self._message_follow_ups(
                record_id, stored, existing, applied, author, now_ms, heads, members_changed
            )]
        return [change]

    def _write(
        self, scope: str, collection: str, record_id: str, existing: StoredRecord | None, applied: dict[str, Value],
        stamp: str, author: str, device: str, mid: int, now_ms: int, heads: dict[str, int], members_changed: set[str],
    ) -> tuple[Change, merge.RecordState]:
        """Merge one change into the record, keep derived tables in step, and log it."""
        state = merge.apply(existing.state if existing else None, applied, stamp)
        self.store.put_record(collection, record_id, StoredRecord(scope, state))
        if collection == "members":
            person = str(state.fields["user"])
            self.store.set_membership(str(state.fields["channel"]), person, state.fields.get("left") is not True)
            members_changed.add(person)
        elif collection == "messages":
            self.store.index_message(record_id, state.fields)
        if scope not in heads:
            heads[scope] = self.store.scope_head(scope)
        seq = self.store.append_change(
            NewChange(scope, collection, record_id, stamp, author, device, mid, now_ms, applied)
        )
        return Change(seq, scope, collection, record_id, stamp, author, applied), state

    def _server_stamp(self, state: merge.RecordState, now_ms: int) -> str:
        """A clock later than every clock this record holds (and any the server has seen)."""
        if state.clocks:
            self.clock.observe(max(state.clocks.values()), now_ms)
        return self.clock.tick(now_ms)

    def _message_follow_ups(
        self, record_id: str, stored: StoredRecord, existing: StoredRecord | None, applied: dict[str, Value],
        author: str, now_ms: int, heads: dict[str, int], members_changed: set[str],
    ) -> list[Change]:
        """A reply updates its parent's counters; a delete wipes the text everywhere (deletes win).
        ``stored`` is the message as just written."""
        follow_ups: list[Change] = []
        thread, tn = stored.state.fields.get("thread"), applied.get("tn")
        if existing is None and isinstance(thread, str) and isinstance(tn, int):
            parent = self.store.get_record("messages", thread)
            assert parent is not None
            counters = message_rules.parent_after_reply(parent.state.fields, author, tn, now_ms)
            follow_ups.append(self._write(
                parent.scope, "messages", thread, parent, counters, self._server_stamp(parent.state, now_ms),
                author, SERVER_DEVICE, 0, now_ms, heads, members_changed,
            )[0])
        if applied.get("deleted") is True and stored.state.fields.get("text") is not None:
            wipe: dict[str, Value] = {"text": None}
            follow_ups.append(self._write(
                stored.scope, "messages", record_id, stored, wipe, self._server_stamp(stored.state, now_ms),
                author, SERVER_DEVICE, 0, now_ms, heads, members_changed,
            )[0])
            self.store.redact("messages", record_id, ["text"])
        return follow_ups

    def _server_fields(self, collection: str, author: str, fields: dict[str, Value], now_ms: int) -> dict[str, Value]:
        if collection == "messages":
            return message_rules.on_create(self.store, fields, author, now_ms)
        if collection == "channels":
            return {"created_by": author}
        return {}

    @staticmethod
    def _check_derived_id(collection: str, record_id: str, fields: Mapping[str, Value]) -> None:
        """Ids some collections derive from their fields, so concurrent creators meet in one record."""
        derive = DERIVED_IDS.get(collection)
        if derive is None:
            return
        expected = derive(fields)
        if record_id != expected:
            raise Rejected("invalid", f"{collection} ids are derived: expected {expected!r}")

    def _check_channel_name(self, record_id: str, fields: Mapping[str, Value], existing: StoredRecord | None) -> None:
        kind = fields.get("kind") or (existing.state.fields.get("kind") if existing else None)
        name = fields["name"]
        if kind not in ("public", "private") or not isinstance(name, str):
            return
        if not name.strip():
            raise Rejected("invalid", "a channel needs a name")
        if self.store.channel_name_taken(name, record_id):
            raise Rejected("conflict", f"a channel named {name!r} already exists")

    def _publish(
        self, heads: dict[str, int], written: dict[str, list[Change]], members_changed: set[str], origin: str
    ) -> None:
        changes = sorted((c for scope_changes in written.values() for c in scope_changes), key=lambda c: c.seq)
        if changes:
            self.feed.publish(Committed(changes, heads, sorted(members_changed), origin))
