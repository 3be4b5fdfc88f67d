"""POST /api/sync: push and pull in one round trip (MessagePack or JSON)."""

from __future__ import annotations

import msgspec
from litestar import Request, Response, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec

from backend.accounts import CurrentSession
from backend.errors import ERROR_RESPONSES, ApiError
from backend.http.body import decode_body
from backend.http.context import now_ms, services
from sync_protocol.wire import JSON, MSGPACK, SUPPORTED_VERSIONS, SafeInt, SyncRequest, SyncResponse, encode


class _Versioned(msgspec.Struct):
    v: SafeInt = 0


def reply_type(request: Request[object, object, State], request_type: str) -> str:
    accept = request.headers.get("accept", "")
    if MSGPACK in accept:
        return MSGPACK
    if JSON in accept:
        return JSON
    return request_type


def decode_sync_request(body: bytes, content_type: str) -> SyncRequest:
    """Decode, telling an outdated client to update before anything else is judged."""
    try:
        request = decode_body(body, SyncRequest, content_type)
    except ApiError as problem:
        # An old client's body may not fit today's shape: its version decides the answer first.
        _require_supported(decode_body(body, _Versioned, content_type).v)
        raise problem from None
    _require_supported(request.v)
    return request


def _require_supported(version: int) -> None:
    if version not in SUPPORTED_VERSIONS:
        raise ApiError(
            426,
            "update_required",
            f"this server speaks sync protocol {max(SUPPORTED_VERSIONS)}; the app is on {version}; reload to update",
        )


#: The handler encodes the reply itself (JSON or MessagePack); the document names what it holds.
_SYNC_RESPONSES = {
    200: ResponseSpec(
        SyncResponse,
        description="acks, rejections and the changes after the cursors (JSON or MessagePack, as `Accept` asks)",
        generate_examples=False,
    ),
    **ERROR_RESPONSES,
}


@post("/api/sync", status_code=200, responses=_SYNC_RESPONSES)
async def sync(request: Request[object, object, State], current: NamedDependency[CurrentSession]) -> Response[bytes]:
    content_type = request.headers.get("content-type", JSON)
    body = await request.body()
    sync_request = decode_sync_request(body, content_type)
    reply = await services(request.app.state).sync.sync_async(current, sync_request, now_ms())
    media = reply_type(request, MSGPACK if content_type.startswith(MSGPACK) else JSON)
    return Response(encode(reply, media), media_type=media)
