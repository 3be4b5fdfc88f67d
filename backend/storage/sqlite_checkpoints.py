"""WAL checkpoints off the write path: a thread with its own connection copies the WAL into the
database file beside the writer, instead of the COMMIT that crosses SQLite's threshold doing it.

Why: with SQLite's default ``wal_autocheckpoint`` (1,000 frames) the COMMIT that crosses it copies
~4 MB into the database file and fsyncs it, and when a reader (a pull, the followers process) still
holds an older snapshot the WAL cannot be restarted, so every following COMMIT checkpoints again
until it can: in two loaded runs of bench 2a, 15 and 18 of the server's 116 COMMITs took over
5 ms, in one of them 19 in a row (bench/README.md, "the tail").

Rule 1. A writer connection never checkpoints on COMMIT (``wal_autocheckpoint=0``,
        sqlite_schema.open_database); every store that writes runs a ``Checkpointer``.
Rule 2. After each COMMIT the store calls ``wrote()``, which reads the WAL's size from the
        wal-index header (``-shm``, laid out in https://www.sqlite.org/walformat.html: one
        ``pread`` of a few bytes, ~1 µs) and wakes the thread only once the WAL holds FRAMES
        frames. Waking it after every COMMIT cost each writing sync ~3 wake-ups of a thread that
        takes the GIL and preempts the event loop, to find the WAL short and sleep again (issue
        10, bench/README.md "twelfth pass"). The thread runs ``PRAGMA wal_checkpoint(PASSIVE)``:
        it takes no lock a writer waits for, and the sqlite3 module releases the GIL inside
        SQLite, so the copy and its fsync run beside the event loop. As often as SQLite's own
        checkpoints ran, not once per commit: each one fsyncs the WAL and the database file. The
        thread also looks every IDLE_S, for what other processes (the followers, the CLI) wrote
        into the same file with no checkpoints of theirs, and for a header ``wrote()`` could not
        read (no ``-shm`` yet: it wakes the thread, which looks itself).
Rule 3. The WAL stays bounded. A passive checkpoint never restarts the WAL: the next writer does,
        when everything is copied and no reader is in the WAL. Under a stream of commits with no
        gap that moment may never come, so when the WAL holds FRAMES or more the thread
        checkpoints once more holding the store's transaction lock: no transaction of this process
        can commit meanwhile, so that checkpoint copies the few frames written since the last one
        and the store's next transaction writes the WAL from its start. It does not wait for
        readers (a RESTART checkpoint would, holding the lock): a reader that keeps an old snapshot
        (an export, a long pull) keeps the WAL growing, as it does with SQLite's own checkpoints.
Rule 4. Durability is unchanged: an acked COMMIT is in the WAL, fsynced (``synchronous=FULL``),
        whether or not it has been copied yet; a checkpoint only moves committed pages, and one cut
        short by a crash is redone from the WAL at the next open.
Rule 5. ``close()`` stops the thread and closes its connection before the store closes its own, so
        the writer is still the last connection and checkpoints the whole WAL on close.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time

#: WAL frames (pages of 4 KiB) that start a checkpoint (Rule 2) and, once in the WAL, a restart
#: (Rule 3): SQLite's own threshold, so the WAL file keeps its old size (~4-6 MiB) and COMMITs
#: overwrite it. An fdatasync that extends the file also commits the file system's journal:
#: commits that grew the WAL took up to twice as long as ones that overwrote it (bench/README.md,
#: "the tail").
FRAMES = 1_000
#: A look at the WAL at least this often without a commit of this store (other writers, Rule 2).
IDLE_S = 1.0
#: The pause before another checkpoint when a reader kept the WAL from restarting (Rule 3).
PAUSE_S = 0.05
#: Where the wal-index header keeps mxFrame, the WAL's last valid frame (native byte order), and
#: the salt that a restart of the WAL changes.
_MX_FRAME, _SALT = 16, 32


class CheckpointStats:
    """What the thread did, for tests and benchmarks."""

    def __init__(self) -> None:
        self.passive = 0
        self.catch_ups = 0  # checkpoints under the store's lock (Rule 3)
        self.largest_wal = 0  # frames, the most a checkpoint found in the WAL
        self.left = 0  # frames the last checkpoint could not copy (a reader still needed them)
        self.looks = 0  # reads of the wal-index header by the thread
        self.wakes = 0  # times wrote() woke the thread (Rule 2: only when a checkpoint is due)
        self.held_s = 0.0  # time the catch-ups held the store's lock


class Checkpointer:
    def __init__(self, path: str, store_lock: threading.Lock) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._shm = f"{path}-shm"
        self._shm_fd: int | None = None  # the thread's
        self._writer_fd: int | None = None  # the committing threads' (wrote(), under _fd_lock)
        self._fd_lock = threading.Lock()
        self._salt = b""  # the WAL's salt when the last checkpoint began
        self._store_lock = store_lock
        self._frames = FRAMES
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.stats = CheckpointStats()
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
        self._thread.start()

    def wrote(self) -> None:
        """A transaction committed: wake the thread if the WAL is due a checkpoint (Rule 2)."""
        with self._fd_lock:
            if self._stop.is_set():  # closed (a late commit is checkpointed by the store's close)
                return
            if self._writer_fd is None:
                try:
                    self._writer_fd = os.open(self._shm, os.O_RDONLY)
                except FileNotFoundError:
                    self._wake.set()
                    return
            frames, _salt = _header(self._writer_fd)
        if frames >= self._frames:
            self.stats.wakes += 1
            self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join()
        if self._shm_fd is not None:
            os.close(self._shm_fd)
            self._shm_fd = None
        with self._fd_lock:
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None
        self._db.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(IDLE_S)
            self._wake.clear()
            if self._stop.is_set():
                return
            frames, salt = self._look()
            if frames < self._frames:
                continue
            if salt == self._salt:  # not restarted since the last checkpoint: a reader holds it
                self._stop.wait(PAUSE_S)
            self._salt = salt
            try:
                self._checkpoint()
            except sqlite3.Error as error:  # e.g. disk full: the writer will see it too; try again
                self.errors.append(error)

    def _look(self) -> tuple[int, bytes]:
        """The frames in the WAL and its salt (new at each restart), from the wal-index header
        ((0, b"") when there is none yet); a torn read costs one look too many or too few."""
        self.stats.looks += 1
        if self._shm_fd is None:
            try:
                self._shm_fd = os.open(self._shm, os.O_RDONLY)
            except FileNotFoundError:
                return 0, b""
        return _header(self._shm_fd)

    def _checkpoint(self) -> None:
        _busy, frames, copied = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.stats.passive += 1
        self.stats.largest_wal = max(self.stats.largest_wal, frames)
        if frames >= self._frames:
            with self._store_lock:
                start = time.perf_counter()
                _busy, frames, copied = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                self.stats.held_s += time.perf_counter() - start
            self.stats.catch_ups += 1
        self.stats.left = frames - copied


def _header(shm_fd: int) -> tuple[int, bytes]:
    """mxFrame and the salt from the wal-index header; (0, b"") while it is shorter than that."""
    header = os.pread(shm_fd, _SALT + 8 - _MX_FRAME, _MX_FRAME)
    if len(header) < _SALT + 8 - _MX_FRAME:
        return 0, b""
    return int.from_bytes(header[:4], sys.byteorder), header[_SALT - _MX_FRAME :]
