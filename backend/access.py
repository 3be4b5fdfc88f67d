"""Who may do what. Every rights rule of the server lives here, once.

Rules:

Rule 1. The author of a change is the session's user, never a field of the payload.
Rule 2. Deny by default. A collection whose registry entry has no rights, or a field with no rule,
        is refused for everyone (``sync_protocol/registry.py``, Rule 2).
Rule 3. A change is checked by the rules its registry entry names: the ``create`` rule when it
        creates the record, the ``delete`` rule for the tombstone, and each field's rule. A change
        to an existing record that only restates the fields that fix what it is about (``fixed``)
        is checked by the ``create`` rule, as if it created the record again.
Rule 4. Named rules are the functions in ``RULES``; each is written once and read by the table
        test (tests/integration/test_rights_matrix.py) over every role and membership state.
Rule 5. Roles: owners and admins administer; auditors read archives and the change log's head;
        members and bots write only through the rules below.
Rule 6. A session is usable while it is not revoked, its account is active, and it was seen within
        ``session_days``; the same rule serves the app, the live socket and the archive's sign-in.
Rule 7. The live socket checks the Origin and the session like any other request, and carries
        ephemeral signals only to scopes the connection already hears.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from backend.storage.base import Account, DeviceSession, PushSubscription, Storage, StoredRecord
from sync_protocol.collections import dm_people
from sync_protocol.registry import WORKSPACE, CollectionSpec
from sync_protocol.wire import Value

ADMIN_ROLES = frozenset({"owner", "admin"})
AUDIT_ROLES = frozenset({"owner", "admin", "auditor"})
ROLES = ("owner", "admin", "member", "auditor", "bot")
DAY_MS = 86_400_000


class Rejected(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _forbid(reason: str) -> Rejected:
    return Rejected("forbidden", reason)


# --- roles, sessions and the live socket (Rules 5-7) -------------------------------------------


def is_admin(role: str) -> bool:
    return role in ADMIN_ROLES


def may_invite(role: str) -> bool:
    return role in ADMIN_ROLES


def may_audit(role: str) -> bool:
    """Who reads archives (Datasette) and the change log's head hash."""
    return role in AUDIT_ROLES


def session_usable(device: DeviceSession | None, account: Account | None, now_ms: int, session_days: int) -> bool:
    if device is None or device.revoked or now_ms - device.last_seen > session_days * DAY_MS:
        return False
    return account is not None and not account.deactivated


def origin_allowed(origin: str | None, host: str, extra_origins: tuple[str, ...] | list[str]) -> bool:
    """A browser always sends Origin on a WebSocket; a tool that sends none is not a browser page."""
    if origin is None or origin in extra_origins:
        return True
    return urlsplit(origin).netloc == host


def may_read_channel(store: Storage, user_id: str, channel_id: str) -> bool:
    """History pages, versions and search results: members of the channel now (as pulls)."""
    return store.is_member(channel_id, user_id)


def may_read_scope(store: Storage, user_id: str, scope: str) -> bool:
    """Record histories (and anything else read by scope): as pulls, the workspace is everyone's,
    a private space is its owner's, a channel is its members'."""
    if scope == WORKSPACE:
        return True
    kind, _, rest = scope.partition(":")
    if kind == "u":
        return rest == user_id
    if kind == "c":
        return store.is_member(rest, user_id)
    return False


def may_manage_push_subscription(user_id: str, sub: PushSubscription) -> bool:
    """A person lists and revokes the push subscriptions of their own devices, nobody else's."""
    return sub.user_id == user_id


def may_signal(scope: str, heard: set[str]) -> bool:
    """Typing and call signals go to a channel the connection already hears, nowhere else."""
    return scope in heard and scope.startswith("c:")


# --- changes to records (Rules 1-4) ------------------------------------------------------------


class Attempt(NamedTuple):
    """One change being checked: the record before it, and the fields after it. (A tuple, not a
    frozen dataclass: one is made per change a push applies, and a frozen dataclass's
    ``__init__`` was a twentieth of the rights check.)"""

    collection: str
    record_id: str
    existing: StoredRecord | None
    changed: Mapping[str, Value]
    merged: Mapping[str, Value]

    @property
    def creating(self) -> bool:
        return self.existing is None

    @property
    def current(self) -> Mapping[str, Value]:
        return self.existing.state.fields if self.existing else {}

    @property
    def channel_id(self) -> str:
        return str(self.merged["channel"])


