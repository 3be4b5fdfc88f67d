"""The send worker's requests go over its sync socket (GET /api/sync/socket), not a fetch each."""

from __future__ import annotations

import pytest
from playwright.sync_api import Request, expect

from tests.browser.conftest import Team, message_list, message_texts, open_channel, send_message, wait_until_synced

pytestmark = pytest.mark.browser


def test_sends_go_over_the_sync_socket_and_arrive_once_in_order(team: Team) -> None:
    ada, bob = team
    open_channel(ada.page, "general")
    open_channel(bob.page, "general")
    send_message(ada.page, "one")  # the socket may still be opening: this one may be POSTed
    expect(message_list(bob.page).filter(has_text="one")).to_have_count(1)

    posts: list[str] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and "/api/sync" in request.url:
            posts.append(request.url)

    ada.context.on("request", on_request)  # on the context: the send worker's requests are its own
    ada.page.evaluate(
        "() => { window.__via = []; teamtalk.app.sender.onPosted = (at, steps) => window.__via.push(steps.via); }"
    )
    for text in ("two", "three", "four"):
        send_message(ada.page, text)
        expect(message_list(bob.page).filter(has_text=text)).to_have_count(1)
    wait_until_synced(ada.page)

    assert ada.page.evaluate("() => window.__via") == ["socket", "socket", "socket"]
    assert posts == [], "no POST /api/sync for a send that went over the socket"
    assert message_texts(bob.page) == message_texts(ada.page) == ["one", "two", "three", "four"]
    assert not ada.errors and not bob.errors
