"""Meetings in archives: the meeting and each join and leave, as the hub recorded them through a
real meeting socket, and the canned query that reads them as the channel shows them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml

from backend.archive.export import export_sqlite
from tests.integration.conftest import Workspace
from tests.integration.test_meetings import _join, _meet, _next

ROOT = Path(__file__).resolve().parents[3]


def test_a_meeting_and_its_attendance_are_archived_and_the_canned_query_reads_them(
    workspace: Workspace, tmp_path: Path
) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    with _meet(ada, general) as a, _meet(bob, general) as b:
        joined = _join(a)
        _join(b)
        b.send_json({"t": "leave"})
        _next(a, "peer_left")
        b.send_json({"t": "join"})  # back again: a second span
        _next(b, "joined")
        b.send_json({"t": "leave"})
        _next(a, "peer_left")
        a.send_json({"t": "leave"})
    out = tmp_path / "archive.db"
    export_sqlite(workspace.data_dir / "teamtalk.db", out)
    query = yaml.safe_load((ROOT / "datasette_metadata.yml").read_text())["databases"]["archive"]["queries"]
    db = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
    try:
        columns = "id, channel, started_by, started_at, ended_at, duration_ms"
        meeting = db.execute(f"SELECT {columns} FROM meetings").fetchall()
        spans = db.execute(
            "SELECT user, joined_at, left_at, reason FROM meeting_attendance ORDER BY joined_at, user"
        ).fetchall()
        rows = db.execute(query["meetings"]["sql"], {"channel": "general"}).fetchall()
        everywhere = db.execute(query["meetings"]["sql"], {"channel": ""}).fetchall()
        elsewhere = db.execute(query["meetings"]["sql"], {"channel": "random"}).fetchall()
    finally:
        db.close()
    ((mid, channel, started_by, started_at, ended_at, duration),) = meeting
    assert (mid, channel, started_by) == (joined["meeting"], general, ada.user)
    assert ended_at >= started_at and duration == ended_at - started_at
    who = [(user, reason) for user, _, _, reason in spans]
    assert who == [(ada.user, "left"), (bob.user, "left"), (bob.user, "left")]
    assert all(left >= joined_at for _, joined_at, left, _ in spans)
    ((name, started_utc, ended_utc, _minutes, starter, attendees, joins, meeting_id),) = rows
    assert (name, starter, attendees, joins, meeting_id) == ("general", "Ada", "Ada, Bob", 3, mid)
    assert started_utc <= ended_utc and started_utc.endswith("Z")
    assert everywhere == rows and elsewhere == []
