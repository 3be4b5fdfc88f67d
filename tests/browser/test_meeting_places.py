"""Where a meeting shows and where it is offered, outside a call (no WebRTC, so no network
namespace): the channel's messages ("Meeting in progress · 1 person · Join", then "Meeting · 1 min
· <names>"), the header and the sidebar, a calendar event of the channel ("Start meeting", then
"Join meeting"), and offline, where starting and joining are refused with the reason while the
rest of the app keeps working.

The other participant is a signaling-only client of the documented meeting socket (PROTOCOL.md,
"Meetings"): the server records its meeting like any other; no media is needed for that.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from playwright.sync_api import Page, expect
from websockets.sync.client import ClientConnection, connect

from backend import tokens
from tests.browser.conftest import (
    PASSWORD,
    OpenDevice,
    channel_link,
    connection_status,
    go_offline,
    go_online,
    invite_link,
    message_list,
    open_channel,
    send_message,
    sign_up,
    wait_until_synced,
)


def _session(server: str, name: str, invite: str) -> str:
    """Sign a person up through the HTTP API; returns their ``tt_session=...`` cookie."""
    with httpx.Client(base_url=server) as client:
        client.get("/api/workspace")
        body = {"name": name, "email": f"{name.split()[0].lower()}@example.com", "password": PASSWORD, "invite": invite}
        reply = client.post("/api/signup", json=body, headers={"x-csrftoken": client.cookies["csrftoken"]})
        assert reply.status_code == 201, reply.text
        return f"tt_session={client.cookies['tt_session']}"


@contextmanager
def in_meeting(server: str, channel: str, cookie: str) -> Iterator[ClientConnection]:
    """A participant on the meeting socket: joined, heartbeating, and leaving at the end."""
    url = f"{server.replace('http', 'ws')}/api/meet/{channel}"
    with connect(url, additional_headers={"cookie": cookie}) as socket:
        assert json.loads(socket.recv(timeout=10))["t"] == "room"
        socket.send('{"t": "join"}')
        joined = json.loads(socket.recv(timeout=10))
        assert joined["t"] == "joined", joined
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(joined["heartbeat_ms"] / 1000):
                socket.send('{"t": "heartbeat"}')

        beating = threading.Thread(target=beat, daemon=True)
        beating.start()
        try:
            yield socket
        finally:
            stop.set()
            beating.join()
            socket.send('{"t": "leave"}')


def _channel(page: Page, channel: str) -> None:
    """Open the channel by its address (a calendar dialog may be covering the sidebar)."""
    page.goto(f"/#/c/{channel}")
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()


def _row(page: Page, text: str) -> object:
    return message_list(page).filter(has=page.get_by_role("group", name=text))


def test_a_meeting_shows_in_the_channel_and_its_calendar_and_offline_says_why(people: OpenDevice, server: str) -> None:
    ada = people("Ada")
    sign_up(ada.page, "Ada Lovelace", ada.email)
    page = ada.page
    open_channel(page, "general")
    channel = page.evaluate("() => location.hash").split("#/c/")[1].split("/")[0]
    cookie = _session(server, "Bot Recorder", invite_link(page))

    # A stand-up in #general's calendar offers its channel's meeting.
    event = tokens.ulid()
    page.evaluate(
        """([id, channel]) => teamtalk.app.actions.writeChanges([{collection: 'events', id, fields: {
            calendar: `c:${channel}`, title: 'Stand-up', start: '2026-12-05T09:00', end: '2026-12-05T09:15', tz: 'UTC',
        }}])""",
        [event, channel],
    )
    wait_until_synced(page)
    page.goto(f"/#/calendar/event/{event}")
    detail = page.get_by_role("dialog", name="Stand-up")
    expect(detail.get_by_role("link", name="Start meeting")).to_have_attribute("href", f"#/c/{channel}/meet")

    with in_meeting(server, channel, cookie):
        # Live: the event says Join, and so do the channel's header, its messages and the sidebar.
        expect(detail.get_by_role("link", name="Join meeting")).to_have_attribute("href", f"#/c/{channel}/meet")
        _channel(page, channel)
        live = _row(page, "Meeting in progress · 1 person")
        expect(live.get_by_role("link", name="Join")).to_have_attribute("href", f"#/c/{channel}/meet")
        expect(page.get_by_role("region", name="Meeting in progress · 1 person")).to_be_visible()
        expect(channel_link(page, "general")).to_contain_text("Meeting in progress · 1 person")
        sidebar_join = page.get_by_role("link", name="Join the meeting in general")
        expect(sidebar_join).to_have_attribute("href", f"#/c/{channel}/meet")

        # Offline: nothing offers to start or join, and the app says why; chat still works.
        go_offline(ada.context)
        expect(connection_status(page)).to_have_text("Offline")
        expect(live.get_by_role("link", name="Join")).to_have_count(0)
        expect(sidebar_join).to_have_count(0)
        bar = page.get_by_role("region", name="Meeting in progress · 1 person")
        expect(bar.get_by_role("link", name="Join")).to_have_count(0)
        expect(bar).to_contain_text("You are offline. Meetings need a connection")
        start = page.get_by_role("button", name="Start meeting")
        expect(start).to_be_disabled()
        expect(start).to_have_attribute(
            "title", "You are offline. Meetings need a connection: you can start or join one once you are back online."
        )
        send_message(page, "written while the meeting runs, offline")
        page.goto(f"/#/c/{channel}/meet")
        expect(page.get_by_role("alert")).to_contain_text("You are offline. Meetings need a connection")
        page.goto(f"/#/calendar/event/{event}")
        expect(detail.get_by_role("button", name="Join meeting")).to_be_disabled()
        go_online(ada.context)
        expect(detail.get_by_role("link", name="Join meeting")).to_be_visible()
        _channel(page, channel)
        wait_until_synced(page)

    # Over: one row where the meeting started (before the message written during it).
    past = _row(page, "Meeting · 1 min · Bot Recorder")
    expect(past).to_have_count(1)
    expect(page.get_by_role("region", name="Meeting in progress · 1 person")).to_have_count(0)
    expect(channel_link(page, "general")).not_to_contain_text("Meeting in progress")
    rows = message_list(page)
    texts = rows.all_inner_texts()
    meeting_at = next(i for i, text in enumerate(texts) if "Meeting · 1 min" in text)
    message_at = next(i for i, text in enumerate(texts) if "written while the meeting runs" in text)
    assert meeting_at < message_at, texts
    expect(rows.filter(has_text="written while the meeting runs")).to_have_attribute("data-state", "sent")
    assert ada.errors == [], ada.errors
