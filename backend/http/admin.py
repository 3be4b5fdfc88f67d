"""Admin endpoints: the change log's head hash (publish it or note it down)."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency

from backend.access import may_audit
from backend.accounts import CurrentSession
from backend.errors import ERROR_RESPONSES, ApiError
from backend.http.context import services


class ChainHead(msgspec.Struct):
    seq: int
    hash: str


@get("/api/admin/chain", responses=ERROR_RESPONSES)
async def chain_head(request: Request[object, object, State], current: NamedDependency[CurrentSession]) -> ChainHead:
    if not may_audit(current.role):
        raise ApiError(403, "forbidden", "only admins and auditors see the change log's head hash")
    # On a thread: the chain may have a stretch to hash first (sqlite_chain.py, Rule 2), which
    # should not hold up every other request on the event loop.
    seq, digest = await asyncio.to_thread(services(request.app.state).store.head_hash)
    return ChainHead(seq, digest)


ROUTES = [chain_head]
