"""Helpers for the file tests: a channel to share in, uploads over raw tus, file records, and a
real server on a socket for clients that need one (tuspy speaks ``requests``, not ASGI)."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from backend.app import create_app
from backend.files.tus import encode_metadata
from backend.settings import Settings
from sync_protocol.collections import member_id
from tests.integration.conftest import Person, free_port

UPLOADS = "/api/files/uploads"
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = {"Content-Type": "application/offset+octet-stream"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_id() -> str:
    return uuid.uuid4().hex[:24]


def private_channel(owner: Person, *others: Person) -> str:
    channel = new_id()
    changes = [owner.change("channels", channel, {"name": f"c{channel}", "kind": "private"})]
    for person in (owner, *others):
        changes.append(
            owner.change("members", member_id(channel, person.user), {"channel": channel, "user": person.user})
        )
    reply = owner.sync(*changes)
    assert reply.status_code == 200 and not reply.json()["rejections"], reply.text
    return channel


def create(
    person: Person,
    channel: str,
    data: bytes,
    name: str = "notes.bin",
    type_: str = "application/octet-stream",
    digest: str | None = None,
    length: int | None = None,
) -> httpx.Response:
    metadata = {"filename": name, "filetype": type_, "sha256": digest or sha256(data), "channel": channel}
    headers = {
        **TUS,
        **person.csrf,
        "Upload-Length": str(len(data) if length is None else length),
        "Upload-Metadata": encode_metadata(metadata),
    }
    return person.client.post(UPLOADS, headers=headers)


def send(person: Person, location: str, offset: int, chunk: bytes, **headers: str) -> httpx.Response:
    sent = {**TUS, **person.csrf, **OFFSET_TYPE, "Upload-Offset": str(offset), **headers}
    return person.client.patch(location, content=chunk, headers=sent)


def offset_of(person: Person, location: str) -> httpx.Response:
    return person.client.head(location, headers=TUS)


def upload(person: Person, channel: str, data: bytes, **options: Any) -> str:
    """Create and send in one PATCH; returns the upload's location."""
    created = create(person, channel, data, **options)
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    if int(created.headers["upload-offset"]) < len(data):
        sent = send(person, location, 0, data)
        assert sent.status_code == 204, sent.text
        assert sent.headers["upload-offset"] == str(len(data))
    return location


def share(person: Person, channel: str, data: bytes, name: str, type_: str, **fields: Any) -> tuple[str, Any]:
    """A files record for uploaded bytes; returns (file id, sync reply)."""
    file_id = new_id()
    record = {"channel": channel, "name": name, "size": len(data), "type": type_, "digest": sha256(data), **fields}
    reply = person.sync(person.change("files", file_id, record))
    assert reply.status_code == 200, reply.text
    return file_id, reply.json()


def upload_and_share(person: Person, channel: str, data: bytes, name: str, type_: str, **fields: Any) -> str:
    upload(person, channel, data, name=name, type_=type_)
    file_id, reply = share(person, channel, data, name, type_, **fields)
    assert not reply["rejections"], reply
    return file_id


def stored_blobs(data_dir: Path) -> list[Path]:
    """Every stored blob and derived blob (not temporary files)."""
    root = data_dir / "blobs"
    return [p for p in root.rglob("*") if p.is_file() and p.parent.name != "tmp"] if root.exists() else []


def partial_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in (data_dir / "uploads").glob("*"))


def wait_for(predicate: Any, timeout_s: float = 15.0) -> Any:
    """Poll ``predicate`` until it returns something truthy (a condition, not a fixed sleep)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = predicate()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s} s: {predicate}")
        time.sleep(0.02)


@contextmanager
def real_server(settings: Settings) -> Iterator[str]:
    """The app under uvicorn on a free port, in this process (its store is the test's to read)."""
    port = free_port()
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 20)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state["services"].close()


def signed_up(url: str, name: str, invite_from: Person | None = None) -> Person:
    client = httpx.Client(base_url=url, timeout=30)
    client.get("/api/workspace")
    body: dict[str, Any] = {"name": name, "email": f"{name.lower()}@example.com", "password": "correct horse battery"}
    if invite_from is not None:
        body["invite"] = invite_from.client.post("/api/invites", json={}, headers=invite_from.csrf).json()["token"]
    reply = client.post("/api/signup", json=body, headers={"x-csrftoken": client.cookies["csrftoken"]})
    assert reply.status_code == 201, reply.text
    return Person(client, reply.json())  # type: ignore[arg-type]
