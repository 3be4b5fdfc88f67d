"""Search, older history pages and message versions (JSON)."""

from __future__ import annotations

import msgspec
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from backend.accounts import CurrentSession
from backend.chat_service import HistoryPage, SearchResults, Versions
from backend.errors import ERROR_RESPONSES
from backend.http.body import WireBody
from backend.http.context import services
from sync_protocol.wire import SafeInt


class HistoryIn(msgspec.Struct, forbid_unknown_fields=True):
    channel: str
    before: SafeInt | None = None
    limit: SafeInt = 100
    thread: str | None = None


@get("/api/search", responses=ERROR_RESPONSES)
async def search(
    request: Request[object, object, State],
    current: NamedDependency[CurrentSession],
    q: FromQuery[str],
    limit: FromQuery[int] = 50,
) -> SearchResults:
    return await services(request.app.state).chat.search(current.user_id, q, limit)


@post("/api/history", status_code=200, dto=WireBody[HistoryIn], return_dto=None, responses=ERROR_RESPONSES)
async def history(
    request: Request[object, object, State], current: NamedDependency[CurrentSession], data: JSONBody[HistoryIn]
) -> HistoryPage:
    return services(request.app.state).chat.history(current.user_id, data.channel, data.before, data.limit, data.thread)


@get("/api/messages/{message_id:str}/versions", responses=ERROR_RESPONSES)
async def versions(
    request: Request[object, object, State], current: NamedDependency[CurrentSession], message_id: FromPath[str]
) -> Versions:
    return services(request.app.state).chat.versions(current.user_id, message_id)


ROUTES = [search, history, versions]
