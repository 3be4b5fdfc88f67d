"""Bytes no honest client sends get 400 ``bad_request`` naming the path, never a 500 (issue 8, bug 4).

Every body decodes in one place (backend/http/body.py); these tests send the same hostile
bytes to every endpoint that takes a body, signed in or not.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from tests.integration.conftest import Person, Workspace, count_changes

DEEP = b"[" * 1_000 + b"]" * 1_000  # about 2 KB; msgspec recurses once per level


def _post(person_or_client: Any, path: str, body: bytes, content_type: str = "application/json") -> Any:
    client = person_or_client.client if isinstance(person_or_client, Person) else person_or_client
    headers = {"x-csrftoken": client.cookies["csrftoken"], "content-type": content_type}
    return client.post(path, content=body, headers=headers)


def _assert_bad_request(reply: Any, path: str) -> None:
    assert reply.status_code == 400, reply.text
    body = reply.json()
    assert body["error"] == "bad_request", body
    assert f"at `{path}`" in body["detail"], body


# (path, a valid body as a dict) for every endpoint that reads a body; signin/signup need no session.
def _bodies(channel: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("/api/sync", {"v": 1}),
        ("/api/history", {"channel": channel}),
        ("/api/signin", {"email": "ada@example.com", "password": "wrong password"}),
        ("/api/signup", {"name": "Eve", "email": "eve@example.com", "password": "long enough"}),
    ]


@pytest.mark.parametrize("endpoint", ["/api/sync", "/api/history", "/api/signin", "/api/signup"])
@pytest.mark.parametrize("where", ["known-key", "ignored-key"])
def test_invalid_utf8_inside_a_json_string_is_a_400(workspace: Workspace, endpoint: str, where: str) -> None:
    ada = workspace.join("Ada")
    good = dict(_bodies(ada.channel_named("general")))[endpoint]
    raw = json.dumps(good).encode()
    if where == "known-key" and endpoint != "/api/sync":
        key = next(iter(good))  # a string field the Struct decodes
        body = raw.replace(json.dumps(good[key]).encode(), b'"caf\xff"', 1)
    else:
        body = raw[:-1] + b', "ignored": "caf\xff"}'
    assert b"\xff" in body
    # Sign-in and sign-up bodies are decoded before any session exists: try them signed out too.
    for who in (ada, workspace.client()) if endpoint in ("/api/signin", "/api/signup") else (ada,):
        _assert_bad_request(_post(who, endpoint, body), "$")


@pytest.mark.parametrize("endpoint", ["/api/sync", "/api/history", "/api/signin", "/api/signup"])
def test_deep_nesting_even_in_an_ignored_key_is_a_400(workspace: Workspace, endpoint: str) -> None:
    ada = workspace.join("Ada")
    good = dict(_bodies(ada.channel_named("general")))[endpoint]
    body = json.dumps(good).encode()[:-1] + b',"ignored":' + DEEP + b"}"
    who = workspace.client() if endpoint in ("/api/signin", "/api/signup") else ada
    reply = _post(who, endpoint, body)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] == "bad_request"


def test_deep_nesting_in_messagepack_is_a_400(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    body = b"\x82\xa1v\x01\xa1x" + b"\x91" * 2_000 + b"\xc0"  # {"v": 1, "x": [[[[...nil...]]]]}
    _assert_bad_request(_post(ada, "/api/sync", body, "application/msgpack"), "$")


@pytest.mark.parametrize(
    ("make_body", "path"),
    [
        (lambda ch: {"v": 1, "cursors": {"ws": 2**63}}, "$.cursors[...]"),
        (lambda ch: {"v": 1, "cursors": {"ws": 2**53}}, "$.cursors[...]"),
        (lambda ch: {"v": 1, "limit": 2**64 - 1}, "$.limit"),
        (lambda ch: {"v": 1, "recent": 2**63}, "$.recent"),
        (
            lambda ch: {
                "v": 1,
                "changes": [{"mid": 2**63, "collection": "messages", "id": "01X", "hlc": "h", "fields": {"text": "x"}}],
            },
            "$.changes[0].mid",
        ),
    ],
    ids=["cursor-2^63", "cursor-2^53", "limit-2^64-1", "recent-2^63", "mid-2^63"],
)
@pytest.mark.parametrize("encoding", ["json", "msgpack"])
def test_integers_past_2_53_are_refused_where_they_are_decoded(
    workspace: Workspace, make_body: Any, path: str, encoding: str
) -> None:
    ada = workspace.join("Ada")
    before = count_changes(workspace)
    value = make_body(ada.channel_named("general"))
    body = json.dumps(value).encode() if encoding == "json" else msgspec.msgpack.encode(value)
    _assert_bad_request(_post(ada, "/api/sync", body, f"application/{encoding}"), path)
    assert count_changes(workspace) == before


def test_history_before_past_2_53_is_a_400(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    body = json.dumps({"channel": ada.channel_named("general"), "before": 2**63}).encode()
    _assert_bad_request(_post(ada, "/api/history", body), "$.before")


def test_the_largest_safe_integer_still_decodes(workspace: Workspace) -> None:
    """The bound is exactly JavaScript's Number.MAX_SAFE_INTEGER: a cursor there is fine."""
    ada = workspace.join("Ada")
    reply = ada.sync(cursors={"ws": 2**53 - 1})
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize("endpoint", ["/api/history", "/api/signin", "/api/signup"])
def test_wrong_types_name_the_path_on_json_endpoints(workspace: Workspace, endpoint: str) -> None:
    ada = workspace.join("Ada")
    good = dict(_bodies(ada.channel_named("general")))[endpoint]
    key = next(iter(good))
    who = workspace.client() if endpoint != "/api/history" else ada
    _assert_bad_request(_post(who, endpoint, json.dumps({**good, key: [1]}).encode()), f"$.{key}")


