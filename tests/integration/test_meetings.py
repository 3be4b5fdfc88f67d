"""GET /api/meet/{channel}: signaling reaches members in the meeting only; bad frames are refused
without touching anyone else's socket; a silent participant is dropped; the records are right."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect

from backend.app import create_app
from backend.meetings.ice import ice_servers, turn_credentials
from backend.settings import Settings
from sync_protocol.collections import member_id, pref_id
from sync_protocol.signaling import MAX_FRAME_BYTES
from tests.integration.conftest import Person, Workspace
from tests.integration.push_service import PushService
from tests.integration.test_push import settle, subscribe


@pytest.fixture
def meeting_space(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace whose meetings drop a silent participant after 600 ms (not 10 s), with TURN."""
    yield from _space(tmp_path, drop_ms=600)


@pytest.fixture
def steady_space(tmp_path: Path) -> Iterator[Workspace]:
    """The default 10 s drop: for tests that are not about dropping, so a slow machine taking
    more than 600 ms between two frames does not drop a participant in the middle of them."""
    yield from _space(tmp_path, drop_ms=10_000)


def _space(tmp_path: Path, drop_ms: int) -> Iterator[Workspace]:
    settings = Settings(
        data_dir=tmp_path,
        frontend_dir=tmp_path / "no-frontend",
        meeting_drop_ms=drop_ms,
        ice_urls=("stun:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=udp"),
        turn_secret="s3cret",
    )
    ws = Workspace(create_app(settings), tmp_path)
    yield ws
    ws.close()


def _meet(person: Person, channel: str, resume: str = "") -> Any:
    return person.client.websocket_connect(
        f"/api/meet/{channel}" + (f"?resume={resume}" if resume else ""),
        headers={"cookie": f"tt_session={person.client.cookies['tt_session']}"},
    )


def _next(socket: Any, tag: str, timeout_s: float = 15.0) -> dict[str, Any]:
    """The next frame tagged ``tag`` (others before it are skipped); a frame that never comes
    fails the test instead of hanging it."""
    for _ in range(20):
        try:
            frame: dict[str, Any] = socket.receive_json(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"no {tag!r} frame arrived within {timeout_s} s") from None
        if frame["t"] == tag:
            return frame
    raise AssertionError(f"no {tag!r} frame arrived")


def _join(socket: Any) -> dict[str, Any]:
    assert socket.receive_json()["t"] == "room"
    socket.send_json({"t": "join"})
    return _next(socket, "joined")


def _private_channel(owner: Person, name: str, *members: Person) -> str:
    channel = f"01{name.upper()}"
    changes = [owner.change("channels", channel, {"name": name, "kind": "private"})]
    for person in (owner, *members):
        changes.append(
            owner.change("members", member_id(channel, person.user), {"channel": channel, "user": person.user})
        )
    assert owner.sync(*changes).json()["rejections"] == []
    return channel


def test_two_members_exchange_an_offer_and_a_non_member_is_refused(meeting_space: Workspace) -> None:
    ada, bob, eve = meeting_space.join("Ada"), meeting_space.join("Bob"), meeting_space.join("Eve")
    channel = _private_channel(ada, "standup", bob)
    with pytest.raises(WebSocketDisconnect) as refused, _meet(eve, channel) as socket:
        socket.receive_json()
    assert refused.value.code == 4403
    with _meet(ada, channel) as a, _meet(bob, channel) as b:
        joined_a = _join(a)
        assert joined_a["peers"] == []
        turn = [s for s in joined_a["ice_servers"] if s.get("username")]
        assert turn and turn[0]["username"].endswith(f":{ada.user}")
        joined_b = _join(b)
        assert [p["user"] for p in joined_b["peers"]] == [ada.user]
        assert _next(a, "peer_joined")["peer"]["id"] == joined_b["me"]
        b.send_json({"t": "offer", "to": joined_a["me"], "sdp": "v=0 fake", "from": "forged"})
        offer = _next(a, "offer")
        assert offer["from"] == joined_b["me"] and offer["sdp"] == "v=0 fake"
        a.send_json({"t": "state", "muted": True, "camera": False})
        assert _next(b, "peer_state")["peer"]["muted"] is True
        # Eve, not a member, still cannot get in while the meeting runs.
        with pytest.raises(WebSocketDisconnect), _meet(eve, channel) as socket:
            socket.receive_json()
        b.send_json({"t": "leave"})
        assert _next(a, "peer_left") == {"t": "peer_left", "id": joined_b["me"], "reason": "left"}
    # Ada's socket closed without `leave`: her seat waits drop_ms for a resume, then she is out.
    deadline = time.monotonic() + 5
    attendance = ada.records("meeting_attendance")
    while any("left_at" not in a for a in attendance.values()):
        assert time.monotonic() < deadline, attendance
        time.sleep(0.05)
        attendance = ada.records("meeting_attendance")
    meetings = ada.records("meetings")
    assert len(meetings) == 1
    (meeting,) = meetings.values()
    assert meeting["started_by"] == ada.user and meeting["ended_at"] >= meeting["started_at"]
    assert sorted(a["user"] for a in attendance.values()) == sorted([ada.user, bob.user])
    assert {a["reason"] for a in attendance.values()} == {"left", "closed"}
    assert eve.records("meetings") == {}


