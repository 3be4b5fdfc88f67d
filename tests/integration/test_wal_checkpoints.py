"""WAL checkpoints run beside the writer, never in its COMMIT (backend/storage/sqlite_checkpoints.py),
on a real SQLite file: the writer does not checkpoint, the WAL stays bounded under a stream of
commits with no gap, close leaves a checkpointed file, and kill -9 during checkpoints loses
nothing that was committed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from backend.storage import sqlite_checkpoints
from backend.storage.sqlite import SqliteStorage

ROOT = Path(__file__).resolve().parents[2]
#: A WAL frame: a 24-byte header and a 4 KiB page (the WAL file opens with a 32-byte header).
FRAME = 24 + 4096


def _wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _commit_settings(store: SqliteStorage, batch: int, rows: int = 20) -> None:
    """One transaction of ``rows`` 2 KB settings (about a dozen WAL frames)."""
    with store.transaction():
        for row in range(rows):
            store.set_setting(f"k{batch}-{row}", "x" * 2000)


def _wal_frames(path: Path) -> int:
    """Frames the WAL file has room for: its high-water mark, as it is reused, not shrunk."""
    wal = Path(f"{path}-wal")
    return max(0, wal.stat().st_size - 32) // FRAME if wal.exists() else 0


def test_the_writer_never_checkpoints_in_its_commit(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "t.db")
    try:
        assert store._writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    finally:
        store.close()


def test_the_wal_stays_bounded_under_a_stream_of_commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Back-to-back commits leave the WAL no moment to restart by itself (nothing is copied
    between one COMMIT and the next BEGIN); past the cap the checkpointer makes that moment."""
    monkeypatch.setattr(sqlite_checkpoints, "FRAMES", 300)
    path = tmp_path / "t.db"
    store = SqliteStorage(path)
    assert store.checkpoints is not None
    # A reader that keeps coming back, as pulls and the followers process do.
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for batch in range(1_200):  # ~18,000 frames
            _commit_settings(store, batch)
            reader.execute("SELECT count(*) FROM settings").fetchone()
        assert store.checkpoints.stats.catch_ups >= 1
        # FRAMES plus what is committed while a checkpoint runs (~2,000-2,800 here), never the
        # whole stream (without the catch-up under the store's lock: ~18,000).
        assert _wal_frames(path) < 6_000, _wal_frames(path)
        assert not store.checkpoints.errors
        assert store.checkpoints.stats.left < 300
    finally:
        reader.close()
        store.close()


def test_a_checkpoint_waits_for_a_walful_of_frames(tmp_path: Path) -> None:
    """Not one per commit: each checkpoint fsyncs the WAL and the database file."""
    store = SqliteStorage(tmp_path / "t.db")
    assert store.checkpoints is not None
    try:
        for batch in range(20):  # ~250 frames
            _commit_settings(store, batch)
        _wait_for(lambda: store.checkpoints is not None and store.checkpoints.stats.looks >= 1)
        assert store.checkpoints.stats.passive == 0
        for batch in range(20, 120):  # past 1,000 frames
            _commit_settings(store, batch)
        _wait_for(lambda: store.checkpoints is not None and store.checkpoints.stats.passive >= 1)
    finally:
        store.close()


def test_a_commit_wakes_the_thread_only_when_a_checkpoint_is_due(tmp_path: Path) -> None:
    """Rule 2: the committing thread reads the WAL's size itself; the thread (which takes the GIL
    from the event loop) is woken only once the WAL holds FRAMES frames."""
    store = SqliteStorage(tmp_path / "t.db")
    assert store.checkpoints is not None
    try:
        for batch in range(20):  # ~250 frames
            _commit_settings(store, batch)
        assert store.checkpoints.stats.wakes == 0
        for batch in range(20, 120):  # past 1,000 frames
            _commit_settings(store, batch)
        assert store.checkpoints.stats.wakes >= 1
        _wait_for(lambda: store.checkpoints is not None and store.checkpoints.stats.passive >= 1)
    finally:
        store.close()


def test_commits_of_other_writers_are_checkpointed_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The followers process writes the same file (push queue, marks) with no checkpoints of its
    own in its COMMITs: the server's thread copies those frames as well."""
    monkeypatch.setattr(sqlite_checkpoints, "FRAMES", 50)
    path = tmp_path / "t.db"
    store = SqliteStorage(path)
    other = SqliteStorage(path)
    assert store.checkpoints is not None and other.checkpoints is not None
    other.checkpoints.close()  # only the server's thread is left
    other.checkpoints = None
    try:
        for batch in range(10):  # ~120 frames
            _commit_settings(other, batch)
        # Nothing of the server's own wakes its thread: its look every IDLE_S finds the frames.
        _wait_for(lambda: store.checkpoints is not None and store.checkpoints.stats.largest_wal > 0)
        rounds = store.checkpoints.stats.passive
        _wait_for(lambda: store.checkpoints is not None and store.checkpoints.stats.passive > rounds)
        assert store.checkpoints.stats.left == 0
    finally:
        other.close()
        store.close()


def test_close_leaves_a_checkpointed_file(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = SqliteStorage(path)
    for batch in range(20):
        _commit_settings(store, batch)
    store.close()
    store.close()  # the app's teardown may close it twice: the second is a no-op
    assert not Path(f"{path}-wal").exists()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        assert db.execute("SELECT count(*) FROM settings").fetchone()[0] == 20 * 20


_WRITER = """
import sys
from backend.storage.sqlite import SqliteStorage
store = SqliteStorage(sys.argv[1])
batch = 0
while True:
    with store.transaction():
        for row in range(20):
            store.set_setting(f"k{batch}-{row}", "x" * 2000)
    # acked: this transaction has committed (synchronous=FULL)
    print(batch, store.checkpoints.stats.passive, flush=True)
    batch += 1
"""


def test_kill_9_while_checkpointing_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    for round_ in range(3):
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path)],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        acked = -1
        for line in writer.stdout:
            acked, checkpoints = map(int, line.split())
            if checkpoints >= 3 + round_:  # the thread is at work, amid the commits
                break
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
        writer.stdout.close()
        assert acked >= 0
        store = SqliteStorage(path)  # recovery from the WAL, as a restarted server does
        try:
            for batch in range(acked + 1):
                assert store.get_setting(f"k{batch}-19") == "x" * 2000, batch
        finally:
            store.close()
