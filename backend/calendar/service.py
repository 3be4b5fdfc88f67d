"""The calendar's server side for the HTTP shell: private ICS feeds, one event as .ics, imports.

Rule 1. A feed URL holds a secret token; only its hash is stored. Whoever has the URL reads the
        feed (calendar apps send no cookies), so it can be revoked; a revoked or unknown token is
        404, the same answer, so the answer does not tell which tokens ever existed.
Rule 2. A feed holds what its owner may read now: their personal calendar and the calendars of
        the channels they belong to, less those their ``calendar_prefs`` leave out of the feed;
        and, if the feed asks for them, the due dates of the tasks assigned to them.
Rule 3. The ETag is a hash of the feed, its options and the greatest log position of every scope
        the person reads (their private scope holds their preferences): any change that could
        alter the feed changes it. It costs two small queries and is checked before building.
Rule 4. Importing checks every change against the importer's rights, as a push would, before
        writing any; then writes them as the importer, in one transaction.
Rule 5. An event goes out with its people (ics_out, Rule 5): its maker as ORGANIZER and each
        invited person with their RSVP. Names and emails are workspace records, so the ETag
        counts the workspace scope too: a renamed person changes the feed.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Protocol

import msgspec

from backend import tokens
from backend.access import Access, Rejected, may_read_scope
from backend.accounts import CurrentSession
from backend.calendar import ics_in, ics_out, recurrence
from backend.errors import ApiError
from backend.storage.base import Storage
from backend.storage.sqlite_calendar import CalendarFeed, ScheduledReminder
from backend.sync_service import SyncService
from sync_protocol.collections_calendar import occurrence_id
from sync_protocol.registry import WORKSPACE
from sync_protocol.wire import Value

REJECTION_STATUS = {"forbidden": 403, "archived": 403, "not_found": 404, "immutable": 409, "deleted": 409}


class CalendarStore(Storage, Protocol):
    """The store with its calendar tables (backend/storage/sqlite_calendar.py)."""

    def add_calendar_feed(self, feed: CalendarFeed, token_hash: str) -> None: ...
    def calendar_feed_by_token(self, token_hash: str) -> CalendarFeed | None: ...
    def calendar_feeds_of(self, user_id: str) -> list[CalendarFeed]: ...
    def revoke_calendar_feed(self, feed_id: str, now_ms: int) -> None: ...
    def calendar_records(self, collection: str, scopes: list[str]) -> list[tuple[str, str, dict[str, Value]]]: ...
    def records_about_event(self, collection: str, event_id: str) -> list[tuple[str, dict[str, Value]]]: ...
    def record_ids(self, collection: str) -> list[str]: ...
    def schedule_reminder(self, row: ScheduledReminder) -> None: ...
    def scheduled_reminder(self, reminder_id: str) -> ScheduledReminder | None: ...
    def reminders_of_event(self, event_id: str) -> list[str]: ...
    def due_reminders(self, now_ms: int, limit: int) -> list[ScheduledReminder]: ...
    def next_reminder_due(self) -> int | None: ...
    def mark_reminder_fired(self, reminder_id: str, occurrence: str, now_ms: int) -> bool: ...
    def reminders_fired(self, reminder_id: str) -> list[tuple[str, int]]: ...


class Closable(Protocol):
    def close(self) -> None: ...


class FeedIn(msgspec.Struct, forbid_unknown_fields=True):
    #: Put the due dates of my tasks in the feed as all-day items.
    tasks: bool = False


class FeedOut(msgspec.Struct):
    id: str
    created: int
    tasks: bool
    revoked: int | None = None
    #: Only in the answer that creates the feed: the token is never shown again.
    https: str | None = None
    webcal: str | None = None


class ImportOut(msgspec.Struct):
    created: int
    updated: int
    unchanged: int
    exceptions: int
    skipped: list[str]


class CalendarService:
    def __init__(self, store: CalendarStore, sync: SyncService) -> None:
        self.store = store
        self.sync = sync
        #: The reminder schedule (reminders.py), when this process sends reminders.
        self.schedule: Closable | None = None

    def close(self) -> None:
        if self.schedule is not None:
            self.schedule.close()

    # --- feeds (Rules 1-3) -------------------------------------------------------------------

    def create_feed(self, current: CurrentSession, data: FeedIn, base_url: str, now_ms: int) -> FeedOut:
        secret = tokens.token()
        feed = CalendarFeed(tokens.token()[:16], current.user_id, now_ms, data.tasks, None)
        with self.store.transaction():
            self.store.add_calendar_feed(feed, tokens.token_hash(secret))
        https = f"{base_url.rstrip('/')}/api/calendar/feed/{secret}.ics"
        webcal = "webcal://" + https.split("://", 1)[1]
        return FeedOut(feed.id, feed.created, feed.tasks, None, https, webcal)

    def feeds(self, current: CurrentSession) -> list[FeedOut]:
        return [FeedOut(f.id, f.created, f.tasks, f.revoked) for f in self.store.calendar_feeds_of(current.user_id)]

    def revoke_feed(self, current: CurrentSession, feed_id: str, now_ms: int) -> None:
        if not any(f.id == feed_id for f in self.store.calendar_feeds_of(current.user_id)):
            raise ApiError(404, "not_found", f"you have no calendar feed {feed_id}")
        with self.store.transaction():
            self.store.revoke_calendar_feed(feed_id, now_ms)

    def feed_for(self, token: str) -> CalendarFeed:
        feed = self.store.calendar_feed_by_token(tokens.token_hash(token))
        if feed is None or feed.revoked is not None:
            raise ApiError(404, "not_found", "there is no such calendar feed")
        return feed

    def _scopes(self, user_id: str) -> tuple[list[str], list[str]]:
        """(scopes in the feed, every scope the person reads)."""
        mine = f"u:{user_id}"
        channels = [f"c:{c}" for c in sorted(self.store.channels_of(user_id))]
        left_out = {
            str(fields.get("calendar"))
            for _, _, fields in self.store.calendar_records("calendar_prefs", [mine])
            if fields.get("in_feed") is False
        }
        return [mine, *(s for s in channels if s not in left_out)], [mine, *channels]

    def etag(self, feed: CalendarFeed) -> str:
        """Rules 3 and 5."""
        _, every = self._scopes(feed.user_id)
        every.append(WORKSPACE)
        head = max(self.store.scope_heads(every).values(), default=0)
        key = f"{feed.id}|{feed.tasks}|{head}|{','.join(every)}"
        return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'

    def feed_body(self, feed: CalendarFeed, now_ms: int) -> bytes:
        scopes, _ = self._scopes(feed.user_id)
        dtstamp = ics_out.stamp(now_ms)
        names = self._calendar_names(feed.user_id, scopes)
        exceptions: dict[str, list[dict[str, Value]]] = defaultdict(list)
        for _, _, fields in self.store.calendar_records("occurrences", scopes):
            exceptions[str(fields.get("event"))].append(fields)
        answers: dict[str, list[dict[str, Value]]] = defaultdict(list)
        for _, _, fields in self.store.calendar_records("rsvps", scopes):
            answers[str(fields.get("event"))].append(fields)
        directory = _Directory(self.store)
        body: list[str] = []
        zones: set[str] = set()
        for event_id, scope, fields in self.store.calendar_records("events", scopes):
            if isinstance(fields.get("tz"), str):
                zones.add(str(fields["tz"]))
            people = directory.lines(fields, answers.get(event_id, ()))
            body += ics_out.vevent(
                event_id, fields, exceptions.get(event_id, ()), dtstamp, names.get(scope, ""), people
            )
        if feed.tasks:
            body += self._tasks(feed.user_id, [s for s in scopes if s.startswith("c:")], dtstamp)
        return ics_out.calendar("TeamTalk", zones, body)

    def _calendar_names(self, user_id: str, scopes: list[str]) -> dict[str, str]:
        names = {f"u:{user_id}": "Personal"}
        for scope in scopes[1:]:
            channel = self.store.get_record("channels", scope[2:])
            if channel is not None:
                names[scope] = str(channel.state.fields.get("name") or "")
        for _, scope, fields in self.store.calendar_records("calendars", scopes):
            if isinstance(fields.get("name"), str) and fields["name"]:
                names[scope] = str(fields["name"])
        return names

    def _tasks(self, user_id: str, scopes: list[str], dtstamp: str) -> list[str]:
        """Rule 2: tasks assigned to the person, when the tasks collections exist."""
        registry = self.sync.registry
        if "tasks" not in registry or "task_assignees" not in registry:
            return []
        assigned = {
            str(fields.get("task"))
            for _, _, fields in self.store.calendar_records("task_assignees", scopes)
            if fields.get("user") == user_id and fields.get("on") is not False
        }
        out: list[str] = []
        for task_id, _, fields in self.store.calendar_records("tasks", scopes):
            due = fields.get("due")
            if task_id in assigned and isinstance(due, str) and len(due) >= 10 and fields.get("status") != "done":
                out += ics_out.task_vevent(task_id, fields, dtstamp)
        return out

    # --- one event ---------------------------------------------------------------------------

    def event_ics(self, current: CurrentSession, event_id: str, now_ms: int) -> bytes:
        record = self.store.get_record("events", event_id)
        if (
            record is None
            or record.state.fields.get("deleted") is True
            or not may_read_scope(self.store, current.user_id, record.scope)
        ):
            raise ApiError(404, "not_found", f"there is no event {event_id} you can see")
        fields = record.state.fields
        exceptions = [f for _, f in self.store.records_about_event("occurrences", event_id)]
        answers = [f for _, f in self.store.records_about_event("rsvps", event_id)]
        zones = [str(fields["tz"])] if isinstance(fields.get("tz"), str) else []
        people = _Directory(self.store).lines(fields, answers)
        lines = ics_out.vevent(event_id, fields, exceptions, ics_out.stamp(now_ms), attendees=people)
        return ics_out.calendar(str(fields.get("title") or ""), zones, lines)

    # --- import (Rule 4) ---------------------------------------------------------------------

    def import_ics(
        self, current: CurrentSession, calendar: str, data: bytes, default_tz: str | None, now_ms: int
    ) -> ImportOut:
        try:
            parsed = ics_in.parse(data, default_tz)
        except ics_in.BadCalendar as exc:
            raise ApiError(400, "bad_calendar", str(exc)) from None
        self._may_write(current, calendar)
        writes: list[tuple[str, str, dict[str, Value]]] = []
        out = ImportOut(0, 0, 0, 0, [])
        for item in parsed:
            try:
                recurrence.check(item.fields)
            except recurrence.BadTime as exc:
                out.skipped.append(f"{item.uid}: {exc}")
                continue
            event_id = ics_in.event_id(calendar, item.uid)
            wanted = {"calendar": calendar, **item.fields}
            changed = self._changed("events", event_id, wanted)
            if changed is None:
                out.unchanged += 1
            else:
                writes.append(("events", event_id, changed))
                if self.store.get_record("events", event_id) is None:
                    out.created += 1
                else:
                    out.updated += 1
            for rid, over in item.exceptions.items():
                wanted = {"event": event_id, "calendar": calendar, **over}
                occurrence = occurrence_id(event_id, rid)
                changed = self._changed("occurrences", occurrence, wanted)
                if changed is not None:
                    writes.append(("occurrences", occurrence, changed))
                    out.exceptions += 1
        if writes:
            self.sync.write_as_server(current.user_id, writes, now_ms)
        return out

    def _changed(self, collection: str, record_id: str, wanted: Mapping[str, Value]) -> dict[str, Value] | None:
        """The fields that differ from the stored record (all of them for a new one); None when
        nothing changes or the record was deleted (deletes are final)."""
        spec = self.sync.registry[collection]
        existing = self.store.get_record(collection, record_id)
        if existing is None:
            return dict(wanted)
        current = existing.state.fields
        if current.get("deleted") is True:
            return None
        changed = {k: v for k, v in wanted.items() if current.get(k) != v and not spec.fields[k].immutable}
        return changed or None

    def _may_write(self, current: CurrentSession, calendar: str) -> None:
        """Every field an import writes is guarded by ``calendar_editor`` (or fixed): judge it once,
        as the creation of an event in that calendar."""
        access = Access(self.store, current.user_id, current.role)
        probe: dict[str, Value] = {"calendar": calendar, "title": "-", "start": "2000-01-01"}
        try:
            access.check(self.sync.registry["events"], "import-probe", None, probe)
        except Rejected as exc:
            raise ApiError(REJECTION_STATUS.get(exc.code, 400), exc.code, exc.reason) from None


class _Directory:
    """Rule 5: who people are (their workspace ``users`` record), looked up once per feed."""

    def __init__(self, store: Storage) -> None:
        self.store = store
        self.known: dict[str, ics_out.Person | None] = {}

    def person(self, user_id: Value) -> ics_out.Person | None:
        if not isinstance(user_id, str):
            return None
        if user_id not in self.known:
            record = self.store.get_record("users", user_id)
            fields = record.state.fields if record is not None else {}
            email, name = fields.get("email"), fields.get("name")
            self.known[user_id] = (
                ics_out.Person(str(name or email), email) if isinstance(email, str) and email else None
            )
        return self.known[user_id]

    def lines(self, event: Mapping[str, Value], answers: Iterable[Mapping[str, Value]]) -> list[str]:
        invited = [
            (person, str(answer.get("status") or "none"))
            for answer in answers
            if answer.get("invited") is not False and (person := self.person(answer.get("user"))) is not None
        ]
        invited.sort(key=lambda pair: (pair[0].name, pair[0].email))
        return ics_out.people(self.person(event.get("created_by")), invited)
