"""Reminders are kept by the server: a reminder due while the server was down (killed with -9)
fires once after the restart, through the real push queue to a local push service."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.integration.polling import wait_until
from tests.integration.push_service import PushService, Received
from tests.integration.test_durability import Server
from tests.integration.test_push_crash import _client


def _wall(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _schedule(data: Path, reminder: str) -> tuple[int | None, int]:
    """(due, times fired) of a reminder, read from the server's database beside it."""
    db = sqlite3.connect(data / "teamtalk.db")
    try:
        row = db.execute("SELECT due FROM reminder_schedule WHERE reminder = ?", (reminder,)).fetchone()
        fired = db.execute("SELECT count(*) FROM reminders_fired WHERE reminder = ?", (reminder,)).fetchone()[0]
    except sqlite3.OperationalError:
        return None, 0
    finally:
        db.close()
    return (row[0] if row else None), int(fired)


def _queued(data: Path) -> int:
    db = sqlite3.connect(data / "push.db")
    try:
        return int(db.execute("SELECT count(*) FROM push_queue").fetchone()[0])
    finally:
        db.close()


def test_a_reminder_due_while_the_server_was_down_fires_once_after_the_restart(
    tmp_path: Path, push: PushService
) -> None:
    server = Server(tmp_path, "--push-test-mode")
    server.start()
    try:
        ada, session = _client(server.url, "ada@example.com", "Ada")
        sub = push.subscription()
        assert ada.post("/api/push/subscriptions", json=sub.json()).status_code == 201
        me, device = session["user"]["id"], session["device"]
        now = int(time.time() * 1000)
        starts = now // 1000 * 1000 + 62_000  # reminded a minute before: due in about two seconds

        def sync(mid: int, collection: str, record_id: str, fields: dict[str, object]) -> None:
            change = {"mid": mid, "collection": collection, "id": record_id, "fields": fields}
            change["hlc"] = f"{int(time.time() * 1000):013d}-{mid:05d}-{device}"
            reply = ada.post("/api/sync", json={"v": 1, "changes": [change]})
            assert reply.json()["acks"] == [mid], reply.text

        event = {"calendar": f"u:{me}", "title": "Crane inspection", "start": _wall(starts), "tz": "UTC"}
        sync(1, "events", "01EV", event)
        sync(2, "reminders", "01REM", {"user": me, "event": "01EV", "minutes": 1})
        wait_until(lambda: _schedule(tmp_path, "01REM")[0] is not None)
        due, fired = _schedule(tmp_path, "01REM")
        assert due == starts - 60_000 and fired == 0
        ada.close()
        server.kill9()
        wait_until(lambda: time.time() * 1000 > starts - 60_000 + 500)  # it fell due while the server was down
        assert _schedule(tmp_path, "01REM") == (due, 0)

        server.start()
        push.wait_for(lambda: len(_reminders(push, sub)) == 1)
        [got] = _reminders(push, sub)
        assert got.payload["title"] == "Reminder: Crane inspection" and got.payload["event"] == "01EV"
        wait_until(lambda: _schedule(tmp_path, "01REM") == (None, 1))
        # The queue forgets a push once sent (the sender is at least once: one killed before
        # that may send it again, as the same notification). Wait for that, to count firings.
        wait_until(lambda: _queued(tmp_path) == 0)

        # Killed and started again: the scheduler runs (a second reminder fires) and the first stays fired once.
        server.kill9()
        server.start()
        ada, session = _client(server.url, "ada@example.com")  # a new device: its own mids
        device = session["device"]
        later = int(time.time()) * 1000 + 61_000
        sync(1, "events", "01EV2", {**event, "title": "Toolbox talk", "start": _wall(later)})
        sync(2, "reminders", "01REM2", {"user": me, "event": "01EV2", "minutes": 1})
        push.wait_for(lambda: len(_reminders(push, sub)) == 2)
        assert [r.payload["event"] for r in _reminders(push, sub)] == ["01EV", "01EV2"]
        assert _schedule(tmp_path, "01REM") == (None, 1)
        ada.close()
    finally:
        server.stop()


def _reminders(push: PushService, sub: object) -> list[Received]:
    return [r for r in push.to(sub) if str(r.payload.get("tag", "")).startswith("reminder:")]  # type: ignore[arg-type]
