"""The built PWA (frontend/dist) served at /, plus the security headers every response carries."""

from __future__ import annotations

from pathlib import Path

from typing import Any

from litestar import get
from litestar.static_files import create_static_files_router
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'; manifest-src 'self'; worker-src 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(self), microphone=(self), geolocation=()"),
]


NO_CACHE_PATHS = frozenset({"/", "/index.html", "/sw.js", "/manifest.webmanifest"})


def security_headers(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: add the headers to every HTTP response (static files and errors too),
    and keep the shell and the service worker out of HTTP caches so a deploy always reaches users."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        extra = list(SECURITY_HEADERS)
        if scope["path"] in NO_CACHE_PATHS:
            extra.append((b"cache-control", b"no-cache"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"cache-control" or not
                           scope["path"] in NO_CACHE_PATHS]
                message["headers"] = [*headers, *extra]
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


def frontend_routes(dist: Path) -> list[Any]:
    if not (dist / "index.html").exists():

        @get(["/", "/sw.js"], media_type="text/plain", status_code=503, include_in_schema=False)
        async def not_built() -> str:
            return "The TeamTalk web app is not built yet: run `make build` (or `make run`)."

        return [not_built]
    return [create_static_files_router(path="/", directories=[dist], html_mode=True, include_in_schema=False)]
