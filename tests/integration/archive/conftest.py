"""The archive tests' shared scene: a small workspace played once for the package (people,
channels, edits, a deletion, reactions), copied for each test, and helpers to export and read it."""

from __future__ import annotations

import copy
import itertools
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backend.app import create_app
from backend.cli import main
from backend.settings import Settings
from sync_protocol.collections import member_id
from tests.integration.conftest import PASSWORD, Person, Workspace, wall_ms

ROOT = Path(__file__).resolve().parents[3]
DAY_MS = 86_400_000
SECRET_WORDS = "the launch code is swordfish"


@dataclass
class Scene:
    ws: Workspace
    ada: Person  # owner
    bob: Person  # member
    auditor_token: str
    general: str
    secret: str

    @property
    def data(self) -> Path:
        return self.ws.data_dir


def sign_in(ws: Workspace, email: str) -> str:
    client = ws.client()
    reply = client.post(
        "/api/signin", json={"email": email, "password": PASSWORD}, headers={"x-csrftoken": client.cookies["csrftoken"]}
    )
    assert reply.status_code == 200, reply.text
    return str(client.cookies["tt_session"])


def _play(workspace: Workspace) -> Scene:
    """Ada edits a message, Bob replies, reacts, posts a secret and deletes it, joins and leaves #secret."""
    ada, bob = workspace.join("Ada"), workspace.join("Bob")
    services = workspace.app.state["services"]
    services.accounts.create_account("Ivy", "ivy@example.com", PASSWORD, "auditor", wall_ms())
    general, secret = ada.channel_named("general"), "01CHSECRET"
    acks = [
        ada.sync(ada.change("messages", "01M1", {"channel": general, "text": "Standup at nine"})),
        ada.sync(ada.change("messages", "01M1", {"text": "Standup at ten"})),
        bob.sync(bob.change("messages", "01M2", {"channel": general, "text": SECRET_WORDS})),
        bob.sync(bob.change("messages", "01M2", {"deleted": True})),
        bob.sync(bob.change("messages", "01M3", {"channel": general, "text": "ok, see you", "thread": "01M1"})),
        bob.sync(
            bob.change(
                "reactions",
                "01M1:" + bob.user + ":1f44d",
                {"message": "01M1", "channel": general, "user": bob.user, "emoji": "👍", "on": True},
            )
        ),
        ada.sync(
            ada.change("channels", secret, {"name": "secret", "kind": "private"}),
            ada.change("members", member_id(secret, ada.user), {"channel": secret, "user": ada.user}),
            ada.change("members", member_id(secret, bob.user), {"channel": secret, "user": bob.user}),
            ada.change("messages", "01S1", {"channel": secret, "text": "private plans"}),
        ),
        bob.sync(bob.change("members", member_id(secret, bob.user), {"left": True})),
    ]
    for reply in acks:
        assert reply.status_code == 200 and not reply.json()["rejections"], reply.text
    return Scene(workspace, ada, bob, sign_in(workspace, "ivy@example.com"), general, secret)


@pytest.fixture(scope="package")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Scene]]:
    """The scene is played once (sign-ups hash passwords, on purpose slowly); each test gets a copy."""
    data = tmp_path_factory.mktemp("scene")
    ws = Workspace(create_app(Settings(data_dir=data, frontend_dir=data / "none")), data)
    scene = _play(ws)
    ws.close()  # checkpoints the WAL into teamtalk.db
    yield data, scene


def _same_device(ws: Workspace, person: Person) -> Person:
    client = ws.client()
    client.cookies.set("tt_session", person.client.cookies["tt_session"])
    twin = Person(client, {"user": {"id": person.user, "role": person.role}, "device": person.device})
    twin.mid = itertools.count(next(copy.copy(person.mid)))
    return twin


@pytest.fixture
def scene(played: tuple[Path, Scene], tmp_path: Path) -> Iterator[Scene]:
    source, first = played
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(source / "teamtalk.db", data / "teamtalk.db")
    ws = Workspace(create_app(Settings(data_dir=data, frontend_dir=data / "none")), data)
    yield Scene(
        ws, _same_device(ws, first.ada), _same_device(ws, first.bob), first.auditor_token, first.general, first.secret
    )
    ws.close()


def teamtalk(*args: str | Path) -> int:
    return main([str(a) for a in args])


def export(scene: Scene, out: Path, *args: str) -> Path:
    assert teamtalk("archive", "export", out, "--data", scene.data, *args) == 0
    return out


def rows(path: Path, sql: str, *params: Any) -> list[dict[str, Any]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute(sql, params)]
    finally:
        db.close()


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table and view of an archive, rows in stored order (what the archive holds, whoever wrote it)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'messages_fts_%' ORDER BY name"
            )
        ]
        found = {"sqlite_master": db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()}
        for name in names:
            found[name] = db.execute(f"SELECT * FROM [{name}]").fetchall()
        found["archive_info"] = [r for r in found["archive_info"] if r[0] != "exported_at"]
        return found
    finally:
        db.close()
