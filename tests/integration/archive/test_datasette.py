"""Archives in Datasette: auditors and admins only, signed in with their TeamTalk session; read-only."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.archive.conftest import (
    ROOT,
    Scene,
    export,
    sign_in,
)
from tests.integration.conftest import free_port


@pytest.fixture
def datasette(scene: Scene, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    out = export(scene, tmp_path / "archive.db")
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backend.cli",
            "archive",
            "serve",
            str(out),
            "--port",
            str(port),
            "--data",
            str(scene.data),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/", timeout=1)
                break
            except httpx.TransportError as exc:
                if process.poll() is not None or time.monotonic() > deadline:
                    said = process.stderr.read()[-2000:] if process.stderr else b""
                    raise AssertionError(f"datasette did not start: {said!r}") from exc
                time.sleep(0.1)
        yield base, out
    finally:
        process.kill()
        process.wait()
        if process.stderr:
            process.stderr.close()


def get(url: str, token: str | None = None) -> httpx.Response:
    return httpx.get(url, headers={"Cookie": f"tt_session={token}"} if token else {}, timeout=10)


def test_datasette_answers_auditors_and_refuses_everyone_else(datasette: tuple[str, Path], scene: Scene) -> None:
    base, _ = datasette
    auditor = scene.auditor_token
    search = get(f"{base}/archive/messages.json?_search=standup&_shape=array", auditor)
    assert search.status_code == 200, search.text
    assert [(m["id"], m["text"]) for m in search.json()] == [("01M1", "Standup at ten")]

    canned = get(
        f"{base}/archive/person_messages.json?person=ada@example.com&since=2000-01-01&until=2999-12-31&_shape=array",
        auditor,
    )
    assert canned.status_code == 200, canned.text
    assert [r["text"] for r in canned.json()] == ["Standup at nine", "Standup at ten", "private plans"]
    today = time.strftime("%Y-%m-%d", time.gmtime())
    audience = get(f"{base}/archive/channel_audience.json?channel=secret&date={today}&_shape=array", auditor)
    assert {r["name"] for r in audience.json()} == {"Ada", "Bob"}

    owner = sign_in(scene.ws, "ada@example.com")
    assert get(f"{base}/archive/messages.json", owner).status_code == 200
    member = sign_in(scene.ws, "bob@example.com")
    for token in (member, None, "not-a-session"):
        assert get(f"{base}/archive/messages.json?_search=standup", token).status_code == 403
        assert (
            get(f"{base}/archive/person_messages.json?person=x&since=2000-01-01&until=2999-12-31", token).status_code
            == 403
        )
        assert get(f"{base}/archive.db", token).status_code == 403


def test_nothing_can_be_written_through_datasette(datasette: tuple[str, Path], scene: Scene) -> None:
    base, out = datasette
    before = hashlib.sha256(out.read_bytes()).hexdigest()
    auditor = scene.auditor_token
    for sql in (
        "delete from messages",
        "insert into people (id) values ('x')",
        "update messages set text = 'x'",
        "drop table changes",
        "pragma writable_schema = 1",
    ):
        reply = get(f"{base}/archive.json?sql={sql}", auditor)
        assert reply.status_code == 400, (sql, reply.status_code, reply.text[-1500:])
    posted = httpx.post(
        f"{base}/archive/messages", json={"row": {"id": "x"}}, headers={"Cookie": f"tt_session={auditor}"}, timeout=10
    )
    assert posted.status_code >= 400
    count = get(f"{base}/archive/messages.json?_shape=array&_size=max", auditor)
    assert len(count.json()) == 4
    assert hashlib.sha256(out.read_bytes()).hexdigest() == before
