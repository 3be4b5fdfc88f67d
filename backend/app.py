"""create_app(settings): assemble storage, services and the HTTP shell into one Litestar app."""

from __future__ import annotations

import logging

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin

from backend import retention, tokens
from backend.accounts import AccountService, now_ms
from backend.chat_service import ChatService
from backend.errors import EXCEPTION_HANDLERS
from backend.feed import InProcessFeed
from backend.http import accounts as accounts_routes
from backend.http import admin as admin_routes
from backend.http import chat as chat_routes
from backend.http import push as push_routes
from backend.http.context import Services, current_session
from backend.http.live import live
from backend.http.meetings import meet
from backend.http.static import add_security_headers, frontend_routes
from backend.http.sync import sync
from backend.live import Hub
from backend.meetings.service import build_meeting_hub, end_interrupted_meetings
from backend.push.service import PushService
from backend.search_index import SearchIndex
from backend.settings import Settings
from backend.storage.sqlite import SqliteStorage
from backend.sync_service import SyncService
from sync_protocol.wire import PROTOCOL_VERSION

log = logging.getLogger("teamtalk")

API_ROUTES = [sync, live, meet, *accounts_routes.ROUTES, *admin_routes.ROUTES, *chat_routes.ROUTES, *push_routes.ROUTES]


def build_services(settings: Settings) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqliteStorage(settings.database)
    feed = InProcessFeed(store)
    sync_service = SyncService(store, settings, feed)
    hub = Hub()
    hub.follow(feed, sync_service.visible_scopes)
    search = SearchIndex(feed, settings.data_dir / "search.db")
    accounts = AccountService(store, sync_service, settings)
    push = PushService(store, feed, settings, hub.visible)
    meetings = build_meeting_hub(sync_service, feed, settings)
    return Services(settings, store, sync_service, accounts, hub, ChatService(store, search), search, push, meetings)


def _secret(found: Services) -> str:
    secret = found.store.get_setting("csrf_secret")
    if secret is None:
        secret = tokens.token()
        with found.store.transaction():
            found.store.set_setting("csrf_secret", secret)
    return secret


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings()
    found = build_services(settings)
    found.push.start()  # the server delivers pushes; the CLI's tools that build services do not
    end_interrupted_meetings(found.sync, now_ms())  # nobody is in a call the last run left open
    return Litestar(
        route_handlers=[*API_ROUTES, *frontend_routes(settings.frontend_dir)],
        dependencies={"current": Provide(current_session)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        csrf_config=CSRFConfig(secret=_secret(found), cookie_secure=settings.secure_cookies),
        compression_config=CompressionConfig(backend="gzip", minimum_size=2048, gzip_compress_level=5),
        request_max_body_size=settings.max_body_bytes,
        before_send=[add_security_headers],
        state=State({"services": found}),
        on_startup=[retention.start_hourly],
        on_shutdown=[retention.stop_hourly],
        # The API described for client authors and for the schema-driven fuzzer (tests/fuzz):
        # GET /api/schema/openapi.json. No HTML viewer: the CSP forbids the CDN scripts those load.
        # (Not at /api itself: the schema router answers every path under its own with HTML 404s.)
        openapi_config=OpenAPIConfig(
            title="TeamTalk",
            version=str(PROTOCOL_VERSION),
            path="/api/schema",
            render_plugins=[JsonRenderPlugin(path="/openapi.json")],
        ),
    )
