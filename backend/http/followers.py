"""Admin endpoint: the followers process (search indexer, push producer and sender) and its lag
behind the change log (backend/followers/)."""

from __future__ import annotations

from litestar import Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency

from backend.access import may_audit
from backend.accounts import CurrentSession
from backend.errors import ERROR_RESPONSES, ApiError
from backend.followers.supervisor import FollowerStatus
from backend.http.context import services


@get("/api/admin/followers", responses=ERROR_RESPONSES)
async def followers_status(
    request: Request[object, object, State], current: NamedDependency[CurrentSession]
) -> FollowerStatus:
    if not may_audit(current.role):
        raise ApiError(403, "forbidden", "only admins and auditors see the followers' lag")
    return services(request.app.state).followers.status()


ROUTES = [followers_status]
