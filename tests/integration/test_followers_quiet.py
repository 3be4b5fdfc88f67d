"""The server's own feed followers (the file worker, the reminder schedule) cost a push nothing
they do not need: no transaction of their own per push (issue 15, batched pushes)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from backend.accounts import GENERAL_SETTING, CurrentSession
from backend.app import build_services
from backend.calendar.reminders import ReminderSchedule
from backend.feed import _InboxFollower
from backend.files import worker
from backend.http.context import Services
from backend.settings import Settings
from backend.storage.base import DeviceSession
from sync_protocol.hlc import Clock
from sync_protocol.wire import Mutation, SyncRequest
from tests.integration.polling import wait_until


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    monkeypatch.setattr(worker, "PERSIST_EVERY_S", 3600.0)  # the once-a-second store, far off
    made = build_services(Settings(data_dir=tmp_path, frontend_dir=tmp_path / "no-frontend"))
    # The window starts now: the worker's first "last stored" is 0.0 on time.monotonic(), which
    # counts from boot, so on a machine up for more than an hour the far-off window was already
    # over and the first unit (the sign-up's, heard while the test pushed) was stored.
    made.files.worker._persisted = time.monotonic()
    made.files.start()  # as the server does (backend/app.py)
    yield made
    made.close()


def _five_messages(services: Services) -> Callable[[], int]:
    """Ada, signed in; the returned call pushes five messages into #general, one push each, and
    gives the log's head after them."""
    now = int(time.time() * 1000)
    account = services.accounts.create_account("Ada", "ada@example.com", "correct horse battery", None, now)
    with services.store.transaction():
        services.store.add_session(DeviceSession("devada", account.id, "test", now, now), "token")
    actor, clock = CurrentSession(account.id, "devada", account.role), Clock("devada")
    general = services.store.get_setting(GENERAL_SETTING)

    def send() -> int:
        for mid in range(1, 6):
            change = Mutation(mid, "messages", f"01MSG{mid}", {"channel": general, "text": "hi"}, clock.tick(now))
            services.sync.push(actor, SyncRequest(v=1, changes=[change]), now)
        return services.store.log_head()

    return send


def test_the_file_worker_stores_its_position_once_not_after_every_push(services: Services) -> None:
    send = _five_messages(services)
    file_worker = services.files.worker
    wait_until(lambda: file_worker._thread.follower is not None)
    stored = services.store.get_setting(worker.POSITION)

    commits: list[int] = []
    real_transaction = services.store.transaction

    def counted() -> AbstractContextManager[None]:
        commits.append(1)
        return real_transaction()

    services.store.transaction = counted  # type: ignore[method-assign]
    head = send()
    wait_until(lambda: (f := file_worker._thread.follower) is not None and f.position == head)
    assert len(commits) == 5, "the pushes' own transactions only: the worker wrote nothing"
    assert services.store.get_setting(worker.POSITION) == stored


def test_a_message_wakes_neither_the_file_worker_nor_the_reminders(services: Services) -> None:
    """Only commits holding what they act on wake them (feed.py, Rule 7): a message's would have
    woken both threads, each taking the GIL from the event loop (issue 10). They still move past
    it, at their take's timeout."""
    send = _five_messages(services)
    schedule = ReminderSchedule(
        services.calendar.store, services.followers.queue, services.sync.feed, services.settings, lambda: None
    )
    schedule.start()
    try:
        followers = [services.files.worker._thread, schedule._thread]
        wait_until(lambda: all(t.follower is not None for t in followers))
        inboxes = [t.follower for t in followers]
        assert all(isinstance(f, _InboxFollower) for f in inboxes)
        before = [f.wakes for f in inboxes if isinstance(f, _InboxFollower)]
        head = send()
        wait_until(lambda: all(f is not None and f.position == head for f in inboxes))
        assert [f.wakes for f in inboxes if isinstance(f, _InboxFollower)] == before
    finally:
        schedule.close()
