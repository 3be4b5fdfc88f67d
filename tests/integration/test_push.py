"""Web Push end to end: the real app and SQLite, a local push service that checks VAPID and
decrypts every push (push_service.py). What notifies, what holds a push back, failures, bounds."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.app import create_app
from backend.settings import Settings
from backend.storage.sqlite import SqliteStorage
from sync_protocol.collections import dm_id, follow_id, member_id, notices_id, pref_id
from tests.integration.conftest import Person, Workspace
from tests.integration.push_service import PushService, Subscription

GAP_MS = 300
_ids = itertools.count(1)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    settings = Settings(data_dir=tmp_path, frontend_dir=tmp_path / "none", push_test_mode=True, push_gap_ms=GAP_MS)
    workspace = Workspace(create_app(settings), tmp_path)
    yield workspace
    workspace.close()


def subscribe(person: Person, push: PushService, lang: str = "en") -> Subscription:
    sub = push.subscription()
    reply = person.client.post("/api/push/subscriptions", json=sub.json(lang), headers=person.csrf)
    assert reply.status_code == 201, reply.text
    return sub


def post(person: Person, channel: str, text: str, **fields: Any) -> str:
    message_id = f"01M{next(_ids):06d}"
    reply = person.sync(person.change("messages", message_id, {"channel": channel, "text": text, **fields}))
    assert reply.status_code == 200 and reply.json()["acks"], reply.text
    return message_id


def write(person: Person, collection: str, record_id: str, fields: dict[str, Any]) -> None:
    reply = person.sync(person.change(collection, record_id, fields))
    assert reply.status_code == 200 and reply.json()["acks"], reply.text


def dm(a: Person, b: Person) -> str:
    channel = dm_id(a.user, b.user)
    reply = a.sync(
        a.change("channels", channel, {"name": "", "kind": "dm"}),
        a.change("members", member_id(channel, a.user), {"channel": channel, "user": a.user}),
        a.change("members", member_id(channel, b.user), {"channel": channel, "user": b.user}),
    )
    assert reply.status_code == 200 and len(reply.json()["acks"]) == 3, reply.text
    return channel


def channel(owner: Person, name: str, *others: Person) -> str:
    channel_id = f"01C{name.upper().replace('-', '')}"
    changes = [owner.change("channels", channel_id, {"name": name, "kind": "public"})]
    changes += [
        owner.change("members", member_id(channel_id, p.user), {"channel": channel_id, "user": p.user})
        for p in (owner, *others)
    ]
    reply = owner.sync(*changes)
    assert reply.status_code == 200 and len(reply.json()["acks"]) == len(changes), reply.text
    return channel_id


def settle(ws: Workspace) -> None:
    """Wait until the producer has read the whole log and nothing is queued: every push that the
    commits so far cause has been answered."""
    found = ws.app.state["services"]
    deadline = time.monotonic() + 10
    while True:
        store = ws.store()
        try:
            head, due = store.log_head(), found.followers.queue.next_push_due()
        finally:
            store.close()
        if found.followers.progress.push >= head and due is None:
            return
        assert time.monotonic() < deadline, "pushes did not settle"
        time.sleep(0.01)


def test_a_dm_notifies_the_other_persons_devices_with_an_encrypted_vapid_signed_push(
    ws: Workspace, push: PushService
) -> None:
    ada, bob = ws.join("Ada"), ws.join("Bob")
    bob_laptop = ws.another_device(bob)
    ada_phone = ws.another_device(ada)
    phone, laptop, adas = subscribe(bob, push), subscribe(bob_laptop, push), subscribe(ada_phone, push)
    key = bob.client.get("/api/push/key").json()["key"]
    room = dm(ada, bob)
    message = post(ada, room, "Lunch at noon?")
    push.wait_for(lambda: bool(push.to(phone)) and bool(push.to(laptop)))
    for sub in (phone, laptop):
        got = push.to(sub)[0]
        assert got.payload == {
            "title": "New message in Ada",
            "body": "Ada: Lunch at noon?",
            "tag": f"c:{room}",
            "url": f"/#/c/{room}/n/1",
            "count": 1,
            "id": message,
            "channel": room,
        }
        assert got.headers["urgency"] == "high" and int(got.headers["ttl"]) > 0 and got.vapid_key == key
    assert push.to(phone)[0].headers["topic"] == push.to(laptop)[0].headers["topic"]
    settle(ws)
    assert push.to(adas) == []  # the author's own devices never hear of their message


def test_devices_subscribed_or_revoked_between_messages_are_heard_by_the_next(ws: Workspace, push: PushService) -> None:
    # The producer keeps each person's subscriptions in memory between messages (subscribers.py).
    ada, bob = ws.join("Ada"), ws.join("Bob")
    bob_laptop = ws.another_device(bob)
    phone = subscribe(bob, push)
    room = dm(ada, bob)
    post(ada, room, "one")
    push.wait_for(lambda: len(push.to(phone)) == 1)
    laptop = subscribe(bob_laptop, push)  # a device subscribed after Bob's were read
    post(ada, room, "two")
    push.wait_for(lambda: len(push.to(phone)) == 2 and len(push.to(laptop)) == 1)
    mine = next(s["id"] for s in bob.client.get("/api/push/subscriptions").json() if s["this_device"])
    assert bob.client.delete(f"/api/push/subscriptions/{mine}", headers=bob.csrf).status_code == 204
    post(ada, room, "three")
    push.wait_for(lambda: len(push.to(laptop)) == 2)
    settle(ws)
    assert len(push.to(phone)) == 2  # revoked: never called again
    assert push.to(laptop)[-1].payload["body"] == "Ada: three"


def test_channel_levels_mentions_threads_and_mute(ws: Workspace, push: PushService) -> None:
    ada, bob = ws.join("Ada"), ws.join("Bob")
    sub = subscribe(bob, push)
    site = channel(ada, "site-a", bob)
    post(ada, site, "plain: the default level is mentions")
    post(ada, site, "@Bob look", mentions=bob.user)
    push.wait_for(lambda: len(push.to(sub)) >= 1)
    post(ada, site, "@channel all of you", mentions="channel")
    push.wait_for(lambda: push.to(sub)[-1].payload["body"] == "Ada: @channel all of you")
    settle(ws)
    bodies = [r.payload["body"] for r in push.to(sub)]
    assert bodies == ["Ada: @Bob look", "Ada: @channel all of you"]
    assert push.to(sub)[-1].payload["title"] == "3 new messages in #site-a"  # all three are unread

    write(bob, "prefs", pref_id(bob.user, site), {"channel": site, "user": bob.user, "notify": "all"})
    post(ada, site, "with level all, every message")
    push.wait_for(lambda: push.to(sub)[-1].payload["body"] == "Ada: with level all, every message")

    write(bob, "prefs", pref_id(bob.user, site), {"muted": True})
    post(ada, site, "@Bob muted", mentions=bob.user)
    write(bob, "prefs", pref_id(bob.user, site), {"muted": False, "notify": "none"})
    post(ada, site, "@Bob level none", mentions=bob.user)
    settle(ws)
    assert all("muted" not in r.payload["body"] and "none" not in r.payload["body"] for r in push.to(sub))

    write(bob, "prefs", pref_id(bob.user, site), {"notify": "mentions"})
    parent = post(ada, site, "a thread")
    post(ada, site, "reply nobody follows", thread=parent)
    settle(ws)
    assert "Ada: reply nobody follows" not in [r.payload["body"] for r in push.to(sub)]
    write(
        bob, "follows", follow_id(bob.user, parent), {"message": parent, "channel": site, "user": bob.user, "on": True}
    )
    write(bob, "prefs", pref_id(bob.user, site), {"notify": "all"})
    post(ada, site, "reply Bob follows", thread=parent)
    push.wait_for(lambda: push.to(sub)[-1].payload["body"] == "Ada: reply Bob follows")
    got = push.to(sub)[-1]
    assert got.payload["tag"] == f"t:{parent}" and got.payload["url"] == f"/#/c/{site}/t/{parent}/n/2"
    # Both replies are unread in the thread (the follow's read position is 0).
    assert got.payload["title"] == "2 new messages in thread in #site-a" and got.headers["urgency"] == "normal"


def test_do_not_disturb_and_pause_hold_pushes_back_until_they_end(ws: Workspace, push: PushService) -> None:
    ada, bob = ws.join("Ada"), ws.join("Bob")
    sub = subscribe(bob, push, lang="zh-CN")
    room = dm(ada, bob)
    write(bob, "notices", notices_id(bob.user), {"user": bob.user, "paused_until": int(time.time() * 1000) + 3_600_000})
    post(ada, room, "while paused")
    # All day, every day, in Bob's time zone.
    write(
        bob, "notices", notices_id(bob.user), {"paused_until": 0, "dnd_from": 0, "dnd_to": 1439, "tz": "Asia/Shanghai"}
    )
    post(ada, room, "during do-not-disturb")
    settle(ws)
    assert push.to(sub) == []
    renewed = push.subscription()  # the browser rotated the subscription; the renewal names no language
    body = {k: v for k, v in renewed.json().items() if k != "lang"}
    assert bob.client.post("/api/push/subscriptions", json=body, headers=bob.csrf).status_code == 201
    sub = renewed
    write(bob, "notices", notices_id(bob.user), {"dnd_days": "", "preview": "private"})
    post(ada, room, "after do-not-disturb")
    push.wait_for(lambda: bool(push.to(sub)))
    got = push.to(sub)[0].payload
    # zh-CN text; private previews: no sender, no text; the count says all three are unread.
    assert got["title"] == "Ada 有 3 条新消息" and got["body"] == ""


def test_a_live_visible_device_gets_no_push_and_an_away_one_does(ws: Workspace, push: PushService) -> None:
    ada, bob = ws.join("Ada"), ws.join("Bob")
    bob_laptop = ws.another_device(bob)
    phone, laptop = subscribe(bob, push), subscribe(bob_laptop, push)
    room = dm(ada, bob)
    cookie = {"cookie": f"tt_session={bob_laptop.client.cookies['tt_session']}"}
    with bob_laptop.client.websocket_connect("/api/live", headers=cookie) as socket:
        assert socket.receive_json()["t"] == "hello"
        post(ada, room, "seen on the laptop")
        push.wait_for(lambda: bool(push.to(phone)))
        settle(ws)
        assert push.to(laptop) == []
        socket.send_json({"t": "presence", "status": "away"})
        deadline = time.monotonic() + 5
        while not ws.app.state["services"].hub.away():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        post(ada, room, "the laptop is hidden now")
        push.wait_for(lambda: bool(push.to(laptop)))


def test_410_removes_the_subscription_and_429_500_are_retried_after_retry_after(
    ws: Workspace, push: PushService
) -> None:
    ada, bob, cy = ws.join("Ada"), ws.join("Bob"), ws.join("Cy")
    gone, busy = subscribe(bob, push), subscribe(cy, push)
    push.answer(gone, (410, {}))
    push.answer(busy, (429, {"Retry-After": "1"}), (500, {}))
    site = channel(ada, "site-b", bob, cy)
    post(ada, site, "@channel hello", mentions="channel")
    push.wait_for(lambda: bool(push.to(busy)), timeout_s=15)
    tries = [r for r in push.received if r.token == busy.token]
    assert [r.status for r in tries] == [429, 500, 201]
    assert tries[1].at - tries[0].at >= 1.0  # Retry-After honoured
    assert [r.status for r in push.received if r.token == gone.token] == [410]
    assert [s["id"] for s in bob.client.get("/api/push/subscriptions").json()] == []
    assert len(cy.client.get("/api/push/subscriptions").json()) == 1


def test_a_new_message_does_not_push_sooner_than_the_retry_after_its_conversation_waits_for(
    ws: Workspace, push: PushService
) -> None:
    """The producer hands a message's pushes to the sender from memory (sender.py, Rule 6), but
    not one for a conversation that already has a push queued: that one waits as queued."""
    ada, bob = ws.join("Ada"), ws.join("Bob")
    phone = subscribe(bob, push)
    push.answer(phone, (429, {"Retry-After": "2"}))
    room = dm(ada, bob)
    post(ada, room, "first")
    push.wait_for(lambda: any(r.token == phone.token for r in push.received), timeout_s=15)
    post(ada, room, "second")
    push.wait_for(lambda: bool(push.to(phone)), timeout_s=15)
    tries = [r for r in push.received if r.token == phone.token]
    assert [r.status for r in tries] == [429, 201]
    assert tries[1].at - tries[0].at >= 2.0  # Retry-After honoured, new message or not
    assert tries[1].payload["body"] == "Ada: second"


def test_a_burst_gives_each_device_a_few_pushes_that_end_with_the_right_count(ws: Workspace, push: PushService) -> None:
    ada, bob = ws.join("Ada"), ws.join("Bob")
    bob_laptop = ws.another_device(bob)
    phone, laptop = subscribe(bob, push), subscribe(bob_laptop, push)
    room = dm(ada, bob)
    started = time.monotonic()
    for i in range(50):
        post(ada, room, f"burst {i}")
    # At most one push per gap (asserted below) while the burst lasts, and the last one after it:
    # a few when 50 posts take well under a second; a loaded machine makes the burst longer.
    most = max(4, 2 + int((time.monotonic() - started) * 1000 / GAP_MS))
    push.wait_for(
        lambda: (
            any(r.payload["count"] == 50 for r in push.to(phone))
            and any(r.payload["count"] == 50 for r in push.to(laptop))
        )
    )
    settle(ws)
    for sub in (phone, laptop):
        got = push.to(sub)
        assert 1 <= len(got) <= most, [r.payload["count"] for r in got]
        assert got[-1].payload["title"] == "50 new messages in Ada" and got[-1].payload["body"] == "Ada: burst 49"
        assert {r.headers["topic"] for r in got} == {got[0].headers["topic"]}
        assert all(b.at - a.at >= GAP_MS / 1000 * 0.9 for a, b in itertools.pairwise(got))


UNSAFE = [
    "http://fcm.googleapis.com/fcm/send/x",  # not https
    "https://127.0.0.1/push/x",  # loopback outside test mode
    "https://localhost/push/x",
    "https://10.0.0.7/push/x",  # a private address
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://evil.example.com/fcm.googleapis.com/",  # not a push service
    "https://fcm.googleapis.com.evil.example/x",
    "https://user:pw@fcm.googleapis.com/x",
    "https://fcm.googleapis.com:99999/x",
    "not a url",
]


def test_the_ssrf_guard_refuses_endpoints_that_are_not_public_push_services(tmp_path: Path) -> None:
    workspace = Workspace(create_app(Settings(data_dir=tmp_path, frontend_dir=tmp_path / "none")), tmp_path)
    try:
        ada = workspace.join("Ada")
        for endpoint in UNSAFE:
            body = {"endpoint": endpoint, "keys": {"p256dh": "BKey", "auth": "auth"}}
            reply = ada.client.post("/api/push/subscriptions", json=body, headers=ada.csrf)
            assert reply.status_code == 400 and reply.json()["error"] == "unsafe_endpoint", (endpoint, reply.text)
        for endpoint in (
            "https://fcm.googleapis.com/fcm/send/abc",
            "https://updates.push.services.mozilla.com/wpush/v2/x",
            "https://web.push.apple.com/QGx",
        ):
            body = {"endpoint": endpoint, "keys": {"p256dh": "BKey", "auth": "auth"}}
            assert ada.client.post("/api/push/subscriptions", json=body, headers=ada.csrf).status_code == 201
    finally:
        workspace.close()


def test_subscriptions_are_listed_revoked_only_by_their_person_and_signing_out_revokes(
    ws: Workspace, push: PushService
) -> None:
    ada, bob = ws.join("Ada"), ws.join("Bob")
    laptop = ws.another_device(ada)
    subscribe(ada, push)
    subscribe(laptop, push)
    listed = ada.client.get("/api/push/subscriptions").json()
    assert sorted(s["this_device"] for s in listed) == [False, True]
    assert all(s["service"] == push.origin.split("//")[1] for s in listed)
    mine = next(s["id"] for s in listed if s["this_device"])
    assert bob.client.delete(f"/api/push/subscriptions/{mine}", headers=bob.csrf).status_code == 404
    assert ada.client.delete(f"/api/push/subscriptions/{mine}", headers=ada.csrf).status_code == 204
    assert len(ada.client.get("/api/push/subscriptions").json()) == 1
    assert laptop.client.post("/api/signout", headers=laptop.csrf).status_code in (200, 204)
    assert ada.client.get("/api/push/subscriptions").json() == []


def test_vapid_keys_are_made_on_first_start_0600_and_rotated_by_the_cli(tmp_path: Path, push: PushService) -> None:
    from tests.integration.test_cli import teamtalk

    settings = Settings(data_dir=tmp_path, frontend_dir=tmp_path / "none", push_test_mode=True)
    workspace = Workspace(create_app(settings), tmp_path)
    try:
        ada = workspace.join("Ada")
        key = ada.client.get("/api/push/key").json()["key"]
        subscribe(ada, push)
    finally:
        workspace.close()
    pem = tmp_path / "vapid_private.pem"
    assert pem.stat().st_mode & 0o777 == 0o600
    shown = teamtalk("push", "keys", "--data", str(tmp_path))
    assert shown.returncode == 0 and shown.stdout.strip() == key
    rotated = teamtalk("push", "keys", "--rotate", "--data", str(tmp_path))
    assert rotated.returncode == 0 and rotated.stdout.strip() not in ("", key)
    assert pem.stat().st_mode & 0o777 == 0o600 and "turn notifications on again" in rotated.stderr
    store = SqliteStorage(tmp_path / "teamtalk.db")
    try:
        assert store.push_subscriptions_of([ada.user]) == []  # made for the old key: useless now
    finally:
        store.close()
