"""Invariant 3: a change the server acked survives kill -9 of the server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


class Server:
    def __init__(self, data: Path, *extra: str) -> None:
        self.data = data
        self.extra = list(extra)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "backend.cli",
                "serve",
                "--port",
                str(self.port),
                "--data",
                str(self.data),
                *self.extra,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/workspace", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, self.process.stderr.read() if self.process.stderr else ""
            time.sleep(0.05)
        raise TimeoutError("the server did not start within 20 s")

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    running.start()
    yield running
    running.stop()


def _signed_up(url: str) -> tuple[httpx.Client, dict[str, str], str]:
    client = httpx.Client(base_url=url)
    client.get("/api/workspace")
    csrf = {"x-csrftoken": client.cookies["csrftoken"]}
    session = client.post(
        "/api/signup", json={"name": "Ada", "email": "ada@example.com", "password": "correct horse"}, headers=csrf
    ).json()
    return client, csrf, session["device"]


def test_an_acked_push_survives_kill_9(server: Server) -> None:
    client, csrf, device = _signed_up(server.url)
    general = next(
        c["id"]
        for c in client.post("/api/sync", json={"v": 1}, headers=csrf).json()["changes"]
        if c["collection"] == "channels"
    )
    now = int(time.time() * 1000)
    changes = [
        {
            "mid": i + 1,
            "collection": "messages",
            "id": f"01DUR{i:03d}",
            "hlc": f"{now:013d}-{i:05d}-{device}",
            "fields": {"channel": general, "text": f"durable {i}"},
        }
        for i in range(50)
    ]
    acked = client.post("/api/sync", json={"v": 1, "changes": changes}, headers=csrf).json()["acks"]
    assert acked == list(range(1, 51))

    server.kill9()  # no shutdown, no flush: the process just dies
    client.close()
    server.start()

    with httpx.Client(base_url=server.url) as again:
        again.get("/api/workspace")
        csrf = {"x-csrftoken": again.cookies["csrftoken"]}
        again.post("/api/signin", json={"email": "ada@example.com", "password": "correct horse"}, headers=csrf)
        pulled = again.post("/api/sync", json={"v": 1, "limit": 5000}, headers=csrf).json()["changes"]
    texts = sorted(c["fields"]["text"] for c in pulled if c["collection"] == "messages")
    assert texts == sorted(f"durable {i}" for i in range(50))
    numbers = sorted(c["fields"]["n"] for c in pulled if c["collection"] == "messages")
    assert numbers == list(range(1, 51))
