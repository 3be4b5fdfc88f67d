"""The composer never loses words: typing right after sending belongs to the next message."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import OpenDevice, open_channel, sign_up, wait_until_synced

pytestmark = pytest.mark.browser


def test_rapid_sends_by_click_and_enter_all_arrive_in_order(people: OpenDevice) -> None:
    ada = people("Ada")
    sign_up(ada.page, "Ada Lovelace", ada.email)
    open_channel(ada.page, "general")
    box = ada.page.get_by_role("textbox", name="Message")
    sent: list[str] = []
    for i in range(5):
        # No waiting between sends: the next words are typed while the last write is still running.
        box.fill(f"clicked {i}")
        ada.page.get_by_role("button", name="Send").click()
        box.fill(f"entered {i}")
        ada.page.keyboard.press("Enter")
        sent += [f"clicked {i}", f"entered {i}"]

    texts = ada.page.get_by_role("log").locator(".msg__text")
    expect(texts).to_have_text(sent)
    expect(box).to_have_value("")
    wait_until_synced(ada.page)
