"""A Datasette plugin: auditors sign in with their TeamTalk account, no second password.

``actor_from_request`` reads the TeamTalk session cookie (``tt_session``; cookies are not
port-scoped, so the one the TeamTalk app set reaches Datasette on another port of the same
host), hashes it like the server does and looks the session and its account up in the live
TeamTalk store, opened read-only (backend.storage.open_readonly). A valid, unrevoked,
unexpired session of an active account becomes the actor ``{"id", "name", "role"}``;
``datasette_metadata.yml`` lets in only the roles auditor, admin and owner, so everyone else
gets 403. (The validity rule is the one backend/accounts.py applies to every request.)

Configuration (set by ``teamtalk archive serve``): metadata ``plugins: teamtalk-auth:
{database: <path to teamtalk.db>, session_days: 90}``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from datasette import hookimpl

from backend.access import session_usable
from backend.storage import open_readonly
from backend.tokens import token_hash

log = logging.getLogger("teamtalk.archive")

PLUGIN = "teamtalk-auth"
SESSION_COOKIE = "tt_session"


def actor_for_token(database: str, token: str, session_days: int, now_ms: int) -> dict[str, str] | None:
    """The actor a session token stands for, or None: a sign-in that cannot be checked (no
    database, a broken one) lets nobody in."""
    try:
        store = open_readonly(database)
    except FileNotFoundError:
        return None
    except Exception:  # a Datasette hook must not fail the request: deny, and say why in the log
        log.exception("cannot open %s to check a session", database)
        return None
    try:
        session = store.session_by_token(token_hash(token))
        account = store.account(session.user_id) if session is not None else None
    except Exception:
        log.exception("cannot check a session in %s", database)
        return None
    finally:
        store.close()
    if not session_usable(session, account, now_ms, session_days) or account is None:
        return None
    return {"id": account.id, "name": account.name, "role": account.role}


@hookimpl  # type: ignore[untyped-decorator]
def actor_from_request(datasette: Any, request: Any) -> dict[str, str] | None:
    token = request.cookies.get(SESSION_COOKIE)
    config = datasette.plugin_config(PLUGIN) or {}
    if not token or not config.get("database"):
        return None
    return actor_for_token(str(config["database"]), token, int(config.get("session_days", 90)), int(time.time() * 1000))
