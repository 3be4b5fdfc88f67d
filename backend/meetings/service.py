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
