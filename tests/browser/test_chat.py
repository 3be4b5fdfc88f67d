"""Two teammates chatting in real Chromium against the real server."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    OpenDevice,
    Team,
    axe_violations,
    channel_link,
    connection_status,
    go_offline,
    go_online,
    invite_link,
    message_list,
    message_texts,
    open_channel,
    record_dialogs,
    send_message,
    sign_up,
    until,
    wait_until_synced,
)

pytestmark = pytest.mark.browser


def test_live_chat_both_ways(team: Team) -> None:
    ada, bob = team
    open_channel(ada.page, "general")
    open_channel(bob.page, "general")

    send_message(ada.page, "Morning Bob, the build is green")
    expect(message_list(bob.page).filter(has_text="Morning Bob, the build is green")).to_have_count(1)

    send_message(bob.page, "Great, shipping it")
    expect(message_list(ada.page).filter(has_text="Great, shipping it")).to_have_count(1)

    wait_until_synced(ada.page)
    wait_until_synced(bob.page)
    assert (
        message_texts(ada.page)
        == message_texts(bob.page)
        == [
            "Morning Bob, the build is green",
            "Great, shipping it",
        ]
    )
    assert not ada.errors and not bob.errors


def test_offline_messages_survive_a_reload_and_arrive_once_in_order(team: Team) -> None:
    ada, bob = team
    open_channel(ada.page, "general")
    open_channel(bob.page, "general")
    # The service worker in control before the network goes: one still starting may be attached
    # (and told the context is offline) after it could run a Background Sync flush of its own,
    # which Ada would then see. The other offline tests wait for it too.
    until(bob.page, "navigator.serviceWorker.controller !== null")

    go_offline(bob.context)
    expect(connection_status(bob.page)).to_have_text("Offline")
    for text in ("one", "two", "three"):
        send_message(bob.page, text)
    pending = bob.page.locator('[role="log"] li[aria-busy="true"]')
    expect(pending).to_have_count(3)
    expect(pending.first).to_contain_text("Sending…")

    bob.page.reload()  # still offline: the shell comes from the service worker
    expect(connection_status(bob.page)).to_have_text("Offline")
    open_channel(bob.page, "general")
    expect(pending).to_have_count(3)
    assert message_texts(bob.page) == ["one", "two", "three"]
    expect(message_list(ada.page)).to_have_count(0)

    go_online(bob.context)
    wait_until_synced(bob.page)
    expect(pending).to_have_count(0)
    expect(message_list(ada.page)).to_have_count(3)
    wait_until_synced(ada.page)
    assert message_texts(ada.page) == message_texts(bob.page) == ["one", "two", "three"]


def test_app_shell_loads_offline_after_one_visit(team: Team) -> None:
    ada, _bob = team
    open_channel(ada.page, "general")
    send_message(ada.page, "written while online")
    wait_until_synced(ada.page)
    until(ada.page, "navigator.serviceWorker.controller !== null")

    go_offline(ada.context)
    page = ada.context.new_page()
    page.goto("/")
    expect(connection_status(page)).to_have_text("Offline")
    open_channel(page, "general")
    expect(message_list(page).filter(has_text="written while online")).to_have_count(1)

    send_message(page, "written while offline")
    expect(page.locator('[role="log"] li[aria-busy="true"]')).to_have_count(1)
    go_online(ada.context)
    wait_until_synced(page)
    expect(message_list(page).filter(has_text="written while offline")).to_have_count(1)


def test_unread_badge_counts_and_clears(team: Team) -> None:
    ada, bob = team
    open_channel(ada.page, "general")
    for text in ("first", "second", "third"):
        send_message(ada.page, text)
    wait_until_synced(ada.page)

    badge = channel_link(bob.page, "general").locator(".badge")
    expect(badge).to_have_text("3 unread")
    expect(channel_link(bob.page, "general 3 unread")).to_be_visible()

    open_channel(bob.page, "general")
    expect(message_list(bob.page)).to_have_count(3)
    expect(badge).to_have_count(0)
    wait_until_synced(bob.page)

    # The read cursor is Bob's, on every device of his: a reload still shows nothing unread.
    bob.page.reload()
    wait_until_synced(bob.page)
    expect(channel_link(bob.page, "general")).to_be_visible()
    expect(badge).to_have_count(0)
    # Ada's own messages are not unread for her.
    expect(channel_link(ada.page, "general").locator(".badge")).to_have_count(0)


def test_message_markup_is_shown_as_text(team: Team) -> None:
    ada, bob = team
    dialogs = record_dialogs(ada.page, bob.page)
    open_channel(ada.page, "general")
    open_channel(bob.page, "general")
    payload = "<img src=x onerror=alert(1)>"

    send_message(ada.page, payload)
    for person in (ada, bob):
        expect(message_list(person.page).filter(has_text=payload)).to_have_count(1)
        expect(person.page.get_by_role("log").locator("img")).to_have_count(0)
    wait_until_synced(bob.page)
    assert dialogs == []


def test_sign_in_and_chat_views_have_no_axe_violations(team: Team, people: OpenDevice) -> None:
    ada, _bob = team
    open_channel(ada.page, "general")
    send_message(ada.page, "Accessible to everyone")
    wait_until_synced(ada.page)
    assert axe_violations(ada.page) == []

    visitor = people("Visitor")
    visitor.page.goto("/")
    expect(visitor.page.get_by_role("button", name="Sign in")).to_be_visible()
    assert axe_violations(visitor.page) == []


def test_a_refused_message_says_why_and_can_be_retried_or_discarded(team: Team) -> None:
    ada, bob = team
    open_channel(ada.page, "general")
    open_channel(bob.page, "general")
    go_offline(bob.context)
    send_message(bob.page, "posted while general was being archived")

    # Meanwhile Ada archives #general (read-only): Bob's queued message will be refused.
    ada.page.evaluate("""() => {
        const q = teamtalk.app.queries;
        return teamtalk.app.actions.setArchived(q.myChannels.value.find(c => c.name === 'general').id, true);
    }""")
    wait_until_synced(ada.page)

    go_online(bob.context)
    wait_until_synced(bob.page)
    failed = bob.page.locator('[role="log"] li[data-state="failed"]')
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("Not sent: this channel is archived and read-only")

    failed.get_by_role("button", name="Retry").click()
    wait_until_synced(bob.page)
    expect(failed).to_have_count(1)  # refused again, for the same reason

    failed.get_by_role("button", name="Discard").click()
    expect(failed).to_have_count(0)
    expect(message_list(ada.page)).to_have_count(0)


def test_a_private_channel_is_seen_only_by_the_people_added(team: Team, people: OpenDevice) -> None:
    ada, bob = team
    carol = people("Carol")
    sign_up(carol.page, "Carol Shaw", carol.email, invite=invite_link(ada.page))

    ada.page.get_by_role("button", name="New channel").first.click()
    ada.page.get_by_label("Channel name").fill("leads")
    ada.page.get_by_label("Private").check()
    ada.page.get_by_role("button", name="Create channel").click()
    send_message(ada.page, "Numbers for Q3 are in")
    ada.page.get_by_role("button", name="Add people").click()
    ada.page.get_by_role("dialog").get_by_role("button", name="Bob Babbage").click()
    expect(ada.page.get_by_role("dialog").get_by_text("Added: Bob Babbage")).to_be_visible()
    ada.page.keyboard.press("Escape")
    wait_until_synced(ada.page)

    expect(channel_link(bob.page, "leads")).to_be_visible()
    open_channel(bob.page, "leads")
    expect(message_list(bob.page).filter(has_text="Numbers for Q3 are in")).to_have_count(1)

    wait_until_synced(carol.page)
    expect(channel_link(carol.page, "general")).to_be_visible()
    expect(channel_link(carol.page, "leads")).to_have_count(0)


def test_a_half_typed_message_survives_closing_the_tab(team: Team) -> None:
    ada, _bob = team
    open_channel(ada.page, "general")
    ada.page.get_by_role("textbox", name="Message").fill("Half a thought about the")
    until(ada.page, "Object.keys(teamtalk.app.store.meta.value).some(k => k.startsWith('draft:'))")
    ada.page.close()

    page = ada.context.new_page()
    page.goto("/")
    open_channel(page, "general")
    expect(page.get_by_role("textbox", name="Message")).to_have_value("Half a thought about the")
    send_message(page, "Half a thought about the roadmap")
    expect(page.get_by_role("log")).to_contain_text("Half a thought about the roadmap")  # queued
    page.reload()
    open_channel(page, "general")
    expect(page.get_by_role("textbox", name="Message")).to_have_value("")


FULL_DISK = """
(() => {
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (...args) {
    if (globalThis.__diskFull) throw new DOMException('The disk is full', 'QuotaExceededError');
    return put.apply(this, args);
  };
})();
"""


def test_a_full_disk_is_told_to_the_user_and_the_text_is_kept(team: Team) -> None:
    ada, _bob = team
    ada.context.add_init_script(FULL_DISK)
    ada.page.reload()
    open_channel(ada.page, "general")
    # The patch reaches the page only, not its send worker (a real full disk fails both; the page
    # then writes itself and fails too: frontend/test/actions.test.js): the worker stands aside.
    ada.page.evaluate("globalThis.__diskFull = true; if (teamtalk.app.sender) teamtalk.app.sender.paused = true")

    box = ada.page.get_by_role("textbox", name="Message")
    box.fill("This must not vanish")
    ada.page.get_by_role("button", name="Send").click()
    expect(ada.page.get_by_role("alert").filter(has_text="out of storage").first).to_be_visible()
    expect(box).to_have_value("This must not vanish")
    expect(message_list(ada.page)).to_have_count(0)

    ada.page.evaluate("globalThis.__diskFull = false; if (teamtalk.app.sender) teamtalk.app.sender.paused = false")
    ada.page.get_by_role("button", name="Send").click()
    expect(box).to_have_value("")
    wait_until_synced(ada.page)
    expect(message_list(ada.page).filter(has_text="This must not vanish")).to_have_count(1)
    expect(ada.page.get_by_role("alert").filter(has_text="out of storage")).to_have_count(0)
