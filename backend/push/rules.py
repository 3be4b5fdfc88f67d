"""What notifies whom, and what a notification says. Pure: records in, decisions out.

Rule 1. Something notifies a person (``reason``) when it is a new message by someone else in a
        channel they belong to and it is: in a DM or group DM (``direct``); a mention of them or
        of ``@channel`` (``mention``); a reply in a thread they follow (``thread``); or, in a
        channel whose level they set to ``all``, any top-level message (``all``).
Rule 2. Held back: the channel's level ``none``, or ``mentions`` for anything but a mention or a
        DM; a muted channel; the person's do-not-disturb schedule (days, from-to, in their time
        zone) or pause. Held back means never sent, not sent later: when DND ends, the next
        message notifies (and its count says how many are unread).
Rule 3. A notification belongs to a conversation (a channel, or a thread): its ``tag`` and the
        push ``Topic`` name the conversation, so a newer one replaces the older on the device and
        at the push service, and a duplicate sent after a crash is the same notification.
Rule 4. Text follows the subscription's language (English or zh-CN). A person who chose private
        previews gets the conversation's name and count only, never the sender or the text.
Rule 6. A meeting starting in a channel notifies its other members (not the one who started it),
        held back by a muted channel, the level ``none``, and do-not-disturb, like messages; it
        opens the meeting. Devices showing the app get none (the sender holds them back).
Rule 5. Endpoints are https URLs on a known push service (``Settings.push_services``: a host or
        its subdomains, never an address); http and loopback hosts only in test mode. This keeps
        the server from being made to call into its own network (SSRF).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from sync_protocol.wire import Value

Reason = Literal["direct", "mention", "thread", "all"]
PREVIEW_CHARS = 120


class Notice(msgspec.Struct, frozen=True):
    """A notification for one person, whatever produced it (messages now; tasks and calendar
    reminders later add producers, not queue code). ``payload`` is what the service worker gets."""

    user: str
    topic: str
    urgency: str
    payload: dict[str, Value]


# --- Rule 1 and 2 ------------------------------------------------------------------------------


def reason(
    user: str, message: Mapping[str, Value], kind: str, pref: Mapping[str, Value] | None, follows_thread: bool
) -> Reason | None:
    """Why ``message`` notifies ``user`` (a member of its channel), or None (Rules 1 and 2)."""
    if message.get("author") == user or message.get("deleted") is True:
        return None
    pref = pref or {}
    if pref.get("muted") is True:
        return None
    level = pref.get("notify") or ("all" if kind in ("dm", "group") else "mentions")
    if level == "none":
        return None
    mentioned = set(str(message.get("mentions") or "").split()) & {user, "channel"}
    if kind in ("dm", "group") and message.get("thread") is None:
        return "direct"
    if mentioned:
        return "mention"
    if level == "mentions":
        return None
    if message.get("thread") is not None:
        return "thread" if follows_thread else None
    return "all"


def quiet(prefs: Mapping[str, Value] | None, now_ms: int) -> bool:
    """Is the person in do-not-disturb now (Rule 2)? ``prefs`` is their ``notices`` record."""
    if not prefs:
        return False
    paused = prefs.get("paused_until")
    if isinstance(paused, int) and now_ms < paused:
        return True
    start, end = prefs.get("dnd_from"), prefs.get("dnd_to")
    if not isinstance(start, int) or not isinstance(end, int) or start == end:
        return False
    try:
        zone = ZoneInfo(str(prefs.get("tz") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = datetime.fromtimestamp(now_ms / 1000, zone)
    minute = local.hour * 60 + local.minute
    chosen = prefs.get("dnd_days")
    days = "0123456" if chosen is None else str(chosen)  # 0 = Monday; "" = no day
    if start < end:
        return str(local.weekday()) in days and start <= minute < end
    # Overnight (22:00-07:00): the evening belongs to today, the morning to the day before.
    if minute >= start:
        return str(local.weekday()) in days
    return minute < end and str((local.weekday() - 1) % 7) in days


# --- Rules 3 and 4 -----------------------------------------------------------------------------


def topic(conversation: str) -> str:
    """A push ``Topic`` (at most 32 URL-safe base64 characters) naming a conversation."""
    return hashlib.sha256(conversation.encode()).hexdigest()[:32]


CATALOGUES: dict[str, dict[str, str]] = {
    "en": {
        "one": "New message in {where}",
        "many": "{count} new messages in {where}",
        "thread": "thread in {where}",
        "dm": "{who}",
        "meeting": "Meeting in {where}",
        "started": "{who} started a meeting · Join",
    },
    "zh-CN": {
        "one": "{where} 有新消息",
        "many": "{where} 有 {count} 条新消息",
        "thread": "{where} 中的讨论串",
        "dm": "{who}",
        "meeting": "{where} 的会议",
        "started": "{who} 发起了会议 · 加入",
    },
}


def words(lang: str) -> dict[str, str]:
    return CATALOGUES.get(lang) or CATALOGUES["en"]


def message_notice(
    *,
    user: str,
    lang: str,
    why: Reason,
    message_id: str,
    message: Mapping[str, Value],
    channel: Mapping[str, Value],
    sender: str,
    count: int,
    private: bool,
) -> Notice:
    """The notification of a message for one person (Rules 3 and 4)."""
    text = words(lang)
    channel_id = str(message.get("channel"))
    kind = channel.get("kind")
    name = str(channel.get("name") or "")
    where = text["dm"].format(who=sender) if kind == "dm" else name if kind == "group" else f"#{name}"
    # The app's routes (frontend/src/views/router.js): the message at its number, highlighted.
    thread, n, tn = message.get("thread"), message.get("n"), message.get("tn")
    if isinstance(thread, str):
        where = text["thread"].format(where=where)
        conversation, url = f"t:{thread}", f"/#/c/{channel_id}/t/{thread}" + (f"/n/{tn}" if isinstance(tn, int) else "")
    else:
        conversation, url = f"c:{channel_id}", f"/#/c/{channel_id}" + (f"/n/{n}" if isinstance(n, int) else "")
    title = text["many"].format(count=count, where=where) if count > 1 else text["one"].format(where=where)
    preview = str(message.get("text") or "")
    if len(preview) > PREVIEW_CHARS:
        preview = preview[: PREVIEW_CHARS - 1] + "…"
    body = "" if private else f"{sender}: {preview}"
    payload: dict[str, Value] = {
        "title": title,
        "body": body,
        "tag": conversation,
        "url": url,
        "count": count,
        "id": message_id,
        "channel": channel_id,
    }
    urgency = "high" if why in ("direct", "mention") else "normal"
    return Notice(user, topic(conversation), urgency, payload)


def meeting_wanted(pref: Mapping[str, Value] | None) -> bool:
    """A meeting that starts in a channel notifies its members (Rule 6) unless they muted the
    channel or set its level to ``none``: a call is worth a push even at ``mentions``."""
    pref = pref or {}
    return pref.get("muted") is not True and pref.get("notify") != "none"


def meeting_notice(
    *, user: str, lang: str, meeting_id: str, channel_id: str, channel: Mapping[str, Value], starter: str
) -> Notice:
    """Rule 6. "Meeting in #site-a" / "Ada started a meeting · Join", opening the meeting view."""
    text = words(lang)
    kind, name = channel.get("kind"), str(channel.get("name") or "")
    where = starter if kind == "dm" else name if kind == "group" else f"#{name}"
    conversation = f"m:{meeting_id}"
    payload: dict[str, Value] = {
        "title": text["meeting"].format(where=where),
        "body": text["started"].format(who=starter),
        "tag": conversation,
        "url": f"/#/c/{channel_id}/meet",
        "count": 1,
        "id": meeting_id,
        "channel": channel_id,
    }
    return Notice(user, topic(conversation), "high", payload)


# --- Rule 5 ------------------------------------------------------------------------------------


class UnsafeEndpoint(ValueError):
    pass


def check_endpoint(endpoint: str, services: tuple[str, ...], test_mode: bool) -> None:
    """Raise UnsafeEndpoint unless the server may send to ``endpoint`` (Rule 5)."""
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise UnsafeEndpoint("the push endpoint is not a valid URL") from exc
    local = host == "localhost" or _is_loopback(host)
    if test_mode and local and parts.scheme in ("http", "https"):
        return
    if parts.scheme != "https":
        raise UnsafeEndpoint("push endpoints must be https URLs")
    if parts.username or parts.password or not any(host == s or host.endswith("." + s) for s in services):
        raise UnsafeEndpoint("this push service is not one the server sends to")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
