"""What a live message must leave right on the rows already shown (issue 17: a new message
re-renders the new row only). The set's size is written on every row after each render, not
through the rows' props, and an action bar judges what it offers from its own signal."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Team, message_list, open_channel, send_message

pytestmark = pytest.mark.browser


def positions(page: Page) -> list[tuple[str | None, str | None]]:
    rows = page.locator('[role="log"] li')
    return [(row.get_attribute("aria-posinset"), row.get_attribute("aria-setsize")) for row in rows.all()]


def test_rows_keep_their_place_in_the_set_and_their_actions_as_messages_arrive(team: Team) -> None:
    ada, bob = team
    open_channel(ada.page, "general")
    open_channel(bob.page, "general")
    for text in ("Bob one", "Bob two"):
        send_message(bob.page, text)
    expect(message_list(ada.page).filter(has_text="Bob two")).to_have_count(1)

    # Bob's pointer reaches his own message: its action bar is built and offers an edit.
    mine = message_list(bob.page).filter(has_text="Bob one")
    mine.hover()
    expect(mine.get_by_role("button", name="Edit message")).to_be_visible()

    send_message(ada.page, "Ada three")
    expect(message_list(bob.page).filter(has_text="Ada three")).to_have_count(1)

    count = message_list(bob.page).count()
    expect(bob.page.locator(f'[role="log"] li[aria-setsize="{count}"]')).to_have_count(count)
    assert positions(bob.page) == [(str(i + 1), str(count)) for i in range(count)]
    # The bar built before the message came still offers what Bob may do with his message...
    expect(mine.get_by_role("button", name="Edit message")).to_be_visible()
    # ... and one built on Ada's message offers no edit to Bob.
    hers = message_list(bob.page).filter(has_text="Ada three")
    hers.hover()
    expect(hers.get_by_role("link", name="Reply in thread")).to_be_visible()
    expect(hers.get_by_role("button", name="Edit message")).to_have_count(0)
    assert bob.errors == []
