"""Chat in depth in real Chromium against the real server: read state across devices, offline
reactions and edits that converge, thread replies written offline, offline search, and message
text that can never run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import (
    OpenDevice,
    Person,
    Team,
    channel_link,
    connection_status,
    go_offline,
    go_online,
    message_list,
    open_channel,
    record_dialogs,
    send_message,
    sign_in,
    sign_up,
    wait_until_synced,
)

pytestmark = pytest.mark.browser

#: "Within a second" with headroom for a loaded CI machine.
LIVE_MS = 3_000


@pytest.fixture
def trio(team: Team, people: OpenDevice) -> tuple[Person, Person, Person]:
    """The team, with Bob signed in on a second device too."""
    ada, bob = team
    bob_phone = people("Bob")
    sign_in(bob_phone.page, bob.email)
    for person in (bob, bob_phone):
        expect(channel_link(person.page, "general")).to_be_visible()
    return ada, bob, bob_phone


def message(page: Page, text: str) -> Locator:
    return message_list(page).filter(has_text=text)


def act(page: Page, text: str, action: str) -> None:
    """Use one of a message's actions (the bar shows when the pointer reaches the message)."""
    row = message(page, text)
    row.hover()
    row.get_by_role("button", name=action).click()


def react(page: Page, text: str, emoji: str) -> None:
    row = message(page, text)
    row.hover()
    row.get_by_role("button", name="Add reaction").click()
    row.get_by_role("button", name=f"React with {emoji}").click()


def edit(page: Page, text: str, new_text: str) -> None:
    # While editing, the text lives in a textbox: hold on to the row by its id.
    row = page.locator(f'[role="log"] li[data-id="{message(page, text).get_attribute("data-id")}"]')
    row.hover()
    row.get_by_role("button", name="Edit message").click()
    box = row.get_by_role("textbox", name="Edit text")
    box.fill(new_text)
    box.press("Enter")


def reaction_counts(page: Page, text: str) -> dict[str, str]:
    chips = message(page, text).locator(".reaction")
    return {
        chip.get_attribute("data-emoji") or "": chip.locator(".reaction__count").inner_text() for chip in chips.all()
    }


def test_reading_on_one_device_clears_the_badge_on_the_other(trio: tuple[Person, Person, Person]) -> None:
    ada, bob, bob_phone = trio
    open_channel(ada.page, "general")
    send_message(ada.page, "standup moved to 10")
    send_message(ada.page, "bring coffee")
    wait_until_synced(ada.page)
    for person in (bob, bob_phone):
        expect(channel_link(person.page, "general").locator(".badge")).to_have_text("2 unread")

    open_channel(bob.page, "general")
    expect(message(bob.page, "bring coffee")).to_have_count(1)
    # The read travels live: the phone's badge goes without a reload or a sync of its own.
    expect(channel_link(bob_phone.page, "general").locator(".badge")).to_have_count(0, timeout=LIVE_MS)

    # "Mark unread" from the first message puts both devices back to 2 unread.
    act(bob.page, "standup moved to 10", "Mark unread from here")
    for person in (bob, bob_phone):
        expect(channel_link(person.page, "general").locator(".badge")).to_have_text("2 unread")
    assert not ada.errors and not bob.errors and not bob_phone.errors


def test_offline_reaction_and_edit_converge_with_an_online_edit(people: OpenDevice) -> None:
    laptop = people("Ada")
    sign_up(laptop.page, "Ada Lovelace", laptop.email)
    phone = people("Ada")
    sign_in(phone.page, laptop.email)
    for device in (laptop, phone):
        open_channel(device.page, "general")
    send_message(laptop.page, "plan: ship on friday")
    wait_until_synced(laptop.page)
    expect(message(phone.page, "plan: ship on friday")).to_have_count(1)

    go_offline(laptop.context)
    expect(connection_status(laptop.page)).to_have_text("Offline")
    react(laptop.page, "plan: ship on friday", "👍")
    edit(laptop.page, "plan: ship on friday", "plan: ship on monday (offline)")
    expect(message(laptop.page, "plan: ship on monday (offline)")).to_have_count(1)

    # Later, on the phone (online), the same message is edited again: the later edit wins.
    edit(phone.page, "plan: ship on friday", "plan: ship on tuesday")
    wait_until_synced(phone.page)

    go_online(laptop.context)
    wait_until_synced(laptop.page)
    wait_until_synced(phone.page)
    for device in (laptop, phone):
        row = message(device.page, "plan: ship on tuesday")
        expect(row).to_have_count(1)
        expect(row.locator(".msg__edited")).to_be_visible()
        expect(row.locator('.reaction[data-emoji="👍"] .reaction__count')).to_have_text("1")
    assert reaction_counts(laptop.page, "plan: ship on tuesday") == reaction_counts(phone.page, "plan: ship on tuesday")
    assert not laptop.errors and not phone.errors


