"""At least once: a push committed to the queue reaches every device even when the server is
killed (kill -9) between the commit and the send; a duplicate is the same notification."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from sync_protocol.collections import dm_id, member_id
from tests.integration.push_service import PushService
from tests.integration.test_durability import Server

PASSWORD = "correct horse battery"


def _client(url: str, email: str, name: str | None = None, invite: str | None = None) -> tuple[httpx.Client, Any]:
    client = httpx.Client(base_url=url)
    client.get("/api/workspace")
    client.headers["x-csrftoken"] = client.cookies["csrftoken"]
    if name is not None:
        body = {"name": name, "email": email, "password": PASSWORD, **({"invite": invite} if invite else {})}
        reply = client.post("/api/signup", json=body)
    else:
        reply = client.post("/api/signin", json={"email": email, "password": PASSWORD})
    assert reply.status_code in (200, 201), reply.text
    return client, reply.json()


def test_a_push_committed_before_kill_9_reaches_every_device_after_the_restart(
    tmp_path: Path, push: PushService
) -> None:
    server = Server(tmp_path, "--push-test-mode", "--push-contact", "mailto:ops@example.com")
    server.start()
    try:
        ada, ada_session = _client(server.url, "ada@example.com", "Ada")
        invite = ada.post("/api/invites", json={}).json()["token"]
        bob, bob_session = _client(server.url, "bob@example.com", "Bob", invite)
        laptop, _ = _client(server.url, "bob@example.com")
        subs = [push.subscription(), push.subscription()]
        for client, sub in zip((bob, laptop), subs, strict=True):
            assert client.post("/api/push/subscriptions", json=sub.json()).status_code == 201
        me, device, bob_id = ada_session["user"]["id"], ada_session["device"], bob_session["user"]["id"]
        room = dm_id(me, bob_session["user"]["id"])
        now = int(time.time() * 1000)
        changes = [
            ("channels", room, {"name": "", "kind": "dm"}),
            ("members", member_id(room, me), {"channel": room, "user": me}),
            ("members", member_id(room, bob_id), {"channel": room, "user": bob_id}),
            ("messages", "01CRASH", {"channel": room, "text": "still there?"}),
        ]
        push.stalled.clear()  # the push service takes the pushes and does not answer
        body = {
            "v": 1,
            "changes": [
                {"mid": i + 1, "collection": c, "id": rid, "hlc": f"{now:013d}-{i:05d}-{device}", "fields": f}
                for i, (c, rid, f) in enumerate(changes)
            ],
        }
        assert ada.post("/api/sync", json=body).json()["acks"] == [1, 2, 3, 4]
        deadline = time.monotonic() + 10
        # Both pushes go pipelined on one connection (sender.py, Rule 5): the service holds the
        # first unanswered and the second waits behind it; neither can be marked sent.
        while push.server_waiting() < 1:
            assert time.monotonic() < deadline, "the pushes never left"
            time.sleep(0.01)
        server.kill9()
        for client in (ada, bob, laptop):
            client.close()
        push.stalled.set()  # the dead server's requests end (their sockets are gone)
        restarted = time.monotonic()
        server.start()
        push.wait_for(lambda: all(any(r.at > restarted for r in push.to(sub)) for sub in subs))
        for sub in subs:
            got = push.to(sub)
            assert {r.contact for r in got} == {"mailto:ops@example.com"}
            assert {(r.headers["topic"], r.payload["tag"], r.payload["id"]) for r in got} == {
                (got[0].headers["topic"], f"c:{room}", "01CRASH")
            }
    finally:
        server.stop()
