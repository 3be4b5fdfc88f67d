"""The reminder schedule: a durable follower of the feed, and the clock that fires reminders.

Rule 1. It follows the feed of committed changes (backend/feed.py, Rules 4 and 6), never the
        push path. A change to a reminder, an event or an exception reschedules the reminders it
        touches: one row each in ``reminder_schedule`` (sqlite_calendar.py) naming the next
        occurrence to fire for. The follower's position is stored in the same transaction as
        those rows, so after a crash each change is applied to the schedule once.
Rule 2. The first run starts at the log's head and schedules every reminder that exists (so a
        server upgraded to this version still reminds about events made before).
Rule 3. Firing: the push rows of the rows due now (not fired before) are committed to the push
        queue (push.db, storage/push_queue.py) first; then one transaction records the firing
        (``reminders_fired``) and moves each row to its next occurrence. A kill -9 before that
        COMMIT fires them again after the restart (a push row queued twice is one row, or one
        notification: same subscription and topic, Rule 1 of push/reminders.py), after it
        never: each fires at least once, and a device shows it once.
        A reminder due while the server was down fires when it comes back, if it is not older
        than LATE_LIMIT_MS (an hour: a reminder of a meeting long over is noise).
Rule 4. A person is reminded only of events they may still read (a channel they left: no).
Rule 5. Only a commit holding a change of ACTS_ON wakes it (feed.py, Rule 7): the units of other
        things reach it at its next take's timeout (IDLE_WAIT_S at most), to move its position.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from backend.access import may_read_scope
from backend.calendar import recurrence
from backend.calendar.service import CalendarStore
from backend.feed import Committed, Feed, Follower
from backend.following import FollowerThread, stored_position
from backend.push.reminders import reminder_notice
from backend.settings import Settings
from backend.storage.base import PushJob
from backend.storage.push_queue import PushQueue
from backend.storage.sqlite_calendar import ScheduledReminder
from sync_protocol.collections import notices_id

log = logging.getLogger("teamtalk.calendar")

POSITION = "reminders_seq"
#: The collections whose changes reschedule reminders (``derive``; Rule 5).
ACTS_ON = frozenset({"reminders", "events", "occurrences"})
LATE_LIMIT_MS = 3_600_000
IDLE_WAIT_S = 1.0
BATCH = 500
#: How far ahead the next occurrence is looked for, widening: a month, a year, ten years.
HORIZONS = (timedelta(days=35), timedelta(days=400), timedelta(days=3660))
#: Units about other things store the position at most this often (a change may be read twice
#: after a crash; rescheduling is idempotent).
PERSIST_EVERY_S = 1.0


def now_ms() -> int:
    return int(time.time() * 1000)


def next_occurrence(
    event_id: str, event: dict[str, object], exceptions: list[dict[str, object]], minutes: int, not_before: int
) -> recurrence.Occurrence | None:
    """The first occurrence whose reminder (start - minutes) is at or after ``not_before``."""
    lead = timedelta(minutes=minutes)
    after = datetime.fromtimestamp(not_before / 1000, UTC) + lead
    for horizon in HORIZONS:
        found = recurrence.expand(event_id, event, exceptions, after, after + horizon)  # type: ignore[arg-type]
        if found:
            return found[0]
        if not event.get("rrule"):
            return None
    return None


class ReminderSchedule:
    def __init__(
        self, store: CalendarStore, queue: PushQueue, feed: Feed, settings: Settings, queued: Callable[[], None]
    ) -> None:
        self.store = store
        self.queue = queue
        self.feed = feed
        self.settings = settings
        self._queued = queued  # wakes the push sender
        self._persisted = 0.0
        self._due: int | None = None  # the schedule's next due time, as this thread last read it
        self._thread = FollowerThread(
            feed, "calendar-reminders", self._resume, self._step, log, IDLE_WAIT_S, wakes_for=ACTS_ON
        )

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._thread.close()

    def _resume(self) -> int:
        stored = stored_position(self.store, POSITION, self._schedule_all)  # Rule 2
        self._due = self.store.next_reminder_due()
        return stored

    def _schedule_all(self) -> None:
        for reminder_id in self.store.record_ids("reminders"):
            self.reschedule(reminder_id, now_ms())

    def _step(self, follower: Follower) -> None:
        # Only this thread writes the schedule: the next due time is read again only after it
        # changed it, and the due rows only when that time has come. At a hundred pushes a
        # second, two queries per push on the server's connection were a tenth of its CPU.
        due = self._due
        wait = IDLE_WAIT_S if due is None else max(0.0, min(IDLE_WAIT_S, (due - now_ms()) / 1000))
        units = follower.take(wait, BATCH)
        if units and self.derive(units, follower.position):
            self._due = self.store.next_reminder_due()
        if self._due is not None and self._due <= now_ms():
            if self.fire(now_ms()):
                self._queued()
            self._due = self.store.next_reminder_due()

    def derive(self, units: list[Committed], upto: int) -> bool:
        """Rule 1: reschedule what the units touched and store ``upto``, in one transaction.
        True when the schedule may have changed."""
        touched: set[str] = set()
        events: set[str] = set()
        for unit in units:
            for change in unit.changes:
                if change.collection == "reminders":
                    touched.add(change.id)
                elif change.collection == "events":
                    events.add(change.id)
                elif change.collection == "occurrences":
                    record = self.store.get_record("occurrences", change.id)
                    if record is not None:
                        events.add(str(record.state.fields.get("event")))
        due = time.monotonic() - self._persisted >= PERSIST_EVERY_S
        if not touched and not events and not due:
            return False  # as the push producer (Rule 4 there): no transaction for units of other things
        now = now_ms()
        with self.store.transaction():
            for event_id in events:
                touched.update(self.store.reminders_of_event(event_id))
            for reminder_id in touched:
                self.reschedule(reminder_id, now)
            self.store.set_setting(POSITION, str(upto))
        self._persisted = time.monotonic()
        return bool(touched)

    def reschedule(self, reminder_id: str, now: int, fired: int | None = None) -> None:
        row = self.store.scheduled_reminder(reminder_id)
        fired = fired if fired is not None else row.fired if row else 0
        record = self.store.get_record("reminders", reminder_id)
        fields = record.state.fields if record else {}
        user, event_id = str(fields.get("user", "")), str(fields.get("event", ""))
        nothing = ScheduledReminder(reminder_id, user, event_id, None, None, None, fired)
        event = self.store.get_record("events", event_id) if record else None
        minutes = fields.get("minutes")
        if event is None or fields.get("deleted") is True or event.state.fields.get("deleted") is True:
            self.store.schedule_reminder(nothing)
            return
        if not isinstance(minutes, int):
            self.store.schedule_reminder(nothing)
            return
        exceptions = [dict(f) for _, f in self.store.records_about_event("occurrences", event_id)]
        not_before = max(fired + 1, now - LATE_LIMIT_MS)
        try:
            found = next_occurrence(event_id, dict(event.state.fields), exceptions, minutes, not_before)  # type: ignore[arg-type]
        except recurrence.BadTime:
            found = None
        if found is None:
            self.store.schedule_reminder(nothing)
            return
        starts = int(found.starts_at().timestamp() * 1000)
        occurrence = found.recurrence_id or ""
        self.store.schedule_reminder(
            ScheduledReminder(reminder_id, user, event_id, occurrence, starts, starts - minutes * 60_000, fired)
        )

    def fire(self, now: int) -> int:
        """Rule 3: fire what is due; returns how many push rows were queued."""
        rows = self.store.due_reminders(now, BATCH)
        if not rows:
            return 0
        firing = [
            row
            for row in rows
            if row.due is not None
            and row.due >= now - LATE_LIMIT_MS
            and row.occurrence not in {occurrence for occurrence, _ in self.store.reminders_fired(row.reminder)}
        ]
        jobs = [job for row in firing for job in self._jobs(row, now)]
        # In push.db, committed before the firing is recorded (Rule 3), and outside teamtalk.db's
        # transaction: the server's writes must not wait while this waits for the push sender.
        self.queue.queue_pushes(jobs)
        with self.store.transaction():
            for row in rows:
                assert row.due is not None and row.occurrence is not None and row.starts is not None
                if row.due >= now - LATE_LIMIT_MS:
                    self.store.mark_reminder_fired(row.reminder, row.occurrence, now)
                self.reschedule(row.reminder, now, fired=row.due)
        return len(jobs)

    def _jobs(self, row: ScheduledReminder, now: int) -> list[PushJob]:
        event = self.store.get_record("events", row.event)
        if event is None or not may_read_scope(self.store, row.user_id, event.scope):  # Rule 4
            return []
        exceptions = {
            str(f.get("recurrence_id")): f for _, f in self.store.records_about_event("occurrences", row.event)
        }
        fields = {**event.state.fields, **exceptions.get(row.occurrence or "", {})}
        notices = self.store.get_record("notices", notices_id(row.user_id))
        tz = str((notices.state.fields.get("tz") if notices else None) or fields.get("tz") or "UTC")
        try:
            recurrence.zone(tz)
        except recurrence.BadTime:
            tz = "UTC"
        jobs = []
        for sub in self.store.push_subscriptions_of([row.user_id]):
            notice = reminder_notice(
                user=row.user_id,
                lang=sub.lang,
                reminder_id=row.reminder,
                event_id=row.event,
                occurrence=row.occurrence or "",
                title=str(fields.get("title") or ""),
                starts_ms=row.starts or 0,
                all_day=recurrence.is_all_day(str(fields.get("start", ""))),
                tz=tz,
            )
            jobs.append(
                PushJob(
                    sub.id, notice.topic, json.dumps(notice.payload), notice.urgency, self.settings.push_ttl_s, now, now
                )
            )
        return jobs
