"""The live hub: which connection hears which scope, presence, and fan-out of frames.

Committed changes reach it as a listener of the feed (backend/feed.py, Rule 3); in scale-out
mode a message bus carries the feed between server processes and each process keeps its own
hub. A commit's changes go to every connection subscribed to their scope except those of the
device that pushed them: its /api/sync reply carries them, and an echo would reach it after the
reply had moved its cursor past ``prev`` (a false gap, and another sync). The person's other
devices hear them like everyone else. Frames are encoded once per
format and the same bytes go to every listener. Each connection has a bounded queue drained by
its own writer task, so one slow phone never delays everyone else: when its queue is full it is
disconnected and catches up with /api/sync when it reconnects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Literal

import msgspec

from backend.feed import Committed, Feed
from sync_protocol.wire import Change, Changes, Live, Presence, json_encoder, msgpack_encoder

log = logging.getLogger("teamtalk.live")

Format = Literal["json", "msgpack"]
QUEUE_LIMIT = 1000


class Connection:
    def __init__(self, user_id: str, device_id: str, fmt: Format) -> None:
        self.user_id = user_id
        self.device_id = device_id
        self.format: Format = fmt
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_LIMIT)
        self.scopes: set[str] = set()
        self.away = False

    def offer(self, data: bytes) -> None:
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.close()

    def close(self) -> None:
        """Ask the writer to end the connection (it drops what is queued)."""
        while True:
            try:
                self.queue.get_nowait()
            except asyncio.QueueEmpty:
                break
        self.queue.put_nowait(None)


class Hub:
    def __init__(self) -> None:
        self._by_scope: dict[str, set[Connection]] = {}
        self._by_user: dict[str, set[Connection]] = {}
        self._scopes_of: Callable[[str], list[str]] = lambda user_id: []
        #: Told when a device comes, goes, hides or shows the app (the push sender holds back
        #: pushes to visible devices, in the followers process: backend/followers/).
        self.on_visibility: Callable[[], None] = lambda: None

    # --- membership of the hub ----------------------------------------------------------------

    def join(self, conn: Connection, scopes: list[str]) -> None:
        first = conn.user_id not in self._by_user
        self._by_user.setdefault(conn.user_id, set()).add(conn)
        self._subscribe(conn, set(scopes))
        self.on_visibility()
        if first:
            self.publish("ws", Presence(user=conn.user_id, status="online"), skip=conn)

    def leave(self, conn: Connection) -> None:
        self._subscribe(conn, set())
        self.on_visibility()
        mine = self._by_user.get(conn.user_id)
        if mine is not None:
            mine.discard(conn)
            if not mine:
                del self._by_user[conn.user_id]
                self.publish("ws", Presence(user=conn.user_id, status="offline"))

    def online(self) -> list[str]:
        return sorted(self._by_user)

    def away(self) -> list[str]:
        return sorted(user for user, conns in self._by_user.items() if all(c.away for c in conns))

    def set_away(self, conn: Connection, away: bool) -> None:
        """A device went idle or came back. A person is away only when every device of theirs is."""
        mine = self._by_user.get(conn.user_id, set())
        before = all(c.away for c in mine)
        if conn.away != away:
            conn.away = away
            self.on_visibility()
        after = all(c.away for c in mine)
        if before != after:
            self.publish("ws", Presence(user=conn.user_id, status="away" if after else "online"))

    def visible(self, device_id: str) -> bool:
        """Has this device the app open and showing (connected, not away)? Asked from the push
        sender's thread: it reads a copy, and a connection coming or going meanwhile only makes
        one push more or less."""
        for _ in range(3):
            try:
                return any(
                    c.device_id == device_id and not c.away
                    for conns in list(self._by_user.values())
                    for c in list(conns)
                )
            except RuntimeError:  # changed while we read it
                continue
        return False

    def visible_devices(self) -> list[str]:
        """The devices that have the app open and showing (read from another thread: a change
        meanwhile raises RuntimeError, and the caller reads again)."""
        return sorted({c.device_id for conns in list(self._by_user.values()) for c in list(conns) if not c.away})

    def connections(self) -> int:
        return sum(len(c) for c in self._by_user.values())

    def disconnect_device(self, device_id: str) -> None:
        for conns in self._by_user.values():
            for conn in conns:
                if conn.device_id == device_id:
                    conn.close()

    def _subscribe(self, conn: Connection, scopes: set[str]) -> None:
        for scope in conn.scopes - scopes:
            listeners = self._by_scope.get(scope)
            if listeners is not None:
                listeners.discard(conn)
                if not listeners:
                    del self._by_scope[scope]
        for scope in scopes - conn.scopes:
            self._by_scope.setdefault(scope, set()).add(conn)
        conn.scopes = scopes

    # --- following the feed of committed changes ---------------------------------------------

    def follow(self, feed: Feed, scopes_of: Callable[[str], list[str]]) -> Callable[[], None]:
        """Hear every commit from now on; ``scopes_of(user)`` names the scopes a person may see
        (re-asked when their memberships change). Returns the unsubscribe."""
        self._scopes_of = scopes_of
        return feed.listen(self.on_commit)

    def on_commit(self, unit: Committed) -> None:
        # Re-subscribe first: a person just added to a channel hears the change that added them.
        for person in unit.members:
            if person in self._by_user:
                self.resubscribe(person, self._scopes_of(person))
        by_scope: dict[str, list[Change]] = {}
        for change in unit.changes:
            by_scope.setdefault(change.scope, []).append(change)
        for scope, changes in by_scope.items():
            prev = unit.prev.get(scope)
            if prev is None:  # read back from the log (feed.py, Rule 5): devices see it at their next sync
                log.warning("no prev for %s after seq %d: not sent live", scope, changes[0].seq)
                continue
            self.publish(scope, Changes(scope=scope, prev=prev, changes=changes), skip_device=unit.origin)

    def resubscribe(self, user_id: str, scopes: list[str]) -> None:
        wanted = set(scopes)
        for conn in self._by_user.get(user_id, ()):
            self._subscribe(conn, wanted)

    def publish(self, scope: str, frame: Live, skip: Connection | None = None, skip_device: str | None = None) -> None:
        """Send ``frame`` to the connections subscribed to ``scope``, except ``skip`` and the
        connections of device ``skip_device``."""
        listeners = self._by_scope.get(scope)
        if not listeners:
            return
        encoded: dict[Format, bytes] = {}
        for conn in list(listeners):
            if conn is skip or conn.device_id == skip_device:
                continue
            data = encoded.get(conn.format)
            if data is None:
                data = encoded[conn.format] = encode_frame(frame, conn.format)
            conn.offer(data)


def encode_frame(frame: msgspec.Struct, fmt: Format) -> bytes:
    return msgpack_encoder.encode(frame) if fmt == "msgpack" else json_encoder.encode(frame)
