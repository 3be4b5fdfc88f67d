"""The calendar in archives: events, exceptions, RSVPs and their history, occurrences expanded,
and the canned query of events per channel and month with attendance."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml

from backend.archive.export import export_sqlite
from sync_protocol.collections_calendar import occurrence_id, rsvp_id
from tests.integration.conftest import Workspace

ROOT = Path(__file__).resolve().parents[3]


def test_events_rsvps_and_their_history_are_archived_and_counted_per_month(
    workspace: Workspace, tmp_path: Path
) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    calendar = f"c:{general}"
    series = {"title": "Inspection", "start": "2026-01-13T14:00", "end": "2026-01-13T15:00", "tz": "Europe/Berlin"}
    ada.sync(
        ada.change("events", "01EV", {"calendar": calendar, **series, "rrule": "FREQ=MONTHLY;BYDAY=2TU;COUNT=3"}),
        ada.change(
            "rsvps",
            rsvp_id("01EV", bob.user),
            {"event": "01EV", "calendar": calendar, "user": bob.user, "status": "none"},
        ),
        ada.change(
            "occurrences",
            occurrence_id("01EV", "2026-02-10T14:00"),
            {"event": "01EV", "calendar": calendar, "recurrence_id": "2026-02-10T14:00", "start": "2026-02-12T14:00"},
        ),
        ada.change("events", "01MINE", {"calendar": f"u:{ada.user}", "title": "Dentist", "start": "2026-01-20"}),
    )
    bob.sync(bob.change("rsvps", rsvp_id("01EV", bob.user), {"status": "accepted"}))
    out = tmp_path / "archive.db"
    export_sqlite(workspace.data_dir / "teamtalk.db", out)
    db = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
    try:
        assert db.execute("SELECT title, rrule FROM events WHERE id = '01EV'").fetchone() == (
            "Inspection",
            "FREQ=MONTHLY;BYDAY=2TU;COUNT=3",
        )
        assert db.execute("SELECT user, status FROM rsvps").fetchall() == [(bob.user, "accepted")]
        starts = db.execute("SELECT start, moved FROM event_occurrences WHERE event = '01EV' ORDER BY start").fetchall()
        assert starts == [("2026-01-13T14:00", 0), ("2026-02-12T14:00", 1), ("2026-03-10T14:00", 0)]
        history = db.execute("SELECT fields FROM changes WHERE collection = 'rsvps' ORDER BY seq").fetchall()
        assert ['"none"' in h[0] for h in history] == [True, False], "both answers are in the log"
        query = yaml.safe_load((ROOT / "datasette_metadata.yml").read_text())["databases"]["archive"]["queries"]
        rows = db.execute(query["events_per_month"]["sql"], {"since": "2026-01-01", "until": "2026-04-01"}).fetchall()
    finally:
        db.close()
    assert rows == [
        ("(personal)", "2026-01", 1, 1, 0, 0, 0),
        ("general", "2026-01", 1, 1, 1, 0, 0),
        ("general", "2026-02", 1, 1, 1, 0, 0),
        ("general", "2026-03", 1, 1, 1, 0, 0),
    ]
