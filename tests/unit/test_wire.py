"""The wire contract (sync_protocol/wire.py): every Struct survives JSON and MessagePack, live
frames carry their tag, an old peer's unknown fields are ignored, and a wrong type is refused
with an error that names where it is."""

from __future__ import annotations

import inspect
import json

import msgspec
import pytest

from sync_protocol import wire

HLC = "1764172800000-00000-d8f3k2"
MUTATION = wire.Mutation(
    mid=7, collection="messages", id="01JD", fields={"channel": "01JC", "text": "On my way"}, hlc=HLC
)
CHANGE = wire.Change(
    seq=41,
    scope="c:01JC",
    collection="messages",
    id="01JD",
    hlc=HLC,
    author="01JA",
    fields={"channel": "01JC", "text": "Ünïcödé 😀", "n": 17, "deleted": False, "topic": None},
)

#: One filled-in example of every Struct in wire.py (a new Struct must be added here).
EXAMPLES: dict[type[msgspec.Struct], msgspec.Struct] = {
    wire.Mutation: MUTATION,
    wire.SyncRequest: wire.SyncRequest(v=1, changes=[MUTATION], cursors={"ws": 12, "c:01JC": 40}, limit=50, recent=50),
    wire.Change: CHANGE,
    wire.Rejection: wire.Rejection(mid=8, code="forbidden", reason="you are not a member of this channel"),
    wire.RecordSnapshot: wire.RecordSnapshot(
        scope="c:01JC",
        collection="messages",
        id="01JD",
        fields={"text": "hi", "n": 3},
        clocks={"text": "1764172800000-00000-devA", "n": "1764172800000-00000-devA"},
    ),
    wire.SyncResponse: wire.SyncResponse(
        v=1,
        server_time=1764172800123,
        acks=[7],
        rejections=[wire.Rejection(mid=8, code="forbidden", reason="no")],
        changes=[CHANGE],
        cursors={"c:01JC": 41},
        scopes=["ws", "u:01JA", "c:01JC"],
        more=True,
        records=[
            wire.RecordSnapshot(
                scope="c:01JC",
                collection="channels",
                id="01JC",
                fields={"name": "ops"},
                clocks={"name": "1764172800000-00000-devA"},
            )
        ],
    ),
    wire.ErrorBody: wire.ErrorBody(
        error="clock_ahead", detail="your clock is ahead", field="changes[0].hlc", server_time=1764172800123
    ),
    wire.Hello: wire.Hello(server_time=1764172800123, user="01JA", online=["01JA", "01JB"]),
    wire.Changes: wire.Changes(scope="c:01JC", prev=40, changes=[CHANGE]),
    wire.Typing: wire.Typing(scope="c:01JC", user="01JA"),
    wire.Presence: wire.Presence(user="01JB", status="offline"),
    wire.Ping: wire.Ping(),
    wire.Pong: wire.Pong(server_time=1764172800123),
}
LIVE_FRAMES = [example for example in EXAMPLES.values() if isinstance(example, wire.Live)]
CONTENT_TYPES = [wire.JSON, wire.MSGPACK]


def test_every_struct_in_the_wire_module_has_an_example() -> None:
    structs = {
        obj
        for _, obj in inspect.getmembers(wire, inspect.isclass)
        if issubclass(obj, msgspec.Struct) and obj.__module__ == wire.__name__ and obj is not wire.Live
    }
    assert structs == set(EXAMPLES)


def test_every_live_frame_type_is_in_the_union() -> None:
    assert {type(frame) for frame in LIVE_FRAMES} == set(wire.LiveFrame.__args__)


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize("example", EXAMPLES.values(), ids=lambda example: type(example).__name__)
def test_every_struct_round_trips(example: msgspec.Struct, content_type: str) -> None:
    body = wire.encode(example, content_type)
    assert wire.decode(body, type(example), content_type) == example


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
def test_defaults_fill_in_what_a_peer_leaves_out(content_type: str) -> None:
    body = wire.encode({"v": 1}, content_type)
    assert wire.decode(body, wire.SyncRequest, content_type) == wire.SyncRequest(
        v=1, changes=[], cursors={}, limit=1000
    )


