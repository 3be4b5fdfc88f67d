"""The calendar's records through the real app: offline edits of one event on two devices merge
per field, a channel's calendar replicates to its members only, RSVPs are one record per person,
and an event's history can restore the value that lost."""

from __future__ import annotations

from sync_protocol.collections import member_id
from sync_protocol.collections_calendar import occurrence_id, rsvp_id
from tests.integration.conftest import Workspace, wall_ms

SERIES = {"title": "Standup", "start": "2026-03-17T09:00", "end": "2026-03-17T09:30", "tz": "Europe/Berlin"}


def test_two_devices_edit_one_event_offline_one_moves_it_one_retitles_it_and_both_survive(
    workspace: Workspace,
) -> None:
    ada = workspace.join("Ada")
    bob = workspace.join("Bob")
    general = ada.channel_named("general")
    calendar = f"c:{general}"
    ada.sync(ada.change("events", "01EV", {"calendar": calendar, **SERIES, "rrule": "FREQ=WEEKLY"}))
    # Both offline: each stamps its change at the time it was made, then they sync in either order.
    now = wall_ms()
    moved = ada.change("events", "01EV", {"start": "2026-03-17T10:00", "end": "2026-03-17T10:30"}, hlc=ada.hlc(now))
    retitled = bob.change("events", "01EV", {"title": "Crew standup"}, hlc=bob.hlc(now + 5))
    # ... and the same for one occurrence: one moves it, the other retitles it.
    rid = "2026-03-24T09:00"
    base = {"event": "01EV", "calendar": calendar, "recurrence_id": rid}
    one_moved = ada.change("occurrences", occurrence_id("01EV", rid), {**base, "start": "2026-03-24T11:00"})
    one_retitled = bob.change("occurrences", occurrence_id("01EV", rid), {**base, "title": "Late standup"})
    assert bob.sync(retitled, one_retitled).json()["acks"] == [1, 2]
    assert ada.sync(moved, one_moved).json()["acks"] == [2, 3]
    for person in (ada, bob):
        event = person.records("events")["01EV"]
        assert (event["title"], event["start"], event["end"]) == (
            "Crew standup",
            "2026-03-17T10:00",
            "2026-03-17T10:30",
        )
        one = person.records("occurrences")[occurrence_id("01EV", rid)]
        assert (one["start"], one["title"]) == ("2026-03-24T11:00", "Late standup")


def test_a_channel_calendar_replicates_to_its_members_only(workspace: Workspace) -> None:
    ada, eve = workspace.join("Ada"), workspace.join("Eve")
    ada.sync(
        ada.change("channels", "01CREW", {"name": "crew", "kind": "private"}),
        ada.change("members", member_id("01CREW", ada.user), {"channel": "01CREW", "user": ada.user}),
        ada.change("calendars", "c:01CREW", {"calendar": "c:01CREW", "name": "Crew shifts"}),
        ada.change("events", "01SECRET", {"calendar": "c:01CREW", **SERIES}),
        ada.change("events", "01PRIVATE", {"calendar": f"u:{ada.user}", "title": "Dentist", "start": "2026-05-02"}),
    )
    assert set(ada.records("events")) == {"01SECRET", "01PRIVATE"}
    assert eve.records("events") == {} and eve.records("calendars") == {}
    # Eve cannot write into them either, nor read their history.
    refused = eve.sync(eve.change("events", "01NOPE", {"calendar": "c:01CREW", **SERIES})).json()
    assert refused["rejections"][0]["code"] == "forbidden"
    assert eve.client.get("/api/records/events/01SECRET/versions").status_code == 404


def test_rsvps_are_one_record_per_attendee_and_only_the_attendee_answers(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    calendar = f"c:{ada.channel_named('general')}"
    ada.sync(ada.change("events", "01EV", {"calendar": calendar, **SERIES}))
    invite = {"event": "01EV", "calendar": calendar, "user": bob.user, "status": "none", "invited": True}
    assert ada.sync(ada.change("rsvps", rsvp_id("01EV", bob.user), invite)).json()["acks"] == [2]
    forged = ada.sync(ada.change("rsvps", rsvp_id("01EV", bob.user), {"status": "accepted"})).json()
    assert forged["rejections"][0]["code"] == "forbidden"
    # Bob answers on two devices, offline, differently: the later answer is his answer.
    laptop = workspace.another_device(bob)
    now = wall_ms()
    assert bob.sync(bob.change("rsvps", rsvp_id("01EV", bob.user), {"status": "tentative"}, hlc=bob.hlc(now))).json()[
        "acks"
    ]
    laptop.sync(laptop.change("rsvps", rsvp_id("01EV", bob.user), {"status": "accepted"}, hlc=laptop.hlc(now + 10)))
    assert ada.records("rsvps")[rsvp_id("01EV", bob.user)]["status"] == "accepted"


def test_history_shows_who_changed_an_event_and_restore_writes_the_lost_value_again(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    calendar = f"c:{ada.channel_named('general')}"
    ada.sync(ada.change("events", "01EV", {"calendar": calendar, **SERIES}))
    bob.sync(bob.change("events", "01EV", {"title": "Renamed by Bob"}))
    versions = ada.client.get("/api/records/events/01EV/versions").json()["versions"]
    titles = [(v["author"], v["fields"].get("title")) for v in versions if "title" in v["fields"]]
    assert titles == [(ada.user, "Standup"), (bob.user, "Renamed by Bob")]
    ada.sync(ada.change("events", "01EV", {"title": titles[0][1]}))
    assert bob.records("events")["01EV"]["title"] == "Standup"
