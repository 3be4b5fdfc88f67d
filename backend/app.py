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
from backend.calendar.reminders import ReminderSchedule
from backend.calendar.service import CalendarService
from backend.chat_service import ChatService
from backend.errors import EXCEPTION_HANDLERS
from backend.feed import InProcessFeed
from backend.files.service import FileService
from backend.followers.search import RemoteSearchIndex
from backend.followers.supervisor import Supervisor
from backend.http import accounts as accounts_routes
from backend.http import admin as admin_routes
from backend.http import calendar as calendar_routes
from backend.http import chat as chat_routes
from backend.http import files as files_routes
from backend.http import followers as followers_routes
from backend.http import history_bulk as bulk_routes
from backend.http import push as push_routes
from backend.http import records as records_routes
from backend.http import tasks as tasks_routes
from backend.http.context import Services, current_session
from backend.http.live import live
from backend.http.meetings import meet
from backend.http.static import add_security_headers, frontend_routes
from backend.http.sync import sync
from backend.http.sync_socket import sync_socket
from backend.live import Hub
from backend.meetings.service import build_meeting_hub, end_interrupted_meetings
from backend.push.service import PushService
from backend.settings import Settings
from backend.storage.sqlite import SqliteStorage
from backend.sync_service import SyncService
from sync_protocol.wire import PROTOCOL_VERSION

log = logging.getLogger("teamtalk")

API_ROUTES = [
    sync,
    sync_socket,
    live,
    meet,
    *accounts_routes.ROUTES,
    *admin_routes.ROUTES,
    *chat_routes.ROUTES,
    *push_routes.ROUTES,
    *records_routes.ROUTES,
    *followers_routes.ROUTES,
    *bulk_routes.ROUTES,
    *files_routes.ROUTES,
    *tasks_routes.ROUTES,
    *calendar_routes.ROUTES,
]


def build_services(settings: Settings) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqliteStorage(settings.database)
    feed = InProcessFeed(store)
    sync_service = SyncService(store, settings, feed)
    hub = Hub()
    hub.follow(feed, sync_service.visible_scopes)
    # Search indexing and push delivery follow the log in a process of their own (backend/followers/).
    followers = Supervisor(store, feed, settings, hub.visible_devices)
    hub.on_visibility = followers.visibility_changed
    search = RemoteSearchIndex(feed, settings.data_dir / "search.db", followers)
    accounts = AccountService(store, sync_service, settings)
    push = PushService(store, settings, subscribed=followers.subscribed)
    files = FileService(store, feed, settings)
    calendar = CalendarService(store, sync_service)
    meetings = build_meeting_hub(sync_service, feed, settings)
    chat = ChatService(store, search)
    return Services(
        settings, store, sync_service, accounts, hub, chat, search, push, followers, files, calendar, meetings
    )


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
    found.followers.start()  # the server indexes and delivers pushes; the CLI's tools that build services do not
    found.files.start()  # previews and garbage collection, likewise
    schedule = ReminderSchedule(
        found.calendar.store, found.followers.queue, found.sync.feed, settings, found.followers.pushes_queued
    )
    found.calendar.schedule = schedule
    schedule.start()
    end_interrupted_meetings(found.sync, now_ms())  # nobody is in a call the last run left open
    return Litestar(
        route_handlers=[*API_ROUTES, *frontend_routes(settings.frontend_dir)],
        dependencies={"current": Provide(current_session)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        csrf_config=CSRFConfig(secret=_secret(found), cookie_secure=settings.secure_cookies),
        compression_config=CompressionConfig(
            # File bytes are sent as stored: ranges count stored bytes, and most files compress badly.
            backend="gzip",
            minimum_size=2048,
            gzip_compress_level=5,
            exclude=["^/api/files/"],
        ),
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
