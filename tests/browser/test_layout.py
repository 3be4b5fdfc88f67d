"""Every main view fits and works on a phone: the layout test of frontend/README.md ("Phone-first rules").

Real Chromium with touch emulation at 360 x 740 and 390 x 844, and a mouse at 1280 x 800, each in
light and dark. One server and one seeded workspace for the module; per viewport one browser
context signs in as a new device and visits every view. Each view must pass layout_audit.js (no
sideways scroll, every control in the screen, unclipped and reachable by a tap on its centre,
targets of 44 x 44 on touch and 24 x 24 with a mouse, the dense exceptions in DENSE, links in
running text in INLINE) and axe-core.
A screenshot of each view goes to test-artifacts/layout/ (gitignored) for a person to look at.

Adding a view: add it to VIEWS (how to reach it, what says it is there); a new dense exception
needs a reason in DENSE and a review.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import (
    PASSWORD,
    ROOT,
    axe_violations,
    channel_link,
    invite_link,
    serving,
    sign_up,
    wait_until_synced,
)
from tests.browser.test_meeting_places import in_meeting

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts" / "layout"
AUDIT = (Path(__file__).parent / "layout_audit.js").read_text(encoding="utf-8")

#: The reviewed exceptions to 44 x 44: 24 x 24 at least, and overlapping no other target (WCAG 2.5.8).
DENSE = {
    ".reaction": "reaction chips: a row of many under one message; each keeps its spacing",
    ".msg__edited": "the '(edited)' note beside a message's text, a link-sized aside",
}
#: Links in running text: the size of the text around them (WCAG's "inline" exception).
INLINE = {
    ".msg__text a": "a link someone wrote in a message",
}
#: Out of sight until focused (then shown at full size): not a target for a finger.
HIDDEN_UNTIL_FOCUSED = (".skip-link", ".msg__open-sheet")

CHANNEL = "field-operations-north-depot-night-shift"
TOPIC = "Handover notes, gate camera reports and anything the morning crew must know before six"
LONG_LINK = "https://example.com/" + "reports/north-depot/" * 6 + "gate-camera.log"


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int
    touch: bool

    @property
    def min_target(self) -> int:
        return 44 if self.touch else 24


VIEWPORTS = [
    Viewport("phone-360", 360, 740, True),
    Viewport("phone-390", 390, 844, True),
    Viewport("desktop-1280", 1280, 800, False),
]


@dataclass(frozen=True)
class Workspace:
    url: str
    email: str
    channel: str
    parent: str


def _seed(page: Page, bob_page: Page) -> tuple[str, str]:
    """A channel with a long name and topic, messages of every kind, a thread, reactions, a pin, a mention."""
    channel, parent = page.evaluate(
        """async ([name, topic, link]) => {
            const app = teamtalk.app;
            const channel = await app.actions.createChannel({ name, topic });
            const say = (text, thread = null) => app.actions.sendMessage(channel, text, { thread });
            await say('Night shift handover: gate 3 sensor reset at 02:10, all clear since.');
            await say('Camera log for the record: ' + link);
            await say('```\\nERROR gate-camera-north-03 timeout after 30000 ms fetching frame 118734 of main\\n```');
            await say('Who can check the fence line by the loading bay before the morning crew arrives?');
            const find = (text) => app.queries.messages(channel).find((m) => m.text.startsWith(text)).id;
            const parent = find('Who can check');
            await say('I can, after the 5am round.', parent);
            await app.actions.toggleReaction(find('Night shift'), '👍');
            await app.actions.toggleReaction(find('Night shift'), '✅');
            await app.actions.setPinned(find('Night shift'), true);
            return [channel, parent];
        }""",
        [CHANNEL, TOPIC, LONG_LINK],
    )
    wait_until_synced(page)
    bob_page.evaluate(
        """async (channel) => {
            const app = teamtalk.app;
            await app.actions.joinChannel(channel);
            await app.actions.sendMessage(channel, 'Gate camera at the north depot is offline again.');
            const general = app.queries.myChannels.value.find((c) => c.name === 'general').id;
            await app.actions.sendMessage(general, '@Ada Lovelace can you look at the north depot gate camera?');
        }""",
        channel,
    )
    wait_until_synced(bob_page)
    return str(channel), str(parent)


@pytest.fixture(scope="module")
def workspace(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with serving(tmp_path_factory.mktemp("layout") / "data") as url:
        contexts = [browser.new_context(base_url=url, locale="en-US") for _ in range(2)]
        ada, bob = (context.new_page() for context in contexts)
        sign_up(ada, "Ada Lovelace", "ada@example.com")
        sign_up(bob, "Bob Babbage", "bob@example.com", invite=invite_link(ada))
        channel, parent = _seed(ada, bob)
        session = {c["name"]: c["value"] for c in contexts[1].cookies()}["tt_session"]
        for context in contexts:
            context.close()
        # A meeting that ended and one going on: their rows in the channel, its bar and sidebar mark.
        with in_meeting(url, channel, f"tt_session={session}"):
            pass
        with in_meeting(url, channel, f"tt_session={session}"):
            yield Workspace(url, "ada@example.com", channel, parent)


def open_device(browser: Browser, workspace: Workspace, viewport: Viewport) -> BrowserContext:
    return browser.new_context(
        base_url=workspace.url,
        viewport={"width": viewport.width, "height": viewport.height},
        has_touch=viewport.touch,
        is_mobile=viewport.touch,
        locale="en-US",
    )


def audit(page: Page, viewport: Viewport, view: str) -> list[str]:
    """The layout audit and axe, in light and in dark, with a screenshot of each."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        found: list[str] = page.evaluate(
            f"({AUDIT})",
            {
                "min": viewport.min_target,
                "dense": ", ".join(DENSE),
                "inline": ", ".join(INLINE),
                "hiddenUntilFocused": ", ".join(HIDDEN_UNTIL_FOCUSED),
            },
        )
        found += [f"axe {v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in axe_violations(page)]
        problems += [f"{viewport.name} {scheme} {view}: {p}" for p in found]
        page.screenshot(path=ARTIFACTS / f"{viewport.name}-{view}-{scheme}.png")
    page.emulate_media(color_scheme="light")
    return problems


def _go(page: Page, hash_: str) -> None:
    page.evaluate("(hash) => { location.hash = hash; }", hash_)


# Every main view: how a signed-in device reaches it, waiting until it shows its content.


def channel_list(page: Page, ws: Workspace) -> None:
    _go(page, "#/")
    expect(channel_link(page, CHANNEL)).to_be_visible()


def channel(page: Page, ws: Workspace) -> None:
    channel_link(page, CHANNEL).click()
    expect(page.get_by_role("log").get_by_role("listitem").filter(has_text="offline again")).to_be_visible()
    expect(page.get_by_role("log").get_by_role("group", name="Meeting in progress · 1 person")).to_be_visible()


def thread(page: Page, ws: Workspace) -> None:
    _go(page, f"#/c/{ws.channel}/t/{ws.parent}")
    expect(page.get_by_role("complementary", name="Thread").get_by_text("after the 5am round")).to_be_visible()


def search(page: Page, ws: Workspace) -> None:
    _go(page, "#/search")
    page.get_by_label("Search words").fill("gate")
    page.get_by_role("button", name="Search messages").click()
    expect(page.get_by_role("list", name="Search results").get_by_role("listitem").first).to_be_visible()


def mentions(page: Page, ws: Workspace) -> None:
    _go(page, "#/mentions")
    expect(page.get_by_role("list", name="Mentions").get_by_role("listitem")).to_have_count(1)


def devices(page: Page, ws: Workspace) -> None:
    _go(page, "#/devices")
    expect(page.locator(".card-list__item").first).to_be_visible()


def files(page: Page, ws: Workspace) -> None:
    """A channel's Files view, after sharing a small PNG through the composer (in #general: the
    other views count on the seeded channel's last messages)."""
    _go(page, "#/")
    channel_link(page, "general").click()
    page.get_by_label("Attach files").set_input_files(
        files=[{"name": "gate-photo.png", "mimeType": "image/png", "buffer": _PNG}]
    )
    page.get_by_role("textbox", name="Message").fill("photo of the gate")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("log").get_by_role("link", name="Open gate-photo.png").first).to_be_visible()
    opener = page.get_by_role("button", name="Files", exact=True)
    if not opener.is_visible():
        page.get_by_role("button", name="More").click()
    opener.click()
    expect(page.get_by_role("list", name="Files").get_by_role("listitem").first).to_be_visible()


