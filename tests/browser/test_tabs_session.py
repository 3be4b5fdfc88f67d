"""Signing out and in again while another tab of the same browser stays open.

Tabs share one replica and one sync leader (the holder of a Web Lock, sync/coordinator.js). A
sign-out stops syncing in every tab; the next sign-in, in any of them, must find a leader again:
before the fix, a tab's request for the lock outlived its sign-out, was granted later to a
stopped coordinator and never let go, so the page signed in again stayed on "Syncing".
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    PASSWORD,
    OpenDevice,
    Person,
    Team,
    message_list,
    open_channel,
    send_message,
    sign_up,
    wait_until_synced,
)


def _second_tab(person: Person) -> Page:
    """Another tab of the person's browser, signed in through the shared session; errors recorded."""
    page = person.context.new_page()
    page.on("pageerror", lambda error: person.errors.append(str(error)))
    page.goto("/")
    wait_until_synced(page)
    return page


def _leader_first(*pages: Page) -> tuple[Page, Page]:
    """The two tabs, the one that leads (runs the sync engine) first; exactly one leads."""
    leading = [page for page in pages if page.evaluate("teamtalk.app.engine !== null")]
    assert len(leading) == 1, f"{len(leading)} tabs lead"
    (leader,) = leading
    (other,) = [page for page in pages if page is not leader]
    return leader, other


def _sign_out(page: Page, *others: Page) -> None:
    """Sign out in `page`; every tab of the browser then shows the sign-in form."""
    page.get_by_role("button", name="Sign out", exact=True).click()
    for tab in (page, *others):
        expect(tab.get_by_role("button", name="Sign in", exact=True)).to_be_visible()


def _sign_in_here(page: Page, email: str) -> None:
    """Sign in on the form the tab shows (no reload: the same page signs in again)."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    wait_until_synced(page)


def test_a_tab_that_did_not_lead_signs_out_and_in_again_and_syncs(people: OpenDevice) -> None:
    ada = people("Ada")
    sign_up(ada.page, "Ada Lovelace", ada.email)
    leader, follower = _leader_first(ada.page, _second_tab(ada))

    # The leader stops when it hears of the sign-out and lets the lock go: the tab that signed
    # out must not be the one that takes it.
    _sign_out(follower, leader)
    _sign_in_here(follower, ada.email)
    open_channel(follower, "general")
    send_message(follower, "back after signing in again")
    wait_until_synced(follower)

    leader.reload()
    wait_until_synced(leader)
    open_channel(leader, "general")
    expect(message_list(leader).filter(has_text="back after signing in again")).to_have_count(1)
    _leader_first(leader, follower)
    assert ada.errors == []


def test_the_other_tab_signs_in_as_someone_else_after_the_leader_signed_out(team: Team) -> None:
    ada, bob = team
    open_channel(bob.page, "general")
    leader, other = _leader_first(ada.page, _second_tab(ada))

    # The other tab hears of the sign-out while it waits for the lock: it must leave the queue.
    _sign_out(leader, other)
    _sign_in_here(other, bob.email)
    open_channel(other, "general")
    send_message(other, "Bob, from Ada's browser")
    wait_until_synced(other)
    expect(message_list(bob.page).filter(has_text="Bob, from Ada's browser")).to_have_count(1)

    leader.reload()  # the browser's session is Bob's now
    wait_until_synced(leader)
    _leader_first(leader, other)
    assert ada.errors == []
