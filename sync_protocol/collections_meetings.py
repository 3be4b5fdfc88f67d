"""Meetings' collections: the record a call leaves in its channel (the signaling is never stored).

Both are written only by the server, from what the meeting socket saw (backend/meetings/):
a client cannot forge who started a meeting, who attended or for how long, so neither entry has
client rights (deny by default: ``rights=None``). Members read them like the channel's messages
(scope ``c:<channel>``); they show in the channel's history and go into archives.

- ``meetings``: one per call: who started it, when, when it ended and how long it lasted.
- ``meeting_attendance``: one per participant connection, so two people joining at once never
  write the same record, and a person who leaves and rejoins has two spans. Its id is
  ``<meeting>:<connection id>``.
"""

from __future__ import annotations

from sync_protocol.registry import CollectionSpec, Field, ScopeRule

CHANNEL_REF = Field(str, 80, immutable=True, required=True)
IN_CHANNEL = ScopeRule("field", field="channel", prefix="c:")
MS = 2**53 - 1

MEETINGS = CollectionSpec(
    "meetings",
    {
        "channel": CHANNEL_REF,
        "started_by": Field(str, server=True),
        "started_at": Field(int, MS, server=True),
        "ended_at": Field(int, MS, server=True),
        "duration_ms": Field(int, MS, server=True),
    },
    IN_CHANNEL,
    rights=None,
)

MEETING_ATTENDANCE = CollectionSpec(
    "meeting_attendance",
    {
        "meeting": Field(str, 80, immutable=True, required=True),
        "channel": CHANNEL_REF,
        "user": Field(str, 80, immutable=True, required=True),
        "joined_at": Field(int, MS, server=True),
        "left_at": Field(int, MS, server=True),
        #: Why they left: ``left`` (said so), ``closed`` (socket closed),
        #: ``dropped`` (heartbeat lost), ``removed`` (no longer a member) or ``restart`` (the server
        #: restarted during the call: ``left_at`` is then the restart, an upper bound).
        "reason": Field(str, 16, server=True),
    },
    IN_CHANNEL,
    rights=None,
)

MEETING_COLLECTIONS = (MEETINGS, MEETING_ATTENDANCE)


def attendance_id(meeting_id: str, conn_id: str) -> str:
    return f"{meeting_id}:{conn_id}"
