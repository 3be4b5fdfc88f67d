"""GET /api/meet/{channel}: a meeting's signaling socket (sync_protocol/signaling.py).

The meeting tab opens this socket itself, apart from the leader tab's live socket, so any tab,
a second window or a bot can be in a call. It is let in like the live socket (Origin, session: sockets.py)
and only for members of the channel (access.may_join_meeting); a refusal is a close with 4403
and a reason. Frames are checked and relayed by the hub (backend/meetings/hub.py); this shell
only moves bytes and notices silence (the heartbeat, hub Rule 4).
"""

from __future__ import annotations

import asyncio
import contextlib

from litestar import WebSocket, websocket
from litestar.datastructures import State
from litestar.exceptions import WebSocketDisconnect

from backend.access import may_join_meeting
from backend.http.context import now_ms, services
from backend.http.sockets import CLOSE_FORBIDDEN, admit
from backend.meetings.connection import MeetingConn
from backend.meetings.hub import MeetingHub, new_conn_id
from sync_protocol.signaling import Peer

#: How long a socket the hub closed may take to send its last frames and the close.
WRITER_GRACE_S = 2.0


@websocket("/api/meet/{channel:str}")
async def meet(socket: WebSocket[object, object, State]) -> None:
    found = services(socket.app.state)
    channel = str(socket.path_params["channel"])
    current = await admit(socket, found, "this origin may not open a meeting")
    if current is None:
        return
    if not may_join_meeting(found.store, current.user_id, channel):
        await socket.close(code=CLOSE_FORBIDDEN, reason="only members of this channel may join its meeting")
        return
    account = found.store.account(current.user_id)
    conn_id = new_conn_id()
    peer = Peer(id=conn_id, user=current.user_id, name=account.name if account else "")
    conn = MeetingConn(conn_id, current.user_id, current.device_id, channel, peer, asyncio.get_running_loop())
    hub = found.meetings
    hub.connect(conn, socket.query_params.get("resume"), now_ms())
    writer = asyncio.create_task(_write(socket, conn))
    try:
        await _read(socket, conn, hub)
    finally:
        detached = hub.disconnect(conn, now_ms())
        await _stop(writer, conn)
    if detached:  # the seat waits for a resume (hub Rule 4); this task is all that remembers it
        await asyncio.sleep(hub.drop_ms / 1000)
        hub.expire(conn)


async def _write(socket: WebSocket[object, object, State], conn: MeetingConn) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        while True:
            item = await conn.queue.get()
            if isinstance(item, tuple):
                await socket.close(code=item[0], reason=item[1])
                return
            await socket.send_text(item.decode())


async def _stop(writer: asyncio.Task[None], conn: MeetingConn) -> None:
    """When the hub closed this connection (a flood, a full queue), a close code is queued
    behind the last errors: the writer sends them and the close before it stops, or the client
    would see its socket reset with no reason. Otherwise the socket is gone: stop at once."""
    if conn.closing:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(writer), WRITER_GRACE_S)
    writer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await writer


async def _read(socket: WebSocket[object, object, State], conn: MeetingConn, hub: MeetingHub) -> None:
    timeout = hub.drop_ms / 1000
    while not conn.closing:
        try:
            message = await asyncio.wait_for(socket.receive(), timeout)
        except TimeoutError:
            hub.silent(conn, now_ms())  # no heartbeat: out of the meeting, the socket may stay
            continue
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("text") or message.get("bytes") or b""
        raw = data.encode() if isinstance(data, str) else data if isinstance(data, bytes) else b""
        hub.receive(conn, raw, now_ms())
