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
        follow-ups by name (hooks.py). One change is applied by change_apply.py; there is no
        per-collection branch in either module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from backend.access import Access, Rejected
from backend.change_apply import SERVER_DEVICE, ChangeApplier
from backend.feed import Committed, Feed, InProcessFeed
from backend.push_batch import PushBatch
from backend.settings import Settings
from backend.storage.base import Storage
from backend.storage.group_commit import GroupCommit
from backend.validation import validate_push
from sync_protocol.collections import REGISTRY, WORKSPACE, channel_scope, user_scope
from sync_protocol.hlc import Clock, Hlc
from sync_protocol.registry import Registry
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
        #: Collections a snapshot pages newest first rather than sending whole.
        self._paged = tuple(spec.name for spec in registry if spec.paged)
        #: Where each commit's changes are published (Rule 4); live fan-out and search follow it.
        self.feed: Feed = feed or InProcessFeed(store)
        # The server's own clock resumes past every clock in the log, so a server write after a
        # restart (a wipe, a counter) never loses to a change it accepted before (up to 60 s ahead).
        self.clock = Clock(SERVER_DEVICE, store.greatest_clock())
        #: Applies one change (Rule 5): change_apply.py.
        self.changes = ChangeApplier(store, registry, self.clock)
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
        apply, observe, ack = self.changes.apply, self.clock.observe_hlc, acks.append
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
                stamp = self.changes.server_stamp(existing.state, now_ms) if existing else self.clock.tick(now_ms)
                self.changes.apply(None, author, SERVER_DEVICE, 0, collection, record_id, fields, stamp, now_ms, batch)
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

    def _publish(self, batch: PushBatch) -> None:
        unit = batch.committed()
        if unit is not None:
            self.feed.publish(unit)


def _by_scope(unit: Committed) -> dict[str, list[Change]]:
    """A committed unit's changes by scope, each list in ``seq`` order (as the unit is)."""
    found: dict[str, list[Change]] = {}
    for change in unit.changes:
        found.setdefault(change.scope, []).append(change)
    return found
