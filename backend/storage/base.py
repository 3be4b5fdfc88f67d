"""The storage interface every backend implements (SQLite now, PostgreSQL for scale-out later).

The services call only these methods. Every write happens inside ``transaction()``; a store
must make a committed transaction durable before ``transaction()`` returns, because the
server acks pushes right after it (invariant 3). tests/integration/test_storage_contract.py is
the conformance suite every implementation runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol

import msgspec

from sync_protocol.merge import RecordState
from sync_protocol.wire import Change, Value


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


class Storage(Protocol):
    def transaction(self) -> AbstractContextManager[None]: ...
    def after_commit(self, callback: Callable[[], None]) -> None: ...
    def close(self) -> None: ...

    # records and the change log
    def get_record(self, collection: str, record_id: str) -> StoredRecord | None: ...
    def put_record(self, collection: str, record_id: str, record: StoredRecord) -> None: ...
    def append_change(self, change: NewChange) -> int: ...
    def scope_head(self, scope: str) -> int: ...
    def changes_after(self, scope: str, after: int, limit: int) -> list[Change]: ...
    def next_message_number(self, channel_id: str) -> int: ...
    def channel_name_taken(self, name: str, except_id: str) -> bool: ...

    # memberships, derived from `members` records in the same transaction
    def set_membership(self, channel_id: str, user_id: str, active: bool) -> None: ...
    def is_member(self, channel_id: str, user_id: str) -> bool: ...
    def channels_of(self, user_id: str) -> list[str]: ...
    def members_of(self, channel_id: str) -> list[str]: ...

    # devices: the last applied mutation counter and remembered rejections
    def rejection(self, device_id: str, mid: int) -> tuple[str, str] | None: ...
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


def iter_pages(store: Storage, scope: str, after: int, page: int) -> Iterator[list[Change]]:
    """Every change of a scope after a cursor, page by page (exports, bootstraps, tests)."""
    while batch := store.changes_after(scope, after, page):
        yield batch
        after = batch[-1].seq
