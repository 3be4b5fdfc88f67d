"""ICE servers for meetings: STUN/TURN URLs from the settings, with time-limited TURN credentials.

TURN credentials follow the TURN REST API's shared-secret scheme (draft-uberti-behave-turn-rest,
what coturn's ``use-auth-secret`` / ``static-auth-secret`` implements): the server and the TURN
server share a secret; the server hands each member

    username   = "<expiry, unix seconds>:<user id>"
    credential = base64(HMAC-SHA1(secret, username))

and the TURN server recomputes the credential and refuses it after the expiry. Nothing is
stored, and a leaked credential dies by itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from backend.settings import Settings
from sync_protocol.signaling import IceServer


def turn_credentials(secret: str, user_id: str, expires_s: int) -> tuple[str, str]:
    """The (username, credential) pair valid until ``expires_s`` (unix seconds)."""
    username = f"{expires_s}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(settings: Settings, user_id: str, now_ms: int) -> list[IceServer]:
    """What a member's RTCPeerConnection uses: STUN URLs as they are, TURN URLs with credentials
    (left out when no secret is configured: a TURN server without credentials is useless)."""
    stun = [url for url in settings.ice_urls if url.startswith(("stun:", "stuns:"))]
    turn = [url for url in settings.ice_urls if url.startswith(("turn:", "turns:"))]
    found: list[IceServer] = []
    if stun:
        found.append(IceServer(urls=stun))
    if turn and settings.turn_secret:
        username, credential = turn_credentials(settings.turn_secret, user_id, now_ms // 1000 + settings.turn_ttl_s)
        found.append(IceServer(urls=turn, username=username, credential=credential))
    return found
