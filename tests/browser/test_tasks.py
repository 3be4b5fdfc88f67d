"""Tasks in real Chromium, two people on two devices, driven by accessible names: offline edits
that merge per field (and show in the history), a board drag that persists and reaches the
other person live, and moving a card with the keyboard only."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Team, go_offline, go_online, open_channel, wait_until_synced

pytestmark = pytest.mark.browser


def open_tasks(page: Page, channel: str = "general") -> None:
    open_channel(page, channel)
    page.get_by_role("link", name="Tasks", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Tasks in #{channel}")


def add_task(page: Page, title: str) -> None:
    page.get_by_label("New task title").fill(title)
    page.get_by_role("button", name="Add task").click()
    expect(column(page, "To do").get_by_role("link", name=title)).to_be_visible()


def column(page: Page, status: str) -> Locator:
    return page.get_by_role("region", name=status, exact=True)


def card_titles(page: Page, status: str) -> list[str]:
    return column(page, status).locator(".task-card__title").all_inner_texts()


def tick(box: Locator) -> None:
    """Tick a task's checkbox and wait for it to show ticked. Not ``Locator.check()``: that reads
    the box's state the moment after its click, and these boxes show the store, which hears of the
    write only once it is committed on the device; a render in between (the reply to an earlier
    write) shows the old state for that moment, and ``check()`` then fails."""
    box.click()
    expect(box).to_be_checked()


def details(page: Page) -> Locator:
    return page.get_by_role("region", name="Task details")


def test_offline_title_and_ticks_merge_with_online_status_and_assignee(team: Team) -> None:
    ada, bob = team
    open_tasks(ada.page)
    add_task(ada.page, "Fix the pump")
    ada.page.get_by_role("link", name="Fix the pump").click()
    panel = details(ada.page)
    for item in ("Valve", "Seal"):
        panel.get_by_label("New checklist item").fill(item)
        panel.get_by_role("button", name="Add item").click()
        expect(panel.get_by_role("checkbox", name=item, exact=True)).to_be_visible()
    wait_until_synced(ada.page)

    open_tasks(bob.page)
    bob.page.get_by_role("link", name="Fix the pump").click()
    expect(details(bob.page).get_by_role("checkbox", name="Seal", exact=True)).to_be_visible()

    # Ada on a plane: a new title and two ticks. Bob in the office: the status and himself as assignee.
    go_offline(ada.context)
    expect(ada.page.get_by_role("status")).to_have_text("Offline")
    title = panel.get_by_label("Title", exact=True)
    title.fill("Fix the pump at site B")
    title.press("Enter")
    title.blur()
    expect(ada.page.get_by_role("link", name="Fix the pump at site B")).to_be_visible()  # written locally
    tick(panel.get_by_role("checkbox", name="Valve", exact=True))
    tick(panel.get_by_role("checkbox", name="Seal", exact=True))
    bob_panel = details(bob.page)
    bob_panel.get_by_label("Status").select_option("doing")
    tick(bob_panel.get_by_role("checkbox", name="Bob Babbage"))
    wait_until_synced(bob.page)
    go_online(ada.context)
    wait_until_synced(ada.page)

    for who, page in (("Ada", ada.page), ("Bob", bob.page)):
        panel = details(page)
        expect(panel.get_by_label("Title", exact=True), f"{who}'s title").to_have_value("Fix the pump at site B")
        expect(panel.get_by_label("Status")).to_have_value("doing")
        expect(panel.get_by_role("checkbox", name="Valve", exact=True)).to_be_checked()
        expect(panel.get_by_role("checkbox", name="Seal", exact=True)).to_be_checked()
        expect(panel.get_by_role("checkbox", name="Bob Babbage")).to_be_checked()
        panel.get_by_role("button", name="Show history").click()
        history = panel.get_by_role("list", name="History")
        for line in (
            "Title: Fix the pump at site B",
            "Status: doing",
            "Ticked Valve",
            "Ticked Seal",
            "Assigned Bob Babbage",
        ):
            expect(history.get_by_text(line)).to_be_visible()
    assert not ada.errors and not bob.errors


def test_a_drag_persists_and_reaches_the_other_person_live_and_the_keyboard_moves_cards(team: Team) -> None:
    ada, bob = team
    open_tasks(ada.page)
    for title in ("Order parts", "Call the client", "Ship the crate"):
        add_task(ada.page, title)
    wait_until_synced(ada.page)
    open_tasks(bob.page)
    expect(column(bob.page, "To do").get_by_role("link")).to_have_count(3)

    # A drag to "Done" is one change: Bob sees it without reloading, Ada still sees it after one.
    crate = ada.page.get_by_role("link", name="Ship the crate")
    task_id = crate.get_attribute("data-task")
    crate.drag_to(column(ada.page, "Done"))
    expect(column(ada.page, "Done").get_by_role("link", name="Ship the crate")).to_be_visible()
    expect(column(bob.page, "Done").get_by_role("link", name="Ship the crate")).to_be_visible()
    wait_until_synced(ada.page)
    versions = ada.page.request.get(f"/api/records/tasks/{task_id}/versions").json()["versions"]
    moves = [v["fields"] for v in versions if "position" in v["fields"]]
    assert len(moves) == 2 and set(moves[1]) == {"position", "status"}  # created, then one change
    ada.page.reload()
    expect(column(ada.page, "Done").get_by_role("link", name="Ship the crate")).to_be_visible()

    # Keyboard only: Shift+Right moves the focused card to the next column, Shift+Down reorders.
    card = ada.page.get_by_role("link", name="Order parts")
    card.focus()
    ada.page.keyboard.press("Shift+ArrowRight")
    expect(column(ada.page, "In progress").get_by_role("link", name="Order parts")).to_be_visible()
    expect(column(bob.page, "In progress").get_by_role("link", name="Order parts")).to_be_visible()
    assert card_titles(ada.page, "To do") == ["Call the client"]
    expect(column(ada.page, "In progress").get_by_role("link", name="Order parts")).to_be_focused()
    column(ada.page, "To do").get_by_role("link", name="Call the client").focus()
    ada.page.keyboard.press("Shift+ArrowRight")
    expect(column(ada.page, "In progress").get_by_role("link")).to_have_count(2)
    moved = column(ada.page, "In progress").get_by_role("link", name="Call the client")
    expect(moved).to_be_focused()  # the card keeps focus in its new column before the next key
    ada.page.keyboard.press("Shift+ArrowDown")
    expect(column(bob.page, "In progress").locator(".task-card__title")).to_have_text(
        ["Order parts", "Call the client"]
    )
    expect(moved).to_be_focused()
    ada.page.keyboard.press("Shift+ArrowUp")
    expect(column(bob.page, "In progress").locator(".task-card__title")).to_have_text(
        ["Call the client", "Order parts"]
    )
    assert not ada.errors and not bob.errors


def test_a_comment_attaches_a_file_to_the_task_and_a_deleted_task_is_restored(team: Team) -> None:
    ada, bob = team
    open_tasks(ada.page)
    add_task(ada.page, "Photograph the leak")
    wait_until_synced(ada.page)
    open_tasks(bob.page)
    bob.page.get_by_role("link", name="Photograph the leak").click()
    ada.page.get_by_role("link", name="Photograph the leak").click()
    panel = details(ada.page)
    # Attachments are files of the task's comments: the same upload queue and cards as chat.
    panel.get_by_label("Attach files").set_input_files(
        files=[{"name": "leak notes.txt", "mimeType": "text/plain", "buffer": b"valve 3 drips"}]
    )
    panel.get_by_role("textbox", name="Comment").fill("Notes from the site")
    panel.get_by_role("button", name="Send comment").click()
    for page in (ada.page, bob.page):
        attachments = details(page).get_by_role("region", name="Attachments")
        expect(attachments.get_by_role("link", name="Download leak notes.txt")).to_be_visible()
    wait_until_synced(ada.page)

    # Deleted, then restored by its creator from the list's deleted tasks: a new task, same title.
    panel.get_by_role("button", name="Delete task").click()
    expect(panel.get_by_text("Deleted", exact=True)).to_be_visible()
    ada.page.get_by_role("button", name="List", exact=True).click()
    ada.page.get_by_label("Deleted tasks").check()
    ada.page.get_by_role("link", name="Photograph the leak").click()
    details(ada.page).get_by_role("button", name="Restore task").click()
    restored = details(ada.page)
    expect(restored.get_by_label("Title", exact=True)).to_have_value("Photograph the leak")
    expect(restored.get_by_role("link", name="the deleted task")).to_be_visible()
    ada.page.get_by_label("Deleted tasks").uncheck()
    expect(ada.page.get_by_role("table").get_by_role("link", name="Photograph the leak")).to_be_visible()
    assert not ada.errors and not bob.errors
