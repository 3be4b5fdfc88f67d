"""GET /api/live: new changes, typing and presence reach the right people, and only them."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar.exceptions import WebSocketDisconnect

from sync_protocol.collections import member_id
from tests.integration.conftest import Person, Workspace


def _connect(person: Person, **headers: str) -> Any:
    return person.client.websocket_connect(
        "/api/live", headers={"cookie": f"tt_session={person.client.cookies['tt_session']}", **headers}
    )


def _next(socket: Any, tag: str) -> dict[str, Any]:
    """The next frame with tag ``tag`` (presence chatter from other sockets may come first)."""
    for _ in range(20):
        frame: dict[str, Any] = socket.receive_json()
        if frame["t"] == tag:
            return frame
    raise AssertionError(f"no {tag!r} frame arrived")


def test_hello_then_a_teammates_message_arrives_live_with_its_scope_cursor(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    with _connect(bob) as socket:
        hello = socket.receive_json()
        assert hello["t"] == "hello" and hello["user"] == bob.user and bob.user in hello["online"]
        head = bob.pull()["cursors"][f"c:{general}"]

        ada.sync(ada.change("messages", "01LIVE", {"channel": general, "text": "ping"}))

        frame = _next(socket, "changes")
        assert frame["scope"] == f"c:{general}" and frame["prev"] == head
        assert [(c["id"], c["fields"]["text"], c["fields"]["n"]) for c in frame["changes"]] == [("01LIVE", "ping", 1)]


def test_a_private_channel_is_not_heard_by_non_members(workspace: Workspace) -> None:
    ada, eve = workspace.join("Ada"), workspace.join("Eve")
    general, secret = ada.channel_named("general"), "01SECRET"
    with _connect(eve) as socket:
        socket.receive_json()
        ada.sync(
            ada.change("channels", secret, {"name": "secret", "kind": "private"}),
            ada.change("members", member_id(secret, ada.user), {"channel": secret, "user": ada.user}),
            ada.change("messages", "01HIDDEN", {"channel": secret, "text": "hidden"}),
        )
        ada.sync(ada.change("messages", "01OPEN", {"channel": general, "text": "open"}))
        # Frames arrive in commit order: had the private ones been sent to Eve, they would come first.
        frame = _next(socket, "changes")
    assert frame["scope"] == f"c:{general}"
    assert [c["id"] for c in frame["changes"]] == ["01OPEN"]


def test_being_added_to_a_channel_subscribes_the_open_socket(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    ops = "01OPS"
    ada.sync(
        ada.change("channels", ops, {"name": "ops", "kind": "private"}),
        ada.change("members", member_id(ops, ada.user), {"channel": ops, "user": ada.user}),
    )
    with _connect(bob) as socket:
        socket.receive_json()
        ada.sync(ada.change("members", member_id(ops, bob.user), {"channel": ops, "user": bob.user}))
        added = _next(socket, "changes")
        assert added["scope"] == f"c:{ops}"
        ada.sync(ada.change("messages", "01OPSMSG", {"channel": ops, "text": "welcome"}))
        assert _next(socket, "changes")["changes"][0]["id"] == "01OPSMSG"


def test_typing_is_relayed_to_the_channel_with_the_author_from_the_session(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    with _connect(bob) as bob_socket, _connect(ada) as ada_socket:
        _next(bob_socket, "hello")
        _next(ada_socket, "hello")
        ada_socket.send_json({"t": "typing", "scope": f"c:{general}", "user": "01FORGED"})
        assert _next(bob_socket, "typing") == {"t": "typing", "scope": f"c:{general}", "user": ada.user}


def test_presence_goes_online_and_offline(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    with _connect(bob) as bob_socket:
        _next(bob_socket, "hello")
        with _connect(ada) as ada_socket:
            _next(ada_socket, "hello")
            assert _next(bob_socket, "presence") == {"t": "presence", "user": ada.user, "status": "online"}
        assert _next(bob_socket, "presence") == {"t": "presence", "user": ada.user, "status": "offline"}


def test_ping_is_answered_and_msgpack_frames_are_binary(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    cookie = {"cookie": f"tt_session={ada.client.cookies['tt_session']}"}
    with ada.client.websocket_connect("/api/live?format=msgpack", headers=cookie) as socket:
        assert msgspec.msgpack.decode(socket.receive_bytes())["t"] == "hello"
        socket.send_bytes(msgspec.msgpack.encode({"t": "ping"}))
        assert msgspec.msgpack.decode(socket.receive_bytes())["t"] == "pong"


def test_a_foreign_origin_is_refused(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    with _connect(ada, origin="https://evil.example") as socket, pytest.raises(WebSocketDisconnect) as closed:
        socket.receive_json()
    assert closed.value.code == 4403


def test_the_same_origin_is_allowed(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    with _connect(ada, origin="http://testserver.local") as socket:
        assert socket.receive_json()["t"] == "hello"


def test_without_a_session_the_socket_is_closed_as_signed_out(workspace: Workspace) -> None:
    workspace.join("Ada")
    stranger = workspace.client()
    with stranger.websocket_connect("/api/live") as socket, pytest.raises(WebSocketDisconnect) as closed:
        socket.receive_json()
    assert closed.value.code == 4401


def test_revoking_a_device_closes_its_socket(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    laptop = workspace.client()
    laptop.post(
        "/api/signin",
        json={"email": "ada@example.com", "password": "correct horse battery"},
        headers={"x-csrftoken": laptop.cookies["csrftoken"]},
    )
    laptop_device = laptop.get("/api/session").json()["device"]
    with laptop.websocket_connect(
        "/api/live", headers={"cookie": f"tt_session={laptop.cookies['tt_session']}"}
    ) as socket:
        _next(socket, "hello")
        assert ada.client.delete(f"/api/devices/{laptop_device}", headers=ada.csrf).status_code == 204
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(10):
                socket.receive_json()
    assert closed.value.code == 4401


def test_a_person_is_away_only_when_every_device_is(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    ada_phone = workspace.another_device(ada)
    with _connect(bob) as bob_socket:
        # The hello is queued in the same step that subscribes the socket: once it has arrived, Bob
        # hears Ada come online (opening every socket at once would race the server's handlers).
        _next(bob_socket, "hello")
        with _connect(ada) as laptop, _connect(ada_phone) as phone:
            _next(laptop, "hello")
            _next(phone, "hello")
            laptop.send_json({"t": "presence", "status": "away", "user": "01FORGED"})
            phone.send_json({"t": "presence", "status": "away"})
            assert _next(bob_socket, "presence") == {"t": "presence", "user": ada.user, "status": "online"}
            assert _next(bob_socket, "presence") == {"t": "presence", "user": ada.user, "status": "away"}
            with _connect(bob) as late:
                assert _next(late, "hello")["away"] == [ada.user]
            phone.send_json({"t": "presence", "status": "online"})
            assert _next(bob_socket, "presence") == {"t": "presence", "user": ada.user, "status": "online"}


def test_the_senders_socket_gets_no_echo_but_its_other_devices_do(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    phone = workspace.another_device(ada)
    general = f"c:{ada.channel_named('general')}"
    ada.pull()
    with _connect(ada) as laptop_socket, _connect(phone) as phone_socket:
        _next(laptop_socket, "hello")
        _next(phone_socket, "hello")
        before = ada.cursors[general]

        reply = ada.sync(ada.change("messages", "01MINE", {"channel": general[2:], "text": "from my laptop"}))
        mine = [c["seq"] for c in reply.json()["changes"] if c["id"] == "01MINE"]
        ada.cursors.update(reply.json()["cursors"])

        heard = _next(phone_socket, "changes")
        assert heard["prev"] == before and [c["id"] for c in heard["changes"]] == ["01MINE"]
        bob.sync(bob.change("messages", "01BOBS", {"channel": general[2:], "text": "from Bob"}))
        # Frames keep commit order: had the laptop been sent its own change, it would come first.
        frame = _next(laptop_socket, "changes")
        assert [c["id"] for c in frame["changes"]] == ["01BOBS"]
        assert frame["prev"] == mine[-1] == ada.cursors[general], "the reply moved the cursor to prev: no gap"
        assert _next(phone_socket, "changes")["prev"] == mine[-1]
