"""The one settings module: everything configurable, with its default."""

from __future__ import annotations

from pathlib import Path

import msgspec

from sync_protocol.signaling import DROP_AFTER_MS


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
    #: Web Push (backend/push/): the VAPID ``sub`` contact, the push services the server may call
    #: (host names and their subdomains), and test mode, which also allows http and loopback
    #: endpoints (a local push service in tests; never in production: it opens an SSRF hole).
    push_contact: str = "mailto:admin@teamtalk.invalid"
    push_services: tuple[str, ...] = (
        "fcm.googleapis.com",
        "push.services.mozilla.com",
        "notify.windows.com",
        "push.apple.com",
    )
    push_test_mode: bool = False
    #: After a push to a device about a conversation, the next about it waits this long (and
    #: whatever arrives meanwhile is coalesced into it): a burst gives each device a few pushes.
    push_gap_ms: int = 5_000
    #: How long a push service keeps a push for a device that is offline.
    push_ttl_s: int = 86_400
    invite_days: int = 7
    #: Files (backend/files/): the largest file, the workspace's quota (bytes stored plus bytes
    #: announced by unfinished uploads), how long a partial upload lives, and how long unreferenced
    #: bytes are kept before garbage collection (a device may upload, then go offline before its
    #: message and file record reach the server).
    max_file_bytes: int = 1024**3
    quota_bytes: int = 50 * 1024**3
    upload_expiry_s: int = 86_400
    blob_grace_s: int = 7 * 86_400
    #: Meetings (backend/meetings/): STUN and TURN URLs handed to members ("stun:host:3478",
    #: "turn:host:3478?transport=udp"), the secret shared with the TURN server (coturn's
    #: static-auth-secret) and how long a TURN credential lasts; a participant silent this long is dropped.
    ice_urls: tuple[str, ...] = ()
    turn_secret: str = ""
    turn_ttl_s: int = 3600
    meeting_drop_ms: int = DROP_AFTER_MS

    @property
    def database(self) -> Path:
        return self.data_dir / "teamtalk.db"

    @property
    def push_database(self) -> Path:
        """The push queue's own file (storage/push_queue.py): the followers' writes, not the server's."""
        return self.data_dir / "push.db"