def test_bad_frames_are_refused_and_the_others_keep_their_sockets(steady_space: Workspace) -> None:
    ada, bob = steady_space.join("Ada"), steady_space.join("Bob")
    channel = _private_channel(ada, "ops", bob)
    with _meet(ada, channel) as a, _meet(bob, channel) as b:
        joined_a, joined_b = _join(a), _join(b)
        _next(a, "peer_joined")
        refused = [
            ("not json {", "bad_frame"),
            ('{"t": "offer", "to": 5, "sdp": 1}', "bad_frame"),
            ('{"t": "launch"}', "bad_frame"),
            ('{"t": "offer", "to": "nobody", "sdp": "x"}', "no_such_peer"),
            ('{"t": "offer", "to": "' + joined_b["me"] + '", "sdp": "x"}', "no_such_peer"),
            ('{"t": "offer", "to": "x", "sdp": "' + "a" * MAX_FRAME_BYTES + '"}', "too_large"),
        ]
        for text, code in refused:
            b.send_text(text)
            assert _next(b, "error")["code"] == code, text
        # Both sockets still work: a relayed candidate arrives and nothing else came first.
        b.send_json({"t": "candidate", "to": joined_a["me"], "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host"})
        assert a.receive_json()["t"] == "candidate"
        a.send_json({"t": "answer", "to": joined_b["me"], "sdp": "v=0"})
        assert _next(b, "answer")["from"] == joined_a["me"]


def test_signaling_before_joining_is_refused(meeting_space: Workspace) -> None:
    ada, bob = meeting_space.join("Ada"), meeting_space.join("Bob")
    channel = ada.channel_named("general")
    with _meet(ada, channel) as a:
        joined_a = _join(a)
        with _meet(bob, channel) as b:  # Bob watches (the preview screen): he sees who is in
            room = b.receive_json()
            assert room["meeting"] == joined_a["meeting"] and [p["id"] for p in room["peers"]] == [joined_a["me"]]
            b.send_json({"t": "offer", "to": joined_a["me"], "sdp": "x"})
            assert _next(b, "error")["code"] == "not_in_meeting"
            b.send_json({"t": "join"})
            assert _next(a, "peer_joined")["peer"]["user"] == bob.user


def test_a_silent_participant_is_dropped_and_everyone_is_told(meeting_space: Workspace) -> None:
    ada, bob = meeting_space.join("Ada"), meeting_space.join("Bob")
    channel = ada.channel_named("general")
    with _meet(ada, channel) as a, _meet(bob, channel) as b:
        _join(a)
        joined_b = _join(b)
        _next(a, "peer_joined")
        # Ada keeps sending heartbeats; Bob falls silent (a hung tab) and is dropped within drop_ms.
        deadline = time.monotonic() + 5
        while True:
            assert time.monotonic() < deadline, "the silent participant was never dropped"
            a.send_json({"t": "heartbeat"})
            try:
                frame = a.receive_json(timeout=0.1)
            except queue.Empty:
                continue
            assert frame == {"t": "peer_left", "id": joined_b["me"], "reason": "dropped"}
            break
    reasons = {r["user"]: r["reason"] for r in ada.records("meeting_attendance").values()}
    assert reasons[bob.user] == "dropped"


def test_removing_a_member_closes_their_meeting_socket(meeting_space: Workspace) -> None:
    ada, bob = meeting_space.join("Ada"), meeting_space.join("Bob")
    channel = _private_channel(ada, "board", bob)
    with _meet(ada, channel) as a, _meet(bob, channel) as b:
        _join(a)
        _join(b)
        ada.sync(ada.change("members", member_id(channel, bob.user), {"left": True}))
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(20):
                b.receive_json()
        assert closed.value.code == 4403
        assert _next(a, "peer_left")["reason"] == "removed"


