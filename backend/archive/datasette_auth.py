"""A Datasette plugin: auditors sign in with their TeamTalk account, no second password.

``actor_from_request`` reads the TeamTalk session cookie (``tt_session``; cookies are not
port-scoped, so the one the TeamTalk app set reaches Datasette on another port of the same
host), hashes it like the server does and looks the session up in the live TeamTalk database
on a read-only connection. A valid, unrevoked, unexpired session of an active account becomes
the actor ``{"id", "name", "role"}``; ``datasette_metadata.yml`` lets in only the roles
auditor, admin and owner, so everyone else gets 403.

Configuration (set by ``teamtalk archive serve``): metadata ``plugins: teamtalk-auth:
{database: <path to teamtalk.db>, session_days: 90}``.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from datasette import hookimpl

from backend.archive.snapshot import connect_readonly
from backend.tokens import token_hash

PLUGIN = "teamtalk-auth"
SESSION_COOKIE = "tt_session"
DAY_MS = 86_400_000

_LOOKUP = """
SELECT a.id, a.name, a.role, s.last_seen FROM sessions s JOIN accounts a ON a.id = s.user_id
WHERE s.token_hash = ? AND s.revoked = 0 AND a.deactivated = 0
"""


def actor_for_token(database: str, token: str, session_days: int, now_ms: int) -> dict[str, str] | None:
    try:
        db = connect_readonly(database)
    except (FileNotFoundError, sqlite3.Error):
        return None
    try:
        row = db.execute(_LOOKUP, (token_hash(token),)).fetchone()
    except sqlite3.Error:
        return None
    finally:
        db.close()
    if row is None or now_ms - int(row[3]) > session_days * DAY_MS:
        return None
    return {"id": str(row[0]), "name": str(row[1]), "role": str(row[2])}


@hookimpl  # type: ignore[untyped-decorator]
def actor_from_request(datasette: Any, request: Any) -> dict[str, str] | None:
    token = request.cookies.get(SESSION_COOKIE)
    config = datasette.plugin_config(PLUGIN) or {}
    if not token or not config.get("database"):
        return None
    return actor_for_token(str(config["database"]), token, int(config.get("session_days", 90)),
                           int(time.time() * 1000))

