"""The server with a timeline of each live message, for `TT_BENCH_TRACE=1` (bench/browser_hotpath.py).

Runs ``python -m backend.cli`` with its arguments, after wrapping three steps of the path from a
push to the other device's socket; each writes one line ``<step> <label> <unix ms>`` to
``$TT_TRACE_OUT`` (a label is the ``hotpath-N`` text a message carries):

- ``request``: the request reached the app (uvicorn called it: headers read, body not yet; for a
  request over the sync socket, when it reaches the sync service, as ``arrive``);
- ``arrive``: the push's body is decoded and reaches ``SyncService.sync_async``;
- ``drain``: the group commit holding it starts (the event loop's turn came);
- ``begun``: its transaction has begun (the store's lock and SQLite's write lock held: BEGIN
  IMMEDIATE waits in SQLite's busy handler while another connection, e.g. the followers
  process, holds the lock);
- ``committing``: its COMMIT statement starts (what is left is the WAL's fsync, synchronous=FULL);
- ``commit``: the group commit holding it returned (COMMIT and its fsync done), before the
  after-commit steps (live fan-out) run;
- ``sent``: the live frame carrying it is handed to B's socket (``send_bytes`` called);
- ``reply``: ``sync_async`` returned (the reply is then encoded and written).

The wrappers cost a few microseconds per step; nothing else changes.

``TT_TRACE_LOOP=PATH`` also writes what the server did around each message (read by
``python -m bench.trace_loop PATH``): every step above with the event loop thread's scheduler
counters (``/proc/thread-self/schedstat``: time run on a CPU and time spent runnable waiting for
one), so a slow step splits into running, waiting for a core, and blocked (an fsync, the GIL, a
lock); every group commit, labelled or not, with the collections it wrote (the read cursors'
``reads`` writes of A and B too); every WebSocket frame handed out; every WAL checkpoint
(``wal-checkpoints`` thread); every ``Head`` line to the followers process (``followers-writer``);
and with ``TT_TRACE_THREADS=1``, at each push's arrival and reply, the CPU run time of every
thread of the server and of its followers process (~0.3 ms each time, on the loop). Each other
line costs ~10-30 us.
"""

from __future__ import annotations

import os
import re
import runpy
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

LABEL = re.compile(rb"hotpath-\d+")


def _writer() -> Callable[..., None]:
    out = open(os.environ["TT_TRACE_OUT"], "a", buffering=1)

    def note(step: str, data: bytes, at: float | None = None) -> None:
        now = time.time() * 1000 if at is None else at
        for label in dict.fromkeys(LABEL.findall(data)):
            out.write(f"{step} {label.decode()} {now:.3f}\n")

    return note


def _counters() -> tuple[tuple[int, int], float]:
    """The calling thread's counters (``_schedstat``) and the clock (unix ms) at one moment. A
    read of /proc is a system call, and a thread is preempted mostly as one returns: read again
    until the wait has not moved across the clock's reading, so a preemption is never counted in
    one step and timed in the next."""
    before = _schedstat()
    for _ in range(3):
        now = time.time() * 1000
        after = _schedstat()
        if after[1] == before[1]:
            return after, now
        before = after
    return before, time.time() * 1000


def _schedstat(path: str = "/proc/thread-self/schedstat") -> tuple[int, int]:
    """(ns run on a CPU, ns runnable waiting for one) of a thread, (0, 0) when it is gone. For
    the calling thread the run time is its CPU clock: the kernel's counter here moves only at a
    tick or a switch, while the wait is exact (it moves when the thread gets a CPU back)."""
    try:
        with open(path, "rb") as f:
            run, wait, _ = f.read().split()
    except (OSError, ValueError):
        return 0, 0
    if path == "/proc/thread-self/schedstat":
        return time.thread_time_ns(), int(wait)
    return int(run), int(wait)


