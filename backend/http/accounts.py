"""Sign-up, sign-in, sessions, devices and invites (JSON)."""

from __future__ import annotations

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from backend.accounts import CurrentSession, DeviceOut, InviteOut, SessionOut, SignedIn
from backend.errors import ERROR_RESPONSES
from backend.http.body import WireBody
from backend.http.context import SESSION_COOKIE, now_ms, services


class WorkspaceInfo(msgspec.Struct):
    name: str
    needs_owner: bool


class SignUpIn(msgspec.Struct):
    name: str
    email: str
    password: str
    invite: str | None = None
    device_name: str = ""


class SignInIn(msgspec.Struct):
    email: str
    password: str
    device_name: str = ""


def _device_name(request: Request[object, object, State], given: str) -> str:
    return given or request.headers.get("user-agent", "")[:120]


def _with_cookie(request: Request[object, object, State], signed: SignedIn, status: int) -> Response[SessionOut]:
    settings = services(request.app.state).settings
    cookie = Cookie(
        key=SESSION_COOKIE,
        value=signed.token,
        httponly=True,
        samesite="lax",
        path="/",
        secure=settings.secure_cookies,
        max_age=settings.session_days * 86_400,
    )
    return Response(signed.session, status_code=status, cookies=[cookie])


@get("/api/workspace", responses=ERROR_RESPONSES)
async def workspace(request: Request[object, object, State]) -> WorkspaceInfo:
    accounts = services(request.app.state).accounts
    return WorkspaceInfo(name=accounts.workspace_name(), needs_owner=accounts.needs_owner())


@post("/api/signup", dto=WireBody[SignUpIn], return_dto=None, responses=ERROR_RESPONSES)
async def sign_up(request: Request[object, object, State], data: JSONBody[SignUpIn]) -> Response[SessionOut]:
    signed = await services(request.app.state).accounts.sign_up(
        data.name, data.email, data.password, data.invite, _device_name(request, data.device_name), now_ms()
    )
    return _with_cookie(request, signed, 201)


@post("/api/signin", status_code=200, dto=WireBody[SignInIn], return_dto=None, responses=ERROR_RESPONSES)
async def sign_in(request: Request[object, object, State], data: JSONBody[SignInIn]) -> Response[SessionOut]:
    client = request.client.host if request.client else ""
    signed = await services(request.app.state).accounts.sign_in(
        data.email, data.password, _device_name(request, data.device_name), client, now_ms()
    )
    return _with_cookie(request, signed, 200)


@post(
    "/api/signout",
    status_code=204,
    responses=ERROR_RESPONSES,
    response_cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")],  # clears it
)
async def sign_out(request: Request[object, object, State], current: NamedDependency[CurrentSession]) -> None:
    found = services(request.app.state)
    found.accounts.sign_out(current)
    found.hub.disconnect_device(current.device_id)


@get("/api/session", responses=ERROR_RESPONSES)
async def session(request: Request[object, object, State], current: NamedDependency[CurrentSession]) -> SessionOut:
    return services(request.app.state).accounts.session_info(current)


@get("/api/devices", responses=ERROR_RESPONSES)
async def devices(request: Request[object, object, State], current: NamedDependency[CurrentSession]) -> list[DeviceOut]:
    return services(request.app.state).accounts.devices(current)


@delete("/api/devices/{device_id:str}", status_code=204, responses=ERROR_RESPONSES)
async def revoke_device(
    request: Request[object, object, State], current: NamedDependency[CurrentSession], device_id: FromPath[str]
) -> None:
    found = services(request.app.state)
    found.accounts.revoke_device(current, device_id)
    found.hub.disconnect_device(device_id)


@post("/api/invites", status_code=201, responses=ERROR_RESPONSES)
async def create_invite(request: Request[object, object, State], current: NamedDependency[CurrentSession]) -> InviteOut:
    base = str(request.base_url)
    return services(request.app.state).accounts.create_invite(current, base, now_ms())


ROUTES = [workspace, sign_up, sign_in, sign_out, session, devices, revoke_device, create_invite]