#: A 2 x 2 PNG (the files view needs one file to list).
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a730000001649444154789c63e43ac1c5c0"
    "c0c0c4c0c0c0c0c000000a7a00e0fe70df820000000049454e44ae426082"
)


def tasks(page: Page, ws: Workspace) -> None:
    """The channel's board; the first visit adds a task with a checklist, assigned and overdue."""
    page.evaluate(
        """async (channel) => {
            const app = teamtalk.app;
            if ((app.tasks.byChannel.value.get(channel) ?? []).length) return;
            const title = 'Replace the north depot gate camera before the morning shift';
            const id = await app.taskActions.create(channel, { title });
            await app.taskActions.update(id, { due: '2020-01-01', priority: 'high', description: 'See **log**.' });
            await app.taskActions.addItem(id, 'Order the camera');
            await app.taskActions.assign(id, app.queries.me.value, true);
            await app.taskActions.label(id, 'hardware', true);
        }""",
        ws.channel,
    )
    _go(page, f"#/c/{ws.channel}/tasks")
    expect(page.get_by_role("region", name="To do", exact=True).get_by_role("link").first).to_be_visible()


def task(page: Page, ws: Workspace) -> None:
    page.get_by_role("region", name="To do", exact=True).get_by_role("link").first.click()
    expect(page.get_by_role("region", name="Task details").get_by_label("Title", exact=True)).to_be_visible()


