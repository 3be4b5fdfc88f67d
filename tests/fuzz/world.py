"""A workspace for the fuzzers: devices that speak the real HTTP API, replicas built from their
pulls, live listeners on the real hub, and the invariants every fuzzer checks.

Invariants checked after every step (each one is an assertion function below):

- ``assert_documented``: a refusal uses a code PROTOCOL.md lists (parsed from the doc itself, so
  a code the lead documents later is accepted without touching this file);
- ``assert_unchanged``: a refused request left the log, the records and every derived table as
  they were (nothing partially applied);
- ``assert_pulls_match_state``: every member device's replica, built only from its pulls and the
  merge rule, equals the server's records of the scopes it may see;
- ``assert_core_invariants``: deleted stays deleted, immutable stays immutable, live equals pull.
  Issue 8's bugs 1-3 broke these; the precise regressions are in
  tests/integration/test_issue8_core_regressions.py. ``CORE_BUGS_FIXED`` stays True.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar
from litestar.testing import TestClient

from backend.app import create_app
from backend.live import Connection
from backend.settings import Settings
from backend.storage.sqlite_schema import unpack_clocks
from sync_protocol import merge
from sync_protocol.collections import COLLECTIONS, member_id
from sync_protocol.hlc import Clock
from sync_protocol.wire import Changes, live_json_decoder

#: Turn on once the lead's core branch (issue 8 bugs 1, 2 and 3) is merged: every random fuzzer
#: then also asserts "deleted stays deleted", "immutable stays immutable" and "live equals pull"
#: for deleted messages (assert_core_invariants). Flip it here; nothing else changes.
CORE_BUGS_FIXED = True

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = (ROOT / "sync_protocol" / "PROTOCOL.md").read_text()


def _documented_codes() -> tuple[frozenset[str], frozenset[str]]:
    """(error codes of the Errors table, rejection codes), read from PROTOCOL.md."""
    table = PROTOCOL.split("## Errors", 1)[1]
    errors = {code for row in re.findall(r"^\| \d{3} \| (.+?) \|", table, re.M) for code in re.findall(r"`(\w+)`", row)}
    paragraph = PROTOCOL.split("Rejection codes:", 1)[1].split("\n\n", 1)[0]
    rejections = set(re.findall(r"`(\w+)` \(", paragraph))
    assert errors and rejections, "PROTOCOL.md no longer lists its codes where this parser looks"
    return frozenset(errors), frozenset(rejections)


ERROR_CODES, REJECTION_CODES = _documented_codes()
IMMUTABLE = {name: frozenset(f for f, spec in schema.items() if spec.immutable) for name, schema in COLLECTIONS.items()}


def wall_ms() -> int:
    return int(time.time() * 1000)


class Device:
    """One signed-in device: its own session, mutation counter, clock, replica and cursors."""

    def __init__(self, client: TestClient[Litestar], session: dict[str, Any], name: str) -> None:
        self.client = client
        self.name = name
        self.user: str = session["user"]["id"]
        self.device: str = session["device"]
        self.clock = Clock(self.device)
        self.next_mid = 1
        self.cursors: dict[str, int] = {}
        self.records: dict[tuple[str, str], merge.RecordState] = {}
        self.scope_of: dict[tuple[str, str], str] = {}
        self.scopes: list[str] = []

    def copy_to(self, client: TestClient[Litestar]) -> Device:
        """The same device (session, counter, clock, replica) talking through another client."""
        twin = Device.__new__(Device)
        twin.__dict__.update(copy.deepcopy({k: v for k, v in self.__dict__.items() if k not in ("client", "clock")}))
        twin.client = client
        twin.clock = Clock(self.device, self.clock.last)
        return twin

    @property
    def headers(self) -> dict[str, str]:
        return {"x-csrftoken": self.client.cookies["csrftoken"]}

    def hlc(self, ahead_ms: int = 0) -> str:
        return self.clock.tick(wall_ms() + ahead_ms)

    def mutation(self, collection: str, record_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        mid = self.next_mid
        self.next_mid += 1
        return {"mid": mid, "collection": collection, "id": record_id, "fields": fields, "hlc": self.hlc()}

    def post(self, body: bytes, content_type: str = "application/json", accept: str | None = None) -> Any:
        headers = {**self.headers, "content-type": content_type, "accept": accept or content_type}
        return self.client.post("/api/sync", content=body, headers=headers)

    def push(self, *mutations: dict[str, Any]) -> dict[str, Any]:
        """Push well-formed mutations; the reply must be 200."""
        reply = self.post(json.dumps({"v": 1, "changes": list(mutations), "cursors": self.cursors}).encode())
        assert reply.status_code == 200, reply.text
        answer: dict[str, Any] = reply.json()
        return answer

    def pull(self) -> list[dict[str, Any]]:
        """Sync until ``more`` is false, merging into the replica; returns the changes received."""
        received: list[dict[str, Any]] = []
        while True:
            body = json.dumps({"v": 1, "cursors": self.cursors, "limit": 5000}).encode()
            reply = self.post(body)
            assert reply.status_code == 200, reply.text
            answer = reply.json()
            for change in answer["changes"]:
                key = (change["collection"], change["id"])
                self.records[key] = merge.apply(self.records.get(key), change["fields"], change["hlc"])
                self.scope_of[key] = change["scope"]
            received.extend(answer["changes"])
            self.scopes = answer["scopes"]
            for scope, seq in answer["cursors"].items():
                self.cursors[scope] = max(seq, self.cursors.get(scope, 0))
            if not answer["more"]:
                break
        visible = set(self.scopes)
        for key in [k for k, scope in self.scope_of.items() if scope not in visible]:
            del self.records[key], self.scope_of[key]  # access lost: drop the scope (rule 5)
        self.cursors = {s: c for s, c in self.cursors.items() if s in visible}
        return received


class Listener:
    """A live connection of one user on the real hub (the path /api/live's socket takes, minus
    the socket): frames are encoded by the hub and decoded here as a device would."""

    def __init__(self, world: World, device: Device) -> None:
        self.device = device
        self.conn = Connection(device.user, device.device, "json")
        world.services.hub.join(self.conn, world.services.sync.visible_scopes(device.user))

    def drain(self) -> list[dict[str, Any]]:
        changes: list[dict[str, Any]] = []
        while not self.conn.queue.empty():
            data = self.conn.queue.get_nowait()
            assert data is not None, "the hub closed a listener (queue overflow?)"
            frame = live_json_decoder.decode(data)
            if isinstance(frame, Changes):
                changes.extend(msgspec.to_builtins(c) for c in frame.changes)
        return changes


class World:
    """One server (the real app on a temporary SQLite) with people and their devices.

    Signing people up is slow (argon2), so a fuzzer builds one world and ``fork``s it for every
    example: a copy of the database and of each device's state, on a fresh app. Examples then
    never see each other's writes, and hypothesis can replay and shrink them.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.app = create_app(Settings(data_dir=data_dir, frontend_dir=data_dir / "no-frontend"))
        self.services = self.app.state["services"]
        self.db = sqlite3.connect(data_dir / "teamtalk.db", check_same_thread=False)
        self.devices: list[Device] = []
        self.ids = itertools.count(1)
        self.general = ""

    @classmethod
    def founded(cls, data_dir: Path, owner: str = "Ada") -> World:
        world = cls(data_dir)
        world.join(owner)
        world.general = world.channel_named(world.devices[0], "general")
        return world

    def fork(self, data_dir: Path) -> World:
        """A copy of this world (database and devices) on its own app in ``data_dir``."""
        data_dir.mkdir(parents=True, exist_ok=True)
        for name in ("teamtalk.db", "search.db", "push.db"):
            if (self.data_dir / name).exists():
                source, target = sqlite3.connect(self.data_dir / name), sqlite3.connect(data_dir / name)
                with target:
                    source.backup(target)
                source.close()
                target.close()
        copy = World(data_dir)
        copy.general, copy.ids = self.general, itertools.count(next(self.ids) + 1_000)
        for device in self.devices:
            client = TestClient(copy.app)
            for cookie in device.client.cookies.jar:  # the same session and CSRF token, on the copy
                client.cookies.set(cookie.name, cookie.value or "", domain=cookie.domain, path=cookie.path)
            copy.devices.append(device.copy_to(client))
        return copy

    @property
    def owner(self) -> Device:
        return self.devices[0]

    def invite_token(self) -> str:
        reply = self.owner.client.post("/api/invites", json={}, headers=self.owner.headers)
        token: str = reply.json()["token"]
        return token

    def new_id(self, prefix: str = "01F") -> str:
        return f"{prefix}{next(self.ids):08d}"

    def _client(self) -> TestClient[Litestar]:
        client = TestClient(self.app)
        client.get("/api/workspace")  # the CSRF cookie, as a browser gets it
        return client

    def join(self, name: str) -> Device:
        client = self._client()
        body: dict[str, Any] = {"name": name, "email": f"{name.lower()}@example.com", "password": PASSWORD}
        if self.devices:
            body["invite"] = self.invite_token()
        reply = client.post("/api/signup", json=body, headers={"x-csrftoken": client.cookies["csrftoken"]})
        assert reply.status_code == 201, reply.text
        device = Device(client, reply.json(), f"{name}#1")
        self.devices.append(device)
        device.pull()
        return device

    def second_device(self, of: Device) -> Device:
        """The same person signed in again: a device with its own session, counter and clock."""
        client = self._client()
        address = of.client.get("/api/session").json()["user"]["email"]
        reply = client.post(
            "/api/signin",
            json={"email": address, "password": PASSWORD},
            headers={"x-csrftoken": client.cookies["csrftoken"]},
        )
        assert reply.status_code == 200, reply.text
        count = sum(d.user == of.user for d in self.devices)
        device = Device(client, reply.json(), f"{of.name.split('#')[0]}#{count + 1}")
        self.devices.append(device)
        device.pull()
        return device

    @staticmethod
    def channel_named(device: Device, name: str) -> str:
        return next(
            key[1] for key, state in device.records.items() if key[0] == "channels" and state.fields.get("name") == name
        )

    def add_private_channel(self, creator: Device, name: str, members: list[Device]) -> str:
        channel = self.new_id("01C")
        creator.push(
            creator.mutation("channels", channel, {"name": name, "kind": "private"}),
            *[
                creator.mutation("members", member_id(channel, d.user), {"channel": channel, "user": d.user})
                for d in {d.user: d for d in [creator, *members]}.values()
            ],
        )
        return channel

    # --- the server's state, read straight from SQLite ----------------------------------------

    TABLES = ("changes", "records", "channel_numbers", "memberships", "message_index", "rejections", "scope_heads")

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table a push can write, in full (the fuzz workspaces stay small)."""
        return {t: sorted(self.db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in self.TABLES}

    def records(self, scopes: list[str] | None = None) -> dict[tuple[str, str], tuple[dict[str, Any], dict[str, str]]]:
        rows = self.db.execute("SELECT collection, id, scope, fields, clocks FROM records").fetchall()
        wanted = None if scopes is None else set(scopes)
        return {
            (c, i): (json.loads(f), unpack_clocks(cl, json.loads(f)))
            for c, i, s, f, cl in rows
            if wanted is None or s in wanted
        }

    def close(self) -> None:
        self.db.close()
        self.services.close()


# --- the invariants -----------------------------------------------------------------------------


def assert_documented(status: int, body: dict[str, Any]) -> None:
    assert status < 500, f"the server failed: {status} {body}"
    if status >= 400:
        assert body.get("error") in ERROR_CODES, f"undocumented error code: {status} {body}"
        assert isinstance(body.get("detail"), str) and body["detail"], body
    else:
        for rejection in body.get("rejections", []):
            assert rejection["code"] in REJECTION_CODES, f"undocumented rejection code: {rejection}"


def assert_unchanged(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]) -> None:
    for table in before:
        assert before[table] == after[table], f"a refused request changed {table}"


def assert_pulls_match_state(world: World, devices: list[Device]) -> None:
    for device in devices:
        device.pull()
        expected = world.records(device.scopes)
        held = {key: (state.fields, state.clocks) for key, state in device.records.items()}
        missing = expected.keys() - held.keys()
        extra = held.keys() - expected.keys()
        assert not missing and not extra, f"{device.name}: missing {sorted(missing)[:5]}, extra {sorted(extra)[:5]}"
        for key, value in expected.items():
            assert held[key] == value, f"{device.name} holds {key} as {held[key]}, the server as {value}"


def assert_live_equals_pull(live: list[dict[str, Any]], pulled: list[dict[str, Any]], world: World) -> None:
    """A live frame carries exactly what a pull of the same seq returns (invariant 12).

    Until CORE_BUGS_FIXED, changes of messages that are deleted now are skipped: bug 3 (a push
    that creates and deletes a message publishes its text) is the lead's."""
    by_seq = {c["seq"]: c for c in pulled}
    deleted = {key for key, (fields, _) in world.records().items() if fields.get("deleted") is True}
    for change in live:
        if not CORE_BUGS_FIXED and (change["collection"], change["id"]) in deleted:
            continue
        assert change["seq"] in by_seq, f"live change {change['seq']} was not in the pull"
        assert by_seq[change["seq"]] == change, f"live {change} != pull {by_seq[change['seq']]}"


