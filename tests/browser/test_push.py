"""Web Push in real Chromium: turning notifications on from a click, a push delivered to the
service worker through the DevTools protocol (ServiceWorker.deliverPushMessage), one notification
per conversation, a click that opens the message, the badge, and a subscribe() that hangs.

Chromium cannot reach a real push service here, so ``pushManager.subscribe`` is replaced (before
the page loads) by one that returns a subscription of the local push service of the integration
tests; the server sends to it with real VAPID and encryption, the service decrypts, and the test
hands the plaintext to the service worker as a push service would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import (
    OpenDevice,
    Person,
    open_channel,
    send_message,
    serving,
    sign_in,
    until,
    wait_until_synced,
)
from tests.integration.push_service import PushService, Subscription

pytestmark = pytest.mark.browser


@pytest.fixture
def push() -> Iterator[PushService]:
    service = PushService()
    yield service
    service.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The conftest's server, in push test mode (it may send to the local push service)."""
    with serving(tmp_path / "data", "--push-test-mode") as url:
        yield url


def stub_push(context: BrowserContext, server: str, sub: Subscription | None) -> None:
    """Grant notifications and make pushManager.subscribe return ``sub`` (None: never answer).
    The badge calls are recorded in ``window.badges``."""
    context.grant_permissions(["notifications", "background-sync"], origin=server)
    given = json.dumps(sub.json() if sub else None)
    context.add_init_script(f"""
      (() => {{
        const given = {given};
        let current = null;
        const fake = (json) => ({{
          endpoint: json.endpoint, toJSON: () => json, unsubscribe: async () => ((current = null), true) }});
        PushManager.prototype.subscribe = function () {{
          if (!given) return new Promise(() => {{}});
          current = fake(given);
          return Promise.resolve(current);
        }};
        PushManager.prototype.getSubscription = function () {{ return Promise.resolve(current); }};
        window.badges = [];
        navigator.setAppBadge = (n) => (window.badges.push(n), Promise.resolve());
        navigator.clearAppBadge = () => (window.badges.push(0), Promise.resolve());
      }})();
    """)


def to_worker(context: BrowserContext, page: Page, server: str, method: str, params: dict[str, Any]) -> None:
    """Send a ServiceWorker.* DevTools command for the app's registration (`page` may be any page
    of the context, about:blank included: the app need not be open)."""
    cdp = context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not any(not r.get("isDeleted") for r in registrations):
        assert time.monotonic() < deadline, "no service worker registration"
        page.wait_for_timeout(50)
    live = next(r for r in registrations if not r.get("isDeleted"))
    cdp.send(method, {"origin": server, "registrationId": live["registrationId"], **params})
    cdp.detach()


def deliver(context: BrowserContext, page: Page, server: str, payload: dict[str, Any]) -> None:
    """Hand a push to the service worker as the push service would."""
    to_worker(context, page, server, "ServiceWorker.deliverPushMessage", {"data": json.dumps(payload)})


def notifications(page: Page) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = page.evaluate("""async () => {
        const r = await navigator.serviceWorker.ready;
        return (await r.getNotifications()).map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data}));
    }""")
    return result


def turn_on(person: Person) -> None:
    person.page.goto("/#/devices")
    person.page.get_by_role("button", name="Turn on notifications").click()
    expect(person.page.get_by_text("Notifications are on for this device.")).to_be_visible()


