"""The storage interface every backend implements (SQLite now, PostgreSQL for scale-out later).

The services call only these methods. Every write happens inside ``transaction()``; a store
must make a committed transaction durable before ``transaction()`` returns, because the
server acks pushes right after it (invariant 3). A transaction belongs to the thread that opened
it; another thread's transaction waits for it to end. ``savepoint()``, inside a transaction, is a
part that rolls back alone when it raises.
A store opened read-only (``backend.storage.open_readonly``: the CLI's exports and checks, the
Datasette sign-in) answers every read and refuses every transaction with ReadOnlyStore.
``snapshot()`` is one consistent, streamed read of the whole store for exports (Snapshot).
tests/integration/storage_contract/ is the conformance suite every implementation runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import msgspec

from backend.storage.chain import ChainRow
from backend.storage.files_base import FileStorage
from sync_protocol.merge import RecordState
from sync_protocol.wire import Change, RecordSnapshot, Value


class StoredRecord(msgspec.Struct):
    scope: str
    state: RecordState


class Account(msgspec.Struct):
    id: str
    email: str
    name: str
    role: str  # "owner" | "admin" | "member" | "auditor"
    password_hash: str
    created: int
    deactivated: bool = False


class DeviceSession(msgspec.Struct):
    """A signed-in device: one browser profile, phone or bot. Its id stamps HLCs and mutation ids."""

    id: str
    user_id: str
    name: str
    created: int
    last_seen: int
    last_mid: int = 0
    revoked: bool = False


class PushSubscription(msgspec.Struct):
    """A device's Web Push subscription: a secret of that device (never replicated)."""

    id: str
    user_id: str
    device: str
    endpoint: str
    p256dh: str
    auth: str
    lang: str
    created: int


class PushJob(msgspec.Struct):
    """A notification waiting to leave for one subscription: one per conversation (``topic``)."""

    subscription: str
    topic: str
    payload: str  # the JSON the service worker receives
    urgency: str  # "high" | "normal" | "low"
    ttl: int  # seconds the push service keeps it for an offline device
    due: int  # ms: not sent before
    first: int  # ms: when it was first queued (retries give up 24 h after)
    attempts: int = 0
    version: int = 1


class NewChange(msgspec.Struct):
    scope: str
    collection: str
    id: str
    hlc: str
    author: str
    device: str
    mid: int
    received_at: int
    fields: dict[str, Value]


class ReadOnlyStore(RuntimeError):
    """A write (a transaction) on a store opened read-only."""


# --- what a snapshot yields ----------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """What the log says about one record: its first entry's time and author, its last entry's time."""

    created: int | None = None
    author: str | None = None
    updated: int | None = None


@dataclass(frozen=True)
class PublicAccount:
    """An account without its password hash: what leaves the store for an export."""

    id: str
    email: str
    name: str
    role: str
    created: int
    deactivated: bool


class SnapshotRecord(NamedTuple):
    id: str
    scope: str
    fields: dict[str, Any]
    timing: Timing


class SnapshotMessage(NamedTuple):
    """A message record with its log entries in merge order (HLC, then seq)."""

    id: str
    fields: dict[str, Any]
    entries: list[ChainRow]


#: What Snapshot.log() says of an entry's record: for a message whether its merged record is
#: deleted (1 or 0), for a membership its channel, for a person whether their profile exists (1 or 0).
LogEntryAbout = int | str | None


