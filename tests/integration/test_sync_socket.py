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


@pytest.mark.parametrize(
    ("frame", "binary", "status", "error"),
    [
        (b"\xc1", True, 400, "bad_request"),  # never valid MessagePack
        ('{"v": 0}', False, 426, "update_required"),  # a text frame is JSON, answered in JSON
    ],
)
def test_an_error_is_answered_as_the_post_would_and_closes_the_socket(
    workspace: Workspace, frame: bytes | str, binary: bool, status: int, error: str
) -> None:
    ada = workspace.join("Ada")
    with _connect(ada) as socket:
        if binary:
            socket.send_bytes(frame)
            answer = msgspec.msgpack.decode(socket.receive_bytes())
        else:
            socket.send_text(frame)
            answer = msgspec.json.decode(socket.receive_text())
        assert (answer["status"], answer["body"]["error"]) == (status, error)
        socket.send_bytes(msgspec.msgpack.encode(_request(ada)))  # sent behind it: never read
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_bytes()
    assert closed.value.code == 4400


def test_a_refusal_is_the_posts_own(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    forged = ada.change("messages", "01BAD", {"channel": general, "text": "x", "n": 99})
    with _connect(ada) as socket:
        socket.send_bytes(msgspec.msgpack.encode(_request(ada, forged)))
        refused = msgspec.msgpack.decode(socket.receive_bytes())
    post = ada.sync(ada.change("messages", "01BAD2", {"channel": general, "text": "x", "n": 99}))
    assert (refused["status"], refused["body"]["error"]) == (post.status_code, post.json()["error"])
    assert refused["body"]["field"] == post.json()["field"], "the same answer as the POST's"


def test_pipelined_requests_are_answered_in_order_each_once(workspace: Workspace) -> None:
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    ada.pull()
    bob.pull()
    batches = [
        [ada.change("messages", f"01PIPE{b}{i}", {"channel": general, "text": f"{b}.{i}"}) for i in range(3)]
        for b in range(4)
    ]
    with _connect(ada) as socket:
        for batch in batches:  # every request sent before any answer is read
            socket.send_bytes(msgspec.msgpack.encode(_request(ada, *batch, limit=3)))
        answers = [msgspec.msgpack.decode(socket.receive_bytes()) for _ in batches]
    assert [a["status"] for a in answers] == [200] * 4
    assert [a["body"]["acks"] for a in answers] == [[c["mid"] for c in batch] for batch in batches]
    texts = [c["fields"]["text"] for c in bob.pull()["changes"] if c["collection"] == "messages"]
    assert texts == [f"{b}.{i}" for b in range(4) for i in range(3)], "stored in the order sent, once each"


def test_nothing_pipelined_behind_a_refused_request_is_applied(workspace: Workspace) -> None:
    """Rule 2: had the second request been applied, the first one's mid would be stale when sent
    again, and what Ada typed first would be refused for good."""
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    general = ada.channel_named("general")
    ada.pull()
    bob.pull()
    first = ada.change("messages", "01FIRST", {"channel": general, "text": "first"})
    second = ada.change("messages", "01SECOND", {"channel": general, "text": "second"})
    with _connect(ada) as socket:
        socket.send_bytes(msgspec.msgpack.encode(_request(ada, first, v=0)))  # refused: 426
        socket.send_bytes(msgspec.msgpack.encode(_request(ada, second)))  # sent before the refusal came
        assert msgspec.msgpack.decode(socket.receive_bytes())["status"] == 426
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_bytes()
    assert closed.value.code == 4400
    assert [c for c in bob.pull()["changes"] if c["collection"] == "messages"] == [], "the second was never read"
    # Both sent again, in order (by POST here): each applies, the first first.
    reply = ada.sync(first, second)
    assert reply.status_code == 200 and reply.json()["acks"] == [first["mid"], second["mid"]]
    texts = [c["fields"]["text"] for c in bob.pull()["changes"] if c["collection"] == "messages"]
    assert texts == ["first", "second"]


def test_the_session_is_checked_for_every_request(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    with _connect(ada) as socket:
        socket.send_bytes(msgspec.msgpack.encode(_request(ada)))
        assert msgspec.msgpack.decode(socket.receive_bytes())["status"] == 200
        assert ada.client.post("/api/signout", headers=ada.csrf).status_code == 204
        socket.send_bytes(msgspec.msgpack.encode(_request(ada)))
        answer = msgspec.msgpack.decode(socket.receive_bytes())
        socket.send_bytes(msgspec.msgpack.encode(_request(ada)))  # sent behind it: never read
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_bytes()
    assert answer["status"] == 401 and answer["body"]["error"] == "signed_out"
    assert closed.value.code == 4401


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
        socket.send_bytes(msgspec.msgpack.encode(_request(ada)))  # sent behind it: never read
        with pytest.raises(WebSocketDisconnect) as closed:  # an error answer is the socket's last
            socket.receive_bytes()
    assert closed.value.code == 4400