def test_a_push_shows_one_notification_per_conversation_and_a_click_opens_the_message(
    team: tuple[Person, Person], people: OpenDevice, server: str, push: PushService
) -> None:
    ada, bob = team
    sub = push.subscription()
    stub_push(bob.context, server, sub)
    bob.page.reload()
    wait_until_synced(bob.page)
    assert notifications(bob.page) == []  # nothing asked on load
    turn_on(bob)
    receiving = bob.page.get_by_role("list", name="Devices that receive notifications")
    expect(receiving.get_by_role("listitem")).to_have_count(1)
    bob.page.goto("about:blank")  # Bob closes TeamTalk: pushes are no longer held back

    open_channel(ada.page, "general")
    send_message(ada.page, "@Bob Babbage the crane arrives at 9")
    push.wait_for(lambda: len(push.to(sub)) == 1)
    first = push.to(sub)[0].payload
    page = bob.context.new_page()
    page.goto("/#/")
    deliver(bob.context, page, server, first)
    until(page, "navigator.serviceWorker.ready.then(r => r.getNotifications()).then(n => n.length === 1)")
    shown = notifications(page)
    assert [(n["title"], n["body"], n["tag"]) for n in shown] == [
        ("New message in #general", "Ada Lovelace: @Bob Babbage the crane arrives at 9", first["tag"])
    ]

    page.goto("about:blank")
    send_message(ada.page, "@Bob Babbage and the concrete at 10")
    push.wait_for(lambda: len(push.to(sub)) == 2, timeout_s=15)
    second = push.to(sub)[1].payload
    page.goto("/#/devices")
    deliver(bob.context, page, server, second)
    until(
        page,
        "navigator.serviceWorker.ready.then(r => r.getNotifications())"
        ".then(n => n.length === 1 && n[0].title.startsWith('2 new'))",
    )
    assert [(n["title"], n["tag"]) for n in notifications(page)] == [("2 new messages in #general", first["tag"])]

    # The click: the open page is focused and goes to the message.
    worker = bob.context.service_workers[0]
    worker.evaluate("""async () => {
        const [note] = await self.registration.getNotifications();
        self.dispatchEvent(new NotificationEvent('notificationclick', { notification: note }));
    }""")
    expect(page).to_have_url(f"{server}{second['url']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("general")
    until(page, "navigator.serviceWorker.ready.then(r => r.getNotifications()).then(n => n.length === 0)")


def test_the_badge_follows_reads_made_on_another_device(
    team: tuple[Person, Person], people: OpenDevice, server: str, push: PushService
) -> None:
    ada, bob = team
    stub_push(bob.context, server, push.subscription())
    bob.page.goto("/#/devices")
    bob.page.reload()
    wait_until_synced(bob.page)
    open_channel(ada.page, "general")
    send_message(ada.page, "news for everyone")
    until(bob.page, "window.badges.at(-1) === 1")
    phone = people("Bob")
    sign_in(phone.page, bob.email)
    open_channel(phone.page, "general")  # read on the phone
    until(bob.page, "window.badges.at(-1) === 0")


def test_a_subscribe_that_never_answers_says_so_plainly_within_10_s(team: tuple[Person, Person], server: str) -> None:
    _, bob = team
    stub_push(bob.context, server, None)
    bob.page.goto("/#/devices")
    bob.page.reload()
    wait_until_synced(bob.page)
    started = time.monotonic()
    bob.page.get_by_role("button", name="Turn on notifications").click()
    expect(bob.page.get_by_text("The browser's push service did not answer.", exact=False)).to_be_visible(
        timeout=11_000
    )
    assert time.monotonic() - started <= 11
    expect(bob.page.get_by_role("button", name="Turn on notifications")).to_be_visible()  # try again later
    open_channel(bob.page, "general")
    send_message(bob.page, "everything else still works")


# In the service worker, record what it sets on the app icon (there is no way to read a badge
# back): the worker stays the same instance while DevTools is attached to it, which the
# `self.badges` check in `in_worker` confirms at every read. It also keeps a trace of the
# notifications the worker shows, closes and lists (`self.trace`), printed when a check fails.
RECORD_BADGES = """() => {
    self.badges = [];
    self.trace = [];
    const at = () => performance.now() | 0;
    const show = self.registration.showNotification.bind(self.registration);
    self.registration.showNotification = (title, o) => {
        self.trace.push(['show', o.tag, at()]);
        return show(title, o).then((r) => (self.trace.push(['shown', o.tag, at()]), r));
    };
    const close = Notification.prototype.close;
    Notification.prototype.close = function () {
        self.trace.push(['close', this.tag, at()]);
        return close.call(this);
    };
    self.addEventListener('push', () => self.trace.push(['push', at()]));
    // The app's own listing (sw/reads.js closeRead: the last step of a push's handling) is
    // recorded; the test lists through the original, so its polling leaves the record alone.
    self.listNotifications = self.registration.getNotifications.bind(self.registration);
    self.registration.getNotifications = (o) =>
        self.listNotifications(o).then((n) => (self.trace.push(['listed', n.length]), n));
    self.navigator.setAppBadge = (n) => (self.badges.push(n), Promise.resolve());
    self.navigator.clearAppBadge = () => (self.badges.push(0), Promise.resolve());
}"""


# The worker's next POST /api/sync gets a 500 (counted in `self.failedSyncs`); the ones after it
# reach the server.
FAIL_NEXT_SYNC = """() => {
    const real = self.fetch.bind(self);
    self.failedSyncs = 0;
    self.fetch = (input, init) => {
        const url = typeof input === 'string' ? input : input.url;
        if (self.failedSyncs === 0 && new URL(url, self.location.href).pathname === '/api/sync') {
            self.failedSyncs += 1;
            const body = JSON.stringify({ error: 'internal', detail: 'database is locked' });
            const headers = { 'content-type': 'application/json' };
            return Promise.resolve(new Response(body, { status: 500, headers }));
        }
        return real(input, init);
    };
}"""


def in_worker(context: BrowserContext, expression: str, timeout_s: float = 30) -> None:
    """Wait until `expression` holds in the app's service worker (no page needs to be open).
    30 s: after a push the worker waits up to 10 s for the leader lock (sw.js), then syncs the
    replica before it closes anything; on a busy machine that took more than 15 s."""
    deadline = time.monotonic() + timeout_s
    while True:
        (worker,) = context.service_workers
        state = worker.evaluate(f"async () => [Array.isArray(self.badges), Boolean(await ({expression}))]")
        assert state[0], "the service worker restarted: its badge record is gone"
        if state[1]:
            return
        if time.monotonic() >= deadline:
            seen = worker.evaluate(
                "async () => ({badges: self.badges, trace: self.trace,"
                " shown: (await self.listNotifications()).map((n) => [n.tag, n.data && n.data.channel, n.body])})"
            )
            raise AssertionError(f"still false in the service worker: {expression}; it has {seen}")
        time.sleep(0.05)


def read_on(device: Person, channel: str) -> None:
    """`device` shows `channel` until its read cursor there has reached the server."""
    device.page.evaluate(f"location.hash = '#/c/{channel}'")
    until(
        device.page,
        f"teamtalk.app.queries.readCursor('{channel}') > 0 && teamtalk.app.queries.unread('{channel}') === 0"
        " && teamtalk.app.store.outboxSize.value === 0 && teamtalk.app.store.writing.value === 0",
    )


def test_with_the_app_closed_a_push_or_a_sync_closes_what_was_read_elsewhere_and_the_badge_follows(
    team: tuple[Person, Person], people: OpenDevice, server: str, push: PushService
) -> None:
    ada, bob = team
    sub = push.subscription()
    stub_push(bob.context, server, sub)
    bob.page.reload()
    wait_until_synced(bob.page)
    me = bob.page.evaluate("() => teamtalk.app.queries.me.value")
    general = bob.page.evaluate("() => teamtalk.app.queries.myChannels.value.find((c) => c.name === 'general').id")
    turn_on(bob)
    bob.page.goto("about:blank")  # Bob closes TeamTalk on his laptop
    bob.context.service_workers[0].evaluate(RECORD_BADGES)

    open_channel(ada.page, "general")
    send_message(ada.page, "@Bob Babbage the crane arrives at 9")
    push.wait_for(lambda: len(push.to(sub)) == 1)
    deliver(bob.context, bob.page, server, push.to(sub)[0].payload)
    # Look only once the push's handling has listed the notifications itself (closeRead, its last
    # step). Polling getNotifications while the worker was still showing one lost it in about one
    # run in twelve under load: the app had shown the DM's and closed only #general's (traced),
    # yet the list came back empty. The test's polling, not the app, was what raced.
    handled = "self.trace.filter((e) => e[0] === 'listed').length >= {}"
    in_worker(bob.context, handled.format(1))
    shown = "self.listNotifications().then((n) => n.map((x) => x.data.channel).join())"
    in_worker(bob.context, f"{shown}.then((c) => c === '{general}')")
    in_worker(bob.context, "self.badges.at(-1) === 1")  # the worker synced the replica: one unread

    # Bob reads #general on his phone; then a DM comes: its push closes the #general notification.
    phone = people("Bob")
    sign_in(phone.page, bob.email)
    read_on(phone, general)
    dm = ada.page.evaluate(
        """async (bob) => {
            const actions = teamtalk.app.actions;
            const dm = await actions.startDirectMessage(bob);
            await actions.sendMessage(dm, 'are you on site?');
            return dm;
        }""",
        me,
    )
    push.wait_for(lambda: len(push.to(sub)) == 2, timeout_s=15)
    deliver(bob.context, bob.page, server, push.to(sub)[1].payload)
    in_worker(bob.context, handled.format(2))
    in_worker(bob.context, f"{shown}.then((c) => c === '{dm}')")
    in_worker(bob.context, "self.badges.at(-1) === 1")  # the DM's message only

    # Bob reads the DM on his phone; the next sync that reaches the laptop (Background Sync,
    # still with no page open) closes its notification and clears the badge, even when the
    # server fails its first try (a 500, as "database is locked" was: sw.js tries again).
    read_on(phone, dm)
    bob.context.service_workers[0].evaluate(FAIL_NEXT_SYNC)
    to_worker(bob.context, bob.page, server, "ServiceWorker.dispatchSyncEvent", {"tag": "outbox", "lastChance": False})
    in_worker(bob.context, f"{shown}.then((c) => c === '')")
    in_worker(bob.context, "self.badges.at(-1) === 0")
    in_worker(bob.context, "self.failedSyncs === 1")  # the 500 above was met, and the worker tried again


def test_a_page_that_opens_before_its_replica_has_the_message_leaves_its_notification(
    team: tuple[Person, Person], server: str, push: PushService
) -> None:
    """A notification is closed as read only by a replica that holds its message: nothing unread
    in a replica that has not heard of the message yet is not "read". A page opening as a push
    landed used to close it from its first counts, before its replica had loaded or synced (a CI
    failure of the test above). Offline here, so that the page's replica stays without it."""
    ada, bob = team
    sub = push.subscription()
    stub_push(bob.context, server, sub)
    bob.page.reload()
    wait_until_synced(bob.page)
    turn_on(bob)
    bob.page.goto("about:blank")
    bob.context.service_workers[0].evaluate(RECORD_BADGES)

    open_channel(ada.page, "general")
    send_message(ada.page, "@Bob Babbage the crane arrives at 9")
    push.wait_for(lambda: len(push.to(sub)) == 1)
    payload = push.to(sub)[0].payload
    bob.context.set_offline(True)  # the push still comes (DevTools); no sync brings the message in
    deliver(bob.context, bob.page, server, payload)
    in_worker(bob.context, "self.trace.some((e) => e[0] === 'listed')")  # the push is handled
    in_worker(bob.context, f"self.listNotifications().then((n) => n.length === 1 && n[0].tag === '{payload['tag']}')")

    page = bob.context.new_page()
    page.goto("/#/")  # from the worker's cache
    until(page, "teamtalk.app.phase.value === 'ready'")
    assert page.evaluate(f"() => teamtalk.app.store.shown('messages', '{payload['id']}')") is None
    # The page follows its unread counts into the notifications when it is idle (main.js): let
    # two idle turns pass, so that the follow-up of its first counts has run.
    page.evaluate(
        "() => new Promise((r) => requestIdleCallback(() => requestIdleCallback(r, {timeout: 2000}), {timeout: 2000}))"
    )
    assert [n["tag"] for n in notifications(page)] == [payload["tag"]]

    bob.context.set_offline(False)  # the page syncs the message in: still unread, still shown
    until(page, f"teamtalk.app.store.shown('messages', '{payload['id']}') !== null")
    page.evaluate(
        "() => new Promise((r) => requestIdleCallback(() => requestIdleCallback(r, {timeout: 2000}), {timeout: 2000}))"
    )
    assert [n["tag"] for n in notifications(page)] == [payload["tag"]]