Rule = Callable[["Access", Attempt], None]
FIXED = "fixed"


class Access:
    def __init__(self, store: Storage, user_id: str, role: str) -> None:
        self.store = store
        self.user = user_id
        self.role = role
        self.admin = is_admin(role)
        # One push checks the same channel for every message in it: look each up once.
        self._channel_memo: dict[str, StoredRecord | None] = {}
        self._member_of: dict[str, bool] = {}
        # ... and the same rules for every change of one shape: (collection, creating, field names).
        self._writable: dict[str, Mapping[str, Value]] = {}
        self._rules: dict[tuple[str, bool, tuple[str, ...]], list[str]] = {}
        #: Shapes of new records whose rules are all in BY_CHANNEL, with the channels they passed
        #: in: a hundred new messages to one channel are one decision (``saw`` forgets them).
        self._by_channel: set[tuple[str, bool, tuple[str, ...]]] = set()
        self._passed: set[tuple[tuple[str, bool, tuple[str, ...]], Value]] = set()

    def check(
        self,
        spec: CollectionSpec,
        record_id: str,
        existing: StoredRecord | None,
        fields: Mapping[str, Value],
        shape: tuple[str, bool, tuple[str, ...]] | None = None,
    ) -> None:
        """Raise Rejected unless this user may apply ``fields`` to the record (Rules 2 and 3).
        ``shape``, when the caller has it: ``(spec.name, existing is None, tuple(fields))``."""
        if shape is None:
            shape = (spec.name, existing is None, tuple(fields))
        names = self._rules.get(shape)
        if names is None:
            names = self._rules[shape] = self._rule_names(spec, record_id, existing, fields)
            if existing is None and "channel" in fields and BY_CHANNEL.issuperset(names):
                self._by_channel.add(shape)
        passed = None
        if shape in self._by_channel:  # Rule 3, decided once per channel for this shape
            passed = (shape, fields["channel"])
            if passed in self._passed:
                return
        # A new record's fields are all there is (no merged copy: rules only read it).
        merged = fields if existing is None else {**existing.state.fields, **fields}
        attempt = Attempt(spec.name, record_id, existing, fields, merged)
        for name in names:
            RULES[name](self, attempt)
        if passed is not None:
            self._passed.add(passed)

    @staticmethod
    def _rule_names(
        spec: CollectionSpec, record_id: str, existing: StoredRecord | None, fields: Mapping[str, Value]
    ) -> list[str]:
        """The rules a change of this shape must pass, or Rejected when no rule allows it."""
        if spec.rights is None:
            raise _forbid(f"nobody may write {spec.name}: the collection has no rights rule")
        names: list[str] = []
        if existing is None:
            if spec.rights.create is None:
                raise _forbid(f"{spec.name} are created by the server, not by clients")
            names.append(spec.rights.create)
        for name in fields:
            rule = spec.rule_for(name)
            if rule is None:
                raise _forbid(f"nobody may write {spec.name}.{name}: the field has no rights rule")
            if rule not in names:
                names.append(rule)
        if existing is not None and all(name == FIXED for name in names):
            if spec.rights.create is None:
                raise _forbid(f"nothing to change in {spec.name}/{record_id}")
            names = [spec.rights.create]
        return names

    #: The collections whose changes ``saw`` must hear of (the service skips the call for the rest).
    WATCHED = frozenset({"channels", "members"})

    def saw(self, collection: str, record_id: str, fields: Mapping[str, Value]) -> None:
        """A change was applied: forget what it may have made stale (channels and memberships)."""
        if collection == "channels":
            self._channel_memo.pop(record_id, None)
            self._writable.pop(record_id, None)
            self._passed.clear()
        elif collection == "members":
            self._member_of.pop(str(fields.get("channel")), None)
            self._writable.pop(str(fields.get("channel")), None)
            self._passed.clear()

    # --- what the rules ask ------------------------------------------------------------------

    def _is_member(self, channel_id: str) -> bool:
        if channel_id not in self._member_of:
            self._member_of[channel_id] = self.store.is_member(channel_id, self.user)
        return self._member_of[channel_id]

    def _channel_record(self, channel_id: str) -> StoredRecord | None:
        if channel_id not in self._channel_memo:
            self._channel_memo[channel_id] = self.store.get_record("channels", channel_id)
        return self._channel_memo[channel_id]

    def _channel(self, channel_id: str) -> Mapping[str, Value]:
        channel = self._channel_record(channel_id)
        if channel is None:
            raise Rejected("not_found", f"there is no channel {channel_id}")
        return channel.state.fields

    def _writable_channel(self, channel_id: str) -> Mapping[str, Value]:
        """A channel this user belongs to and that is not archived (archived ones are read-only).
        Asked twice for each new message (posting, authoring): answered once per push and channel."""
        writable = self._writable.get(channel_id)
        if writable is not None:
            return writable
        if not self._is_member(channel_id):
            raise _forbid("you are not a member of this channel")
        channel = self._channel(channel_id)
        if channel.get("archived") is True:
            raise Rejected("archived", "this channel is archived and read-only")
        self._writable[channel_id] = channel
        return channel


