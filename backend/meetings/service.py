"""Assembling the meeting hub from the server's parts (app.py calls ``build_meeting_hub``)."""

from __future__ import annotations

from backend.access import may_join_meeting
from backend.accounts import now_ms
from backend.feed import Feed
from backend.meetings.hub import MeetingHub
from backend.meetings.ice import ice_servers
from backend.settings import Settings
from backend.sync_service import SyncService
from sync_protocol.signaling import IceServer


def build_meeting_hub(sync: SyncService, feed: Feed, settings: Settings) -> MeetingHub:
    def ice(user_id: str, now_ms: int) -> list[IceServer]:
        return ice_servers(settings, user_id, now_ms)

    def may_join(user_id: str, channel_id: str) -> bool:
        return may_join_meeting(sync.store, user_id, channel_id)

    hub = MeetingHub(sync.write_as_server, ice, may_join, settings.meeting_drop_ms, now_ms)
    feed.listen(hub.on_commit)
    return hub


def end_interrupted_meetings(sync: SyncService, now_ms: int) -> int:
    """At server start nobody is in any call (the hub lives in memory): meetings a previous run
    left open are ended now, and their open attendance spans closed with reason ``restart``, so
    no channel shows "Meeting in progress" forever. Only the server calls this, never a CLI tool
    that runs beside it. Returns how many meetings it ended."""
    with sync.store.snapshot() as snap:
        open_meetings = {
            rid: fields for rid, _, fields, _ in snap.records("meetings") if not isinstance(fields.get("ended_at"), int)
        }
        spans = [
            (rid, fields)
            for rid, _, fields, _ in snap.records("meeting_attendance")
            if fields.get("meeting") in open_meetings and not isinstance(fields.get("left_at"), int)
        ]
    for rid, fields in spans:
        sync.write_as_server(
            str(fields["user"]), [("meeting_attendance", rid, {"left_at": now_ms, "reason": "restart"})], now_ms
        )
    for rid, fields in open_meetings.items():
        started = fields.get("started_at")
        duration = max(0, now_ms - started) if isinstance(started, int) else 0
        sync.write_as_server(
            str(fields.get("started_by") or "server"),
            [("meetings", rid, {"ended_at": now_ms, "duration_ms": duration})],
            now_ms,
        )
    return len(open_meetings)