def my_tasks(page: Page, ws: Workspace) -> None:
    _go(page, "#/tasks")
    expect(page.get_by_role("heading", name="Overdue")).to_be_visible()


def calendar(page: Page, ws: Workspace) -> None:
    _go(page, "#/calendar")
    expect(page.get_by_role("group", name="Calendar view")).to_be_visible()
    page.get_by_role("group", name="Calendar view").get_by_role("button", name="Month").click()
    expect(page.get_by_role("grid")).to_be_visible()


def calendar_week(page: Page, ws: Workspace) -> None:
    """The hour grid (three days on a phone): today's timed event, an all-day one and a task due
    today; the first visit adds them."""
    page.evaluate(
        """async (channel) => {
            const app = teamtalk.app;
            if (app.queries.record('events', '01JLAYOUTSHIFT000000000000')) return;
            const today = new Date(Date.now() - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
            const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
            const calendar = `c:${channel}`;
            await app.actions.writeChanges([
                { collection: 'events', id: '01JLAYOUTSHIFT000000000000', fields: { calendar, tz,
                  title: 'Gate camera swap at the north depot', start: `${today}T09:00`, end: `${today}T10:30` } },
                { collection: 'events', id: '01JLAYOUTFAIR0000000000000', fields: { calendar, title: 'Depot open day',
                  start: today } },
            ]);
            const task = await app.taskActions.create(channel, { title: 'Order the replacement camera' });
            await app.taskActions.update(task, { due: today });
        }""",
        ws.channel,
    )
    _go(page, "#/calendar")
    page.get_by_role("group", name="Calendar view").get_by_role("button", name="Week").click()
    expect(page.locator(".cal-hours__slot .cal-item").first).to_be_visible()


def meeting(page: Page, ws: Workspace) -> None:
    """The preview before joining (no camera here: it says so, which the layout must hold too),
    of the meeting going on in the channel."""
    _go(page, f"#/c/{ws.channel}/meet")
    expect(page.get_by_role("button", name="Join meeting")).to_be_visible()


