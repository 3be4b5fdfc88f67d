"""Any record's change history (the data behind "history" and "restore" in tasks and events)."""

from __future__ import annotations

from litestar import Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath

from backend.accounts import CurrentSession
from backend.errors import ERROR_RESPONSES
from backend.http.context import services
from backend.record_versions import RecordVersions, record_versions


@get("/api/records/{collection:str}/{record_id:str}/versions", responses=ERROR_RESPONSES)
async def versions(
    request: Request[object, object, State],
    current: NamedDependency[CurrentSession],
    collection: FromPath[str],
    record_id: FromPath[str],
) -> RecordVersions:
    found = services(request.app.state)
    return record_versions(found.store, found.sync.registry, current.user_id, collection, record_id)


ROUTES = [versions]
