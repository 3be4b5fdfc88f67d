"""GET /api/live: the live WebSocket (new changes, typing, presence).

It checks the session and the Origin like any other request: a browser on another site
cannot ride the user's cookie into this socket. Clients without an Origin header (bots, the
Python client) are not browsers and cannot be tricked that way, so they are let in.
"""

from __future__ import annotations

import asyncio
import contextlib

from litestar import WebSocket, websocket
from litestar.datastructures import State
from litestar.exceptions import WebSocketDisconnect

from backend.access import may_signal, origin_allowed
from backend.errors import ApiError
from backend.http.body import decode_frame
from backend.http.context import SESSION_COOKIE, Services, now_ms, services
from backend.live import Connection, Format, encode_frame
from sync_protocol.wire import Hello, Ping, Pong, Presence, Typing

CLOSE_SIGNED_OUT = 4401
CLOSE_FOREIGN_ORIGIN = 4403


@websocket("/api/live")
async def live(socket: WebSocket[object, object, State]) -> None:
    found = services(socket.app.state)
    await socket.accept()
    if not origin_allowed(socket.headers.get("origin"), socket.headers.get("host", ""), found.settings.extra_origins):
        await socket.close(code=CLOSE_FOREIGN_ORIGIN, reason="this origin may not open the live channel")
        return
    try:
        current = found.accounts.authenticate(socket.cookies.get(SESSION_COOKIE), now_ms())
    except ApiError as exc:
        await socket.close(code=CLOSE_SIGNED_OUT, reason=exc.body.detail)
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
