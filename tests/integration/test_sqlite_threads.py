"""One store, several threads, and a second process writing the same file.

The server's event loop reads while its threads (file worker, reminders) write, and since the
followers process exists, another process commits to the same database. A read left open in one
thread used to share the writer's connection, so it pinned a snapshot that another thread's
``BEGIN IMMEDIATE`` could not upgrade once the other process had committed: SQLite answered
"database is locked" at once, whatever the busy timeout, and a send failed with a 500.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from backend.storage.sqlite import SqliteStorage


def _run(target: Callable[[], None]) -> BaseException | None:
    """Run ``target`` in another thread; what it raised, if anything."""
    failure: list[BaseException] = []

    def body() -> None:
        try:
            target()
        except BaseException as error:  # handed back to the test
            failure.append(error)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the other thread never finished"
    return failure[0] if failure else None


def test_a_read_left_open_does_not_lock_out_another_threads_write_after_another_process_wrote(
    tmp_path: Path,
) -> None:
    store = SqliteStorage(tmp_path / "db")
    try:
        for key in ("a", "b", "c"):
            store.set_setting(key, "1")
        reading = store._db.execute("SELECT key FROM settings")  # a read still in progress
        assert reading.fetchone() is not None

        other_process = sqlite3.connect(tmp_path / "db", isolation_level=None)
        other_process.execute("UPDATE settings SET value = '2' WHERE key = 'a'")
        other_process.close()

        assert _run(lambda: store.set_setting("d", "1")) is None
        assert reading.fetchall()  # the open read still finishes
        assert store.get_setting("d") == "1"
        assert store.get_setting("a") == "2"
    finally:
        store.close()


def test_another_threads_open_transaction_is_invisible_until_it_commits(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "db")
    written = threading.Event()
    release = threading.Event()

    def write_and_wait() -> None:
        with store.transaction():
            store.set_setting("pending", "yes")
            written.set()
            assert release.wait(10)

    writer = threading.Thread(target=write_and_wait)
    writer.start()
    try:
        assert written.wait(10)
        assert store.get_setting("pending") is None  # not committed: not seen
        release.set()
        writer.join(10)
        assert store.get_setting("pending") == "yes"
    finally:
        release.set()
        writer.join(10)
        store.close()