def test_turn_credentials_follow_the_rest_api_scheme() -> None:
    username, credential = turn_credentials("secret", "u1", 1_700_000_000)
    assert username == "1700000000:u1"
    # Reference value: printf '1700000000:u1' | openssl dgst -sha1 -hmac secret -binary | base64
    import base64
    import hashlib
    import hmac

    assert credential == base64.b64encode(hmac.new(b"secret", username.encode(), hashlib.sha1).digest()).decode()
    settings = Settings(ice_urls=("stun:s:3478", "turn:t:3478"), turn_secret="k", turn_ttl_s=60)
    stun, turn = ice_servers(settings, "u1", 1_000_000)
    assert stun.urls == ["stun:s:3478"] and stun.username is None
    assert turn.username == "1060:u1"
    assert ice_servers(Settings(ice_urls=("turn:t:3478",)), "u1", 0) == []


def test_a_restart_ends_the_meetings_the_last_run_left_open(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, frontend_dir=tmp_path / "no-frontend")
    first = Workspace(create_app(settings), tmp_path)
    ada = first.join("Ada")
    channel = ada.channel_named("general")
    # What a crash leaves: a meeting and a span the hub never closed.
    first.app.state["services"].sync.write_as_server(
        ada.user,
        [
            ("meetings", "01CRASHED", {"channel": channel, "started_by": ada.user, "started_at": 1_000}),
            (
                "meeting_attendance",
                "01CRASHED:c1",
                {"meeting": "01CRASHED", "channel": channel, "user": ada.user, "joined_at": 1_000},
            ),
        ],
        2_000,
    )
    first.close()
    second = Workspace(create_app(settings), tmp_path)
    try:
        store = second.store()
        meeting = store.get_record("meetings", "01CRASHED").state.fields  # type: ignore[union-attr]
        span = store.get_record("meeting_attendance", "01CRASHED:c1").state.fields  # type: ignore[union-attr]
        store.close()
        assert meeting["ended_at"] > 2_000 and meeting["duration_ms"] == meeting["ended_at"] - 1_000
        assert span["reason"] == "restart" and span["left_at"] == meeting["ended_at"]
    finally:
        second.close()


def test_a_meeting_that_starts_pushes_to_the_other_members_unless_they_muted_it(tmp_path: Path) -> None:
    service = PushService()
    settings = Settings(data_dir=tmp_path, frontend_dir=tmp_path / "none", push_test_mode=True)
    space = Workspace(create_app(settings), tmp_path)
    try:
        ada, bob, chen = space.join("Ada"), space.join("Bob"), space.join("Chen")
        channel = _private_channel(ada, "site", bob, chen)
        to_ada, to_bob, to_chen = (subscribe(p, service) for p in (ada, bob, chen))
        chen.sync(
            chen.change("prefs", pref_id(chen.user, channel), {"channel": channel, "user": chen.user, "muted": True})
        )
        with _meet(ada, channel) as a:
            joined = _join(a)
            service.wait_for(lambda: len(service.to(to_bob)) == 1)
        got = service.to(to_bob)[0]
        assert got.payload["title"] == "Meeting in #site" and got.payload["body"] == "Ada started a meeting · Join"
        assert got.payload["url"] == f"/#/c/{channel}/meet" and got.payload["tag"] == f"m:{joined['meeting']}"
        settle(space)
        assert service.to(to_ada) == [] and service.to(to_chen) == []  # the starter; a muted channel
    finally:
        space.close()
        service.close()


def test_a_dropped_socket_resumes_its_seat_and_the_others_see_no_departure(meeting_space: Workspace) -> None:
    ada, bob = meeting_space.join("Ada"), meeting_space.join("Bob")
    channel = ada.channel_named("general")
    with _meet(ada, channel) as a:
        joined_a = _join(a)
        with _meet(bob, channel) as old:
            bob_id = _join(old)["me"]
            _next(a, "peer_joined")
            # Bob's network changed: his device opens a new socket and resumes its seat; the old
            # one, half dead, is closed by the server without Bob leaving.
            with _meet(bob, channel, resume=bob_id) as b:
                again = b.receive_json()
                assert again["t"] == "joined" and again["resumed"] is True and again["me"] == bob_id
                assert [p["id"] for p in again["peers"]] == [joined_a["me"]]
                with pytest.raises(WebSocketDisconnect) as closed:
                    for _ in range(5):
                        old.receive_json()
                assert closed.value.code == 4409
                a.send_json({"t": "offer", "to": bob_id, "sdp": "v=0 restart"})  # Ada restarts ICE
                assert _next(b, "offer")["sdp"] == "v=0 restart"
                b.send_json({"t": "answer", "to": joined_a["me"], "sdp": "v=0 answer"})
                assert a.receive_json()["t"] == "answer"  # and no peer_left came before it
                b.send_json({"t": "leave"})
                assert _next(a, "peer_left") == {"t": "peer_left", "id": bob_id, "reason": "left"}
        # Another device of Bob's, or Bob after drop_ms, cannot take a seat that is not his.
        with _meet(bob, channel, resume=joined_a["me"]) as b:
            assert b.receive_json()["t"] == "room"