class _LoopTrace:
    """TT_TRACE_LOOP: one line per event, ``<kind> <unix ms> <fields...>`` (bench/trace_loop.py)."""

    def __init__(self, path: str) -> None:
        self._out = open(path, "a", buffering=1)
        self._lock = threading.Lock()

    def line(self, *fields: object) -> None:
        text = " ".join(str(f) for f in fields) + "\n"
        with self._lock:
            self._out.write(text)

    def step(self, step: str, labels: bytes, at: float, counters: tuple[int, int]) -> None:
        run, wait = counters
        for label in dict.fromkeys(LABEL.findall(labels)) or [b"-"]:
            self.line("S", f"{at:.3f}", step, label.decode(), run, wait)

    def threads(self, label: bytes, when: str) -> None:
        """The run time of every thread of this process and of its children (the followers)."""
        now = time.time() * 1000
        parts = []
        pids = [os.getpid()]
        names = {t.native_id: t.name.replace(" ", "_") for t in threading.enumerate()}
        for task in os.listdir("/proc/self/task"):
            try:
                pids += [int(c) for c in open(f"/proc/self/task/{task}/children").read().split()]
            except OSError:
                pass
        for pid in pids:
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for task in tasks:
                try:
                    name = names.get(int(task)) or open(f"/proc/{pid}/task/{task}/comm").read().strip()
                except OSError:
                    continue
                run, wait = _schedstat(f"/proc/{pid}/task/{task}/schedstat")
                who = "srv" if pid == os.getpid() else "fol"
                parts.append(f"{who}:{task}:{name}={run}:{wait}")
        for one in dict.fromkeys(LABEL.findall(label)):
            self.line("T", f"{now:.3f}", when, one.decode(), *parts)


