"""TeamTalk's collections: one registry entry each (the machinery is ``sync_protocol/registry.py``).

A scope is the unit of access control and of replication:

- ``ws``          the workspace: user profiles and public channels' records;
- ``u:<user>``    one user's private space: read cursors, follows, channel preferences,
                  notification settings;
- ``c:<channel>`` one channel (public, private, DM or group DM): its members and messages.

Adding a collection is adding an entry here (docs/adding-a-collection.md); the server, its rights
check and both replicas read this table. Rights are rule names from ``backend/access.py``.
"""

from __future__ import annotations

import json

from sync_protocol.collections_calendar import CALENDAR_COLLECTIONS
from sync_protocol.collections_files import FILE_COLLECTIONS
from sync_protocol.collections_meetings import MEETING_COLLECTIONS
from sync_protocol.collections_offline import OFFLINE_COLLECTIONS
from sync_protocol.collections_tasks import TASK_COLLECTIONS
from sync_protocol.registry import (
    WORKSPACE,
    CollectionSpec,
    Field,
    IdRule,
    Registry,
    Rights,
    ScopeError,
    ScopeRule,
)
from sync_protocol.wire import Value

__all__ = ["COLLECTIONS", "REGISTRY", "WORKSPACE", "Field", "ScopeError", "scope_of"]

MAX_TEXT = 10_000
MAX_NAME = 80
MAX_TOPIC = 250
CHANNEL_KINDS = ("public", "private", "dm", "group")
NOTIFY_LEVELS = ("all", "mentions", "none")
PREVIEW_LEVELS = ("full", "private")

#: References fixed at creation, and a read position (JS's largest exact integer at most).
CHANNEL_REF = Field(str, 80, immutable=True, required=True)
USER_REF = Field(str, 80, immutable=True, required=True)
MESSAGE_REF = Field(str, 120, immutable=True, required=True)
POSITION = Field(int, 2**53 - 1, required=True)
#: Deleting is final: a client may only ever set the tombstone, never clear it.
TOMBSTONE = Field(bool, only=(True,))

IN_CHANNEL = ScopeRule("field", field="channel", prefix="c:")
PRIVATE = ScopeRule("field", field="user", prefix="u:")
#: Fields that name what a record is about; fixed at creation (the immutability rule guards them).
FIXED = "fixed"

USERS = CollectionSpec(
    "users",
    {
        "name": Field(str, MAX_NAME, required=True),
        "email": Field(str, 254, server=True),
        "role": Field(str, 16, server=True),
        "deleted": Field(bool, server=True),
    },
    ScopeRule("workspace"),
    # Accounts create profiles (backend/accounts.py); a person renames only themself.
    rights=Rights(create=None, fields={"name": "self"}),
)

CHANNELS = CollectionSpec(
    "channels",
    {
        "name": Field(str, MAX_NAME, required=True),
        "topic": Field(str, MAX_TOPIC),
        "kind": Field(str, immutable=True, required=True, choices=CHANNEL_KINDS),
        "created_by": Field(str, server=True),
        "archived": Field(bool),
        #: Days after which message bodies expire (0 or absent: kept forever). Admins only.
        "retention_days": Field(int, 36_500),
        "deleted": TOMBSTONE,
    },
    ScopeRule("own", field="kind", prefix="c:", workspace_if="public"),
    rights=Rights(
        create="channel_creator",
        fields={
            "name": "channel_editor",
            "topic": "channel_editor",
            "kind": FIXED,
            "archived": "channel_owner",
            "retention_days": "admin",
        },
        delete="channel_owner",
    ),
    on_create="created_by",
    checks=("unique_channel_name",),
)

MEMBERS = CollectionSpec(
    "members",
    {"channel": CHANNEL_REF, "user": USER_REF, "left": Field(bool)},
    IN_CHANNEL,
    derived_id=IdRule(("channel", "user")),
    rights=Rights(create="membership", fields={"channel": FIXED, "user": FIXED, "left": "membership"}),
    derived_tables=("memberships",),
)

