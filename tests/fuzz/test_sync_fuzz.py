"""Property-based fuzzing of POST /api/sync: valid pushes, mutated at random, from several devices.

Each example builds a push an honest client could send (messages, edits, deletes, pins, thread
replies, reactions, read cursors, topics, membership), then maybe breaks it: a value of the wrong
type, nesting, an id or clock no client makes, mids out of order or reused, sizes at and past the
limits, unknown or server-only fields, MessagePack instead of JSON, invalid UTF-8, truncated or
flipped bytes, or an exact retry of an earlier push. Whatever it sends (world.py has the checks):

- the server never answers 5xx, and every refusal uses a code PROTOCOL.md documents;
- a refused request changes nothing (every table a push writes is compared before and after);
- a retried push applies nothing twice;
- every member device's replica, built from its pulls alone, equals the server's records;
- every live frame equals the pull of the same seq;
- (with CORE_BUGS_FIXED) deleted stays deleted and immutable stays immutable.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from sync_protocol.collections import MAX_TEXT, member_id, reaction_id, read_id
from tests.fuzz.profiles import FUZZ, examples
from tests.fuzz.world import (
    CoreInvariants,
    Device,
    Listener,
    World,
    assert_core_invariants,
    assert_documented,
    assert_live_equals_pull,
    assert_pulls_match_state,
    assert_unchanged,
    wall_ms,
)

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
NASTY_TEXT = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["01ID\n", "\n01ID", "01 ID", "../../etc", "", "x" * 121, "ID\x00", "é", "01ID\r\n", "🙂"]
)
EMOJI = ["1f44d", "2764-fe0f", "1f389"]
DEEP = "deep-nesting:"


class Fuzz:
    """Ada on two devices, Bob, Cy; #general and private #ops (Ada, Bob); a message in each.

    Built once per module; every example runs on its own ``fork`` of it."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.ada = world.owner
        self.bob, self.cy = world.join("Bob"), world.join("Cy")
        self.ada2 = world.second_device(self.ada)
        self.ops = world.add_private_channel(self.ada, "ops", [self.bob])
        for device, channel in ((self.ada, world.general), (self.bob, self.ops), (self.cy, world.general)):
            device.push(device.mutation("messages", world.new_id("01M"), {"channel": channel, "text": "seed"}))
        for device in world.devices:
            device.pull()

    def fork(self, path: Path) -> Fork:
        return Fork(self.world.fork(path), self.ops)


class Fork:
    """One example's world, with live listeners for Bob and Cy."""

    def __init__(self, world: World, ops: str) -> None:
        self.world, self.ops = world, ops
        self.listeners = [Listener(world, world.devices[i]) for i in (1, 2)]
        self.core = CoreInvariants()
        self.core.problems(world)  # what is deleted and fixed before the example starts
        self.sent: list[tuple[Device, bytes, str]] = []

    def messages(self) -> list[tuple[str, dict[str, Any]]]:
        return sorted((key[1], fields) for key, (fields, _) in self.world.records().items() if key[0] == "messages")

    def last_mid(self, device: Device) -> int:
        row = self.world.db.execute("SELECT last_mid FROM sessions WHERE id = ?", (device.device,)).fetchone()
        return int(row[0])


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    state = Fuzz(World.founded(tmp_path_factory.mktemp("sync-fuzz")))
    yield state
    state.world.close()


@contextmanager
def forked(fuzz: Fuzz) -> Iterator[Fork]:
    path = Path(tempfile.mkdtemp(prefix="fork-", dir=fuzz.world.data_dir.parent))
    fork = fuzz.fork(path)
    try:
        yield fork
    finally:
        fork.world.close()
        shutil.rmtree(path, ignore_errors=True)


# --- pushes an honest client could send -----------------------------------------------------------