def _install() -> None:
    from litestar import Litestar, WebSocket

    from backend.storage.group_commit import GroupCommit
    from backend.storage.sqlite import SqliteStorage
    from backend.sync_service import SyncService

    note = _writer()
    loop_path = os.environ.get("TT_TRACE_LOOP")
    trace = _LoopTrace(loop_path) if loop_path else None
    # Every thread's CPU at each push's arrival and reply (~0.3 ms of the loop's time each).
    threads = trace if trace is not None and os.environ.get("TT_TRACE_THREADS") == "1" else None
    if trace is not None:
        plain_note = note

        def note(step: str, data: bytes, at: float | None = None) -> None:
            # The counters, then the clock, with nothing between: a preemption while the lines are
            # written falls in the next step, on both.
            counters, now = _counters()
            now = now if at is None else at
            plain_note(step, data, now)
            if step != "sent":  # frames: noted with their size in send_bytes
                trace.step(step, data, now, counters)

    def labels_of(request: Any) -> bytes:
        return b" ".join(str(c.fields.get("text", "")).encode() for c in request.changes)

    original_sync = SyncService.sync_async
    original_call = Litestar.__call__
    entered: ContextVar[float] = ContextVar("entered", default=0.0)

    async def call(self: Litestar, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and scope.get("path") == "/api/sync":
            entered.set(time.time() * 1000)
        await original_call(self, scope, receive, send)

    async def sync_async(self: SyncService, actor: Any, request: Any, now_ms: int) -> Any:
        labels = labels_of(request)
        # A request over the sync socket (backend/http/sync_socket.py) has no HTTP entry: it is
        # noted as it reaches the sync service.
        if threads:  # first: its cost falls outside the steps
            threads.threads(labels, "arrive")
        note("request", labels, entered.get() or None)
        note("arrive", labels)
        if trace is not None:
            trace.line("Y", f"{time.time() * 1000:.3f}", "in", _what(request))
        try:
            return await original_sync(self, actor, request, now_ms)
        finally:
            note("reply", labels)
            if trace is not None:
                trace.line("Y", f"{time.time() * 1000:.3f}", "out", _what(request))
            if threads:
                threads.threads(labels, "reply")

    original_commit = GroupCommit._commit
    original_transaction = SqliteStorage.transaction
    beginning: list[bytes] = []  # the labels of the group whose transaction is beginning

    def group_requests(group: list[Any]) -> Iterator[Any]:
        # A group's pushes are not visible from here: each job's request is read from its work's
        # closure (the cell contents).
        for job in group:
            for cell in getattr(job.work, "__closure__", None) or ():
                request = cell.cell_contents
                if hasattr(request, "changes") and hasattr(request, "v"):
                    yield request

    def group_labels(group: list[Any]) -> bytes:
        return b" ".join(labels_of(request) for request in group_requests(group))

    def group_what(group: list[Any]) -> str:
        return "+".join(_what(request) for request in group_requests(group)) or "?"

    def commit(self: GroupCommit, group: list[Any]) -> None:
        labels = group_labels(group)
        (run0, wait0), start = _counters() if trace is not None else ((0, 0), 0.0)
        note("drain", labels)
        beginning[:] = [labels]
        try:
            original_commit(self, group)
        finally:
            beginning.clear()
        if trace is not None:
            (run1, wait1), end = _counters()
        note("commit", labels)
        if trace is not None:
            trace.line("G", f"{start:.3f}", f"{end:.3f}", run1 - run0, wait1 - wait0, group_what(group))

    committing: list[bytes] = []  # the labels of the group whose COMMIT comes next

    def statement(sql: str) -> None:
        if sql == "COMMIT" and committing:
            note("committing", committing.pop())

    original_init = SqliteStorage.__init__

    def init(self: SqliteStorage, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        # Set once, before any other thread uses the connection: setting it takes SQLite's
        # connection mutex while holding the GIL, and a statement running on another thread
        # holds that mutex and calls back for the GIL (a deadlock).
        self._writer.set_trace_callback(statement)

    @contextmanager
    def transaction(self: SqliteStorage) -> Iterator[None]:
        with original_transaction(self):
            if beginning:
                labels = beginning.pop()
                note("begun", labels)
                committing[:] = [labels]
            yield

    original_send = WebSocket.send_bytes

    async def send_bytes(self: WebSocket[Any, Any, Any], data: bytes, *args: Any, **kwargs: Any) -> None:
        # Noted before: the frame reaches the transport in the call's first step, and the await
        # may then yield to the push's reply before it returns.
        if trace is not None:
            (run, wait), at = _counters()
        note("sent", data)
        if trace is not None:
            path = self.scope.get("path", "?")
            for label in dict.fromkeys(LABEL.findall(data)) or [b"-"]:
                trace.line("S", f"{at:.3f}", "sent", label.decode(), run, wait, path, len(data))
        await original_send(self, data, *args, **kwargs)

    if trace is not None:
        trace.line("P", f"{time.time() * 1000:.3f}", os.getpid(), threading.get_native_id())
        _trace_threads(trace)
    SyncService.sync_async = sync_async  # type: ignore[method-assign]
    Litestar.__call__ = call  # type: ignore[method-assign]
    GroupCommit._commit = commit  # type: ignore[method-assign]
    SqliteStorage.transaction = transaction  # type: ignore[method-assign,assignment]
    SqliteStorage.__init__ = init  # type: ignore[method-assign]
    WebSocket.send_bytes = send_bytes  # type: ignore[method-assign,assignment]


def _what(request: Any) -> str:
    """A push in a word: its collections and labels (``messages:hotpath-3``, ``reads``)."""
    parts = []
    for change in request.changes:
        label = LABEL.search(str(change.fields.get("text", "")).encode())
        parts.append(f"{change.collection}:{label.group().decode()}" if label else change.collection)
    return ",".join(parts) or "pull"


def _trace_threads(trace: _LoopTrace) -> None:
    """The server's other threads' work that may take the GIL or the disk from the event loop."""
    from backend import followers
    from backend.followers import supervisor
    from backend.storage.sqlite_checkpoints import Checkpointer

    original_checkpoint = Checkpointer._checkpoint

    def checkpoint(self: Checkpointer) -> None:
        start, held, catch_ups = time.time() * 1000, self.stats.held_s, self.stats.catch_ups
        try:
            original_checkpoint(self)
        finally:
            # The catch-up (a second checkpoint holding the store's lock: a transaction waits)
            kind = "catch-up" if self.stats.catch_ups > catch_ups else "passive"
            held_ms = (self.stats.held_s - held) * 1000
            trace.line("C", f"{start:.3f}", f"{time.time() * 1000:.3f}", kind, f"{held_ms:.3f}")

    original_encode = followers.encode

    def encode(message: Any) -> bytes:
        trace.line("H", f"{time.time() * 1000:.3f}", type(message).__name__)
        return original_encode(message)

    Checkpointer._checkpoint = checkpoint  # type: ignore[method-assign]
    vars(supervisor)["encode"] = encode  # the name its writer thread calls


def main() -> None:
    _install()
    sys.argv = ["backend.cli", *sys.argv[1:]]
    runpy.run_module("backend.cli", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
