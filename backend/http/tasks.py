"""Task search (JSON): the task filters of the shared search syntax over the searcher's channels."""

from __future__ import annotations

from litestar import Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery

from backend.accounts import CurrentSession
from backend.errors import ERROR_RESPONSES
from backend.http.context import services
from backend.task_search import TaskResults, search_tasks


@get("/api/tasks/search", responses=ERROR_RESPONSES)
async def search(
    request: Request[object, object, State],
    current: NamedDependency[CurrentSession],
    q: FromQuery[str],
    zone: FromQuery[str] = "UTC",
    limit: FromQuery[int] = 50,
) -> TaskResults:
    return search_tasks(services(request.app.state).store, current.user_id, q, zone, limit)


ROUTES = [search]