# --- the named rules: registry entries refer to these names ------------------------------------


def _fixed(access: Access, attempt: Attempt) -> None:
    """Fields that say what a record is about: the create rule and immutability guard them."""


def _self(access: Access, attempt: Attempt) -> None:
    if attempt.creating or attempt.record_id != access.user:
        raise _forbid("you may change only your own profile")


def _own(access: Access, attempt: Attempt) -> None:
    if attempt.merged.get("user") != access.user:
        raise _forbid(f"{attempt.collection} are private to their owner")


def _admin(access: Access, attempt: Attempt) -> None:
    if not access.admin:
        fields = ", ".join(f"{attempt.collection}.{name}" for name in sorted(attempt.changed))
        raise _forbid(f"only admins may set {fields}")


def _channel_creator(access: Access, attempt: Attempt) -> None:
    """Anyone creates a channel; a 1:1 DM's id must name its creator."""
    if attempt.merged.get("kind") == "dm" and access.user not in dm_people(attempt.record_id):
        raise _forbid("a direct message's id must be dm_<you>_<them>, ids sorted")


def _channel_editor(access: Access, attempt: Attempt) -> None:
    if not (attempt.creating or access._is_member(attempt.record_id) or access.admin):
        raise _forbid("only members of a channel may change it")


def _channel_owner(access: Access, attempt: Attempt) -> None:
    """Archiving or deleting: the channel's creator or an admin (creating it, you are its creator)."""
    if not (attempt.creating or access.admin or attempt.current.get("created_by") == access.user):
        raise _forbid("only the channel's creator or an admin may archive or delete it")


def _membership(access: Access, attempt: Attempt) -> None:
    """Join a public channel yourself; the creator or a member of a private or group channel adds
    others; you may leave; only the creator or an admin removes someone else. A DM holds exactly
    its two people; admins may do all but join other people's DMs."""
    channel_id, target = attempt.channel_id, str(attempt.merged["user"])
    channel = access._channel_record(channel_id)
    if channel is None or channel.state.fields.get("deleted") is True:
        raise Rejected("not_found", f"there is no channel {channel_id}")
    if access.store.account(target) is None:
        raise Rejected("not_found", f"there is no user {target}")
    info = channel.state.fields
    kind, is_creator = info.get("kind"), info.get("created_by") == access.user
    is_member = access._is_member(channel_id)
    admin = access.admin and kind != "dm"
    leaving = attempt.changed.get("left") is True
    if kind == "dm" and target not in dm_people(channel_id):
        raise _forbid("a direct message holds exactly its two people")
    if target == access.user:
        if leaving or is_member or is_creator or kind == "public" or admin:
            return
        raise _forbid("this channel is private: a member must add you")
    if leaving and attempt.current.get("left") is not True:
        if is_creator or admin:
            return
        raise _forbid("only the channel's creator or an admin may remove someone")
    if is_creator or (is_member and kind in ("public", "private", "group")) or admin:
        return
    raise _forbid("only members of this channel may add people to it")


def _channel_poster(access: Access, attempt: Attempt) -> None:
    access._writable_channel(attempt.channel_id)


