"""A small TeamTalk client: the pure replica (sync_protocol.replica) over HTTP and WebSocket.

Used by the benchmarks, the tests and bots. It speaks MessagePack by default.

    async with TeamTalkClient("http://127.0.0.1:8000") as tt:
        await tt.sign_in("ada@example.com", "correct horse")
        tt.send_message(tt.channel_named("general"), "Hello from a bot")
        await tt.sync()
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import httpx
import msgspec
import websockets

from backend.tokens import ulid
from sync_protocol.collections import member_id, read_id
from sync_protocol.replica import Replica
from sync_protocol.wire import (
    JSON,
    MSGPACK,
    Changes,
    ErrorBody,
    LiveFrame,
    SyncResponse,
    Typing,
    decode,
    encode,
    live_json_decoder,
    live_msgpack_decoder,
    msgpack_encoder,
)


class SyncFailed(Exception):
    def __init__(self, status: int, body: ErrorBody) -> None:
        super().__init__(f"{status} {body.error}: {body.detail}")
        self.status = status
        self.body = body


def wall_ms() -> int:
    return int(time.time() * 1000)


class TeamTalkClient:
    def __init__(self, base_url: str, content_type: str = MSGPACK, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.content_type = content_type
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)
        self.replica: Replica | None = None
        self.user_id = ""
        self.device_id = ""

    async def __aenter__(self) -> TeamTalkClient:
        return self

    async def __aexit__(self, *exc: tuple[type[BaseException], BaseException, TracebackType] | None) -> None:
        await self.http.aclose()

    # --- accounts ------------------------------------------------------------------------------

    async def _csrf(self) -> dict[str, str]:
        if "csrftoken" not in self.http.cookies:
            await self.http.get("/api/workspace")
        return {"x-csrftoken": self.http.cookies["csrftoken"]}

    async def _post_json(self, path: str, body: dict[str, Any]) -> Any:
        response = await self.http.post(path, json=body, headers=await self._csrf())
        if response.status_code >= 400:
            raise SyncFailed(response.status_code, msgspec.json.decode(response.content, type=ErrorBody))
        return response.json() if response.content else None

    def _start(self, session: dict[str, Any]) -> None:
        self.user_id = session["user"]["id"]
        self.device_id = session["device"]
        self.replica = Replica(self.device_id, self.user_id)

    async def sign_up(self, name: str, email: str, password: str, invite: str | None = None) -> None:
        body = {"name": name, "email": email, "password": password, "invite": invite, "device_name": "python"}
        self._start(await self._post_json("/api/signup", body))

    async def sign_in(self, email: str, password: str) -> None:
        body = {"email": email, "password": password, "device_name": "python"}
        self._start(await self._post_json("/api/signin", body))

    async def create_invite(self) -> str:
        token: str = (await self._post_json("/api/invites", {}))["token"]
        return token

    @property
    def session_token(self) -> str:
        return str(self.http.cookies.get("tt_session", ""))

    # --- sync ----------------------------------------------------------------------------------

    @property
    def rep(self) -> Replica:
        if self.replica is None:
            raise RuntimeError("sign in first")
        return self.replica

    async def sync_once(self, limit: int = 1000) -> SyncResponse:
        request = self.rep.sync_request(limit=limit)
        headers = {**await self._csrf(), "content-type": self.content_type, "accept": self.content_type}
        response = await self.http.post("/api/sync", content=encode(request, self.content_type), headers=headers)
        if response.status_code != 200:
            error = msgspec.json.decode(response.content, type=ErrorBody)
            if error.error == "clock_ahead" and error.server_time is not None:
                self.rep.offset_ms = error.server_time - wall_ms()
                self.rep.restamp(wall_ms())
            raise SyncFailed(response.status_code, error)
        reply = decode(response.content, SyncResponse, response.headers.get("content-type", JSON))
        self.rep.apply_response(reply, wall_ms())
        return reply

    async def sync(self, limit: int = 1000) -> SyncResponse:
        """Push everything pending and pull until the server has nothing more; retry a clock error once."""
        for attempt in range(2):
            try:
                reply = await self.sync_once(limit)
                while reply.more or self.rep.pending:
                    reply = await self.sync_once(limit)
                return reply
            except SyncFailed as exc:
                if exc.body.error != "clock_ahead" or attempt:
                    raise
        raise AssertionError("unreachable")

    # --- writing -------------------------------------------------------------------------------

    def channel_named(self, name: str) -> str:
        for rid, fields in self.rep.collection("channels").items():
            if fields.get("name") == name:
                return rid
        raise KeyError(f"no channel named {name!r} in this replica")

    def send_message(self, channel_id: str, text: str) -> str:
        message_id = ulid()
        self.rep.write("messages", message_id, {"channel": channel_id, "text": text}, wall_ms())
        return message_id

    def create_channel(self, name: str, kind: str = "public") -> str:
        channel_id = ulid()
        self.rep.write("channels", channel_id, {"name": name, "kind": kind}, wall_ms())
        self.add_member(channel_id, self.user_id)
        return channel_id

    def add_member(self, channel_id: str, user_id: str) -> None:
        fields: dict[str, str | int | bool | None] = {"channel": channel_id, "user": user_id, "left": False}
        self.rep.write("members", member_id(channel_id, user_id), fields, wall_ms())

    def mark_read(self, channel_id: str) -> None:
        numbers = [f.get("n") for _, f, pending in self.rep.messages(channel_id) if not pending]
        last = max((n for n in numbers if isinstance(n, int)), default=0)
        fields: dict[str, str | int | bool | None] = {"channel": channel_id, "user": self.user_id, "n": last}
        self.rep.write("reads", read_id(self.user_id, channel_id), fields, wall_ms())

    # --- live ----------------------------------------------------------------------------------

    def live_url(self) -> str:
        return self.base_url.replace("http", "ws", 1) + "/api/live?format=msgpack"

    async def live(self) -> AsyncIterator[LiveFrame]:
        """Frames from the live channel; `changes` frames are applied to the replica as they come."""
        headers = {"cookie": f"tt_session={self.session_token}"}
        async with websockets.connect(self.live_url(), additional_headers=headers, max_size=None) as socket:
            async for raw in socket:
                frame = live_msgpack_decoder.decode(raw) if isinstance(raw, bytes) else live_json_decoder.decode(raw)
                if isinstance(frame, Changes):
                    if self.rep.cursors.get(frame.scope, 0) == frame.prev:
                        self.rep.apply_changes(frame.changes, wall_ms())
                        self.rep.cursors[frame.scope] = frame.changes[-1].seq
                    else:
                        self.rep.apply_changes(frame.changes, wall_ms())
                yield frame


def typing_frame(scope: str) -> bytes:
    return msgpack_encoder.encode(Typing(scope=scope))
