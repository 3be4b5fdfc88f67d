"""GET /api/sync/socket: POST /api/sync's round trip over a WebSocket answers as the POST does."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar.exceptions import WebSocketDisconnect

from tests.integration.conftest import Person, Workspace


def _connect(person: Person, device: str | None = None, **headers: str) -> Any:
    return person.client.websocket_connect(
        f"/api/sync/socket?device={device or person.device}",
        headers={"cookie": f"tt_session={person.client.cookies['tt_session']}", **headers},
    )


def _request(person: Person, *changes: dict[str, Any], **body: Any) -> dict[str, Any]:
    return {"v": 1, "changes": list(changes), "cursors": person.cursors, **body}


def test_a_message_over_the_socket_is_answered_as_the_post_would_and_a_retry_applies_once(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    ada.pull()
    bob.pull()
    change = ada.change("messages", "01SOCK", {"channel": general, "text": "over the socket"})
    with _connect(ada) as socket:
        socket.send_bytes(msgspec.msgpack.encode(_request(ada, change)))
        answer = msgspec.msgpack.decode(socket.receive_bytes())
        assert answer["status"] == 200
        assert answer["body"]["acks"] == [change["mid"]]
        assert [(c["id"], c["fields"]["n"]) for c in answer["body"]["changes"]] == [("01SOCK", 1)]
        # The same mutation again (a retry after a lost answer): acked, not applied twice.
        socket.send_bytes(msgspec.msgpack.encode(_request(ada, change)))
        again = msgspec.msgpack.decode(socket.receive_bytes())
        assert again["status"] == 200 and again["body"]["acks"] == [change["mid"]]
    texts = [c["fields"]["text"] for c in bob.pull()["changes"] if c["collection"] == "messages"]
    assert texts == ["over the socket"]


def test_errors_are_answered_with_the_posts_status_and_the_socket_keeps_serving(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    with _connect(ada) as socket:
        socket.send_bytes(b"\xc1")  # never valid MessagePack
        bad = msgspec.msgpack.decode(socket.receive_bytes())
        assert bad["status"] == 400 and bad["body"]["error"] == "bad_request"
        socket.send_text('{"v": 0}')  # a text frame is JSON, answered in JSON
        old = msgspec.json.decode(socket.receive_text())
        assert old["status"] == 426 and old["body"]["error"] == "update_required"
        forged = ada.change("messages", "01BAD", {"channel": general, "text": "x", "n": 99})
        socket.send_bytes(msgspec.msgpack.encode(_request(ada, forged)))
        refused = msgspec.msgpack.decode(socket.receive_bytes())
        post = ada.sync(ada.change("messages", "01BAD2", {"channel": general, "text": "x", "n": 99}))
        assert (refused["status"], refused["body"]["error"]) == (post.status_code, post.json()["error"])
        assert refused["body"]["field"] == post.json()["field"], "the same answer as the POST's"
        socket.send_bytes(msgspec.msgpack.encode(_request(ada)))
        assert msgspec.msgpack.decode(socket.receive_bytes())["status"] == 200


def test_the_session_is_checked_for_every_request(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    with _connect(ada) as socket:
        socket.send_bytes(msgspec.msgpack.encode(_request(ada)))
        assert msgspec.msgpack.decode(socket.receive_bytes())["status"] == 200
        assert ada.client.post("/api/signout", headers=ada.csrf).status_code == 204
        socket.send_bytes(msgspec.msgpack.encode(_request(ada)))
        answer = msgspec.msgpack.decode(socket.receive_bytes())
    assert answer["status"] == 401 and answer["body"]["error"] == "signed_out"


def test_a_foreign_origin_or_no_session_is_refused_as_on_the_live_socket(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    with _connect(ada, origin="https://evil.example") as socket, pytest.raises(WebSocketDisconnect) as closed:
        socket.receive_bytes()
    assert closed.value.code == 4403
    stranger = workspace.client()
    with stranger.websocket_connect("/api/sync/socket") as socket, pytest.raises(WebSocketDisconnect) as closed:
        socket.receive_bytes()
    assert closed.value.code == 4401


def test_a_socket_opened_for_another_device_than_its_session_is_closed(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    # Bob's cookie, but the page believes it sends for Ada's device (it signed in again meanwhile).
    with _connect(bob, device=ada.device) as socket, pytest.raises(WebSocketDisconnect) as closed:
        socket.receive_bytes()
    assert closed.value.code == 4401


def test_a_frame_larger_than_a_post_may_be_is_refused_with_413(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    with _connect(ada) as socket:
        socket.send_bytes(b"\x00" * (2 * 1024 * 1024 + 1))  # Settings.max_body_bytes + 1
        answer = msgspec.msgpack.decode(socket.receive_bytes())
        assert answer["status"] == 413 and answer["body"]["error"] == "too_large"
        socket.send_bytes(msgspec.msgpack.encode(_request(ada)))
        assert msgspec.msgpack.decode(socket.receive_bytes())["status"] == 200
