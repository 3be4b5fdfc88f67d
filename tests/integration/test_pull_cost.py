"""A pull's cost follows what is new, not how much is stored (issue 17): a device that is up to
date in every scope but one reads the change log of that one scope only."""

from __future__ import annotations

import time
from pathlib import Path

from backend.accounts import CurrentSession
from backend.app import build_services
from backend.settings import Settings
from backend.storage.base import DeviceSession
from sync_protocol.collections import member_id
from sync_protocol.hlc import Clock
from sync_protocol.wire import Change, Mutation, SyncRequest


def test_an_up_to_date_pull_reads_only_the_scopes_with_something_new(tmp_path: Path) -> None:
    services = build_services(Settings(data_dir=tmp_path))
    try:
        now = int(time.time() * 1000)
        account = services.accounts.create_account("Ada", "ada@example.com", "correct horse 9", None, now)
        with services.store.transaction():
            services.store.add_session(DeviceSession("dev1", account.id, "laptop", now, now), "token")
        actor = CurrentSession(account.id, "dev1", account.role)
        clock = Clock("dev1")
        channels = [f"C{i:02d}" for i in range(20)]
        changes = []
        for i, channel in enumerate(channels):
            changes.append(
                Mutation(2 * i + 1, "channels", channel, {"name": f"team-{i}", "kind": "public"}, clock.tick(now))
            )
            changes.append(
                Mutation(
                    2 * i + 2,
                    "members",
                    member_id(channel, account.id),
                    {"channel": channel, "user": account.id},
                    clock.tick(now),
                )
            )
        services.sync.push(actor, SyncRequest(v=1, changes=changes), now)
        reply = services.sync.sync(actor, SyncRequest(v=1, cursors={}, limit=5000), now)
        cursors = dict(reply.cursors)
        assert not reply.more

        read: list[str] = []
        changes_after = services.store.changes_after

        def counted(scope: str, after: int, limit: int) -> list[Change]:
            read.append(scope)
            return changes_after(scope, after, limit)

        services.store.changes_after = counted  # type: ignore[method-assign]
        message = Mutation(100, "messages", "M1", {"channel": "C07", "text": "hi"}, clock.tick(now))
        # Pushed apart from the pull: a sync's own push comes back from memory, not from the log.
        assert services.sync.push(actor, SyncRequest(v=1, changes=[message]), now) == ([100], [])
        reply = services.sync.sync(actor, SyncRequest(v=1, cursors=cursors), now)
        assert read == ["c:C07"]
        assert [c.id for c in reply.changes] == ["M1"]
        read.clear()
        reply = services.sync.sync(actor, SyncRequest(v=1, cursors={**cursors, **reply.cursors}), now)
        assert read == [] and reply.changes == [] and not reply.more
    finally:
        services.close()