class Snapshot(Protocol):
    """The live store as it was when the snapshot began, however long the reader takes and
    whatever the server commits meanwhile. Every method streams (memory does not grow with the
    store), and nothing secret is readable: no password hashes, tokens, invites or settings."""

    head_seq: int

    @property
    def head_hash(self) -> str:
        """The hash chain's entry at ``head_seq``."""
        ...

    def __enter__(self) -> Snapshot: ...
    def __exit__(self, *exc: object) -> None: ...
    def close(self) -> None: ...
    def count(self, collection: str) -> int: ...
    def records(self, collection: str, by_creation: bool = False) -> Iterator[SnapshotRecord]:
        """A collection's records with their timing, by id, or oldest first (then id)."""
        ...

    def accounts(self) -> Iterator[PublicAccount]: ...
    def wrote(self, author: str) -> bool:
        """Is ``author`` the author of any log entry?"""
        ...

    def messages(
        self, channels: Sequence[str] | None = None, since_ms: int | None = None, until_ms: int | None = None
    ) -> Iterator[SnapshotMessage]:
        """Messages oldest first (their integer ``at``, else 0; then id), with their entries.
        Narrowed to these channels and to ``since_ms <= at < until_ms`` when given."""
        ...

    def entries_by_record(self, collection: str) -> Iterator[tuple[str, list[ChainRow]]]:
        """A collection's log entries, record by record (ids in order), each record's in log order."""
        ...

    def log(self) -> Iterator[tuple[ChainRow, LogEntryAbout]]:
        """The whole change log in seq order, each entry with LogEntryAbout its record."""
        ...

    def stored_log(self) -> Iterator[tuple[Any, ...]]:
        """The whole log as stored, in seq order, columns as chain.ROW_COLUMNS and ``fields`` and
        ``redacted`` as JSON text: undecoded, so a verifier can name a damaged entry."""
        ...

    def stored_entry(self, seq: int) -> tuple[Any, ...] | None:
        """One entry as stored_log() gives it, or None."""
        ...


