"""TeamTalk's wire contract and merge rules: pure code (stdlib + msgspec), no I/O, no clock.

`backend/` imports this package; this package never imports `backend/`, Litestar or sqlite3
(tests/unit/test_layering.py fails if it does).
"""

from sync_protocol.wire import PROTOCOL_VERSION

__all__ = ["PROTOCOL_VERSION"]
