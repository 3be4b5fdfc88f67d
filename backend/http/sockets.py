"""Letting a WebSocket in: the live socket (live.py) and a meeting's socket (meetings.py).

A socket is let in like any other request. Its Origin is checked, so a browser on another site
cannot ride the user's cookie into it; clients without an Origin header (bots, the Python client)
are not browsers and cannot be tricked that way, so they pass. Then its session. A refusal is a
close with a code and a reason the client can show, after the accept: a browser reports a refused
handshake only as a bare failure.
"""

from __future__ import annotations

from litestar import WebSocket
from litestar.datastructures import State

from backend.access import origin_allowed
from backend.accounts import CurrentSession
from backend.errors import ApiError
from backend.http.context import SESSION_COOKIE, Services, now_ms

CLOSE_SIGNED_OUT = 4401
CLOSE_FORBIDDEN = 4403


async def admit(
    socket: WebSocket[object, object, State], found: Services, foreign_origin: str
) -> CurrentSession | None:
    """Accept ``socket`` and return its session, or close it (``foreign_origin`` is the reason
    given to a page of another site) and return None."""
    await socket.accept()
    if not origin_allowed(socket.headers.get("origin"), socket.headers.get("host", ""), found.settings.extra_origins):
        await socket.close(code=CLOSE_FORBIDDEN, reason=foreign_origin)
        return None
    try:
        return found.accounts.authenticate(socket.cookies.get(SESSION_COOKIE), now_ms())
    except ApiError as exc:
        await socket.close(code=CLOSE_SIGNED_OUT, reason=exc.body.detail)
        return None
