"""The message list in real Chromium: opening a search result or a mention goes to the message
itself — scrolled into view, highlighted and focused (so a screen reader reads it) — also when
the device holds only newer messages, and a thread reply opens its thread at that reply."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import (
    OpenDevice,
    Team,
    message_list,
    open_channel,
    sign_in,
    sign_up,
    wait_until_synced,
)

pytestmark = pytest.mark.browser

NEEDLE = "the quarterly budget is approved"
#: More than a screen of messages after the one looked for.
LATER = 40


def post(page: Page, channel: str, texts: list[str], thread_of: str | None = None) -> None:
    """Post messages in a row as the composer does (through the app), then wait until synced."""
    page.evaluate(
        """async ([name, texts, parentText]) => {
            const app = teamtalk.app;
            const channel = app.queries.myChannels.value.find((c) => c.name === name).id;
            const parent = parentText && app.queries.messages(channel).find((m) => m.text === parentText).id;
            for (const text of texts) await app.actions.sendMessage(channel, text, {thread: parent || null});
        }""",
        [channel, texts, thread_of],
    )
    wait_until_synced(page)


def search(page: Page, words: str) -> None:
    page.get_by_role("link", name="Search").click()
    page.get_by_label("Search words").fill(words)
    page.get_by_role("button", name="Search messages").click()
    results = page.get_by_role("list", name="Search results").get_by_role("listitem")
    expect(results).to_have_count(1)
    results.first.get_by_role("link", name=re.compile("^Open")).click()


def expect_jumped_to(row: Locator) -> None:
    expect(row).to_have_count(1)
    expect(row).to_be_in_viewport()
    expect(row).to_be_focused()
    expect(row).to_have_class(re.compile(r"\brow--target\b"))


def later(count: int = LATER) -> list[str]:
    return [f"status update {i}: nothing to report" for i in range(count)]


def test_a_search_result_and_a_mention_open_at_the_message(team: Team) -> None:
    ada, bob = team
    for person in (ada, bob):
        open_channel(person.page, "general")
    post(ada.page, "general", [f"@Bob Babbage {NEEDLE}", *later()])
    for person in (ada, bob):
        expect(message_list(person.page).filter(has_text=f"status update {LATER - 1}:")).to_be_in_viewport()
        expect(message_list(person.page).filter(has_text=NEEDLE)).not_to_be_in_viewport()

    search(ada.page, "quarterly budget")
    expect(ada.page).to_have_url(re.compile(r"#/c/[^/]+/n/\d+$"))
    expect_jumped_to(message_list(ada.page).filter(has_text=NEEDLE))

    bob.page.get_by_role("link", name=re.compile(r"^Mentions")).click()
    bob.page.get_by_role("list", name="Mentions").get_by_role("link", name=re.compile("^Open")).click()
    expect_jumped_to(message_list(bob.page).filter(has_text=NEEDLE))
    assert not ada.errors and not bob.errors


def test_a_message_older_than_the_device_holds_is_fetched_then_shown(people: OpenDevice) -> None:
    ada = people("Ada")
    sign_up(ada.page, "Ada Lovelace", ada.email)
    open_channel(ada.page, "general")
    # Beyond what a new device's first sync and one older page (100) bring.
    post(ada.page, "general", [NEEDLE, *later(160), "Release checklist is ready"])
    post(ada.page, "general", ["the checklist needs a sign-off from finance"], thread_of="Release checklist is ready")

    # A new device of Ada's: its first sync brings only the newest messages of #general.
    phone = people("Ada")
    sign_in(phone.page, ada.email)
    held = phone.page.evaluate("""() => {
        const q = teamtalk.app.queries;
        return q.messages(q.myChannels.value.find((c) => c.name === 'general').id).map((m) => m.text);
    }""")
    assert NEEDLE not in held and 0 < len(held) < 160
    search(phone.page, "quarterly budget")
    expect_jumped_to(message_list(phone.page).filter(has_text=NEEDLE))

    # A thread reply opens its thread beside the channel, at the reply.
    search(phone.page, "sign-off finance")
    thread = phone.page.get_by_role("complementary", name="Thread")
    expect_jumped_to(thread.get_by_role("listitem").filter(has_text="needs a sign-off from finance"))
    assert not ada.errors and not phone.errors
