"""The meeting socket at its edges (issue 13, "Rights" and "Resilience"): a non-member hears
nothing of a channel's meeting, even from inside a meeting of their own; a flooding sender is
slowed, then closed, while the others keep their sockets; leaving and rejoining on the same
socket is a second attendance span."""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from backend.app import create_app
from backend.meetings.hub import MAX_STRIKES
from backend.settings import Settings
from sync_protocol.signaling import RATE_BURST
from tests.integration.conftest import Person, Workspace
from tests.integration.files_world import real_server, signed_up
from tests.integration.test_meetings import _join, _meet, _next, _private_channel


@pytest.fixture
def space(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace(create_app(Settings(data_dir=tmp_path, frontend_dir=tmp_path / "no-frontend")), tmp_path)
    yield ws
    ws.close()


def _nothing_arrives(socket: Any, wait_s: float = 0.3) -> None:
    try:
        frame = socket.receive_json(timeout=wait_s)
    except queue.Empty:
        return
    raise AssertionError(f"a frame arrived that should not have: {frame}")


def test_a_non_member_in_a_meeting_of_their_own_hears_nothing_of_another_channels(space: Workspace) -> None:
    ada, bob, eve = space.join("Ada"), space.join("Bob"), space.join("Eve")
    standup = _private_channel(ada, "standup", bob)
    # A public channel Eve has not joined is no more hers: members only (access.may_join_meeting).
    design = "01DESIGN"
    ada.sync(ada.change("channels", design, {"name": "design", "kind": "public"}))
    side = _private_channel(eve, "side")
    for channel in (standup, design):
        with pytest.raises(WebSocketDisconnect) as refused, _meet(eve, channel) as socket:
            socket.receive_json()
        assert refused.value.code == 4403, channel
    with _meet(eve, side) as e, _meet(ada, standup) as a, _meet(bob, standup) as b:
        _join(e)
        joined_a, joined_b = _join(a), _join(b)
        _next(a, "peer_joined")
        # Eve knows Ada's connection id (say it leaked): her socket still cannot reach it.
        e.send_json({"t": "offer", "to": joined_a["me"], "sdp": "v=0 from eve"})
        assert _next(e, "error")["code"] == "no_such_peer"
        # The standup's signaling goes on; none of it reaches Eve.
        b.send_json({"t": "offer", "to": joined_a["me"], "sdp": "v=0 bob"})
        a.send_json({"t": "answer", "to": joined_b["me"], "sdp": "v=0 ada"})
        a.send_json({"t": "state", "muted": True})
        assert _next(a, "offer")["sdp"] == "v=0 bob"
        assert _next(b, "answer")["sdp"] == "v=0 ada"
        assert _next(b, "peer_state")["peer"]["muted"] is True
        _nothing_arrives(e)
        b.send_json({"t": "leave"})
        assert _next(a, "peer_left")["reason"] == "left"
        _nothing_arrives(e)
    assert {r["channel"] for r in eve.records("meetings").values()} == {side}, "Eve pulls only her own meeting"


def _socket(url: str, person: Person, channel: str) -> ClientConnection:
    """A real WebSocket to a real server: the TestClient's in-process socket is slower than the
    bucket refills, so it cannot flood."""
    cookie = f"tt_session={person.client.cookies['tt_session']}"
    return connect(f"{url.replace('http', 'ws')}/api/meet/{channel}", additional_headers={"cookie": cookie})


def _frame(socket: ClientConnection, tag: str, timeout_s: float = 5.0) -> dict[str, Any]:
    for _ in range(1000):  # past a flood's refusals
        frame: dict[str, Any] = json.loads(socket.recv(timeout=timeout_s))
        if frame["t"] == tag:
            return frame
    raise AssertionError(f"no {tag!r} frame arrived")


def _until_quiet(socket: ClientConnection) -> list[dict[str, Any]]:
    """Every frame that arrives until the socket is quiet for 0.5 s."""
    frames: list[dict[str, Any]] = []
    while True:
        try:
            frames.append(json.loads(socket.recv(timeout=0.5)))
        except TimeoutError:
            return frames


def _quiet(socket: ClientConnection, wait_s: float = 0.3) -> None:
    try:
        frame = socket.recv(timeout=wait_s)
    except TimeoutError:
        return
    raise AssertionError(f"a frame arrived that should not have: {frame!r}")


def test_a_flooding_sender_is_slowed_then_closed_and_the_others_keep_their_sockets(tmp_path: Path) -> None:
    with real_server(Settings(data_dir=tmp_path / "data", frontend_dir=tmp_path / "none")) as url:
        ada = signed_up(url, "Ada")
        bob = signed_up(url, "Bob", invite_from=ada)
        channel = ada.channel_named("general")
        with _socket(url, ada, channel) as a, _socket(url, bob, channel) as b:
            for socket in (a, b):
                _frame(socket, "room")
                socket.send('{"t": "join"}')
            joined_a, joined_b = _frame(a, "joined"), _frame(b, "joined")
            _frame(a, "peer_joined")
            # A burst past the bucket: the excess is refused to Bob alone, and nothing is relayed.
            for _ in range(RATE_BURST + 60):
                b.send('{"t": "heartbeat"}')
            refusals = _until_quiet(b)
            assert refusals and {f.get("code") for f in refusals} == {"rate_limited"}
            # Ada's socket works both ways meanwhile, and heard nothing of Bob's burst.
            a.send(json.dumps({"t": "offer", "to": joined_b["me"], "sdp": "v=0 ada"}))
            assert json.loads(b.recv(timeout=5))["sdp"] == "v=0 ada"
            b.send(json.dumps({"t": "answer", "to": joined_a["me"], "sdp": "v=0 bob"}))
            assert json.loads(a.recv(timeout=5))["sdp"] == "v=0 bob", "the first frame Ada gets is Bob's answer"
            # Bob keeps sending what is refused: his refusal past MAX_STRIKES closes his socket
            # (only his). Exactly that many, so no unread frame turns the close into a reset.
            for _ in range(MAX_STRIKES + 1 - len(refusals)):
                b.send("not json")
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    assert json.loads(b.recv(timeout=5))["t"] == "error"
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
            assert _frame(a, "peer_left") == {"t": "peer_left", "id": joined_b["me"], "reason": "closed"}
            a.send('{"t": "join"}')
            assert _frame(a, "error")["code"] == "already_joined", "Ada is still in the meeting"
            a.send('{"t": "heartbeat"}')
            _quiet(a)
        spans = ada.records("meeting_attendance")
        assert [r.get("reason") for r in spans.values() if r["user"] == bob.user] == ["closed"]


def _spans_of(person: Person, user: str) -> list[dict[str, Any]]:
    return sorted(
        (r for r in person.records("meeting_attendance").values() if r["user"] == user),
        key=lambda r: int(r["joined_at"]),
    )


def test_leaving_and_rejoining_on_the_same_socket_is_a_second_span(space: Workspace) -> None:
    ada, bob = space.join("Ada"), space.join("Bob")
    channel = ada.channel_named("general")
    with _meet(ada, channel) as a, _meet(bob, channel) as b:
        joined_a = _join(a)
        first = _join(b)
        assert _next(a, "peer_joined")["peer"]["id"] == first["me"]
        b.send_json({"t": "leave"})
        assert _next(a, "peer_left")["id"] == first["me"]
        b.send_json({"t": "join"})
        again = _next(b, "joined")
        # A new connection id (the others see a newcomer and expect its offer), the same meeting.
        assert again["me"] != first["me"] and again["meeting"] == joined_a["meeting"]
        assert [p["id"] for p in again["peers"]] == [joined_a["me"]]
        assert _next(a, "peer_joined")["peer"]["id"] == again["me"]
        b.send_json({"t": "offer", "to": joined_a["me"], "sdp": "v=0 again"})
        assert _next(a, "offer")["from"] == again["me"]
        spans = _spans_of(ada, bob.user)
        assert len(spans) == 2
        assert spans[0]["reason"] == "left" and spans[0]["left_at"] >= spans[0]["joined_at"]
        assert "left_at" not in spans[1], "the second span is open: Bob is in the meeting again"
        # One socket after the other: the last one out is told nothing, the watchers hear "ended".
        b.send_json({"t": "leave"})
        assert _next(a, "peer_left")["id"] == again["me"]
        a.send_json({"t": "leave"})
        _next(b, "ended")
    (meeting,) = ada.records("meetings").values()
    assert isinstance(meeting["ended_at"], int)
    assert all(isinstance(s["left_at"], int) for s in _spans_of(ada, bob.user))
