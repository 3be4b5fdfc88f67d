"""The built PWA (frontend/dist) served at /, plus the security headers every response carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import get
from litestar.enums import ScopeType
from litestar.static_files import create_static_files_router
from litestar.types import Message, Scope

#: 'wasm-unsafe-eval' lets the file hashing worker compile its WebAssembly SHA-256 (hash-wasm);
#: it allows WebAssembly only, never eval() or inline script.
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; "
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


async def add_security_headers(message: Message, scope: Scope) -> None:
    """before_send hook: every HTTP answer (static files, errors and 404s too) carries the
    security headers, and the shell and service worker stay out of HTTP caches so a deploy
    always reaches users."""
    if scope["type"] != ScopeType.HTTP or message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    if scope["path"] in NO_CACHE_PATHS:
        headers = [h for h in headers if h[0].lower() != b"cache-control"]
        headers.append((b"cache-control", b"no-cache"))
    # A response that set its own policy keeps it (file downloads: a stricter, sandboxing one).
    present = {name.lower() for name, _ in headers}
    message["headers"] = [*headers, *(h for h in SECURITY_HEADERS if h[0] not in present)]


def frontend_routes(dist: Path) -> list[Any]:
    if not (dist / "index.html").exists():

        @get(["/", "/sw.js"], media_type="text/plain", status_code=503, include_in_schema=False)
        async def not_built() -> str:
            return "The TeamTalk web app is not built yet: run `make build` (or `make run`)."

        return [not_built]
    return [create_static_files_router(path="/", directories=[dist], html_mode=True, include_in_schema=False)]
