"""The meeting hub: who is in each channel's call, and the relay of signaling between them.

Rules (PROTOCOL.md, "Meetings"):

Rule 1. A meeting socket belongs to one channel; the shell lets it in only when
        ``access.may_join_meeting`` says so, and the hub drops it when a membership change
        makes that false (``on_commit``). A non-member never hears a frame of the meeting.
Rule 2. Every frame is checked at the edge, in this order: size (MAX_FRAME_BYTES), rate (a
        token bucket), shape (msgspec), then meaning (the sender is in the meeting, the target
        ``to`` is in the same meeting). A refused frame gets ``error`` back to its sender and is
        not relayed; nobody else's socket is touched. A connection that keeps flooding is closed.
Rule 3. Signaling (offers, answers, candidates, state) is relayed to one connection and never
        stored. What is stored is the meeting record and one attendance record per participant
        connection, written by the server (``write``: SyncService.write_as_server), so they reach
        members like any change, through the feed.
Rule 4. A participant leaves by ``leave``, by losing the right (Rule 1), by silence (the shell
        drops one that sent nothing for ``drop_ms``: the heartbeat) or by a socket that closed and
        was not resumed within ``drop_ms`` (a network change: the device reconnects with
        ``?resume=<its id>`` and keeps its seat and id, so the others see a freeze). Each way
        tells the others ``peer_left``
        and close the attendance span; the last one out ends the meeting (ended_at, duration).
Rule 5. Time arrives as ``now_ms``; the hub makes no I/O except ``write`` and the connections'
        queues, so it can be driven by a test without a socket.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from backend import tokens
from backend.feed import Committed
from backend.meetings.connection import MeetingConn
from sync_protocol.collections_meetings import attendance_id
from sync_protocol.signaling import (
    MAX_FRAME_BYTES,
    MAX_PARTICIPANTS,
    Answer,
    Candidate,
    Ended,
    Error,
    Heartbeat,
    IceServer,
    Join,
    Joined,
    Leave,
    Offer,
    Peer,
    PeerJoined,
    PeerLeft,
    PeerState,
    Room,
    Signal,
    State,
    client_decoder,
)
from sync_protocol.wire import Value

Writes = list[tuple[str, str, dict[str, Value]]]
Write = Callable[[str, Writes, int], None]
#: Refused frames a connection may send before the hub closes it (a buggy or hostile client).
MAX_STRIKES = 100


@dataclass
class Meeting:
    id: str
    channel: str
    started_at: int
    #: Participants by connection id, in order of joining.
    people: dict[str, MeetingConn] = field(default_factory=dict)
    joined_at: dict[str, int] = field(default_factory=dict)


class MeetingHub:
    def __init__(
        self,
        write: Write,
        ice: Callable[[str, int], list[IceServer]],
        may_join: Callable[[str, str], bool],
        drop_ms: int,
        clock: Callable[[], int],
    ) -> None:
        self._write = write
        self._ice = ice
        self._may_join = may_join
        self.drop_ms = drop_ms
        self._clock = clock  # only for leaves no frame caused (a membership change)
        self._meetings: dict[str, Meeting] = {}
        #: Every open socket by channel, in the meeting or only watching (the preview screen).
        self._sockets: dict[str, set[MeetingConn]] = {}
        # Tests drive one app from several threads' event loops; the server uses one.
        self._lock = threading.RLock()

    # --- sockets coming and going ---------------------------------------------------------------

    def connect(self, conn: MeetingConn, resume: str | None = None, now_ms: int = 0) -> None:
        """A new socket: ``room`` for it, or, when it resumes the seat of another socket of the
        same device (``resume``: that connection's id; the old socket dropped moments ago or is
        dying after a network change), ``joined`` again with the same id, so the others keep
        their connections to it (Rule 4). An old socket still open is closed (4409)."""
        with self._lock:
            self._sockets.setdefault(conn.channel, set()).add(conn)
            meeting = self._meetings.get(conn.channel)
            old = meeting.people.get(resume) if meeting and resume else None
            if meeting and old and (old.user, old.device) == (conn.user, conn.device):
                return self._resume(meeting, old, conn, now_ms)
            peers = [p.peer for p in meeting.people.values()] if meeting else []
            conn.send(Room(me=conn.id, meeting=meeting.id if meeting else None, peers=peers))

    def _resume(self, meeting: Meeting, old: MeetingConn, conn: MeetingConn, now_ms: int) -> None:
        conn.id, conn.peer, conn.spans = old.id, old.peer, old.spans
        meeting.people[conn.id] = conn  # the old one's leave or expire now finds the seat taken
        old.detached = False
        for item in old.drain():  # what the others sent meanwhile (an ICE-restart offer) is not lost
            if isinstance(item, bytes):
                conn.send_raw(item)
        if not old.closing:
            old.close(4409, "this seat resumed on a newer socket")
        others = [p.peer for p in meeting.people.values() if p is not conn]
        conn.send(
            Joined(
                me=conn.id,
                meeting=meeting.id,
                peers=others,
                ice_servers=self._ice(conn.user, now_ms),
                heartbeat_ms=max(500, self.drop_ms // 3),
                resumed=True,
            )
        )

    def disconnect(self, conn: MeetingConn, now_ms: int) -> bool:
        """The socket closed. A participant that did not say ``leave`` keeps its seat for
        ``drop_ms`` (a network change: the device reconnects and resumes): returns True, and the
        shell calls ``expire`` once ``drop_ms`` has passed."""
        with self._lock:
            watchers = self._sockets.get(conn.channel)
            if watchers is not None:
                watchers.discard(conn)
                if not watchers:
                    del self._sockets[conn.channel]
            meeting = self._meetings.get(conn.channel)
            if meeting is not None and meeting.people.get(conn.id) is conn and not conn.closing:
                conn.detached = True
                return True
            self._leave(conn, now_ms, "closed")
            return False

    def expire(self, conn: MeetingConn) -> None:
        """``drop_ms`` after a detach: out, unless a new socket resumed the seat meanwhile."""
        with self._lock:
            meeting = self._meetings.get(conn.channel)
            if conn.detached and meeting is not None and meeting.people.get(conn.id) is conn:
                self._leave(conn, self._clock(), "closed")

    def silent(self, conn: MeetingConn, now_ms: int) -> None:
        """The shell heard nothing from ``conn`` for ``drop_ms`` (Rule 4)."""
        with self._lock:
            self._leave(conn, now_ms, "dropped")

    def on_commit(self, unit: Committed) -> None:
        """A membership changed: sockets of people no longer allowed in are closed (Rule 1)."""
        if not unit.members:
            return
        with self._lock:
            for conns in list(self._sockets.values()):
                for conn in list(conns):
                    if conn.user in unit.members and not self._may_join(conn.user, conn.channel):
                        self._leave(conn, self._clock(), "removed")
                        conn.close(4403, "you are no longer a member of this channel")

    # --- frames from a connection ---------------------------------------------------------------

    def receive(self, conn: MeetingConn, raw: bytes, now_ms: int) -> None:
        """One frame from ``conn``, checked as Rule 2 says."""
        if len(raw) > MAX_FRAME_BYTES:
            return self._refuse(conn, "too_large", f"a meeting frame is at most {MAX_FRAME_BYTES} bytes")
        if not conn.bucket.take(now_ms):
            return self._refuse(conn, "rate_limited", "too many frames: slow down")
        try:
            frame: Signal = client_decoder.decode(raw)
        except (msgspec.DecodeError, RecursionError, ValueError, OverflowError) as exc:
            return self._refuse(conn, "bad_frame", str(exc)[:200])
        with self._lock:
            self._handle(conn, frame, now_ms)

    def _handle(self, conn: MeetingConn, frame: Signal, now_ms: int) -> None:
        meeting = self._meetings.get(conn.channel)
        joined = meeting is not None and conn.id in meeting.people
        if isinstance(frame, Heartbeat):
            return
        if isinstance(frame, Join):
            return self._join(conn, frame, now_ms)
        if not joined or meeting is None:
            return self._refuse(conn, "not_in_meeting", "join the meeting first")
        if isinstance(frame, Leave):
            self._leave(conn, now_ms, "left")
        elif isinstance(frame, State):
            conn.peer = msgspec.structs.replace(
                conn.peer, muted=frame.muted, camera=frame.camera, screen=frame.screen, hand=frame.hand
            )
            self._tell(meeting, PeerState(peer=conn.peer), skip=conn)
        elif isinstance(frame, Offer | Answer | Candidate):
            target = meeting.people.get(frame.to)
            if target is None or target is conn:
                return self._refuse(conn, "no_such_peer", f"{frame.to} is not in this meeting")
            target.send(msgspec.structs.replace(frame, from_=conn.id))

    def _join(self, conn: MeetingConn, frame: Join, now_ms: int) -> None:
        meeting = self._meetings.get(conn.channel)
        if meeting is not None and conn.id in meeting.people:
            return self._refuse(conn, "already_joined", "this connection is already in the meeting")
        if meeting is not None and len(meeting.people) >= MAX_PARTICIPANTS:
            return self._refuse(conn, "full", f"a meeting holds at most {MAX_PARTICIPANTS} people")
        if conn.spans:
            # A rejoin on the same socket (after ``leave`` or a drop) is a new span: a new
            # connection id, so its attendance record is new and the old span keeps its left_at.
            conn.id = new_conn_id()
            conn.peer = msgspec.structs.replace(conn.peer, id=conn.id)
        conn.spans += 1
        writes: Writes = []
        if meeting is None:
            meeting = Meeting(tokens.ulid(now_ms), conn.channel, now_ms)
            self._meetings[conn.channel] = meeting
            writes.append(
                ("meetings", meeting.id, {"channel": conn.channel, "started_by": conn.user, "started_at": now_ms})
            )
        writes.append(
            (
                "meeting_attendance",
                attendance_id(meeting.id, conn.id),
                {"meeting": meeting.id, "channel": conn.channel, "user": conn.user, "joined_at": now_ms},
            )
        )
        self._write(conn.user, writes, now_ms)
        conn.peer = msgspec.structs.replace(conn.peer, muted=frame.muted, camera=frame.camera, screen=False, hand=False)
        others = [p.peer for p in meeting.people.values()]
        meeting.people[conn.id] = conn
        meeting.joined_at[conn.id] = now_ms
        conn.send(
            Joined(
                me=conn.id,
                meeting=meeting.id,
                peers=others,
                ice_servers=self._ice(conn.user, now_ms),
                heartbeat_ms=max(500, self.drop_ms // 3),
            )
        )
        for watcher in self._sockets.get(conn.channel, ()):
            if watcher is not conn:
                watcher.send(PeerJoined(peer=conn.peer))

    def _leave(self, conn: MeetingConn, now_ms: int, reason: str) -> None:
        meeting = self._meetings.get(conn.channel)
        if meeting is None or meeting.people.get(conn.id) is not conn:
            return  # not in, or its seat was resumed by a newer socket
        del meeting.people[conn.id]
        meeting.joined_at.pop(conn.id, None)
        writes: Writes = [
            ("meeting_attendance", attendance_id(meeting.id, conn.id), {"left_at": now_ms, "reason": reason})
        ]
        if not meeting.people:
            del self._meetings[conn.channel]
            writes.append(
                ("meetings", meeting.id, {"ended_at": now_ms, "duration_ms": max(0, now_ms - meeting.started_at)})
            )
        self._write(conn.user, writes, now_ms)
        for watcher in self._sockets.get(conn.channel, ()):
            if watcher is not conn:
                watcher.send(PeerLeft(id=conn.id, reason=reason))
                if not meeting.people:
                    watcher.send(Ended(meeting=meeting.id))

    # --- helpers --------------------------------------------------------------------------------

    def _tell(self, meeting: Meeting, frame: Signal, skip: MeetingConn | None = None) -> None:
        for conn in meeting.people.values():
            if conn is not skip:
                conn.send(frame)

    def _refuse(self, conn: MeetingConn, code: str, detail: str) -> None:
        conn.send(Error(code=code, detail=detail))
        conn.strikes += 1
        if conn.strikes > MAX_STRIKES:
            conn.close(4429, "too many refused frames")

    def in_meeting(self, channel: str) -> list[Peer]:
        with self._lock:
            meeting = self._meetings.get(channel)
            return [p.peer for p in meeting.people.values()] if meeting else []


def new_conn_id() -> str:
    return tokens.device_id()
