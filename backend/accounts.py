"""Accounts, device sessions and invites.

The first account of an empty server creates the workspace (with #general) and owns it;
everyone after joins with an invite link or is added by the CLI. Every account is a member of
#general. Each sign-in is one device: its id stamps the device's clocks and mutation ids, and
revoking it signs that device out.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend import tokens
from backend.access import may_invite, session_usable
from backend.errors import ApiError
from backend.settings import Settings
from backend.storage.base import Account, DeviceSession, Storage
from backend.sync_service import SyncService
from sync_protocol.collections import member_id

EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
ROLES = ("owner", "admin", "member", "auditor")
DAY_MS = 86_400_000
GENERAL_SETTING = "general_channel"
AUTH_CACHE_MS = 5_000


class UserOut(msgspec.Struct):
    id: str
    name: str
    email: str
    role: str


class WorkspaceOut(msgspec.Struct):
    name: str


class SessionOut(msgspec.Struct):
    user: UserOut
    device: str
    workspace: WorkspaceOut


class DeviceOut(msgspec.Struct):
    id: str
    name: str
    created: int
    last_seen: int
    current: bool


class InviteOut(msgspec.Struct):
    token: str
    url: str
    expires: int


class SignedIn(msgspec.Struct):
    """A new session: what the client sees, and the token that goes into its cookie."""

    session: SessionOut
    token: str


class CurrentSession(msgspec.Struct, frozen=True):
    user_id: str
    device_id: str
    role: str


class RateLimiter:
    """At most ``limit`` failed sign-ins per key in ``window_s``; protects argon2 and the accounts."""

    def __init__(self, limit: int = 10, window_s: float = 300.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}

    def check(self, key: str, now: float) -> None:
        failures = self._failures.get(key)
        while failures and failures[0] < now - self.window_s:
            failures.popleft()
        if failures is not None and len(failures) >= self.limit:
            raise ApiError(429, "rate_limited", "too many failed sign-ins; wait a few minutes and try again")

    def failed(self, key: str, now: float) -> None:
        self._failures.setdefault(key, deque()).append(now)


class AccountService:
    def __init__(self, store: Storage, sync: SyncService, settings: Settings) -> None:
        self.store = store
        self.sync = sync
        self.settings = settings
        self.hasher = PasswordHasher()
        self.limiter = RateLimiter()
        self._decoy_account: Account | None = None
        #: Sessions checked in the last AUTH_CACHE_MS, by token hash: most requests skip two
        #: lookups. Signing out or revoking here clears it; elsewhere (another process) it lasts
        #: at most AUTH_CACHE_MS.
        self._recent: dict[str, tuple[CurrentSession, int]] = {}

    # --- creating accounts -------------------------------------------------------------------

    def needs_owner(self) -> bool:
        return self.store.count_accounts() == 0

    def workspace_name(self) -> str:
        return self.store.get_setting("workspace_name") or self.settings.workspace_name

    def create_account(self, name: str, email: str, password: str, role: str | None, now_ms: int) -> Account:
        """Add a person (the CLI's path). On an empty server this creates the workspace and the
        person owns it."""
        name, email = name.strip(), email.strip().lower()
        _check_new_account(name, email, password)
        return self._insert_account(name, email, self.hasher.hash(password), role, now_ms)

    def _insert_account(self, name: str, email: str, password_hash: str, role: str | None, now_ms: int) -> Account:
        with self.store.transaction():
            if self.store.account_by_email(email) is not None:
                raise ApiError(409, "conflict", f"an account for {email} already exists", field="email")
            first = self.store.count_accounts() == 0
            account = Account(
                id=tokens.ulid(now_ms),
                email=email,
                name=name,
                role="owner" if first else (role or "member"),
                password_hash=password_hash,
                created=now_ms,
            )
            self.store.add_account(account)
            writes: list[tuple[str, str, dict[str, str | int | bool | None]]] = [
                ("users", account.id, {"name": name, "email": email, "role": account.role})
            ]
            general = self.store.get_setting(GENERAL_SETTING)
            if general is None:
                general = tokens.ulid(now_ms)
                self.store.set_setting(GENERAL_SETTING, general)
                writes.append(
                    ("channels", general, {"name": "general", "kind": "public", "topic": "Everyone, everything"})
                )
            writes.append(("members", member_id(general, account.id), {"channel": general, "user": account.id}))
            self.sync.write_as_server(account.id, writes, now_ms)
        return account

    async def sign_up(
        self, name: str, email: str, password: str, invite: str | None, device_name: str, now_ms: int
    ) -> SignedIn:
        if not self.needs_owner():
            if not invite:
                raise ApiError(403, "invite_required", "ask an admin of this workspace for an invite link")
            if not self.store.invite_valid(tokens.token_hash(invite), now_ms):
                raise ApiError(403, "invite_invalid", "this invite link is not valid or has expired")
        name, email = name.strip(), email.strip().lower()
        _check_new_account(name, email, password)
        # argon2 is slow on purpose; hashing off the event loop keeps everyone else's sync fast.
        password_hash = await asyncio.to_thread(self.hasher.hash, password)
        account = self._insert_account(name, email, password_hash, None, now_ms)
        return self._open_session(account, device_name, now_ms)

    # --- signing in and out ------------------------------------------------------------------

    async def sign_in(self, email: str, password: str, device_name: str, client: str, now_ms: int) -> SignedIn:
        email = email.strip().lower()
        key = f"{client}|{email}"
        now = now_ms / 1000
        self.limiter.check(key, now)
        account = self.store.account_by_email(email)
        # Verify against a throwaway hash when there is no account, so timing does not reveal who has one.
        checked = account if account is not None and not account.deactivated else self._decoy()
        ok = await asyncio.to_thread(self._password_ok, checked, password)
        if account is None or account.deactivated or not ok:
            self.limiter.failed(key, now)
            raise ApiError(401, "wrong_credentials", "that email and password do not match an account")
        return self._open_session(account, device_name, now_ms)

    def _decoy(self) -> Account:
        if self._decoy_account is None:
            self._decoy_account = Account("", "", "", "member", self.hasher.hash(tokens.token()), 0)
        return self._decoy_account

    def _password_ok(self, account: Account, password: str) -> bool:
        try:
            return self.hasher.verify(account.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _open_session(self, account: Account, device_name: str, now_ms: int) -> SignedIn:
        token = tokens.token()
        device = DeviceSession(
            id=tokens.device_id(),
            user_id=account.id,
            name=device_name[:120] or "Browser",
            created=now_ms,
            last_seen=now_ms,
        )
        with self.store.transaction():
            self.store.add_session(device, tokens.token_hash(token))
        return SignedIn(self.describe(account, device.id), token)

    def describe(self, account: Account, device_id: str) -> SessionOut:
        return SessionOut(
            user=UserOut(account.id, account.name, account.email, account.role),
            device=device_id,
            workspace=WorkspaceOut(self.workspace_name()),
        )

    def authenticate(self, token: str | None, now_ms: int) -> CurrentSession:
        if not token:
            raise ApiError(401, "signed_out", "sign in first")
        token_hash = tokens.token_hash(token)
        known = self._recent.get(token_hash)
        if known is not None and known[1] > now_ms:
            return known[0]
        current = self._authenticate(token_hash, now_ms)
        if len(self._recent) > 10_000:
            self._recent.clear()
        self._recent[token_hash] = (current, now_ms + AUTH_CACHE_MS)
        return current

    def _authenticate(self, token_hash: str, now_ms: int) -> CurrentSession:
        device = self.store.session_by_token(token_hash)
        account = self.store.account(device.user_id) if device is not None else None
        if not session_usable(device, account, now_ms, self.settings.session_days):
            inactive = device is not None and not device.revoked and (account is None or account.deactivated)
            reason = "this account is no longer active" if inactive else "this device was signed out; sign in again"
            raise ApiError(401, "signed_out", reason)
        assert device is not None and account is not None
        if now_ms - device.last_seen > 60_000:  # keep writes off the hot path: once a minute is enough
            with self.store.transaction():
                self.store.touch_session(device.id, now_ms)
        return CurrentSession(account.id, device.id, account.role)

    def session_info(self, current: CurrentSession) -> SessionOut:
        account = self.store.account(current.user_id)
        if account is None:
            raise ApiError(401, "signed_out", "this account is no longer active")
        return self.describe(account, current.device_id)

    def sign_out(self, current: CurrentSession) -> None:
        self._recent.clear()
        with self.store.transaction():
            self.store.revoke_session(current.device_id)

    # --- devices and invites -----------------------------------------------------------------

    def devices(self, current: CurrentSession) -> list[DeviceOut]:
        return [
            DeviceOut(d.id, d.name, d.created, d.last_seen, d.id == current.device_id)
            for d in self.store.sessions_of(current.user_id)
        ]

    def revoke_device(self, current: CurrentSession, device_id: str) -> None:
        device = self.store.session(device_id)
        if device is None or device.user_id != current.user_id or device.revoked:
            raise ApiError(404, "not_found", f"you have no device {device_id}")
        self._recent.clear()
        with self.store.transaction():
            self.store.revoke_session(device_id)

    def create_invite(self, current: CurrentSession, base_url: str, now_ms: int) -> InviteOut:
        if not may_invite(current.role):
            raise ApiError(403, "forbidden", "only admins may invite people")
        token = tokens.token()
        expires = now_ms + self.settings.invite_days * DAY_MS
        with self.store.transaction():
            self.store.add_invite(tokens.token_hash(token), current.user_id, now_ms, expires)
        return InviteOut(token, f"{base_url.rstrip('/')}/?invite={token}", expires)


def _check_new_account(name: str, email: str, password: str) -> None:
    if not name or len(name) > 80:
        raise ApiError(400, "invalid_account", "a name is 1-80 characters", field="name")
    if not EMAIL.fullmatch(email) or len(email) > 254:
        raise ApiError(400, "invalid_account", "that is not an email address", field="email")
    if not 8 <= len(password) <= 200:
        raise ApiError(400, "invalid_account", "a password is 8-200 characters", field="password")


def now_ms() -> int:
    return int(time.time() * 1000)
