"""GET /api/sync/socket: POST /api/sync's round trip over a WebSocket, for the send worker.

Why: in Chromium a fetch to this server costs ~4.5 ms from the page's call to the answer on the
2-core reference box, against ~0.9 ms for a frame and its answer on an open WebSocket (same page,
alternating, medians: the request's trip through the network service's URL loader, the socket
pool and back is most of it). A message sent from the send worker waits for that on its way to
the other person, so the worker keeps one of these sockets open and sends its request over it.

Rules:

Rule 1. Same request, same answer. A frame holds what the POST's body holds (a SyncRequest:
        MessagePack in a binary frame, JSON in a text frame); its answer is one frame in the same
        format, ``{"status": 200, "body": SyncResponse}`` or ``{"status": 4xx/5xx, "body":
        ErrorBody}`` with the status and error the POST would have had.
Rule 2. One at a time, in order: each frame is answered before the next is read, so answers come
        in the order of the requests, and a client may send its next request before the answer
        to the last one (pipelining: a backlog goes without a round trip's wait between batches).
        An error answer is the socket's last: it is closed (4400; 4401 after 401) and no frame
        behind it is read. A pipelined request behind a refused one carries higher mids, and
        applied before the refused one is sent again it would make those mids stale (refused as
        ``stale_mid``): closing keeps that from happening, and the client sends both again.
Rule 3. Let in like the live socket (sockets.py: Origin, then the session), and the session is
        checked again for every request, as every POST is: a device signed out meanwhile gets
        401 ``signed_out``. A frame too large for the POST (``max_body_bytes``) gets 413.
Rule 4. A socket carries the cookie of its handshake for its whole life, while a POST carries the
        current one: a client names the device it sends for (``?device=``), and a socket opened
        with another device's session is closed (4401), so a request is never taken as someone
        else's after the page signed in again as another person.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import WebSocket, websocket
from litestar.datastructures import State
from litestar.exceptions import WebSocketDisconnect

from backend.errors import ApiError
from backend.http.context import SESSION_COOKIE, Services, now_ms, services
from backend.http.sockets import CLOSE_SIGNED_OUT, admit
from backend.http.sync import decode_sync_request
from sync_protocol.wire import JSON, MSGPACK, ErrorBody, encode

log = logging.getLogger("teamtalk.sync")

#: Close code after an error answer (Rule 2): the frames sent behind the refused one were not read.
CLOSE_REFUSED = 4400


@websocket("/api/sync/socket")
async def sync_socket(socket: WebSocket[object, object, State]) -> None:
    found = services(socket.app.state)
    current = await admit(socket, found, "this origin may not open the sync socket")
    if current is None:
        return
    if socket.query_params.get("device", current.device_id) != current.device_id:
        # Rule 4: the page signed in as someone else since it opened a socket with the old cookie.
        await socket.close(code=CLOSE_SIGNED_OUT, reason="this socket is for another device; open it again")
        return
    cookie = socket.cookies.get(SESSION_COOKIE)
    while True:
        message = await socket.receive()
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("bytes")
        binary = isinstance(data, bytes)
        media = MSGPACK if binary else JSON
        text = message.get("text")
        raw = data if isinstance(data, bytes) else text.encode() if isinstance(text, str) else b""
        status, body = await _answer(found, cookie, raw, media)
        reply = encode({"status": status, "body": body}, media)
        try:
            if binary:
                await socket.send_bytes(reply)
            else:
                await socket.send_text(reply.decode())
        except (WebSocketDisconnect, RuntimeError, OSError):
            return  # gone before its answer: the client sends the request again (by POST)
        if status != 200:  # Rule 2: nothing sent behind a refused request is read
            code = CLOSE_SIGNED_OUT if status == 401 else CLOSE_REFUSED
            await socket.close(code=code, reason="a request was refused: send the requests behind it again")
            return


async def _answer(found: Services, cookie: str | None, raw: bytes, media: str) -> tuple[int, Any]:
    """What POST /api/sync would answer to ``raw`` (Rule 1)."""
    try:
        if len(raw) > found.settings.max_body_bytes:
            raise ApiError(413, "too_large", "request body too large")
        current = found.accounts.authenticate(cookie, now_ms())
        request = decode_sync_request(raw, media)
        return 200, await found.sync.sync_async(current, request, now_ms())
    except ApiError as problem:
        return problem.status, problem.body
    except Exception:
        log.exception("a sync over the socket failed")
        return 500, ErrorBody(error="internal", detail="the server failed; the error was logged")
