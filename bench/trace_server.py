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
"""

from __future__ import annotations

import os
import re
import runpy
import sys
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


def _install() -> None:
    from litestar import Litestar, WebSocket

    from backend.storage.group_commit import GroupCommit
    from backend.storage.sqlite import SqliteStorage
    from backend.sync_service import SyncService

    note = _writer()

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
        note("request", labels, entered.get() or None)
        note("arrive", labels)
        try:
            return await original_sync(self, actor, request, now_ms)
        finally:
            note("reply", labels)

    original_commit = GroupCommit._commit
    original_transaction = SqliteStorage.transaction
    beginning: list[bytes] = []  # the labels of the group whose transaction is beginning

    def group_labels(group: list[Any]) -> bytes:
        # The group's labels are not visible from here: every label the jobs' pushes hold,
        # through the closure's request (read from the work's cell contents).
        found = []
        for job in group:
            for cell in getattr(job.work, "__closure__", None) or ():
                request = cell.cell_contents
                if hasattr(request, "changes") and hasattr(request, "v"):
                    found.append(labels_of(request))
        return b" ".join(found)

    def commit(self: GroupCommit, group: list[Any]) -> None:
        labels = group_labels(group)
        note("drain", labels)
        beginning[:] = [labels]
        try:
            original_commit(self, group)
        finally:
            beginning.clear()
        note("commit", labels)

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
        note("sent", data)
        await original_send(self, data, *args, **kwargs)

    SyncService.sync_async = sync_async  # type: ignore[method-assign]
    Litestar.__call__ = call  # type: ignore[method-assign]
    GroupCommit._commit = commit  # type: ignore[method-assign]
    SqliteStorage.transaction = transaction  # type: ignore[method-assign,assignment]
    SqliteStorage.__init__ = init  # type: ignore[method-assign]
    WebSocket.send_bytes = send_bytes  # type: ignore[method-assign,assignment]


def main() -> None:
    _install()
    sys.argv = ["backend.cli", *sys.argv[1:]]
    runpy.run_module("backend.cli", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
