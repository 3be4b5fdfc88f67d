"""GET /api/live: the live WebSocket (new changes, typing, presence).

It is let in like any other request, by its Origin and session (sockets.py).
"""

from __future__ import annotations

import asyncio
import contextlib

from litestar import WebSocket, websocket
from litestar.datastructures import State
from litestar.exceptions import WebSocketDisconnect

from backend.access import may_signal
from backend.http.body import decode_frame
from backend.http.context import Services, now_ms, services
from backend.http.sockets import CLOSE_SIGNED_OUT, admit
from backend.live import Connection, Format, encode_frame
from sync_protocol.wire import Hello, Ping, Pong, Presence, Typing


@websocket("/api/live")
async def live(socket: WebSocket[object, object, State]) -> None:
    found = services(socket.app.state)
    current = await admit(socket, found, "this origin may not open the live channel")
    if current is None:
        return
    fmt: Format = "msgpack" if socket.query_params.get("format") == "msgpack" else "json"
    conn = Connection(current.user_id, current.device_id, fmt)
    online = sorted({*found.hub.online(), current.user_id})
    hello = Hello(server_time=now_ms(), user=current.user_id, online=online, away=found.hub.away())
    conn.offer(encode_frame(hello, fmt))
    found.hub.join(conn, found.sync.visible_scopes(current.user_id))
    writer = asyncio.create_task(_write(socket, conn))
    try:
        await _read(socket, conn, found)
    finally:
        found.hub.leave(conn)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer


async def _write(socket: WebSocket[object, object, State], conn: Connection) -> None:
    binary = conn.format == "msgpack"
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        while (data := await conn.queue.get()) is not None:
            if binary:
                await socket.send_bytes(data)
            else:
                await socket.send_text(data.decode())
        await socket.close(code=CLOSE_SIGNED_OUT, reason="signed out")


async def _read(socket: WebSocket[object, object, State], conn: Connection, found: Services) -> None:
    while True:
        message = await socket.receive()
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("bytes") or message.get("text") or b""
        raw = data.encode() if isinstance(data, str) else data if isinstance(data, bytes) else b""
        frame = decode_frame(raw, conn.format == "msgpack")
        if isinstance(frame, Typing):
            if may_signal(frame.scope, conn.scopes):
                found.hub.publish(frame.scope, Typing(scope=frame.scope, user=conn.user_id), skip=conn)
        elif isinstance(frame, Presence) and frame.status in ("away", "online"):
            found.hub.set_away(conn, frame.status == "away")
        elif isinstance(frame, Ping):
            conn.offer(encode_frame(Pong(server_time=now_ms()), conn.format))
