"""One meeting socket as the hub sees it: who it is, its outgoing queue, its rate bucket.

Frames for a connection are queued and written by its own writer task (backend/http/meetings.py),
so a slow participant never delays the relay to the others; a full queue closes that one
connection. ``send`` may be called from another thread's event loop (tests drive one app from
several), so it hands the frame to the connection's own loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from sync_protocol.signaling import RATE_BURST, RATE_PER_S, Peer, Signal, encoder

QUEUE_LIMIT = 500


@dataclass
class Bucket:
    """A token bucket: ``rate`` frames a second, ``burst`` at once."""

    rate: float = RATE_PER_S
    burst: float = RATE_BURST
    tokens: float = RATE_BURST
    at_ms: int = 0

    def take(self, now_ms: int) -> bool:
        if self.at_ms:
            self.tokens = min(self.burst, self.tokens + (now_ms - self.at_ms) * self.rate / 1000)
        self.at_ms = now_ms
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


#: What the writer task takes from the queue: encoded bytes, or a close code and reason.
Outgoing = bytes | tuple[int, str]


@dataclass(eq=False)
class MeetingConn:
    id: str
    user: str
    device: str
    channel: str
    peer: Peer
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Outgoing] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    bucket: Bucket = field(default_factory=Bucket)
    strikes: int = 0
    #: How many times this socket has joined: a rejoin takes a new id (a new attendance span).
    spans: int = 0
    closing: bool = False
    #: The socket closed without ``leave``: the seat waits ``drop_ms`` for a resume.
    detached: bool = False

    def send(self, frame: Signal) -> None:
        self._put(encoder.encode(frame))

    def send_raw(self, data: bytes) -> None:
        self._put(data)

    def drain(self) -> list[Outgoing]:
        """Take what is queued (a detached connection's frames, handed to the one resuming it)."""
        items: list[Outgoing] = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items

    def close(self, code: int, reason: str) -> None:
        self._put((code, reason))

    def _put(self, item: Outgoing) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self._put_here(item)
        else:
            with contextlib.suppress(RuntimeError):  # that loop has closed: the socket is gone
                self.loop.call_soon_threadsafe(self._put_here, item)

    def _put_here(self, item: Outgoing) -> None:
        if self.closing:
            return
        if isinstance(item, tuple):
            self.closing = True
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.closing = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait((4408, "too slow: frames piled up"))
