"""Who may write what: every pushed change is checked here against its author's rights.

The author is the session's user, never a field of the payload. Rules, by collection:

- users     — you may rename yourself; nothing else.
- channels  — anyone creates one (a 1:1 DM's id must name you); members edit it; kind is fixed;
              only owners and admins set ``retention_days``.
- members   — you may join a public channel, or add yourself to a channel you created; the
              creator and the members of a private or group channel add others; you may leave;
              only the creator or an admin removes someone else. A DM holds exactly its two people.
- messages  — members post in channels that are not archived; only the author edits the text;
              the author or an admin deletes.
- reads     — only your own read cursors.
"""

from __future__ import annotations

from collections.abc import Mapping

from backend.storage.base import Storage, StoredRecord
from sync_protocol.wire import Value

ADMIN_ROLES = frozenset({"owner", "admin"})


class Rejected(Exception):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _forbid(reason: str) -> Rejected:
    return Rejected("forbidden", reason)


def dm_people(channel_id: str) -> tuple[str, ...]:
    """The two user ids a 1:1 DM id is made of (``dm_<a>_<b>``)."""
    parts = channel_id.split("_")
    return tuple(parts[1:]) if len(parts) == 3 and parts[0] == "dm" else ()


class Access:
    def __init__(self, store: Storage, user_id: str, role: str) -> None:
        self.store = store
        self.user = user_id
        self.admin = role in ADMIN_ROLES
        # One push checks the same channel for every message in it: look each up once.
        # SyncService calls forget() when the push itself changes a channel or a membership.
        self._channel_memo: dict[str, StoredRecord | None] = {}
        self._member_of: dict[str, bool] = {}

    def forget(self, channel_id: str) -> None:
        self._channel_memo.pop(channel_id, None)
        self._member_of.pop(channel_id, None)

    def _is_member(self, channel_id: str) -> bool:
        if channel_id not in self._member_of:
            self._member_of[channel_id] = self.store.is_member(channel_id, self.user)
        return self._member_of[channel_id]

    def _channel_record(self, channel_id: str) -> StoredRecord | None:
        if channel_id not in self._channel_memo:
            self._channel_memo[channel_id] = self.store.get_record("channels", channel_id)
        return self._channel_memo[channel_id]

    def check(
        self, collection: str, record_id: str, existing: StoredRecord | None, fields: Mapping[str, Value]
    ) -> None:
        """Raise Rejected unless this user may apply ``fields`` to the record."""
        current = existing.state.fields if existing else {}
        merged = {**current, **fields}
        if collection == "users":
            self._users(record_id, existing)
        elif collection == "channels":
            self._channels(record_id, existing, merged, fields)
        elif collection == "members":
            self._members(merged, current, fields)
        elif collection == "messages":
            self._messages(existing, merged, fields)
        elif collection == "reactions":
            self._reactions(merged)
        elif collection == "receipts":
            self._receipts(merged)
        elif collection in ("reads", "follows", "prefs"):
            if merged.get("user") != self.user:
                raise _forbid(f"{collection} are private to their owner")

    def _channel(self, channel_id: str) -> Mapping[str, Value]:
        channel = self._channel_record(channel_id)
        if channel is None:
            raise Rejected("not_found", f"there is no channel {channel_id}")
        return channel.state.fields

    def _writable_channel(self, channel_id: str) -> Mapping[str, Value]:
        """A channel this user belongs to and that is not archived (archived ones are read-only)."""
        if not self._is_member(channel_id):
            raise _forbid("you are not a member of this channel")
        channel = self._channel(channel_id)
        if channel.get("archived") is True:
            raise Rejected("archived", "this channel is archived and read-only")
        return channel

    def _reactions(self, merged: Mapping[str, Value]) -> None:
        if merged.get("user") != self.user:
            raise _forbid("you may add or remove only your own reactions")
        self._writable_channel(str(merged["channel"]))
        message = self.store.get_record("messages", str(merged["message"]))
        if message is None or message.state.fields.get("channel") != merged["channel"]:
            raise Rejected("not_found", "there is no such message in this channel")
        if message.state.fields.get("deleted") is True:
            raise Rejected("deleted", "this message was deleted")

    def _receipts(self, merged: Mapping[str, Value]) -> None:
        if merged.get("user") != self.user:
            raise _forbid("you may write only your own read receipt")
        if not self._is_member(str(merged["channel"])):
            raise _forbid("you are not a member of this channel")
        if self._channel(str(merged["channel"])).get("kind") not in ("dm", "group"):
            raise _forbid("read receipts exist only in direct messages and group DMs")

    def _users(self, record_id: str, existing: StoredRecord | None) -> None:
        if existing is None or record_id != self.user:
            raise _forbid("you may change only your own profile")

    def _channels(
        self, record_id: str, existing: StoredRecord | None, merged: Mapping[str, Value], changed: Mapping[str, Value]
    ) -> None:
        if existing is None:
            if merged.get("kind") == "dm" and self.user not in dm_people(record_id):
                raise _forbid("a direct message's id must be dm_<you>_<them>, ids sorted")
            if "retention_days" in changed and not self.admin:
                raise _forbid("only admins set how long messages are kept")
            return
        if not (self._is_member(record_id) or self.admin):
            raise _forbid("only members of a channel may change it")
        current = existing.state.fields
        if "archived" in changed and not (self.admin or current.get("created_by") == self.user):
            raise _forbid("only the channel's creator or an admin may archive it")
        if "retention_days" in changed and not self.admin:
            raise _forbid("only admins set how long messages are kept")

    def _members(self, merged: Mapping[str, Value], current: Mapping[str, Value], fields: Mapping[str, Value]) -> None:
        channel_id, target = str(merged["channel"]), str(merged["user"])
        channel = self._channel_record(channel_id)
        if channel is None or channel.state.fields.get("deleted") is True:
            raise Rejected("not_found", f"there is no channel {channel_id}")
        if self.store.account(target) is None:
            raise Rejected("not_found", f"there is no user {target}")
        info = channel.state.fields
        kind, creator = info.get("kind"), info.get("created_by")
        is_creator = creator == self.user
        is_member = self._is_member(channel_id)
        leaving = fields.get("left") is True
        if kind == "dm" and target not in dm_people(channel_id):
            raise _forbid("a direct message holds exactly its two people")
        if target == self.user:
            if leaving or is_member or is_creator or kind == "public" or (self.admin and kind != "dm"):
                return
            raise _forbid("this channel is private: a member must add you")
        if leaving and current.get("left") is not True:
            if is_creator or (self.admin and kind != "dm"):
                return
            raise _forbid("only the channel's creator or an admin may remove someone")
        if is_creator or (is_member and kind in ("public", "private", "group")) or (self.admin and kind != "dm"):
            return
        raise _forbid("only members of this channel may add people to it")

    def _messages(
        self, existing: StoredRecord | None, merged: Mapping[str, Value], fields: Mapping[str, Value]
    ) -> None:
        if existing is not None and existing.state.fields.get("deleted") is True:
            raise Rejected("deleted", "this message was deleted")
        channel_id = str(merged["channel"])
        if existing is None:
            self._writable_channel(channel_id)
            return
        author = existing.state.fields.get("author")
        is_member = self._is_member(channel_id)
        if fields.get("deleted") is True:
            if author != self.user and not (self.admin and is_member):
                raise _forbid("only the author or an admin may delete a message")
            return
        if ("text" in fields or "mentions" in fields) and author != self.user:
            raise _forbid("only the author may edit a message")
        self._writable_channel(channel_id)