@pytest.mark.parametrize("body", [b'{"email":', b"null", b"[]", b"12"])
def test_a_truncated_or_wrongly_shaped_body_names_the_root(workspace: Workspace, body: bytes) -> None:
    _assert_bad_request(_post(workspace.client(), "/api/signin", body), "$")


def test_the_server_keeps_serving_after_hostile_bytes(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    for body in (b'{"v":1,"x":"\xff"}', b'{"v":1,"x":' + DEEP + b"}", b'{"v":1,"cursors":{"ws":1e999}}'):
        assert _post(ada, "/api/sync", body).status_code == 400
    reply = ada.sync(ada.change("messages", "01AFTER", {"channel": general, "text": "still here"}))
    assert reply.status_code == 200 and reply.json()["acks"]


@pytest.mark.parametrize("value", [[1], {"a": 1}, 1.5], ids=["array", "object", "float"])
@pytest.mark.parametrize("encoding", ["json", "msgpack"])
def test_a_value_no_field_may_hold_is_an_invalid_change_naming_the_field(
    workspace: Workspace, value: Any, encoding: str
) -> None:
    """Bug 6: PROTOCOL.md promises ``invalid_change`` with ``field`` for a wrong value type."""
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    good = ada.change("messages", "01GOOD", {"channel": general, "text": "fine"})
    bad = ada.change("messages", "01BAD", {"channel": general, "text": value})
    payload = {"v": 1, "changes": [good, bad]}
    body = json.dumps(payload).encode() if encoding == "json" else msgspec.msgpack.encode(payload)
    before = count_changes(workspace)

    reply = _post(ada, "/api/sync", body, f"application/{encoding}")

    assert reply.status_code == 400, reply.text
    answer = reply.json()
    assert answer["error"] == "invalid_change" and answer["field"] == "changes[1].fields.text", answer
    assert count_changes(workspace) == before


@pytest.mark.parametrize(
    ("fmt", "frame"),
    [
        ("json", b'{"t":"ping","ignored":' + b"[" * 5_000 + b"]" * 5_000 + b"}"),
        ("json", b'{"t":"typing","scope":"\xff"}'),
        ("msgpack", b"\x82\xa1t\xa6typing\xa5scope\xa2\xff\xfe"),  # {"t": "typing", "scope": <not UTF-8>}
        ("msgpack", b"\x82\xa1t\xa4ping\xa1x" + b"\x91" * 5_000 + b"\xc0"),
    ],
    ids=["json-deep", "json-utf8", "msgpack-utf8", "msgpack-deep"],
)
def test_a_hostile_live_frame_is_ignored_and_the_socket_lives_on(workspace: Workspace, fmt: str, frame: bytes) -> None:
    ada = workspace.join("Ada")
    query = "?format=msgpack" if fmt == "msgpack" else ""
    cookie = {"cookie": f"tt_session={ada.client.cookies['tt_session']}"}
    with ada.client.websocket_connect(f"/api/live{query}", headers=cookie) as socket:
        hello = msgspec.msgpack.decode(socket.receive_bytes()) if fmt == "msgpack" else socket.receive_json()
        assert hello["t"] == "hello"
        socket.send_bytes(frame)
        socket.send_bytes(msgspec.msgpack.encode({"t": "ping"}) if fmt == "msgpack" else b'{"t":"ping"}')
        answer = msgspec.msgpack.decode(socket.receive_bytes()) if fmt == "msgpack" else socket.receive_json()
    assert answer["t"] == "pong"


def test_a_bad_query_parameter_is_named(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    reply = ada.client.get("/api/search", params={"q": "x", "limit": "lots"})
    assert reply.status_code == 400
    body = reply.json()
    assert body["error"] == "bad_request" and body["field"] == "limit" and "limit (query)" in body["detail"], body
