"""What every handler needs: the services, the clock, and the signed-in device."""

from __future__ import annotations

import time
from dataclasses import dataclass

from litestar import Request
from litestar.datastructures import State

from backend.accounts import AccountService, CurrentSession
from backend.calendar.service import CalendarService
from backend.chat_service import ChatService
from backend.files.service import FileService
from backend.followers.supervisor import Supervisor
from backend.live import Hub
from backend.meetings.hub import MeetingHub
from backend.push.service import PushService
from backend.search_index import SearchIndex
from backend.settings import Settings
from backend.storage.base import Storage
from backend.sync_service import SyncService

SESSION_COOKIE = "tt_session"


@dataclass
class Services:
    settings: Settings
    store: Storage
    sync: SyncService
    accounts: AccountService
    hub: Hub
    chat: ChatService
    search: SearchIndex
    push: PushService
    #: The followers process: search indexer, push producer and sender (backend/followers/).
    followers: Supervisor
    files: FileService
    calendar: CalendarService
    meetings: MeetingHub

    def close(self) -> None:
        self.calendar.close()
        self.files.close()
        self.followers.close()
        self.search.close()
        self.store.close()


def services(state: State) -> Services:
    found: Services = state["services"]
    return found


def now_ms() -> int:
    return int(time.time() * 1000)


async def current_session(request: Request[object, object, State]) -> CurrentSession:
    """Dependency: the signed-in device, or 401 ``signed_out``."""
    return services(request.app.state).accounts.authenticate(request.cookies.get(SESSION_COOKIE), now_ms())