@pytest.mark.parametrize("frame", LIVE_FRAMES, ids=lambda frame: type(frame).__name__)
def test_live_frames_round_trip_through_the_tagged_union(frame: wire.Live) -> None:
    tag = type(frame).__struct_config__.tag
    as_json = wire.encode(frame)
    assert json.loads(as_json)["t"] == tag
    assert wire.live_json_decoder.decode(as_json) == frame
    assert wire.live_msgpack_decoder.decode(wire.encode(frame, wire.MSGPACK)) == frame


def test_a_live_frame_is_told_apart_by_its_tag_alone() -> None:
    assert wire.live_json_decoder.decode(b'{"t": "ping"}') == wire.Ping()
    assert wire.live_json_decoder.decode(b'{"t": "typing", "scope": "c:01JC"}') == wire.Typing(scope="c:01JC")


def test_an_unknown_live_tag_is_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="Invalid value 'shout'"):
        wire.live_json_decoder.decode(b'{"t": "shout", "text": "HELLO"}')


def test_unknown_fields_from_a_newer_peer_are_ignored() -> None:
    body = json.dumps(
        {
            "v": 1,
            "changes": [{**msgspec.to_builtins(MUTATION), "priority": "high"}],
            "cursors": {"ws": 3},
            "compression": "zstd",
        }
    ).encode()
    assert wire.decode(body, wire.SyncRequest) == wire.SyncRequest(v=1, changes=[MUTATION], cursors={"ws": 3})


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize("example", EXAMPLES.values(), ids=lambda example: type(example).__name__)
def test_every_struct_ignores_a_field_it_does_not_know(example: msgspec.Struct, content_type: str) -> None:
    body = wire.encode({**msgspec.to_builtins(example), "added_in_v9": [1, {"x": None}]}, content_type)
    assert wire.decode(body, type(example), content_type) == example
    if isinstance(example, wire.Live):
        live_decoder = wire.live_msgpack_decoder if content_type == wire.MSGPACK else wire.live_json_decoder
        assert live_decoder.decode(body) == example


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"v": 1, "changes": [{"mid": "7", "collection": "messages", "id": "x", "fields": {}, "hlc": "h"}]}',
            "Expected `int`, got `str` - at `$.changes[0].mid`",
        ),
        (
            b'{"v": 1, "changes": [{"mid": 7, "collection": "messages", "id": "x", "fields": {"text": 1.5}, '
            b'"hlc": "h"}]}',
            "got `float` - at `$.changes[0].fields[...]`",
        ),
        (b'{"v": 1, "cursors": {"ws": "12"}}', "Expected `int`, got `str` - at `$.cursors[...]`"),
        (b'{"changes": []}', "Object missing required field `v`"),
    ],
    ids=["mid as text", "float field value", "cursor as text", "no version"],
)
def test_a_wrong_type_is_refused_naming_its_path(body: bytes, message: str) -> None:
    with pytest.raises(msgspec.ValidationError) as refused:
        wire.decode(body, wire.SyncRequest)
    assert message in str(refused.value)


def test_a_wrong_type_in_msgpack_is_refused_naming_its_path() -> None:
    body = msgspec.msgpack.encode({"v": 1, "server_time": 5, "rejections": [{"mid": 1, "code": 2, "reason": "r"}]})
    with pytest.raises(msgspec.ValidationError, match=r"at `\$\.rejections\[0\]\.code`"):
        wire.decode(body, wire.SyncResponse, wire.MSGPACK)


def test_a_wrong_presence_status_is_refused_naming_the_field() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"at `\$\.status`"):
        wire.live_json_decoder.decode(b'{"t": "presence", "user": "01JB", "status": "asleep"}')


def test_wire_structs_are_frozen() -> None:
    with pytest.raises(AttributeError):
        MUTATION.mid = 8  # type: ignore[misc]
    with pytest.raises(AttributeError):
        EXAMPLES[wire.Hello].user = "someone else"  # type: ignore[attr-defined]


def test_error_bodies_leave_out_what_they_do_not_say() -> None:
    assert json.loads(wire.encode(wire.ErrorBody(error="bad_request", detail="no"))) == {
        "error": "bad_request",
        "detail": "no",
    }


def test_the_protocol_version_is_one_it_serves() -> None:
    assert wire.PROTOCOL_VERSION in wire.SUPPORTED_VERSIONS
