"""A device's replica, sans-I/O: confirmed state from the server plus pending changes on top.

What a device shows is the confirmed state (what the server accepted, merged by merge.apply)
with the device's pending mutations applied over it. An ack moves a mutation out of pending
(its effect arrives as a confirmed change); a rejection drops it and remembers why. No rollback
code exists because nothing optimistic is ever written into the confirmed state.

The JS replica (frontend/src/sync/) follows the same rules; the Python one serves the CLI
client, bots, the benchmarks and the property tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from sync_protocol import merge
from sync_protocol.collections import ScopeError, read_id, scope_of
from sync_protocol.hlc import Clock
from sync_protocol.wire import PROTOCOL_VERSION, Change, Mutation, Rejection, SyncRequest, SyncResponse, Value

Key = tuple[str, str]


class Replica:
    def __init__(self, device: str, user: str) -> None:
        self.device = device
        self.user = user
        self.clock = Clock(device)
        self.offset_ms = 0
        #: The greatest clock the server has confirmed (a change received or a mutation acked).
        self.confirmed_hlc: str | None = None
        self.records: dict[Key, merge.RecordState] = {}
        self.scope_of: dict[Key, str] = {}
        self.cursors: dict[str, int] = {}
        self.pending: list[Mutation] = []
        self.failed: dict[int, tuple[Mutation, Rejection]] = {}
        self.next_mid = 1

    # --- writing -----------------------------------------------------------------------------

    def write(self, collection: str, record_id: str, fields: dict[str, Value], wall_ms: int) -> Mutation:
        """Record a local change: it shows at once and waits in pending until the server acks it."""
        mutation = Mutation(
            mid=self.next_mid,
            collection=collection,
            id=record_id,
            fields=fields,
            hlc=self.clock.tick(wall_ms + self.offset_ms),
        )
        self.next_mid += 1
        self.pending.append(mutation)
        return mutation

    def sync_request(self, limit: int = 1000, max_changes: int = 500, recent: int = 0) -> SyncRequest:
        return SyncRequest(
            v=PROTOCOL_VERSION,
            changes=self.pending[:max_changes],
            cursors=dict(self.cursors),
            limit=limit,
            recent=recent,
        )

    def retry(self, mid: int, wall_ms: int) -> Mutation | None:
        """Write a refused mutation again as a new one (new counter, new clock); None if unknown."""
        refused = self.failed.pop(mid, None)
        if refused is None:
            return None
        mutation = refused[0]
        return self.write(mutation.collection, mutation.id, dict(mutation.fields), wall_ms)

    def discard(self, mid: int) -> None:
        """Give up a refused mutation: it leaves the replica for good."""
        self.failed.pop(mid, None)

    def failed_messages(self, channel_id: str) -> list[tuple[Mutation, Rejection]]:
        """Messages of a channel the server refused, oldest first, each with the reason (invariant 5:
        a failed one says why and can be retried or discarded)."""
        return [
            (m, r)
            for mid, (m, r) in sorted(self.failed.items())
            if m.collection == "messages" and m.fields.get("channel") == channel_id
        ]

    def restamp(self, wall_ms: int) -> None:
        """After ``clock_ahead`` (and setting ``offset_ms`` from its ``server_time``): stamp every
        pending mutation again from corrected time, keeping their order.

        The clock restarts from the greatest clock the server confirmed, not from its own last
        stamp: that stamp ran ahead and was refused, and ticking on from it would run ahead again.
        Restamped mutations still order after everything this device has seen confirmed.
        """
        self.clock = Clock(self.device, self.confirmed_hlc)
        self.pending = [msgspec.structs.replace(m, hlc=self.clock.tick(wall_ms + self.offset_ms)) for m in self.pending]

    def _confirm_clock(self, hlc: str) -> None:
        if self.confirmed_hlc is None or hlc > self.confirmed_hlc:
            self.confirmed_hlc = hlc

    # --- receiving ---------------------------------------------------------------------------

    def apply_response(self, response: SyncResponse, wall_ms: int, sent: Mapping[str, int] | None = None) -> None:
        """Apply a reply. ``sent`` is the cursors its request carried: a scope's part of a late reply
        is applied only while this device still holds that scope at least as far as the request
        said (``holds_since``); otherwise it could fill a scope dropped since, or cover a hole."""
        if sent is not None:
            response = self._still_held(response, sent)
        self.offset_ms = response.server_time - wall_ms
        acked = set(response.acks)
        rejected = {r.mid: r for r in response.rejections}
        still: list[Mutation] = []
        for mutation in self.pending:
            if mutation.mid in rejected:
                self.failed[mutation.mid] = (mutation, rejected[mutation.mid])
            elif mutation.mid in acked:
                self._confirm_clock(mutation.hlc)
            else:
                still.append(mutation)
        self.pending = still
        self.apply_changes(response.changes, wall_ms)
        for snapshot in response.records:
            key = (snapshot.collection, snapshot.id)
            self.records[key] = merge.apply_snapshot(self.records.get(key), snapshot.fields, snapshot.clocks)
            self.scope_of[key] = snapshot.scope
        for scope, seq in response.cursors.items():
            self.cursors[scope] = max(seq, self.cursors.get(scope, 0))
        if response.scopes:
            self.drop_scopes_except(set(response.scopes))

    def _still_held(self, response: SyncResponse, sent: Mapping[str, int]) -> SyncResponse:
        named = {*response.cursors, *(c.scope for c in response.changes), *(r.scope for r in response.records)}
        keep = {scope for scope in named if holds_since(self.cursors, sent, scope)}
        return msgspec.structs.replace(
            response,
            changes=[c for c in response.changes if c.scope in keep],
            records=[r for r in response.records if r.scope in keep],
            cursors={s: seq for s, seq in response.cursors.items() if s in keep},
        )

    def apply_live(self, scope: str, prev: int, changes: list[Change], wall_ms: int) -> bool:
        """A live frame applies only if it continues this device's cursor; otherwise pull (a gap)."""
        if self.cursors.get(scope, 0) != prev:
            return False
        self.apply_changes(changes, wall_ms)
        self.cursors[scope] = max([prev, *(c.seq for c in changes)])
        return True

    def apply_changes(self, changes: Iterable[Change], wall_ms: int) -> None:
        for change in changes:
            key = (change.collection, change.id)
            self.records[key] = merge.apply(self.records.get(key), change.fields, change.hlc)
            self.scope_of[key] = change.scope
            self.clock.observe(change.hlc, wall_ms + self.offset_ms)
            self._confirm_clock(change.hlc)

    def drop_scopes_except(self, visible: set[str]) -> None:
        """Access lost: forget every record of a scope the user may no longer see."""
        for key in [k for k, scope in self.scope_of.items() if scope not in visible]:
            del self.records[key]
            del self.scope_of[key]
        for scope in [s for s in self.cursors if s not in visible]:
            del self.cursors[scope]

    # --- reading (confirmed + pending) -------------------------------------------------------

    def record(self, collection: str, record_id: str) -> dict[str, Value] | None:
        state = self.records.get((collection, record_id))
        for mutation in self.pending:
            if (mutation.collection, mutation.id) == (collection, record_id):
                state = merge.apply(state, mutation.fields, mutation.hlc)
        return dict(state.fields) if state else None

    def collection(self, collection: str) -> dict[str, dict[str, Value]]:
        ids = {rid for (col, rid) in self.records if col == collection}
        ids |= {m.id for m in self.pending if m.collection == collection}
        return {rid: fields for rid in ids if (fields := self.record(collection, rid)) is not None}

    def messages(self, channel_id: str) -> list[tuple[str, dict[str, Value], bool]]:
        """A channel's messages in display order: sent ones by ``n``, then pending ones in the
        order they were written. Each item is ``(id, fields, pending)``."""
        sent: list[tuple[int, str, dict[str, Value]]] = []
        unsent: list[tuple[str, dict[str, Value]]] = []
        written: dict[str, int] = {}  # message id -> position of its first pending write
        for mutation in self.pending:
            if mutation.collection == "messages":
                written.setdefault(mutation.id, len(written))
        for rid, fields in self.collection("messages").items():
            if fields.get("channel") != channel_id:
                continue
            n = fields.get("n")
            if isinstance(n, int):
                sent.append((n, rid, fields))
            else:
                unsent.append((rid, fields))
        unsent.sort(key=lambda item: written.get(item[0], len(written)))
        return [(rid, f, False) for _, rid, f in sorted(sent, key=lambda s: s[0])] + [
            (rid, f, True) for rid, f in unsent
        ]

    def unread(self, channel_id: str) -> int:
        """Derived from the messages held and my read cursor (``unread_count``). Never stored."""
        held = [
            (n, author if isinstance(author := fields.get("author"), str) else None)
            for fields in self.collection("messages").values()
            if fields.get("channel") == channel_id and isinstance(n := fields.get("n"), int)
        ]
        read = self.record("reads", read_id(self.user, channel_id)) or {}
        cursor = read.get("n")
        return unread_count(held, cursor if isinstance(cursor, int) else 0, self.user)

    def scope_for_pending(self, mutation: Mutation) -> str | None:
        fields = self.record(mutation.collection, mutation.id) or {}
        try:
            return scope_of(mutation.collection, mutation.id, fields)
        except ScopeError:
            return None


def holds_since(held: Mapping[str, int], sent: Mapping[str, int], scope: str) -> bool:
    """May a reply's part for ``scope`` be applied? Yes when its request pulled the scope from the
    start, or when this device still holds the scope at least as far as the request's cursor.
    Vectors: vectors/replica.json."""
    return scope not in sent or (scope in held and held[scope] >= sent[scope])


def unread_count(held: Iterable[tuple[int, str | None]], read: int, me: str) -> int:
    """A channel's unread count: the numbers past my read cursor up to the last one held, less my
    own messages among them (what I wrote, on any device, is never news to me). A number the
    device does not hold yet counts, since its author is unknown. Vectors: vectors/unread.json."""
    past = [(n, author) for n, author in held if n > read]
    if not past:
        return 0
    last = max(n for n, _ in past)
    return last - read - sum(1 for _, author in past if author == me)


__all__ = ["Replica", "holds_since", "unread_count"]
