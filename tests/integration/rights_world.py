"""A small workspace for rights tests: six people in six roles and membership states, a private
channel with messages, an archived channel, a public channel and a DM, on a real SQLite store,
driven through the sync service as devices are (validation, rights, hooks, log)."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from backend.settings import Settings
from backend.storage.base import Account, DeviceSession
from backend.storage.sqlite import SqliteStorage
from backend.sync_service import SyncService
from sync_protocol.collections import REGISTRY, dm_id, member_id
from sync_protocol.registry import Registry
from sync_protocol.wire import Mutation, SyncRequest, Value

NOW = 1_780_000_000_000

#: persona -> (role, membership of the private channel)
PERSONAS = {
    "owner": ("owner", "member"),  # also the channel's creator
    "admin": ("admin", "member"),
    "member": ("member", "member"),
    "non_member": ("member", None),
    "removed": ("member", "left"),
    "auditor": ("auditor", None),
}


def new_id() -> str:
    return uuid.uuid4().hex[:24]


def device_of(user: str) -> str:
    return f"d{user[:8]}"


@dataclass(frozen=True)
class Actor:
    user_id: str
    device_id: str
    role: str


@dataclass
class World:
    """Ids of what one case may touch; fresh for every case, so cases never see each other."""

    people: dict[str, str]
    channel: str = ""
    archived: str = ""
    public: str = ""
    dm: str = ""
    msg_member: str = ""
    msg_removed: str = ""
    msg_deleted: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class RightsLab:
    def __init__(self, data_dir: Path, registry: Registry | None = None) -> None:
        self.store = SqliteStorage(data_dir / "teamtalk.db")
        settings = Settings(data_dir=data_dir)
        self.sync = SyncService(self.store, settings, registry=registry or REGISTRY)
        self.mids = itertools.count(1)
        self.ticks = itertools.count()

    def close(self) -> None:
        self.store.close()

    def world(self) -> World:
        """Six new people and their channels: no case sees another's records or ids."""
        p: dict[str, str] = {}
        with self.store.transaction():
            for persona, (role, _) in PERSONAS.items():
                p[persona] = new_id()
                self.store.add_account(Account(p[persona], f"{p[persona]}@example.com", persona, role, "-", NOW))
                # Each person's device has a session, so its last mutation counter is kept.
                device = DeviceSession(device_of(p[persona]), p[persona], "phone", NOW, NOW)
                self.store.add_session(device, f"token-{device.id}")
        self.sync.write_as_server(p["owner"], [("users", u, {"name": name}) for name, u in p.items()], NOW)
        w = World(dict(p), channel=new_id(), archived=new_id(), public=new_id(), dm=dm_id(p["owner"], p["member"]))
        w.msg_member, w.msg_removed, w.msg_deleted = new_id(), new_id(), new_id()
        writes: list[tuple[str, str, dict[str, Value]]] = [
            ("channels", w.channel, {"name": f"c-{w.channel}", "kind": "private"}),
            ("channels", w.archived, {"name": f"a-{w.archived}", "kind": "private"}),
            ("channels", w.public, {"name": f"p-{w.public}", "kind": "public"}),
        ]
        for persona, (_, membership) in PERSONAS.items():
            if membership:
                for channel in (w.channel, w.archived):
                    writes.append(("members", member_id(channel, p[persona]), {"channel": channel, "user": p[persona]}))
        self.sync.write_as_server(p["owner"], writes, NOW)
        self.sync.write_as_server(
            p["member"],
            [
                ("messages", w.msg_member, {"channel": w.channel, "text": "member's words"}),
                ("messages", w.msg_deleted, {"channel": w.channel, "text": "gone soon"}),
                ("messages", w.msg_deleted, {"deleted": True}),
                # the calendar's rows: an event in the channel's calendar and the member's reminder of it
                (
                    "events",
                    w.extra.setdefault("event", new_id()),
                    {
                        "calendar": f"c:{w.channel}",
                        "title": "Visit",
                        "start": "2026-03-17T09:00",
                        "tz": "Europe/Berlin",
                    },
                ),
                (
                    "reminders",
                    w.extra.setdefault("reminder", new_id()),
                    {"user": p["member"], "event": w.extra["event"], "minutes": 10},
                ),
            ],
            NOW,
        )
        self.sync.write_as_server(
            p["removed"],
            [
                ("messages", w.msg_removed, {"channel": w.channel, "text": "said before leaving"}),
                ("members", member_id(w.channel, p["removed"]), {"left": True}),
                ("members", member_id(w.archived, p["removed"]), {"left": True}),
            ],
            NOW,
        )
        # Tasks by the member, in the private channel and (before it is archived) the archived one.
        w.extra.update(task=new_id(), task_archived=new_id(), task_deleted=new_id(), item=new_id())
        w.extra["list"] = new_id()
        self.sync.write_as_server(
            p["member"],
            [
                ("task_lists", w.extra["list"], {"channel": w.channel, "name": "Site"}),
                ("tasks", w.extra["task"], {"channel": w.channel, "title": "Fix the pump"}),
                ("tasks", w.extra["task_archived"], {"channel": w.archived, "title": "Old"}),
                ("tasks", w.extra["task_deleted"], {"channel": w.channel, "title": "Gone"}),
                ("tasks", w.extra["task_deleted"], {"deleted": True}),
                ("task_items", w.extra["item"], {"task": w.extra["task"], "channel": w.channel, "text": "Valve"}),
            ],
            NOW,
        )
        w.extra["task_owner"] = new_id()
        self.sync.write_as_server(
            p["owner"], [("tasks", w.extra["task_owner"], {"channel": w.channel, "title": "O"})], NOW
        )
        self.sync.write_as_server(
            p["owner"],
            [
                ("channels", w.archived, {"archived": True}),
                ("channels", w.dm, {"name": "", "kind": "dm"}),
                ("members", member_id(w.dm, p["owner"]), {"channel": w.dm, "user": p["owner"]}),
                ("members", member_id(w.dm, p["member"]), {"channel": w.dm, "user": p["member"]}),
            ],
            NOW,
        )
        self._files(w)
        return w

    def _files(self, w: World) -> None:
        """Bytes everyone uploaded (the digest in ``extra``), and a file the member shared with them."""
        digest, w.extra["file"] = hashlib.sha256(new_id().encode()).hexdigest(), new_id()
        w.extra["digest"] = digest
        with self.store.transaction():
            self.store.add_blob(digest, 3, NOW)
            for user in w.people.values():
                self.store.claim_blob(user, digest, NOW)
        fields: dict[str, Value] = {"channel": w.channel, "name": "a.txt", "size": 3, "type": "text/plain"}
        self.sync.write_as_server(w.people["member"], [("files", w.extra["file"], {**fields, "digest": digest})], NOW)

    def push(self, world: World, persona: str, collection: str, record_id: str, fields: dict[str, Value]) -> str:
        """Push one change as ``persona``; "ok" or the rejection's code."""
        user = world.people[persona]
        device = device_of(user)
        hlc = f"{NOW + 1000:013d}-{next(self.ticks) % 99999:05d}-{device}"
        mutation = Mutation(mid=next(self.mids), collection=collection, id=record_id, hlc=hlc, fields=fields)
        account = self.store.account(user)
        assert account is not None
        reply = self.sync.sync(
            Actor(user, device, account.role), SyncRequest(v=1, changes=[mutation], cursors={}, limit=1), NOW
        )
        return reply.rejections[0].code if reply.rejections else "ok"