class CoreInvariants:
    """Deleted stays deleted and immutable stays immutable, over every record the server holds.

    ``problems`` compares the records now with what it saw before (a record's immutable fields
    when first seen, every record ever seen deleted) and remembers the new ones. It runs always;
    assert_core_invariants fails on what it finds only when CORE_BUGS_FIXED (bugs 1 and 2)."""

    def __init__(self) -> None:
        self.deleted: set[tuple[str, str]] = set()
        self.fixed: dict[tuple[str, str], dict[str, Any]] = {}

    def problems(self, world: World) -> list[str]:
        found = []
        for key, (fields, _) in world.records().items():
            if key in self.deleted and fields.get("deleted") is not True:
                found.append(f"{key} was deleted and is not any more: {fields}")
            if key in self.deleted and key[0] == "messages" and fields.get("text") is not None:
                found.append(f"{key} was deleted and has text again")
            immutable = {name: fields.get(name, "<absent>") for name in IMMUTABLE.get(key[0], ())}
            if key in self.fixed and self.fixed[key] != immutable:
                found.append(f"{key}: immutable fields were {self.fixed[key]}, now {immutable}")
            self.fixed.setdefault(key, immutable)
            if fields.get("deleted") is True:
                self.deleted.add(key)
        return found


def assert_core_invariants(world: World, core: CoreInvariants) -> None:
    problems = core.problems(world)
    if CORE_BUGS_FIXED:
        assert not problems, problems