def honest_change(data: st.DataObject, fuzz: Fork, device: Device) -> dict[str, Any]:
    channel = data.draw(st.sampled_from([fuzz.world.general, fuzz.ops]), label="channel")
    messages = [(i, f) for i, f in fuzz.messages() if f.get("channel") == channel]
    top_level = [i for i, f in messages if "thread" not in f]
    kind = data.draw(
        st.sampled_from(["post", "reply", "edit", "delete", "pin", "react", "read", "topic", "leave", "join"]),
        label="kind",
    )
    if kind == "post" or not messages:
        text = data.draw(st.text(max_size=30) | st.just("x" * MAX_TEXT), label="text")
        return device.mutation("messages", fuzz.world.new_id("01M"), {"channel": channel, "text": text})
    message_id, _ = data.draw(st.sampled_from(messages), label="message")
    if kind == "reply" and top_level:
        parent = data.draw(st.sampled_from(top_level), label="parent")
        reply = {"channel": channel, "text": "re", "thread": parent}
        return device.mutation("messages", fuzz.world.new_id("01R"), reply)
    if kind == "edit":
        extra = data.draw(st.sampled_from([{}, {"deleted": False}, {"mentions": "channel"}]), label="extra")
        return device.mutation("messages", message_id, {"text": data.draw(st.text(max_size=20)), **extra})
    if kind == "delete":
        return device.mutation("messages", message_id, {"deleted": True})
    if kind == "pin":
        return device.mutation("messages", message_id, {"pinned": data.draw(st.booleans())})
    if kind == "react":
        emoji = data.draw(st.sampled_from(EMOJI))
        return device.mutation(
            "reactions",
            reaction_id(message_id, device.user, emoji),
            {
                "message": message_id,
                "channel": channel,
                "user": device.user,
                "emoji": emoji,
                "on": data.draw(st.booleans()),
            },
        )
    if kind == "read":
        n = data.draw(st.integers(min_value=0, max_value=50))
        position = {"channel": channel, "user": device.user, "n": n}
        return device.mutation("reads", read_id(device.user, channel), position)
    if kind == "topic":
        return device.mutation("channels", channel, {"topic": data.draw(st.text(max_size=30))})
    left = kind == "leave"
    return device.mutation(
        "members", member_id(channel, device.user), {"channel": channel, "user": device.user, "left": left}
    )


# --- and how a hostile one breaks it -----------------------------------------------------------------


def break_payload(data: st.DataObject, payload: dict[str, Any], device: Device) -> dict[str, Any]:
    """One structural attack on the request object (or none)."""
    changes = payload["changes"]
    i = data.draw(st.integers(0, len(changes) - 1), label="victim")
    victim = changes[i]
    attack = data.draw(
        st.sampled_from(
            [
                "none",
                "none",
                "field_value",
                "member_value",
                "top_value",
                "id",
                "clock",
                "mids",
                "size",
                "unknown",
                "deep",
                "drop",
                "server_field",
                "field_name",
            ]
        ),
        label="attack",
    )
    if attack == "field_value":
        name = data.draw(st.sampled_from([*victim["fields"], "text", "deleted", "thread"]), label="field")
        victim["fields"][name] = data.draw(JSON_VALUES, label="value")
    elif attack == "member_value":
        victim[data.draw(st.sampled_from(["mid", "collection", "id", "hlc", "fields"]))] = data.draw(JSON_VALUES)
    elif attack == "top_value":
        payload[data.draw(st.sampled_from(["v", "changes", "cursors", "limit", "recent"]))] = data.draw(JSON_VALUES)
    elif attack == "id":
        victim["id"] = data.draw(NASTY_TEXT, label="id")
    elif attack == "clock":
        victim["hlc"] = data.draw(
            st.sampled_from(
                [
                    device.hlc(ahead_ms=120_000),
                    device.hlc(ahead_ms=59_000),
                    f"{wall_ms():013d}-00000-someoneelse",
                    "0000000000000-00000-" + device.device,
                    device.hlc() + "\n",
                    "yesterday",
                    device.hlc().upper(),
                ]
            ),
            label="hlc",
        )
    elif attack == "mids":
        how = data.draw(st.sampled_from(["reverse", "repeat", "zero", "negative", "jump", "2^53", "old"]))
        if how == "reverse" and len(changes) > 1:
            mids = [c["mid"] for c in changes]
            for change, mid in zip(changes, reversed(mids), strict=True):
                change["mid"] = mid
        elif how == "repeat" and len(changes) > 1:
            changes[-1]["mid"] = changes[0]["mid"]
        else:
            victim["mid"] = {
                "zero": 0,
                "negative": -5,
                "jump": victim["mid"] + 1_000,
                "2^53": 2**53,
                "old": max(1, victim["mid"] - 3),
            }.get(how, victim["mid"])
    elif attack == "size":
        victim["fields"]["text"] = data.draw(st.sampled_from(["x" * (MAX_TEXT + 1), "🙂" * MAX_TEXT, "é" * 10_001]))
    elif attack == "unknown":
        target = data.draw(st.sampled_from([payload, victim, victim["fields"]]))
        target[data.draw(st.sampled_from(["colour", "x", "__proto__", ""]))] = data.draw(JSON_VALUES)
    elif attack == "deep":
        depth = data.draw(st.sampled_from([50, 400, 1_000, 5_000]), label="depth")
        payload["ignored"] = f"{DEEP}{depth}"  # encode() nests it: no encoder recurses that deep
    elif attack == "drop":
        target = data.draw(st.sampled_from([victim, victim["fields"], payload]))
        if target:
            target.pop(data.draw(st.sampled_from(sorted(target))), None)
    elif attack == "server_field":
        victim["fields"][data.draw(st.sampled_from(["author", "n", "at", "tn", "replies", "created_by"]))] = 1
    elif attack == "field_name":
        victim["fields"] = {data.draw(NASTY_TEXT, label="name"): "x"}
    return payload


