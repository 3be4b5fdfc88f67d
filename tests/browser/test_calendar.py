"""The calendar in real Chromium, two teammates on the real server: a series made offline
reaches the other person whole, an RSVP made offline reaches the organiser, and moving one
occurrence asks "this event / this and following" and does what was chosen."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Team, go_offline, go_online, open_channel, wait_until_synced

pytestmark = pytest.mark.browser


def _week() -> list[str]:
    """This week's Monday to Friday (the week view's days), as the browser's days."""
    monday = date.today() - timedelta(days=date.today().weekday())
    return [(monday + timedelta(days=i)).isoformat() for i in range(5)]


def _calendar(page: Page, mode: str = "Week") -> None:
    page.get_by_role("link", name="Calendar").click()
    page.get_by_role("group", name="Calendar view").get_by_role("button", name=mode).click()


def _new_series(page: Page, title: str, first: str, *, invite: str | None = None) -> None:
    page.get_by_role("button", name="New event").click()
    dialog = page.get_by_role("dialog", name="New event")
    dialog.get_by_label("Title").fill(title)
    dialog.get_by_label("Calendar").select_option(label="#general")
    dialog.get_by_label("Starts").fill(first)
    dialog.get_by_label("Start time").fill("09:00")
    dialog.get_by_label("Ends").fill(first)
    dialog.get_by_label("End time").fill("09:30")
    dialog.get_by_label("Repeat").select_option(label="Every day")
    dialog.get_by_label("Times (empty: no end)").fill("5")
    if invite:
        dialog.get_by_label(invite).check()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)


def _items(page: Page, day: str) -> list[str]:
    return page.locator(f'[data-day="{day}"] .cal-item').all_inner_texts()


def test_a_series_made_offline_reaches_the_other_person_with_every_occurrence(team: Team) -> None:
    ada, bob = team
    _calendar(ada.page)
    go_offline(ada.context)
    _new_series(ada.page, "Site walk", _week()[0])
    for day in _week():
        expect(ada.page.locator(f'[data-day="{day}"] .cal-item')).to_have_text(["09:00Site walk"])
    go_online(ada.context)
    wait_until_synced(ada.page)
    _calendar(bob.page)
    for day in _week():
        expect(bob.page.locator(f'[data-day="{day}"] .cal-item')).to_have_text(["09:00Site walk"])
    assert not ada.errors and not bob.errors


def test_an_rsvp_made_offline_reaches_the_organiser(team: Team) -> None:
    ada, bob = team
    _calendar(ada.page)
    _new_series(ada.page, "Delivery check", _week()[0], invite="Bob Babbage")
    open_channel(ada.page, "general")
    card = ada.page.get_by_role("group", name="Invitation: Delivery check")
    expect(card).to_contain_text("Accept 0 · Tentative 0 · Decline 0")

    open_channel(bob.page, "general")
    go_offline(bob.context)
    bob_card = bob.page.get_by_role("group", name="Invitation: Delivery check")
    bob_card.get_by_role("button", name="Accept").click()
    expect(bob_card.get_by_role("button", name="Accept")).to_have_attribute("aria-pressed", "true")
    go_online(bob.context)
    expect(card).to_contain_text("Accept 1 · Tentative 0 · Decline 0")
    assert not ada.errors and not bob.errors


def _move(page: Page, day: str, scope: str, start: str, end: str) -> None:
    page.locator(f'[data-day="{day}"] .cal-item').first.click()
    page.get_by_role("dialog").get_by_role("button", name="Edit").click()
    editor = page.get_by_role("dialog", name="Edit event")
    editor.get_by_label("Start time").fill(start)
    editor.get_by_label("End time").fill(end)
    editor.get_by_role("button", name="Save").click()
    asked = page.get_by_role("dialog", name="Change which events?")
    expect(asked.locator(".dialog__actions button")).to_have_text(
        ["This event", "This and following events", "All events", "Cancel"]
    )
    asked.get_by_role("button", name=scope).click()
    expect(asked).to_have_count(0)


def test_moving_one_occurrence_asks_this_or_following_and_does_what_was_chosen(team: Team) -> None:
    ada, bob = team
    week = _week()
    _calendar(ada.page)
    _new_series(ada.page, "Standup", week[0])
    _move(ada.page, week[2], "This event", "11:00", "11:30")
    _move(ada.page, week[3], "This and following events", "15:00", "15:30")
    expected = ["09:00Standup", "09:00Standup", "11:00Standup", "15:00Standup", "15:00Standup"]
    wait_until_synced(ada.page)
    _calendar(bob.page)
    for page in (ada.page, bob.page):
        for day, text in zip(week, expected, strict=True):
            expect(page.locator(f'[data-day="{day}"] .cal-item')).to_have_text([text])
    assert not ada.errors and not bob.errors
