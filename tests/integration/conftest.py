"""Integration fixtures: the real Litestar app on a temporary SQLite, driven like devices do."""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from backend.app import create_app
from backend.settings import Settings
from backend.storage.sqlite import SqliteStorage
from sync_protocol import merge
from tests.integration.push_service import PushService

PASSWORD = "correct horse battery"


def wall_ms() -> int:
    return int(time.time() * 1000)


class Person:
    """One signed-in device of one person, speaking JSON to the real app."""

    def __init__(self, client: TestClient[Litestar], session: dict[str, Any]) -> None:
        self.client = client
        self.user = session["user"]["id"]
        self.device = session["device"]
        self.role = session["user"]["role"]
        self.mid = itertools.count(1)
        self.cursors: dict[str, int] = {}
        self.tick = itertools.count()

    @property
    def csrf(self) -> dict[str, str]:
        return {"x-csrftoken": self.client.cookies["csrftoken"]}

    def hlc(self, ms: int | None = None) -> str:
        return f"{(ms or wall_ms()):013d}-{next(self.tick) % 99999:05d}-{self.device}"

    def change(self, collection: str, record_id: str, fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "mid": next(self.mid),
            "collection": collection,
            "id": record_id,
            "fields": fields,
            "hlc": extra.get("hlc") or self.hlc(),
        }

    def sync(self, *changes: dict[str, Any], cursors: dict[str, int] | None = None, **body: Any) -> Any:
        """POST /api/sync; returns the raw response (tests check status and body)."""
        payload = {"v": 1, "changes": list(changes), "cursors": self.cursors if cursors is None else cursors, **body}
        return self.client.post("/api/sync", json=payload, headers=self.csrf)

    def pull(self) -> dict[str, Any]:
        """Sync until nothing more; returns every change seen, keeping cursors."""
        seen: list[dict[str, Any]] = []
        while True:
            reply = self.sync()
            assert reply.status_code == 200, reply.text
            body = reply.json()
            seen.extend(body["changes"])
            self.cursors.update(body["cursors"])
            if not body["more"]:
                return {**body, "changes": seen}

    def channel_named(self, name: str) -> str:
        records = self.records("channels")
        return next(rid for rid, f in records.items() if f.get("name") == name)

    def records(self, collection: str) -> dict[str, dict[str, Any]]:
        """Current records of a collection as this person sees them (server's view through a full pull)."""
        states: dict[str, merge.RecordState] = {}
        for change in self.full_log():
            if change["collection"] == collection:
                states[change["id"]] = merge.apply(states.get(change["id"]), change["fields"], change["hlc"])
        return {rid: state.fields for rid, state in states.items()}

    def full_log(self) -> list[dict[str, Any]]:
        reply = self.sync(cursors={}, limit=5000)
        assert reply.status_code == 200, reply.text
        changes: list[dict[str, Any]] = reply.json()["changes"]
        return changes


class Workspace:
    """A server plus helpers to add people to it."""

    def __init__(self, app: Litestar, data_dir: Path) -> None:
        self.app = app
        self.data_dir = data_dir
        self.owner: Person | None = None

    def client(self) -> TestClient[Litestar]:
        # Not entered as a context manager: several clients share one app, and the app has no
        # lifespan work, so each request may run on its own portal.
        client = TestClient(self.app)
        client.get("/api/workspace")  # receive the CSRF cookie like a browser would
        return client

    def join(self, name: str, role_admin: bool = False) -> Person:
        client = self.client()
        email = f"{name.lower()}@example.com"
        body: dict[str, Any] = {"name": name, "email": email, "password": PASSWORD}
        if self.owner is not None:
            body["invite"] = self.owner.client.post("/api/invites", json={}, headers=self.owner.csrf).json()["token"]
        reply = client.post("/api/signup", json=body, headers={"x-csrftoken": client.cookies["csrftoken"]})
        assert reply.status_code == 201, reply.text
        person = Person(client, reply.json())
        if self.owner is None:
            self.owner = person
        return person

    def another_device(self, person: Person) -> Person:
        """The same person signed in on a second device (its own session, mutation counter and clock)."""
        client = self.client()
        reply = client.post(
            "/api/signin",
            json={"email": f"{person.client.get('/api/session').json()['user']['email']}", "password": PASSWORD},
            headers={"x-csrftoken": client.cookies["csrftoken"]},
        )
        assert reply.status_code == 200, reply.text
        return Person(client, reply.json())

    def store(self) -> SqliteStorage:
        """A second connection to the same database, to check what really got stored."""
        return SqliteStorage(self.data_dir / "teamtalk.db")

    def close(self) -> None:
        self.app.state["services"].close()


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    settings = Settings(data_dir=tmp_path, frontend_dir=tmp_path / "no-frontend")
    ws = Workspace(create_app(settings), tmp_path)
    yield ws
    ws.close()


@pytest.fixture
def push() -> Iterator[PushService]:
    """A local push service that checks VAPID and decrypts what it receives (push_service.py)."""
    service = PushService()
    yield service
    service.close()


def count_changes(ws: Workspace) -> int:
    store = ws.store()
    try:
        return int(store._db.execute("SELECT count(*) FROM changes").fetchone()[0])
    finally:
        store.close()


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago (for servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