def _message_author(access: Access, attempt: Attempt) -> None:
    if not attempt.creating and attempt.current.get("author") != access.user:
        raise _forbid("only the author may edit a message")
    access._writable_channel(attempt.channel_id)


def _message_deleter(access: Access, attempt: Attempt) -> None:
    """The author deletes (even after leaving, or in an archived channel); so do admins who are members."""
    author = attempt.current.get("author")
    if author != access.user and not (access.admin and access._is_member(attempt.channel_id)):
        raise _forbid("only the author or an admin may delete a message")


def _reactor(access: Access, attempt: Attempt) -> None:
    if attempt.merged.get("user") != access.user:
        raise _forbid("you may add or remove only your own reactions")
    access._writable_channel(attempt.channel_id)
    message = access.store.get_record("messages", str(attempt.merged["message"]))
    if message is None or message.state.fields.get("channel") != attempt.merged["channel"]:
        raise Rejected("not_found", "there is no such message in this channel")
    if message.state.fields.get("deleted") is True:
        raise Rejected("deleted", "this message was deleted")


def _receipt(access: Access, attempt: Attempt) -> None:
    if attempt.merged.get("user") != access.user:
        raise _forbid("you may write only your own read receipt")
    if not access._is_member(attempt.channel_id):
        raise _forbid("you are not a member of this channel")
    if access._channel(attempt.channel_id).get("kind") not in ("dm", "group"):
        raise _forbid("read receipts exist only in direct messages and group DMs")


# --- files ---------------------------------------------------------------------------------


def may_post_files(store: Storage, user_id: str, channel_id: str) -> bool:
    """Who may start an upload for a channel: a member of it, while it exists and is writable."""
    channel = store.get_record("channels", channel_id)
    if channel is None or channel.state.fields.get("deleted") is True:
        return False
    return channel.state.fields.get("archived") is not True and store.is_member(channel_id, user_id)


def may_read_file(store: Storage, user_id: str, file: StoredRecord | None) -> bool:
    """Downloads and previews: the file exists, is not deleted (nor the message it belongs to),
    and the person may read its channel now, as for messages. Anyone else gets the same 404."""
    if file is None or file.state.fields.get("deleted") is True:
        return False
    message = file.state.fields.get("message")
    if isinstance(message, str):
        attached = store.get_record("messages", message)
        if attached is not None and attached.state.fields.get("deleted") is True:
            return False
    return may_read_channel(store, user_id, str(file.state.fields.get("channel")))


def _file_sharer(access: Access, attempt: Attempt) -> None:
    """Share a file in a channel you may post in (its bytes must be yours: the file_stored check)."""
    access._writable_channel(attempt.channel_id)


def _file_renamer(access: Access, attempt: Attempt) -> None:
    if not attempt.creating and attempt.current.get("uploader") != access.user:
        raise _forbid("only the person who shared a file may rename it")
    access._writable_channel(attempt.channel_id)


def _file_deleter(access: Access, attempt: Attempt) -> None:
    """The uploader deletes (even after leaving); so do admins who are members, as for messages."""
    if attempt.current.get("uploader") != access.user and not (access.admin and access._is_member(attempt.channel_id)):
        raise _forbid("only the person who shared a file or an admin may delete it")


# --- tasks ---------------------------------------------------------------------------------------
# Members of a channel create and edit its tasks; archived channels make them read-only; a task
# (or a list) is deleted by its creator or an admin. Records hanging off a task (assignees,
# labels, checklist items) follow the task: same channel, and not once it is deleted.


def _task_editor(access: Access, attempt: Attempt) -> None:
    access._writable_channel(attempt.channel_id)


def _task_deleter(access: Access, attempt: Attempt) -> None:
    access._writable_channel(attempt.channel_id)
    if not (access.admin or attempt.current.get("created_by") == access.user):
        raise _forbid(f"only its creator or an admin may delete this {attempt.collection.removesuffix('s')}")


def _task_part(access: Access, attempt: Attempt) -> None:
    access._writable_channel(attempt.channel_id)
    task = access.store.get_record("tasks", str(attempt.merged["task"]))
    if task is None or task.state.fields.get("channel") != attempt.merged["channel"]:
        raise Rejected("not_found", "there is no such task in this channel")
    if task.state.fields.get("deleted") is True:
        raise Rejected("deleted", "this task was deleted")