MESSAGES = CollectionSpec(
    "messages",
    {
        "channel": CHANNEL_REF,
        "text": Field(str, MAX_TEXT, required=True),
        "thread": Field(str, 120, immutable=True),
        #: A comment on a task (sync_protocol/collections_tasks.py): numbered in the task, not the channel.
        "task": Field(str, 120, immutable=True),
        "mentions": Field(str, 2000),
        "pinned": Field(bool),
        "deleted": TOMBSTONE,
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
    IN_CHANNEL,
    rights=Rights(
        create="channel_poster",
        fields={
            "channel": FIXED,
            "thread": FIXED,
            "task": FIXED,
            "text": "message_author",
            "mentions": "message_author",
            "pinned": "channel_poster",
        },
        delete="message_deleter",
    ),
    on_create="message_numbers",
    on_update="message_marks",
    follow_ups=("thread_parent_counters", "task_touch"),
    derived_tables=("message_index",),
    wipe_on_delete=("text",),
    paged=True,
)

READS = CollectionSpec(
    "reads",
    {"channel": CHANNEL_REF, "user": USER_REF, "n": POSITION},
    PRIVATE,
    derived_id=IdRule(("user", "channel")),
    rights=Rights(create="own", fields={"channel": FIXED, "user": FIXED, "n": "own"}),
)

REACTIONS = CollectionSpec(
    "reactions",
    {
        "message": MESSAGE_REF,
        "channel": CHANNEL_REF,
        "user": USER_REF,
        "emoji": Field(str, 32, immutable=True, required=True),
        "on": Field(bool, required=True),
    },
    IN_CHANNEL,
    # One record per person and emoji, so concurrent reactions never overwrite each other.
    derived_id=IdRule(("message", "user", "emoji/hex")),
    rights=Rights(
        create="reactor",
        fields={"message": FIXED, "channel": FIXED, "user": FIXED, "emoji": FIXED, "on": "reactor"},
    ),
    paged=True,
)

RECEIPTS = CollectionSpec(
    "receipts",
    {"channel": CHANNEL_REF, "user": USER_REF, "n": POSITION},
    IN_CHANNEL,
    derived_id=IdRule(("channel", "user")),
    rights=Rights(create="receipt", fields={"channel": FIXED, "user": FIXED, "n": "receipt"}),
)

FOLLOWS = CollectionSpec(
    "follows",
    {
        "message": MESSAGE_REF,
        "channel": CHANNEL_REF,
        "user": USER_REF,
        "on": Field(bool, required=True),
        # The highest reply number (tn) I have read in the thread: mentions in replies above it are unread.
        "read": Field(int, 2**53 - 1),
    },
    PRIVATE,
    derived_id=IdRule(("user", "message")),
    rights=Rights(create="own", fields={"message": FIXED, "channel": FIXED, "user": FIXED, "on": "own", "read": "own"}),
)

PREFS = CollectionSpec(
    "prefs",
    {
        "channel": CHANNEL_REF,
        "user": USER_REF,
        "notify": Field(str, choices=NOTIFY_LEVELS),
        "muted": Field(bool),
    },
    PRIVATE,
    derived_id=IdRule(("user", "channel")),
    rights=Rights(create="own", fields={"channel": FIXED, "user": FIXED, "notify": "own", "muted": "own"}),
)

#: A person's notification settings, one record each (its id is theirs): private previews, a
#: do-not-disturb schedule (days "0123456" from Monday, minutes from midnight in ``tz``) and a
#: pause. Read by the push producer (backend/push/rules.py, Rule 2); devices only hold them.
NOTICES = CollectionSpec(
    "notices",
    {
        "user": USER_REF,
        "preview": Field(str, choices=PREVIEW_LEVELS),
        "dnd_days": Field(str, 7),
        "dnd_from": Field(int, 1439),
        "dnd_to": Field(int, 1439),
        "tz": Field(str, 64),
        "paused_until": Field(int, 2**53 - 1),
    },
    PRIVATE,
    derived_id=IdRule(("user",)),
    rights=Rights(
        create="own",
        fields={
            "user": FIXED,
            "preview": "own",
            "dnd_days": "own",
            "dnd_from": "own",
            "dnd_to": "own",
            "tz": "own",
            "paused_until": "own",
        },
    ),
)

REGISTRY = Registry(
    [
        *(USERS, CHANNELS, MEMBERS, MESSAGES, READS, REACTIONS, RECEIPTS, FOLLOWS, PREFS, NOTICES),
        *OFFLINE_COLLECTIONS,
        *FILE_COLLECTIONS,
        *TASK_COLLECTIONS,
        *CALENDAR_COLLECTIONS,
        *MEETING_COLLECTIONS,
    ]
)

#: Each collection's fields by name (the schema half of the registry), for readers of the schema.
COLLECTIONS: dict[str, dict[str, Field]] = {spec.name: dict(spec.fields) for spec in REGISTRY}


def channel_scope(channel_id: str) -> str:
    return f"c:{channel_id}"


def user_scope(user_id: str) -> str:
    return f"u:{user_id}"


def scope_of(collection: str, record_id: str, fields: dict[str, Value]) -> str:
    """The scope of a record, from its (immutable) fields. Shared vectors: vectors/scopes.json."""
    return REGISTRY.scope_of(collection, record_id, fields)


def dm_id(user_a: str, user_b: str) -> str:
    """A 1:1 DM's id is derived from both people, so both starting it offline meet in one DM."""
    low, high = sorted((user_a, user_b))
    return f"dm_{low}_{high}"


def dm_people(channel_id: str) -> tuple[str, ...]:
    """The two user ids a 1:1 DM id is made of (``dm_<a>_<b>``)."""
    parts = channel_id.split("_")
    return tuple(parts[1:]) if len(parts) == 3 and parts[0] == "dm" else ()


def _derived(collection: str, **fields: Value) -> str:
    rule = REGISTRY[collection].derived_id
    assert rule is not None
    return rule.derive(fields)


def member_id(channel_id: str, user_id: str) -> str:
    return _derived("members", channel=channel_id, user=user_id)


def read_id(user_id: str, channel_id: str) -> str:
    return _derived("reads", user=user_id, channel=channel_id)


def reaction_id(message_id: str, user_id: str, emoji: str) -> str:
    return _derived("reactions", message=message_id, user=user_id, emoji=emoji)


def receipt_id(channel_id: str, user_id: str) -> str:
    return _derived("receipts", channel=channel_id, user=user_id)


def follow_id(user_id: str, message_id: str) -> str:
    return _derived("follows", user=user_id, message=message_id)


def pref_id(user_id: str, channel_id: str) -> str:
    return _derived("prefs", user=user_id, channel=channel_id)


def notices_id(user_id: str) -> str:
    return _derived("notices", user=user_id)


def export_json() -> str:
    """The registry as the browser reads it: ``sync_protocol/vectors/registry.json``."""
    return json.dumps(REGISTRY.export(), indent=1, ensure_ascii=False, sort_keys=False) + "\n"


if __name__ == "__main__":  # python -m sync_protocol.collections > sync_protocol/vectors/registry.json
    print(export_json(), end="")