def encode(data: st.DataObject, payload: dict[str, Any]) -> tuple[bytes, str]:
    depth = int(str(payload.get("ignored", "0")).removeprefix(DEEP) or 0)
    if data.draw(st.booleans(), label="msgpack"):
        try:
            body = msgspec.msgpack.encode(payload)
        except (OverflowError, TypeError):
            pass  # an int MessagePack cannot hold: send it as JSON instead
        else:
            marker = msgspec.msgpack.encode(f"{DEEP}{depth}")
            return body.replace(marker, b"\x91" * depth + b"\xc0"), "application/msgpack"
    body = json.dumps(payload, allow_nan=False).encode()
    return body.replace(f'"{DEEP}{depth}"'.encode(), b"[" * depth + b"]" * depth), "application/json"


def break_bytes(data: st.DataObject, body: bytes) -> bytes:
    attack = data.draw(st.sampled_from(["none", "none", "none", "utf8", "truncate", "flip", "empty"]), label="bytes")
    if attack == "utf8":
        at = data.draw(st.integers(0, len(body)))
        bad = data.draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"]))
        return body[:at] + bad + body[at:]
    if attack == "truncate":
        return body[: data.draw(st.integers(0, max(0, len(body) - 1)))]
    if attack == "flip" and body:
        at = data.draw(st.integers(0, len(body) - 1))
        return body[:at] + bytes([data.draw(st.integers(0, 255))]) + body[at + 1 :]
    if attack == "empty":
        return b""
    return body


def _decode_reply(reply: Any) -> dict[str, Any]:
    if reply.headers.get("content-type", "").startswith("application/msgpack"):
        answer: dict[str, Any] = msgspec.msgpack.decode(reply.content)
        return answer
    answer = reply.json()
    return answer


# --- the property ---------------------------------------------------------------------------------


def push_once(data: st.DataObject, fork: Fork) -> None:
    """One push (honest, hostile, or an exact retry) and every check after it."""
    world = fork.world
    device = data.draw(st.sampled_from(world.devices), label="device")
    device.next_mid = max(device.next_mid, fork.last_mid(device) + 1)
    retry = bool(fork.sent) and data.draw(st.integers(0, 4), label="retry?") == 0
    if retry:
        device, body, content_type = data.draw(st.sampled_from(fork.sent), label="retry")
    else:
        count = data.draw(st.integers(1, 4), label="changes")
        payload = {
            "v": 1,
            "changes": [honest_change(data, fork, device) for _ in range(count)],
            "cursors": dict(device.cursors),
        }
        body, content_type = encode(data, break_payload(data, payload, device))
        body = break_bytes(data, body)
    accept = data.draw(st.sampled_from([content_type, "application/json", "application/msgpack"]), label="accept")
    before = world.snapshot()

    reply = device.post(body, content_type, accept)

    answer = _decode_reply(reply) if reply.content else {}
    assert_documented(reply.status_code, answer)
    if reply.status_code != 200 or retry:
        assert_unchanged(before, world.snapshot())  # refused whole, or a retry: nothing (new) applied
    else:
        sent = msgspec.json.decode(body) if content_type.endswith("json") else None
        pushed = None if sent is None else {c["mid"] for c in sent.get("changes", [])}  # "changes" may be dropped
        answered = set(answer["acks"]) | {r["mid"] for r in answer["rejections"]}
        assert pushed is None or answered == pushed, f"every mutation is acked or rejected: {pushed} vs {answered}"
        fork.sent.append((device, body, content_type))
    for listener in fork.listeners:
        assert_live_equals_pull(listener.drain(), listener.device.pull(), world)
    assert_pulls_match_state(world, world.devices)
    assert_core_invariants(world, fork.core)


@hsettings(FUZZ, max_examples=examples(60))
@given(data=st.data())
def test_sync_survives_hostile_pushes(fuzz: Fuzz, data: st.DataObject) -> None:
    with forked(fuzz) as fork:
        for _ in range(data.draw(st.integers(1, 3), label="pushes")):
            push_once(data, fork)