# --- calendar ---------------------------------------------------------------------------------
# A calendar is its scope (sync_protocol/collections_calendar.py): ``c:<channel>`` for the
# channel's members (writable channels only), ``u:<user>`` for its owner alone. Anything else is
# refused, so no record can be written into the workspace or another person's space.


def _calendar_editor(access: Access, attempt: Attempt) -> None:
    calendar = str(attempt.merged.get("calendar"))
    kind, _, rest = calendar.partition(":")
    if kind == "u" and rest == access.user:
        pass
    elif kind == "c" and rest:
        access._writable_channel(rest)
    else:
        raise _forbid("a calendar is c:<a channel of yours> or u:<you>")
    event = attempt.merged.get("event")
    if attempt.creating and isinstance(event, str):
        _event_in(access, event, calendar)


def _event_in(access: Access, event_id: str, calendar: str) -> None:
    event = access.store.get_record("events", event_id)
    if event is None or event.state.fields.get("calendar") != calendar:
        raise Rejected("not_found", "there is no such event in this calendar")


def _rsvp_invite(access: Access, attempt: Attempt) -> None:
    """Members of the channel invite members of the channel; in a personal calendar, only its owner."""
    _calendar_editor(access, attempt)
    calendar, person = str(attempt.merged["calendar"]), str(attempt.merged.get("user"))
    if calendar.startswith("u:"):
        if person != access.user:
            raise _forbid("a personal calendar's events are private: invite people from a channel's calendar")
    elif not access.store.is_member(calendar[2:], person):
        raise _forbid("only members of the channel can be invited to its events")


def _rsvp_answer(access: Access, attempt: Attempt) -> None:
    """Only the attendee answers; inviting writes "none"."""
    if attempt.creating and attempt.changed.get("status") == "none":
        return
    if attempt.merged.get("user") != access.user:
        raise _forbid("only the attendee answers an invitation")
    _calendar_editor(access, attempt)


# --- meetings ---


def may_join_meeting(store: Storage, user_id: str, channel_id: str) -> bool:
    """Who opens a channel's meeting socket: hears who is in the call, starts or joins it, and
    sends or receives its signaling. Members of the channel now, while it is writable (an
    archived or deleted channel holds no new meetings). Re-asked when memberships change."""
    if not store.is_member(channel_id, user_id):
        return False
    channel = store.get_record("channels", channel_id)
    if channel is None:
        return False
    fields = channel.state.fields
    return fields.get("deleted") is not True and fields.get("archived") is not True


RULES: dict[str, Rule] = {
    FIXED: _fixed,
    "self": _self,
    "own": _own,
    "admin": _admin,
    "channel_creator": _channel_creator,
    "channel_editor": _channel_editor,
    "channel_owner": _channel_owner,
    "membership": _membership,
    "channel_poster": _channel_poster,
    "message_author": _message_author,
    "message_deleter": _message_deleter,
    "reactor": _reactor,
    "receipt": _receipt,
    "file_sharer": _file_sharer,
    "file_renamer": _file_renamer,
    "file_deleter": _file_deleter,
    "task_editor": _task_editor,
    "task_deleter": _task_deleter,
    "task_part": _task_part,
    "calendar_editor": _calendar_editor,
    "rsvp_invite": _rsvp_invite,
    "rsvp_answer": _rsvp_answer,
}


#: Rules whose verdict on a NEW record depends only on who writes and the record's ``channel``
#: field (and on the channel and membership records, which ``Access.saw`` watches): a push's new
#: records of one shape in one channel are checked once (Access.check). A rule that reads any
#: other field, the record id or another record must not be listed here.
BY_CHANNEL = frozenset({FIXED, "channel_poster", "message_author"})


def export_rights() -> dict[str, object]:
    """What the browser needs to offer only what the server allows: the roles and the rule names
    (sync_protocol/vectors/rights.json; a test keeps the file equal to this)."""
    return {
        "roles": {"admin": sorted(ADMIN_ROLES), "audit": sorted(AUDIT_ROLES), "all": list(ROLES)},
        "rules": sorted(RULES),
    }
