"""Signed-in devices for the benchmarks: ``Device`` (sign-up/in, invites, MessagePack sync with
cursors over one keep-alive connection), ``RawHttp`` (the minimal HTTP/1.1 client of the hot
loops) and ``workspace`` (an owner and the people it invites).

Everything runs on 127.0.0.1 against the server bench/server_proc.py starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import time
from collections.abc import Sequence
from typing import Any

import httpx
import msgspec

from backend.tokens import ulid
from sync_protocol.hlc import Clock
from sync_protocol.wire import MSGPACK, PROTOCOL_VERSION, ErrorBody, Mutation, SyncRequest, SyncResponse

PASSWORD = "correct horse battery staple"

_request_encoder = msgspec.msgpack.Encoder()
_response_decoder = msgspec.msgpack.Decoder(SyncResponse)


class Failed(Exception):
    pass


class RawHttp:
    """A minimal HTTP/1.1 keep-alive client over one asyncio connection, for the hot loops.

    httpx costs ~1.7 ms of client CPU per request on the reference box, more than the server
    spends on a one-message push; on a shared 2-core machine that would be measured as server
    latency. This client sends each request in one write (TCP_NODELAY) and reads
    Content-Length framed replies, which is all /api/sync answers (uncompressed) need."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in {"host": f"{host}:{port}", **headers}.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """One request; a connection the server closed while idle (uvicorn keeps them 5 s) is
        reopened and the request sent again (only used for idempotent requests)."""
        if self.writer is not None and time.monotonic() - self.used > 3.0:
            await self.close()
        for attempt in range(2):
            try:
                return await self._request(method, path, body, headers)
            except (asyncio.IncompleteReadError, ConnectionError):
                await self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _request(self, method: str, path: str, body: bytes, headers: dict[str, str] | None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert self.reader is not None
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        head = f"{method} {path} HTTP/1.1\r\n{self.fixed}{extra}content-length: {len(body)}\r\n\r\n"
        self.writer.write(head.encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                raise Failed("RawHttp reads Content-Length replies only")
        content = await self.reader.readexactly(length or 0)
        self.used = time.monotonic()
        return status, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = None


class Device:
    """One signed-in session (a device) speaking MessagePack to /api/sync over one keep-alive
    connection. Lighter than teamtalk_client.TeamTalkClient on purpose: it keeps cursors but no
    replica, so the client's own merge work does not weigh on the server's figures."""

    def __init__(self, base_url: str, gzip: bool = False) -> None:
        self.base_url = base_url
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        headers = {"accept-encoding": "gzip" if gzip else "identity"}
        self.http = httpx.AsyncClient(base_url=base_url, timeout=60.0, limits=limits, headers=headers)
        self.user_id = ""
        self.device_id = ""
        self.role = ""
        self.token = ""
        self.cursors: dict[str, int] = {}
        self.mids = itertools.count(1)
        self.clock: Clock | None = None
        self.csrf = ""
        self._raw: RawHttp | None = None

    async def close(self) -> None:
        if self._raw is not None:
            await self._raw.close()
        await self.http.aclose()

    async def _ensure_csrf(self) -> None:
        if not self.csrf:
            await self.http.get("/api/workspace")
            self.csrf = self.http.cookies["csrftoken"]

    async def post_json(self, path: str, body: dict[str, Any]) -> Any:
        await self._ensure_csrf()
        reply = await self.http.post(path, json=body, headers={"x-csrftoken": self.csrf})
        if reply.status_code >= 400:
            raise Failed(f"{path}: {reply.status_code} {reply.text}")
        return reply.json() if reply.content else None

    def _signed(self, session: dict[str, Any]) -> None:
        self.user_id = session["user"]["id"]
        self.role = session["user"]["role"]
        self.device_id = session["device"]
        self.token = str(self.http.cookies.get("tt_session", ""))
        self.clock = Clock(self.device_id)

    async def sign_up(self, name: str, email: str, invite: str | None = None) -> Device:
        body = {"name": name, "email": email, "password": PASSWORD, "invite": invite, "device_name": "bench"}
        self._signed(await self.post_json("/api/signup", body))
        return self

    async def sign_in(self, email: str) -> Device:
        self._signed(
            await self.post_json("/api/signin", {"email": email, "password": PASSWORD, "device_name": "bench"})
        )
        return self

    async def invite(self) -> str:
        token: str = (await self.post_json("/api/invites", {}))["token"]
        return token

    # --- sync -------------------------------------------------------------------------------

    def mutation(self, collection: str, record_id: str, fields: dict[str, Any]) -> Mutation:
        assert self.clock is not None
        return Mutation(
            mid=next(self.mids),
            collection=collection,
            id=record_id,
            fields=fields,
            hlc=self.clock.tick(int(time.time() * 1000)),
        )

    def message(self, channel: str, text: str) -> Mutation:
        return self.mutation("messages", ulid(), {"channel": channel, "text": text})

    def body(self, changes: Sequence[Mutation], limit: int = 1000, cursors: dict[str, int] | None = None) -> bytes:
        request = SyncRequest(
            v=PROTOCOL_VERSION, changes=list(changes), cursors=self.cursors if cursors is None else cursors, limit=limit
        )
        return _request_encoder.encode(request)

    def lean(self) -> RawHttp:
        """The RawHttp connection of this device (made on first use), carrying its cookies."""
        if self._raw is None:
            url = httpx.URL(self.base_url)
            cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
            self._raw = RawHttp(
                url.host,
                url.port or 80,
                {"cookie": cookie, "x-csrftoken": self.csrf, "content-type": MSGPACK, "accept": MSGPACK},
            )
        return self._raw

    async def post_sync(self, body: bytes) -> tuple[int, bytes]:
        """POST /api/sync over the lean connection: (status, body)."""
        await self._ensure_csrf()
        return await self.lean().request("POST", "/api/sync", body)

    async def sync_httpx(self, body: bytes) -> httpx.Response:
        """POST /api/sync through httpx (gzip if the device asked for it)."""
        await self._ensure_csrf()
        headers = {"x-csrftoken": self.csrf, "content-type": MSGPACK, "accept": MSGPACK}
        return await self.http.post("/api/sync", content=body, headers=headers)

    async def sync(
        self, changes: Sequence[Mutation] = (), limit: int = 1000, keep_cursors: bool = True
    ) -> SyncResponse:
        status, content = await self.post_sync(self.body(changes, limit))
        return self.check(status, content, keep_cursors)

    def check(self, status: int, content: bytes, keep_cursors: bool = True) -> SyncResponse:
        if status != 200:
            error = msgspec.json.decode(content, type=ErrorBody)
            raise Failed(f"sync: {status} {error.error}: {error.detail}")
        decoded = _response_decoder.decode(content)
        if decoded.rejections:
            raise Failed(f"sync: {len(decoded.rejections)} rejected, first: {decoded.rejections[0]}")
        if keep_cursors:
            self.cursors.update(decoded.cursors)
        return decoded

    async def pull_all(self, limit: int = 5000) -> int:
        """Sync until `more` is false; returns the number of changes received."""
        total = 0
        while True:
            reply = await self.sync(limit=limit)
            total += len(reply.changes)
            if not reply.more:
                return total

    async def channel_id(self, name: str) -> str:
        """The id of a channel by name, from a pull of the workspace scope."""
        reply = await self.sync(limit=5000, keep_cursors=False)
        for change in reply.changes:
            if change.collection == "channels" and change.fields.get("name") == name:
                return change.id
        raise KeyError(name)


async def workspace(base_url: str, people: int, gzip: bool = False) -> list[Device]:
    """The owner (first sign-up) and ``people - 1`` more accounts joined through invites."""
    owner = await Device(base_url, gzip).sign_up("Owner", "owner@example.com")
    devices = [owner]
    for i in range(1, people):
        token = await owner.invite()
        devices.append(await Device(base_url, gzip).sign_up(f"Person {i}", f"person{i}@example.com", token))
    return devices