def test_a_thread_reply_written_offline_reaches_every_device(trio: tuple[Person, Person, Person]) -> None:
    ada, bob, bob_phone = trio
    for person in (ada, bob, bob_phone):
        open_channel(person.page, "general")
    send_message(ada.page, "Who can review the release notes?")
    wait_until_synced(ada.page)
    parent = message(bob.page, "Who can review the release notes?")
    expect(parent).to_have_count(1)

    go_offline(bob.context)
    parent.hover()
    parent.get_by_role("link", name="Reply in thread").click()
    thread = bob.page.get_by_role("complementary", name="Thread")
    expect(thread).to_be_visible()
    box = thread.get_by_role("textbox", name="Reply to thread")
    box.fill("I can, after lunch")
    thread.get_by_role("button", name="Reply", exact=True).click()
    expect(box).to_have_value("")
    expect(thread.locator('li[aria-busy="true"]')).to_contain_text("I can, after lunch")

    go_online(bob.context)
    wait_until_synced(bob.page)
    expect(thread.locator('li[data-state="sent"]').filter(has_text="I can, after lunch")).to_have_count(1)
    # Replying follows the thread.
    expect(thread.get_by_role("button", name="Unfollow thread")).to_be_visible()

    for page in (ada.page, bob_phone.page):
        summary = message(page, "Who can review the release notes?").get_by_role("link", name="1 reply")
        expect(summary).to_be_visible()
        summary.click()
        pane = page.get_by_role("complementary", name="Thread")
        expect(pane.locator("li").filter(has_text="I can, after lunch")).to_have_count(1)
    # Replies are not channel messages: the channel still lists one.
    expect(message_list(ada.page)).to_have_count(1)
    assert not ada.errors and not bob.errors and not bob_phone.errors


def test_offline_search_finds_what_the_device_holds_and_says_so(people: OpenDevice) -> None:
    ada = people("Ada")
    sign_up(ada.page, "Ada Lovelace", ada.email)
    open_channel(ada.page, "general")
    send_message(ada.page, "The rollback runbook lives in the ops wiki")
    send_message(ada.page, "Lunch at noon")
    wait_until_synced(ada.page)

    go_offline(ada.context)
    expect(connection_status(ada.page)).to_have_text("Offline")
    ada.page.get_by_role("link", name="Search").click()
    ada.page.get_by_label("Search words").fill('runbook "ops wiki" in:#general')
    ada.page.get_by_role("button", name="Search messages").click()
    expect(ada.page.get_by_text("Searched only messages on this device.")).to_be_visible()
    results = ada.page.get_by_role("list", name="Search results").get_by_role("listitem")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("The rollback runbook lives in the ops wiki")
    assert not ada.errors


def test_markup_and_script_links_render_as_text_and_never_run(team: Team) -> None:
    ada, bob = team
    dialogs = record_dialogs(ada.page, bob.page)
    for person in (ada, bob):
        open_channel(person.page, "general")
    payload = "<img src=x onerror=alert(1)> and [x](javascript:alert(1)) but **bold** [docs](https://example.com/docs)"
    send_message(ada.page, payload)
    wait_until_synced(ada.page)
    for person in (ada, bob):
        row = message(person.page, "<img src=x onerror=alert(1)>")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("[x](javascript:alert(1))")
        log = person.page.get_by_role("log")
        expect(log.locator("img")).to_have_count(0)
        expect(log.locator('a[href^="javascript"]')).to_have_count(0)
        expect(row.locator("strong")).to_have_text("bold")
        link = row.get_by_role("link", name="docs")
        expect(link).to_have_attribute("href", "https://example.com/docs")
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", "noopener noreferrer")
    wait_until_synced(bob.page)
    assert dialogs == []
    assert not ada.errors and not bob.errors


def test_a_deleted_message_says_so_everywhere(trio: tuple[Person, Person, Person]) -> None:
    ada, bob, _phone = trio
    for person in (ada, bob):
        open_channel(person.page, "general")
    send_message(ada.page, "wrong channel, sorry")
    wait_until_synced(ada.page)
    expect(message(bob.page, "wrong channel, sorry")).to_have_count(1)
    ada.page.once("dialog", lambda dialog: dialog.accept())
    act(ada.page, "wrong channel, sorry", "Delete message")
    for person in (ada, bob):
        expect(message(person.page, "message deleted")).to_have_count(1)
        expect(message(person.page, "wrong channel, sorry")).to_have_count(0)


def test_a_mention_in_a_thread_reply_is_unread_until_the_thread_is_read(team: Team, people: OpenDevice) -> None:
    ada, bob = team
    for person in (ada, bob):
        open_channel(person.page, "general")
    send_message(ada.page, "Release checklist is ready")
    parent = message(bob.page, "Release checklist is ready")
    expect(parent).to_have_count(1)
    parent.hover()
    parent.get_by_role("link", name="Reply in thread").click()
    thread = bob.page.get_by_role("complementary", name="Thread")
    box = thread.get_by_role("textbox", name="Reply to thread")
    box.fill("@Ada Lovelace can you sign it off?")
    thread.get_by_role("button", name="Reply", exact=True).click()
    wait_until_synced(bob.page)

    # Ada's laptop hears it live; a device she signs in on now gets it in its first snapshot.
    ada_phone = people("Ada")
    sign_in(ada_phone.page, ada.email)
    for page in (ada.page, ada_phone.page):
        expect(mentions_link(page).locator(".badge")).to_have_text("1 unread", timeout=LIVE_MS * 3)

    ada.page.goto("/#/mentions")
    expect(ada.page.get_by_text("can you sign it off?")).to_be_visible()
    ada.page.goto("/#/")
    open_channel(ada.page, "general")
    message(ada.page, "Release checklist is ready").get_by_role("link", name="1 reply").click()
    pane = ada.page.get_by_role("complementary", name="Thread")
    expect(pane.locator("li").filter(has_text="can you sign it off?")).to_have_count(1)
    for page in (ada.page, ada_phone.page):
        expect(mentions_link(page).locator(".badge")).to_have_count(0, timeout=LIVE_MS * 3)
    assert not ada.errors and not bob.errors and not ada_phone.errors


def mentions_link(page: Page) -> Locator:
    return page.get_by_role("link", name=re.compile(r"^Mentions"))
