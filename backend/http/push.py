"""Web Push: the server's public key and this person's push subscriptions (JSON)."""

from __future__ import annotations

from litestar import Request, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from backend.accounts import CurrentSession
from backend.errors import ERROR_RESPONSES
from backend.http.body import WireBody
from backend.http.context import now_ms, services
from backend.push.service import PublicKeyOut, SubscribeIn, SubscriptionOut


@get("/api/push/key", responses=ERROR_RESPONSES)
async def public_key(request: Request[object, object, State], current: NamedDependency[CurrentSession]) -> PublicKeyOut:
    return services(request.app.state).push.public_key()


@get("/api/push/subscriptions", responses=ERROR_RESPONSES)
async def list_subscriptions(
    request: Request[object, object, State], current: NamedDependency[CurrentSession]
) -> list[SubscriptionOut]:
    return services(request.app.state).push.subscriptions(current)


@post("/api/push/subscriptions", status_code=201, dto=WireBody[SubscribeIn], return_dto=None, responses=ERROR_RESPONSES)
async def subscribe(
    request: Request[object, object, State], current: NamedDependency[CurrentSession], data: JSONBody[SubscribeIn]
) -> SubscriptionOut:
    return services(request.app.state).push.subscribe(current, data, now_ms())


@delete("/api/push/subscriptions/{sub_id:str}", status_code=204, responses=ERROR_RESPONSES)
async def revoke(
    request: Request[object, object, State], current: NamedDependency[CurrentSession], sub_id: FromPath[str]
) -> None:
    services(request.app.state).push.revoke(current, sub_id)


ROUTES = [public_key, list_subscriptions, subscribe, revoke]