#: Every main view after sign-in, in the order one device visits them. A new view goes here.
VIEWS: list[tuple[str, Callable[[Page, Workspace], None]]] = [
    ("channel-list", channel_list),
    ("channel", channel),
    ("thread", thread),
    ("search", search),
    ("mentions", mentions),
    ("devices", devices),
    ("files", files),
    ("tasks", tasks),
    ("task", task),
    ("my-tasks", my_tasks),
    ("calendar", calendar),
    ("calendar-week", calendar_week),
    ("meeting", meeting),
]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: v.name)
def test_every_view_fits_the_screen_and_every_target_can_be_hit(
    browser: Browser, workspace: Workspace, viewport: Viewport
) -> None:
    context = open_device(browser, workspace, viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto("/")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        problems = audit(page, viewport, "sign-in")
        page.get_by_label("Email").fill(workspace.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        wait_until_synced(page)
        for view, reach in VIEWS:
            reach(page, workspace)
            problems += audit(page, viewport, view)
    finally:
        context.close()
    assert problems == [], "\n" + "\n".join(problems)
    assert errors == []


def hold(page: Page, x: float, y: float, until: Callable[[], None]) -> None:
    """A finger pressed at (x, y) until `until` passes (a long press), then lifted."""
    cdp = page.context.new_cdp_session(page)
    point = [{"x": x, "y": y}]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": point})
    try:
        until()
    finally:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        cdp.detach()


def swipe(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    cdp = page.context.new_cdp_session(page)
    steps = 6
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": start[0], "y": start[1]}]})
    for i in range(1, steps + 1):
        x = start[0] + (end[0] - start[0]) * i / steps
        y = start[1] + (end[1] - start[1]) * i / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_one_handed_on_a_phone(browser: Browser, workspace: Workspace) -> None:
    """Long press for a message's actions, "More" for the header's, a swipe from the edge to go back,
    and the composer in sight when the keyboard takes half the screen."""
    viewport = VIEWPORTS[0]
    context = open_device(browser, workspace, viewport)
    page = context.new_page()
    try:
        page.goto("/")
        page.get_by_label("Email").fill(workspace.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        wait_until_synced(page)
        channel_link(page, CHANNEL).tap()
        row = page.get_by_role("log").get_by_role("listitem").filter(has_text="Night shift handover")

        # The title is one line, cut with an ellipsis; a tap shows it whole.
        name = page.locator(".main__name")
        assert page.evaluate("(el) => el.scrollWidth > el.clientWidth", name.element_handle())
        name.tap()
        expect(page.locator(".main__heading")).to_have_class(re.compile(r"\bmain__heading--whole\b"))

        # A long press opens the message's action sheet, every action in it.
        text = row.locator(".msg__text")
        text.scroll_into_view_if_needed()
        expect(text).to_be_in_viewport()
        # Press on the part of the text the message list shows (the list may keep a row half in view).
        x, y = page.evaluate(
            """(el) => {
            const r = el.getBoundingClientRect();
            const v = el.closest('.messages').getBoundingClientRect();
            return [r.left + 20, (Math.max(r.top, v.top) + Math.min(r.bottom, v.bottom)) / 2];
        }""",
            text.element_handle(),
        )
        sheet = page.get_by_role("dialog", name="Message actions")
        hold(page, x, y, lambda: expect(sheet).to_be_visible())
        for action in ("Copy text", "Edit message", "Delete message", "Unpin message", "Mark unread from here"):
            expect(sheet.get_by_role("button", name=action)).to_be_visible()
        expect(sheet.get_by_role("link", name="Reply in thread")).to_be_visible()
        problems = audit(page, viewport, "message-sheet")
        sheet.get_by_role("button", name="React with 🎉").tap()
        expect(sheet).to_have_count(0)
        expect(row.locator('.reaction[data-emoji="🎉"] .reaction__count')).to_have_text("1")

        # The header's secondary actions are in "More".
        page.get_by_role("button", name="More").tap()
        more = page.get_by_role("dialog", name="More")
        for action in ("Pinned (1)", "Notifications", "Leave"):
            expect(more.get_by_role("button", name=action)).to_be_visible()
        problems += audit(page, viewport, "more")
        more.get_by_role("button", name="Notifications").tap()
        notify = page.get_by_role("dialog", name="Notifications")
        expect(notify.get_by_role("radio", name="Mentions only")).to_be_visible()
        problems += audit(page, viewport, "notifications")
        page.keyboard.press("Escape")
        expect(notify).to_have_count(0)

        # The on-screen keyboard takes the bottom half: the composer stays in sight above it.
        page.set_viewport_size({"width": viewport.width, "height": viewport.height // 2})
        for control in (page.get_by_role("textbox", name="Message"), page.get_by_role("button", name="Send")):
            expect(control).to_be_in_viewport(ratio=1)

        # A swipe in from the left edge goes back to the channel list.
        page.set_viewport_size({"width": viewport.width, "height": viewport.height})
        swipe(page, (4, 400), (200, 410))
        expect(page.get_by_role("log")).to_have_count(0)
        expect(channel_link(page, CHANNEL)).to_be_in_viewport()
    finally:
        context.close()
    assert problems == [], "\n" + "\n".join(problems)
