"""The pure rules of Web Push: what notifies, do-not-disturb in a time zone, backoff, Retry-After."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from backend.push import rules
from backend.push.sender import MAX_BACKOFF_MS, backoff_ms, retry_after_ms

PARIS = ZoneInfo("Europe/Paris")


def at(text: str) -> int:
    """A Paris wall-clock time as epoch ms."""
    return int(datetime.fromisoformat(text).replace(tzinfo=PARIS).timestamp() * 1000)


def test_what_notifies_whom() -> None:
    msg = {"author": "ada", "channel": "c1", "text": "hi"}
    assert rules.reason("bob", msg, "dm", None, False) == "direct"
    assert rules.reason("ada", msg, "dm", None, False) is None  # never one's own message
    assert rules.reason("bob", msg, "public", None, False) is None  # default level: mentions
    assert rules.reason("bob", {**msg, "mentions": "cy bob"}, "public", None, False) == "mention"
    assert rules.reason("bob", {**msg, "mentions": "channel"}, "private", None, False) == "mention"
    assert rules.reason("bob", msg, "public", {"notify": "all"}, False) == "all"
    assert rules.reason("bob", {**msg, "mentions": "bob"}, "public", {"notify": "none"}, False) is None
    assert rules.reason("bob", msg, "dm", {"muted": True}, False) is None
    assert rules.reason("bob", msg, "dm", {"notify": "mentions"}, False) == "direct"
    reply = {**msg, "thread": "p1"}
    assert rules.reason("bob", reply, "public", {"notify": "all"}, True) == "thread"
    assert rules.reason("bob", reply, "public", {"notify": "all"}, False) is None
    assert rules.reason("bob", reply, "public", None, True) is None  # level mentions holds thread replies
    assert rules.reason("bob", {**msg, "deleted": True}, "dm", None, False) is None


def test_do_not_disturb_follows_the_persons_days_and_time_zone() -> None:
    # 22:00-07:00 on weeknights (Monday 0 ... Friday 4), Paris time.
    night = {"dnd_from": 22 * 60, "dnd_to": 7 * 60, "dnd_days": "01234", "tz": "Europe/Paris"}
    assert rules.quiet(night, at("2026-12-07T23:30"))  # Monday night
    assert rules.quiet(night, at("2026-12-08T06:59"))  # Tuesday morning belongs to Monday night
    assert not rules.quiet(night, at("2026-12-08T07:00"))
    assert not rules.quiet(night, at("2026-12-12T23:30"))  # Saturday night: not a chosen day
    assert rules.quiet(night, at("2026-12-12T06:00"))  # Saturday morning: Friday's night
    assert not rules.quiet(night, at("2026-12-13T06:00"))  # Sunday morning: Saturday's night
    day = {"dnd_from": 9 * 60, "dnd_to": 12 * 60, "tz": "Europe/Paris"}
    assert rules.quiet(day, at("2026-12-13T09:00")) and not rules.quiet(day, at("2026-12-13T12:00"))
    assert not rules.quiet({**day, "dnd_days": ""}, at("2026-12-13T10:00"))
    assert not rules.quiet({**day, "tz": "Asia/Tokyo"}, at("2026-12-13T10:00"))  # 18:00 in Tokyo
    unknown = {**day, "tz": "Not/AZone"}  # an unknown zone counts as UTC (Paris is UTC+1 in December)
    assert rules.quiet(unknown, at("2026-12-13T10:30")) and not rules.quiet(unknown, at("2026-12-13T09:30"))
    assert rules.quiet({"paused_until": 2000}, 1999) and not rules.quiet({"paused_until": 2000}, 2000)
    assert not rules.quiet(None, 0) and not rules.quiet({}, 0)


def test_backoff_is_jittered_exponential_capped_and_honours_retry_after() -> None:
    assert backoff_ms(0, None, lambda: 0.0) == 500 and backoff_ms(0, None, lambda: 1.0) == 1000
    assert backoff_ms(3, None, lambda: 1.0) == 8000
    assert backoff_ms(40, None, lambda: 1.0) == MAX_BACKOFF_MS
    assert backoff_ms(0, 120_000, lambda: 0.0) == 120_000
    assert retry_after_ms("7", 0) == 7000 and retry_after_ms(None, 0) is None and retry_after_ms("soon", 0) is None
    assert retry_after_ms("Thu, 01 Jan 1970 00:01:40 GMT", 40.0) == 60_000


def test_topics_are_short_url_safe_and_one_per_conversation() -> None:
    topic = rules.topic("c:01HZZZ")
    assert len(topic) <= 32 and topic.isalnum() and topic == rules.topic("c:01HZZZ") != rules.topic("t:01HZZZ")
