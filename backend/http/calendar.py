"""The calendar's HTTP endpoints: private ICS feeds, one event as .ics, and ICS import.

The feed itself (``GET /api/calendar/feed/<token>.ics``) is read by calendar apps, which send
no cookies: its token is the credential (backend/calendar/service.py, Rule 1). It answers
conditional requests from a cheap ETag before building anything (Rule 3 there).
"""

from __future__ import annotations

from litestar import Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from backend.accounts import CurrentSession
from backend.calendar.service import FeedIn, FeedOut, ImportOut
from backend.errors import ERROR_RESPONSES, ApiError
from backend.http.body import WireBody
from backend.http.context import now_ms, services

ICS = "text/calendar; charset=utf-8"
SUFFIX = ".ics"


def _base_url(request: Request[object, object, State]) -> str:
    return str(request.base_url).rstrip("/")


@post("/api/calendar/feeds", status_code=201, dto=WireBody[FeedIn], return_dto=None, responses=ERROR_RESPONSES)
async def create_feed(
    request: Request[object, object, State], current: NamedDependency[CurrentSession], data: JSONBody[FeedIn]
) -> FeedOut:
    return services(request.app.state).calendar.create_feed(current, data, _base_url(request), now_ms())


@get("/api/calendar/feeds", responses=ERROR_RESPONSES)
async def list_feeds(
    request: Request[object, object, State], current: NamedDependency[CurrentSession]
) -> list[FeedOut]:
    return services(request.app.state).calendar.feeds(current)


@delete("/api/calendar/feeds/{feed_id:str}", status_code=204, responses=ERROR_RESPONSES)
async def revoke_feed(
    request: Request[object, object, State], current: NamedDependency[CurrentSession], feed_id: FromPath[str]
) -> None:
    services(request.app.state).calendar.revoke_feed(current, feed_id, now_ms())


@get("/api/calendar/feed/{name:str}", responses=ERROR_RESPONSES)
async def feed(request: Request[object, object, State], name: FromPath[str]) -> Response[bytes]:
    """A person's feed, for calendar apps (webcal:// is the same URL with another scheme)."""
    calendar = services(request.app.state).calendar
    if not name.endswith(SUFFIX):
        raise ApiError(404, "not_found", "there is no such calendar feed")
    found = calendar.feed_for(name.removesuffix(SUFFIX))
    etag = calendar.etag(found)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if etag in (request.headers.get("if-none-match") or "").replace("W/", "").split(", "):
        return Response(b"", status_code=304, headers=headers)
    return Response(calendar.feed_body(found, now_ms()), media_type=ICS, headers=headers)


@get("/api/calendar/events/{event_id:str}/ics", responses=ERROR_RESPONSES)
async def event_ics(
    request: Request[object, object, State], current: NamedDependency[CurrentSession], event_id: FromPath[str]
) -> Response[bytes]:
    body = services(request.app.state).calendar.event_ics(current, event_id, now_ms())
    headers = {"Content-Disposition": f'attachment; filename="{event_id}.ics"'}
    return Response(body, media_type=ICS, headers=headers)


@post("/api/calendar/import", status_code=200, responses=ERROR_RESPONSES)
async def import_ics(
    request: Request[object, object, State],
    current: NamedDependency[CurrentSession],
    calendar: FromQuery[str],
    tz: FromQuery[str | None] = None,
) -> ImportOut:
    """Body: the .ics file. ``calendar``: ``c:<channel>`` or ``u:<me>``; ``tz``: the importer's zone,
    for floating times."""
    data = await request.body()
    return services(request.app.state).calendar.import_ics(current, calendar, data, tz, now_ms())


ROUTES = [create_feed, list_feeds, revoke_feed, feed, event_ics, import_ics]
