"""Tasks over HTTP (JSON): search with the task filters of the shared syntax over the searcher's
channels, and the restore of a deleted task (an explicit server operation: backend/task_restore.py)."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from backend.accounts import CurrentSession, now_ms
from backend.errors import ERROR_RESPONSES
from backend.http.context import services
from backend.task_restore import Restored, restore_task
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


@post("/api/tasks/{task_id:str}/restore", status_code=201, responses=ERROR_RESPONSES)
async def restore(
    request: Request[object, object, State], current: NamedDependency[CurrentSession], task_id: FromPath[str]
) -> Restored:
    """A deleted task again, as a new task (its creator or an admin; the old one stays deleted)."""
    return restore_task(services(request.app.state).sync, current, task_id, now_ms())


ROUTES = [search, restore]
