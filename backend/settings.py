"""The one settings module: everything configurable, with its default."""

from __future__ import annotations

from pathlib import Path

import msgspec


class Settings(msgspec.Struct, frozen=True):
    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = 8000
    #: Origins allowed to open the live WebSocket besides the server's own (e.g. a static host).
    extra_origins: tuple[str, ...] = ()
    #: Mark cookies Secure; turn on when served over HTTPS.
    secure_cookies: bool = False
    workspace_name: str = "TeamTalk"
    frontend_dir: Path = Path(__file__).resolve().parent.parent / "frontend" / "dist"
    #: Push limits (see PROTOCOL.md).
    max_body_bytes: int = 2 * 1024 * 1024
    max_changes_per_push: int = 500
    max_page: int = 5000
    #: How far ahead of the server a change's clock may be.
    max_clock_skew_ms: int = 60_000
    session_days: int = 90
    invite_days: int = 7

    @property
    def database(self) -> Path:
        return self.data_dir / "teamtalk.db"