class Storage(FileStorage, Protocol):
    def transaction(self) -> AbstractContextManager[None]: ...
    def savepoint(self) -> AbstractContextManager[None]: ...
    def after_commit(self, callback: Callable[[], None]) -> None: ...
    def close(self) -> None: ...

    # records and the change log
    def get_record(self, collection: str, record_id: str) -> StoredRecord | None: ...
    def preload(self, collection: str, record_ids: Sequence[str]) -> None: ...
    def put_record(self, collection: str, record_id: str, record: StoredRecord) -> None: ...
    def append_change(self, change: NewChange) -> int: ...
    def write_change(self, change: NewChange, record: StoredRecord | None, created: bool = False) -> int:
        """``append_change``, and with ``record`` also ``put_record`` of what the change produced;
        ``created`` when the record is new and its state is this change alone."""
        ...

    def scope_head(self, scope: str) -> int: ...
    def scope_heads(self, scopes: Sequence[str]) -> dict[str, int]:
        """The last seq of each of these scopes (0 for one with no change), in one read: a pull
        asks only the scopes whose head is past the device's cursor, so its cost follows what
        is new, not how much is stored."""
        ...

    def redact(self, collection: str, record_id: str, names: Sequence[str]) -> int: ...
    def log_head(self) -> int:
        """The log's last entry's seq (0 when empty); inside a transaction, its own entries count."""
        ...

    def head_hash(self) -> tuple[int, str]:
        """``log_head()`` with the chain's hash there (what an admin publishes): costs the hashing
        of whatever the chain has not reached yet, so only for those who need the hash."""
        ...

    def greatest_clock(self) -> str | None: ...
    def changes_after(self, scope: str, after: int, limit: int) -> list[Change]: ...
    def changes_since(self, after: int, limit: int) -> list[Change]:
        """The log after ``after`` across every scope, in seq order, at most ``limit`` changes; from
        any thread, and outside the caller's own transaction only what is committed (the feed
        reads back with it: backend/feed.py)."""
        ...

    def next_message_number(self, channel_id: str) -> int: ...
    #: A scope's records except its messages (read by position) and the collections in ``skip``.
    def records_in_scope(self, scope: str, skip: Sequence[str] = ()) -> list[RecordSnapshot]: ...
    def snapshots(self, collection: str, ids: Sequence[str]) -> list[RecordSnapshot]: ...
    def reactions_to(self, message_ids: Sequence[str]) -> list[RecordSnapshot]: ...
    def record_history(self, collection: str, record_id: str) -> list[Change]: ...

    # messages by position (derived from `messages` records in the same transaction)
    def index_message(self, record_id: str, fields: Mapping[str, Value]) -> None: ...
    def message_ids_before(self, channel_id: str, before_n: int | None, limit: int) -> list[str]: ...
    def reply_ids(self, parent_id: str) -> list[str]: ...
    def latest_reply_ids(self, parent_ids: Sequence[str], limit: int) -> list[str]: ...
    def channel_name_taken(self, name: str, except_id: str) -> bool: ...

    # memberships, derived from `members` records in the same transaction
    def set_membership(self, channel_id: str, user_id: str, active: bool) -> None: ...
    def is_member(self, channel_id: str, user_id: str) -> bool: ...
    def channels_of(self, user_id: str) -> list[str]: ...
    def members_of(self, channel_id: str) -> list[str]: ...

    # devices: the last applied mutation counter and remembered rejections
    def rejection(self, device_id: str, mid: int) -> tuple[str, str] | None: ...
    def mutation_applied(self, device_id: str, mid: int, collection: str, record_id: str) -> bool: ...
    def save_rejection(self, device_id: str, mid: int, code: str, reason: str) -> None: ...
    def set_last_mid(self, device_id: str, mid: int) -> None: ...

    # accounts, sessions, invites, settings
    def count_accounts(self) -> int: ...
    def add_account(self, account: Account) -> None: ...
    def account_by_email(self, email: str) -> Account | None: ...
    def account(self, user_id: str) -> Account | None: ...
    def add_session(self, session: DeviceSession, token_hash: str) -> None: ...
    def session_by_token(self, token_hash: str) -> DeviceSession | None: ...
    def session(self, device_id: str) -> DeviceSession | None: ...
    def sessions_of(self, user_id: str) -> list[DeviceSession]: ...
    def touch_session(self, device_id: str, now: int) -> None: ...
    def revoke_session(self, device_id: str) -> None: ...
    def add_invite(self, token_hash: str, created_by: str, created: int, expires: int) -> None: ...
    def invite_valid(self, token_hash: str, now: int) -> bool: ...
    def get_setting(self, key: str) -> str | None: ...
    def set_setting(self, key: str, value: str) -> None: ...

    # Web Push subscriptions (sqlite_push.py has the rules; the queue is push_queue.py's)
    def add_push_subscription(self, sub: PushSubscription) -> None:
        """Replaces the device's subscription and any with the same endpoint."""
        ...

    def push_subscription(self, sub_id: str) -> PushSubscription | None: ...
    def push_subscriptions(self, sub_ids: Sequence[str]) -> dict[str, PushSubscription]: ...
    def push_subscriptions_of(self, user_ids: Sequence[str]) -> list[PushSubscription]: ...
    def push_subscriptions_version(self) -> int:
        """Changes with every change to any subscription (sqlite_push.py, Rule 5)."""
        ...

    def newest_push_subscriptions(self, limit: int) -> list[PushSubscription]:
        """The ``limit`` most recently made subscriptions (the sender pre-keys them: ece.py, Rule 2)."""
        ...

    def remove_push_subscription(self, sub_id: str) -> None:
        """``revoke_session`` removes the device's subscription too. Its queued pushes (push.db)
        are dropped by the sender when it reads them (push_queue.py, Rule 1)."""
        ...

    def clear_push_subscriptions(self) -> None:
        """Every subscription (the VAPID keys were rotated); their queued pushes are dropped unsent."""
        ...

    # reads for the server's own jobs and the tools around it
    def expired_message_ids(self, now_ms: int, limit: int) -> list[str]:
        """Messages whose bodies have expired (retention.py, Rule 1), oldest ``at`` first."""
        ...

    def snapshot(self) -> AbstractContextManager[Snapshot]:
        """A consistent read of the committed store that does not hold up writers (exports)."""
        ...


def iter_pages(store: Storage, scope: str, after: int, page: int) -> Iterator[list[Change]]:
    """Every change of a scope after a cursor, page by page (exports, bootstraps, tests)."""
    while batch := store.changes_after(scope, after, page):
        yield batch
        after = batch[-1].seq
