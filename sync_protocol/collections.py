"""What each collection holds and which scope a record belongs to.

This is the schema half of the contract; the server enforces it (backend/validation.py) and
clients use the same names. A scope is the unit of access control and of replication:

- ``ws``          the workspace: user profiles and public channels' records;
- ``u:<user>``    one user's private space: read cursors, drafts, settings;
- ``c:<channel>`` one channel (public, private, DM or group DM): its members and messages.
"""

from __future__ import annotations

from typing import NamedTuple

from sync_protocol.wire import Value

WORKSPACE = "ws"
MAX_TEXT = 10_000
MAX_NAME = 80
MAX_TOPIC = 250
CHANNEL_KINDS = ("public", "private", "dm", "group")
NOTIFY_LEVELS = ("all", "mentions", "none")


class Field(NamedTuple):
    type: type
    #: Longest allowed string, or greatest allowed int.
    limit: int | None = None
    #: Written only by the server (author, per-channel number, ...); a client sending it is forging.
    server: bool = False
    #: Fixed at creation; a later change to it is refused.
    immutable: bool = False
    #: Must be present in the change that creates the record.
    required: bool = False
    choices: tuple[str, ...] = ()


#: References fixed at creation, and a read position (JS's largest exact integer at most).
CHANNEL_REF = Field(str, 80, immutable=True, required=True)
USER_REF = Field(str, 80, immutable=True, required=True)
MESSAGE_REF = Field(str, 120, immutable=True, required=True)
POSITION = Field(int, 2**53 - 1, required=True)

COLLECTIONS: dict[str, dict[str, Field]] = {
    "users": {
        "name": Field(str, MAX_NAME, required=True),
        "email": Field(str, 254, server=True),
        "role": Field(str, 16, server=True),
        "deleted": Field(bool, server=True),
    },
    "channels": {
        "name": Field(str, MAX_NAME, required=True),
        "topic": Field(str, MAX_TOPIC),
        "kind": Field(str, immutable=True, required=True, choices=CHANNEL_KINDS),
        "created_by": Field(str, server=True),
        "archived": Field(bool),
        #: Days after which message bodies expire (0 or absent: kept forever). Admins only.
        "retention_days": Field(int, 36_500),
        "deleted": Field(bool),
    },
    "members": {
        "channel": CHANNEL_REF,
        "user": USER_REF,
        "left": Field(bool),
    },
    "messages": {
        "channel": CHANNEL_REF,
        "text": Field(str, MAX_TEXT, required=True),
        "thread": Field(str, 120, immutable=True),
        "mentions": Field(str, 2000),
        "pinned": Field(bool),
        "deleted": Field(bool),
        "author": Field(str, server=True),
        "n": Field(int, server=True),
        "tn": Field(int, server=True),
        "at": Field(int, server=True),
        "edited": Field(int, server=True),
        "replies": Field(int, server=True),
        "repliers": Field(str, server=True),
        "last_reply_at": Field(int, server=True),
        "pinned_by": Field(str, server=True),
    },
    "reads": {
        "channel": CHANNEL_REF,
        "user": USER_REF,
        "n": POSITION,
    },
    "reactions": {
        "message": MESSAGE_REF,
        "channel": CHANNEL_REF,
        "user": USER_REF,
        "emoji": Field(str, 32, immutable=True, required=True),
        "on": Field(bool, required=True),
    },
    "receipts": {
        "channel": CHANNEL_REF,
        "user": USER_REF,
        "n": POSITION,
    },
    "follows": {
        "message": MESSAGE_REF,
        "channel": CHANNEL_REF,
        "user": USER_REF,
        "on": Field(bool, required=True),
        # The highest reply number (tn) I have read in the thread: mentions in replies above it are unread.
        "read": Field(int, 2**53 - 1),
    },
    "prefs": {
        "channel": CHANNEL_REF,
        "user": USER_REF,
        "notify": Field(str, choices=NOTIFY_LEVELS),
        "muted": Field(bool),
    },
}


#: Collections whose records live in their channel's scope, and in their user's private scope.
CHANNEL_COLLECTIONS = frozenset({"members", "messages", "reactions", "receipts"})
PRIVATE_COLLECTIONS = frozenset({"reads", "follows", "prefs"})


class ScopeError(ValueError):
    """The record's fields do not determine a scope (a required field is missing)."""


def channel_scope(channel_id: str) -> str:
    return f"c:{channel_id}"


def user_scope(user_id: str) -> str:
    return f"u:{user_id}"


def scope_of(collection: str, record_id: str, fields: dict[str, Value]) -> str:
    """The scope of a record, from its (immutable) fields. Shared vectors: vectors/scopes.json."""
    if collection == "users":
        return WORKSPACE
    if collection == "channels":
        kind = fields.get("kind")
        if kind is None:
            raise ScopeError("channels need a kind")
        return WORKSPACE if kind == "public" else channel_scope(record_id)
    if collection in CHANNEL_COLLECTIONS:
        channel = fields.get("channel")
        if not isinstance(channel, str):
            raise ScopeError(f"{collection} need a channel")
        return channel_scope(channel)
    if collection in PRIVATE_COLLECTIONS:
        user = fields.get("user")
        if not isinstance(user, str):
            raise ScopeError(f"{collection} need a user")
        return user_scope(user)
    raise ScopeError(f"unknown collection {collection!r}")


def member_id(channel_id: str, user_id: str) -> str:
    """Membership ids are derived, so two devices adding the same person converge on one record."""
    return f"{channel_id}:{user_id}"


def read_id(user_id: str, channel_id: str) -> str:
    return f"{user_id}:{channel_id}"


def dm_id(user_a: str, user_b: str) -> str:
    """A 1:1 DM's id is derived from both people, so both starting it offline meet in one DM."""
    low, high = sorted((user_a, user_b))
    return f"dm_{low}_{high}"


def reaction_id(message_id: str, user_id: str, emoji: str) -> str:
    """One record per person and emoji; the emoji's code points in lowercase hex, joined by '-'."""
    return f"{message_id}:{user_id}:{'-'.join(f'{ord(c):x}' for c in emoji)}"


def receipt_id(channel_id: str, user_id: str) -> str:
    return f"{channel_id}:{user_id}"


def follow_id(user_id: str, message_id: str) -> str:
    return f"{user_id}:{message_id}"


def pref_id(user_id: str, channel_id: str) -> str:
    return f"{user_id}:{channel_id}"
