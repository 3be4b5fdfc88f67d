"""Retention: message bodies older than their channel's ``retention_days`` are removed everywhere.

Rules:

Rule 1. A message expires when its channel has ``retention_days`` > 0 and the server accepted it
        (``at``) more than that many days ago. Only the body goes: the record, its author, time,
        number, reactions and deletion stay.
Rule 2. Expiring writes a server change ``{"text": null}`` (SyncService.write_as_server, stamped
        with the server's clock, later than any it has seen) so every replica drops the text at
        its next sync, and redacts ``text`` from every logged change of the message
        (``store.redact``): the log keeps the tombstone and the digests, so the chain verifies.
Rule 3. Both happen in ONE transaction per batch: a crash leaves a message either untouched or
        expired everywhere.
Rule 4. Only owners and admins set ``retention_days`` (backend/access.py).
Rule 5. Files shared in the channel expire by the same rule (their ``at``): the server deletes
        their records; unreferenced bytes are collected after the grace period.

The server runs ``expire`` hourly (``start_hourly`` registered in backend/app.py);
``teamtalk archive retention --data DIR`` runs it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from litestar import Litestar

from backend.change_apply import SERVER_DEVICE
from backend.storage.base import Storage
from backend.sync_service import SyncService

log = logging.getLogger("teamtalk.retention")

DAY_MS = 86_400_000
INTERVAL_S = 3600.0
BATCH = 500


def expire(store: Storage, sync: SyncService, now_ms: int, limit: int | None = None) -> int:
    """Expire message bodies (at most ``limit``, default all); returns how many were expired."""
    done = 0
    while limit is None or done < limit:
        batch = store.expired_message_ids(now_ms, BATCH if limit is None else min(BATCH, limit - done))
        if not batch:
            break
        with store.transaction():
            sync.write_as_server(SERVER_DEVICE, [("messages", mid, {"text": None}) for mid in batch], now_ms)
            for mid in batch:
                store.redact("messages", mid, ["text"])
        done += len(batch)
    return done + expire_files(store, sync, now_ms)


def expire_files(store: Storage, sync: SyncService, now_ms: int) -> int:
    """Rule 5: files expire with their channel's message bodies: their records are deleted (as the
    server), so they are hidden everywhere; the bytes go with garbage collection (files/worker.py)."""
    done = 0
    while batch := store.expired_file_ids(now_ms, BATCH):
        with store.transaction():
            sync.write_as_server(SERVER_DEVICE, [("files", fid, {"deleted": True}) for fid in batch], now_ms)
        done += len(batch)
    return done


async def run_hourly(store: Storage, sync: SyncService, interval_s: float = INTERVAL_S) -> None:
    """Expire bodies now and then every ``interval_s``, in batches, yielding to the event loop
    between them so syncing devices are never held up for long."""
    while True:
        try:
            while expire(store, sync, int(time.time() * 1000), limit=BATCH) == BATCH:
                await asyncio.sleep(0)
        except Exception:  # keep the server up; the next hour retries
            log.exception("retention run failed")
        await asyncio.sleep(interval_s)


_TASK = "retention_task"


async def start_hourly(app: Litestar) -> None:
    """on_startup hook: run retention in the background for the app's life."""
    found = app.state["services"]
    app.state[_TASK] = asyncio.create_task(run_hourly(found.store, found.sync), name="retention")


async def stop_hourly(app: Litestar) -> None:
    task: asyncio.Task[None] | None = app.state.get(_TASK)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
