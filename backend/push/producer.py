"""The push producer: follows the feed of committed changes into the durable push queue.

Rule 1. It is a follower of the feed (backend/feed.py, Rules 4 and 6), never a step of the
        push path: a sync reply never waits for it. It stores its position in the same
        transaction as the queue rows it derived from the changes up to it, both in the queue's
        own file (push.db, storage/push_queue.py), never in teamtalk.db: its transaction never
        holds the server's write lock (Rule 8).
        After a crash it resumes from that position: each change is turned into queue rows once,
        and a row once queued is sent at least once (sender.py).
Rule 2. It starts from the log's head the first time it runs: history never notifies.
Rule 4. Units that hold no new message cost nothing but the follower's take; the position is
        stored with every queued row, and otherwise at most once per PERSIST_EVERY_S (a commit
        and an fsync per send would halve the server's throughput). After a crash it may derive
        that last second again: only a device subscribed meanwhile could get a late notice.
        Units that notify (``notifies``) within BUSY_S of the last ones that did wait COALESCE_S
        for more; others never count as a derivation, so a message after a quiet spell of read
        cursors still goes at once (issue 10: the server tells of their heads every
        supervisor.HEAD_EVERY_S, and one just before a message held it back 20 ms).
Rule 5. Tasks add one event, ``task_assigned`` (task_assigned.py): an assignment by someone
        else notifies the person assigned.
Rule 6. A message's rows go to the sender from memory as soon as their due times are known,
        before they are written and the transaction commits (and fsyncs): sender.py, Rule 6.
        Only rows due now for a (subscription, topic) with nothing queued are offered; the
        sender is woken to read the queue after the commit only when some row was not. The
        producer writes the rows only once the sender has started the ones offered (``offer``
        returns then, or after OFFER_WAIT_S): its thread would otherwise keep the GIL, and so
        the first pushes, behind the write for up to the switch interval (5 ms). The offer is
        made inside the write transaction: the sender stores a push's outcome in a transaction of
        its own, which waits for this one, so a mark never precedes its row. A
        crash before the commit loses the rows and the position together, so the change is
        derived and sent again after the restart: a push may go twice, never zero times
        (sender.py, Rule 1).
Rule 7. The audience's subscriptions come from memory (subscribers.py), read again only when
        the subscriptions table changed: reading a channel's 1,000 back for each message was the
        largest step before its first push.
Rule 8. The write transaction is push.db's, never teamtalk.db's: the server's writes (a
        person's send, its group commit on the event loop) wait for teamtalk.db's write lock in
        SQLite's busy handler, and with 1,000 subscribers this transaction held it ~42 ms per
        message when the queue lived there (issue 10). It holds only what needs the queue's
        lock or the sender's marks: the gap and queued checks (Rule 3, Rule 6), the offer (Rule
        6), the queue rows and the position (Rule 1). Who is notified and with what (the
        audience, levels, mute, do-not-disturb, follows, read positions, payloads, a task
        assignment's records) is decided before it, from committed records of teamtalk.db read
        in bulk (``snapshots``), so the sender's marks do not wait for the rules either. A
        setting written between that read and the transaction is heard by the next message, as
        one written just after the change always was.
Rule 3. Only new messages and meetings that start notify (rules.py decides for whom); a message's notice is queued for
        each subscribed device of each person it notifies. A person's notices for a conversation
        coalesce in the queue (sqlite_push.py, Rule 2); a notice queued within ``push_gap_ms`` of
        the last one sent about that conversation to that device waits for the gap to pass.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

from backend.feed import Committed, Feed, Follower
from backend.following import FollowerThread
from backend.push import rules, task_assigned
from backend.push.subscribers import Subscribers
from backend.settings import Settings
from backend.storage.base import PushJob, PushSubscription, Storage
from backend.storage.push_queue import PushQueue
from sync_protocol.collections import follow_id, notices_id, pref_id, read_id
from sync_protocol.wire import Change, Value

log = logging.getLogger("teamtalk.push")

#: The collections whose changes may notify someone (or be searched): the server starts the
#: followers process when one of them changes (followers/supervisor.py).
FOLLOWED = frozenset({"messages", "task_assignees", "meetings"})
PERSIST_EVERY_S = 1.0
COALESCE_S = 0.02
#: Units arriving within this long of the last derivation are coalesced (Rule 4); otherwise not.
BUSY_S = 0.1
BATCH = 500
IDLE_WAIT_S = 0.5


def notifies(change: Change) -> bool:
    """May this change notify someone: a new message, a meeting that starts, a task assignment
    (Rules 3 and 5)?"""
    return (
        (change.collection == "messages" and "at" in change.fields and "text" in change.fields)
        or (change.collection == "meetings" and "started_at" in change.fields)
        or task_assigned.is_assignment(change)
    )


def now_ms() -> int:
    return int(time.time() * 1000)


def start_position(store: Storage, queue: PushQueue) -> int:
    """The stored position, stored first as the log's head (Rule 2). The server calls it when it
    starts, so a producer started later (in the followers process) still hears the messages
    committed meanwhile."""
    with queue.transaction():
        stored = queue.position()
        if stored is None:
            stored = store.log_head()
            queue.set_position(stored)
    return stored


class Audience(NamedTuple):
    channel: Mapping[str, Value]
    #: person -> their push subscriptions (the author is left out per message)
    subscriptions: dict[str, list[PushSubscription]]


class Notices(NamedTuple):
    """A change's queue rows; ``targets`` is each row's subscription when they may be offered
    (Rule 6), None when they go to the queue only."""

    jobs: list[PushJob]
    targets: list[PushSubscription] | None


Offer = Callable[[list[tuple[PushJob, PushSubscription]]], None]


class PushProducer:
    def __init__(
        self,
        store: Storage,
        queue: PushQueue,
        feed: Feed,
        settings: Settings,
        queued: Callable[[], None],
        offer: Offer | None = None,
    ) -> None:
        self.store = store
        self.queue = queue
        self.feed = feed
        self.settings = settings
        self._queued = queued  # wakes the sender to read the queue
        self._offer = offer  # hands the sender rows from memory (Rule 6)
        self._unoffered = False
        self.position = 0
        self._persisted = 0.0
        self._derived = float("-inf")  # the last take that held a change that notifies
        self._subscribers = Subscribers(store)
        self._thread = FollowerThread(feed, "push-producer", self._resume, self._step, log, IDLE_WAIT_S)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._thread.close()

    def _resume(self) -> int:
        self.position = start_position(self.store, self.queue)
        return self.position

    def _step(self, follower: Follower) -> None:
        units = follower.take(IDLE_WAIT_S, BATCH)
        if not units:
            return
        # Rule 4: at a thousand sends a second, one transaction per unit would cost the sync
        # path more than the notices; wait a moment and derive what came meanwhile with them.
        # A message after a quiet spell goes at once: its notices are what the person waits for.
        busy = time.monotonic() - self._derived < BUSY_S
        if any(notifies(change) for unit in units for change in unit.changes):
            self._derived = time.monotonic()
        if busy and len(units) < BATCH and not self._thread.stopping.wait(COALESCE_S):
            units += follower.take(0, BATCH - len(units))
        self._unoffered = False
        queued = self.derive(units, follower.position)
        self.position = follower.position
        if queued and self._unoffered:
            self._queued()

    def derive(self, units: list[Committed], upto: int) -> int:
        """Queue the notices of these units and store ``upto``, in one transaction (Rule 1); who
        gets what is decided before it (Rule 8)."""
        noticed = [change for unit in units for change in unit.changes if notifies(change)]
        assigned = [change for change in noticed if task_assigned.is_assignment(change)]
        new = [change for change in noticed if change.collection in ("messages", "meetings")]
        due = time.monotonic() - self._persisted >= PERSIST_EVERY_S
        if not new and not assigned and not due:
            return 0  # Rule 4
        now = now_ms()
        audience: dict[str, Audience | None] = {}
        notices = [
            self._meeting(change, now, audience)
            if change.collection == "meetings"
            else self._message(change, now, audience)
            for change in new
        ]
        notices += [Notices(task_assigned.jobs(self.store, self.settings, change, now), None) for change in assigned]
        count = 0
        with self.queue.transaction():
            for jobs, targets in notices:
                count += self._queue(jobs, targets, now)
            if count or due:
                self.queue.set_position(upto)
                self._persisted = time.monotonic()
        return count

    def _audience(self, channel_id: str) -> Audience | None:
        """A channel's record and its members' push subscriptions, read once per batch of units."""
        record = self.store.get_record("channels", channel_id)
        if record is None:
            return None
        return Audience(record.state.fields, self._subscribers.of(self.store.members_of(channel_id)))

    def _fields(self, collection: str, ids: list[str]) -> dict[str, Mapping[str, Value]]:
        """These records' fields by id, in one query (a message to a channel of 50 people read ~200
        records one by one before its first push could leave)."""
        return {snapshot.id: snapshot.fields for snapshot in self.store.snapshots(collection, ids)}

    def _message(self, change: Change, now: int, audiences: dict[str, Audience | None]) -> Notices:
        """A new message's notices (Rule 3), each with its subscription: read and decided outside
        the write transaction (Rule 8)."""
        store, message = self.store, change.fields
        channel_id = str(message.get("channel"))
        if channel_id not in audiences:
            audiences[channel_id] = self._audience(channel_id)
        audience = audiences[channel_id]
        if audience is None:
            return Notices([], [])
        channel = audience.channel
        kind = str(channel.get("kind"))
        author = str(message.get("author"))
        subscriptions = {person: subs for person, subs in audience.subscriptions.items() if person != author}
        if not subscriptions:
            return Notices([], [])
        account = store.account(author)
        sender = account.name if account else author
        thread = message.get("thread")
        people = list(subscriptions)
        prefs = self._fields("prefs", [pref_id(person, channel_id) for person in people])
        noticed = self._fields("notices", [notices_id(person) for person in people])
        follows = (
            self._fields("follows", [follow_id(person, thread) for person in people]) if isinstance(thread, str) else {}
        )
        by_cursor = not isinstance(message.get("tn"), int) and isinstance(message.get("n"), int)  # _unread's rule
        reads = self._fields("reads", [read_id(person, channel_id) for person in people]) if by_cursor else {}
        jobs: list[PushJob] = []
        targets: list[PushSubscription] = []  # each job's subscription
        for person, subs in subscriptions.items():
            follow = follows.get(follow_id(person, thread)) if isinstance(thread, str) else None
            why = rules.reason(
                person, message, kind, prefs.get(pref_id(person, channel_id)), bool(follow and follow.get("on") is True)
            )
            if why is None:
                continue
            settings = noticed.get(notices_id(person))
            if rules.quiet(settings, now):
                continue
            count = self._unread(message, follow, reads.get(read_id(person, channel_id)))
            private = bool(settings and settings.get("preview") == "private")
            by_lang: dict[str, tuple[rules.Notice, str]] = {}
            for sub in subs:
                if sub.lang not in by_lang:
                    notice = rules.message_notice(
                        user=person,
                        lang=sub.lang,
                        why=why,
                        message_id=change.id,
                        message=message,
                        channel=channel,
                        sender=sender,
                        count=count,
                        private=private,
                    )
                    by_lang[sub.lang] = (notice, json.dumps(notice.payload))
                notice, payload = by_lang[sub.lang]
                jobs.append(PushJob(sub.id, notice.topic, payload, notice.urgency, self.settings.push_ttl_s, now, now))
                targets.append(sub)
        return Notices(jobs, targets)

    def _queue(self, jobs: list[PushJob], targets: list[PushSubscription] | None, now: int) -> int:
        """In the write transaction: hold back what the gap holds, offer the sender the rest
        (Rule 6, unless ``targets`` is None) and queue every row; returns how many."""
        store = self.queue
        if not jobs:
            return 0
        if targets is None:
            store.queue_pushes(jobs)
            self._unoffered = True
            return len(jobs)
        # One conversation per message: one topic. A device pushed about it within the gap waits.
        ids = [job.subscription for job in jobs]
        last = store.last_pushes_sent(ids, jobs[0].topic)
        gap = self.settings.push_gap_ms
        for job in jobs:
            if job.subscription in last:
                job.due = max(now, last[job.subscription] + gap)
        self._hand_over(jobs, targets, now, store.queued_pushes(ids, jobs[0].topic) if self._offer else set())
        store.queue_pushes(jobs)
        return len(jobs)

    def _hand_over(self, jobs: list[PushJob], targets: list[PushSubscription], now: int, queued: set[str]) -> None:
        """Offer the sender the rows due now with nothing queued for their subscription and topic
        (Rule 6); note when some are left to the queue."""
        ready = [
            (job, sub)
            for job, sub in zip(jobs, targets, strict=True)
            if job.due <= now and job.subscription not in queued
        ]
        if self._offer is not None and ready:
            self._offer(ready)
        if len(ready) < len(jobs) or self._offer is None:
            self._unoffered = True

    def _meeting(self, change: Change, now: int, audiences: dict[str, Audience | None]) -> Notices:
        """The notices of a meeting that just started (rules.py, Rule 6), decided outside the write
        transaction (Rule 8); never offered."""
        store = self.store
        channel_id, starter = str(change.fields.get("channel")), str(change.fields.get("started_by"))
        if channel_id not in audiences:
            audiences[channel_id] = self._audience(channel_id)
        audience = audiences[channel_id]
        if audience is None:
            return Notices([], None)
        account = store.account(starter)
        name = account.name if account else starter
        people = [person for person in audience.subscriptions if person != starter]
        prefs = self._fields("prefs", [pref_id(person, channel_id) for person in people])
        noticed = self._fields("notices", [notices_id(person) for person in people])
        jobs: list[PushJob] = []
        for person in people:
            if not rules.meeting_wanted(prefs.get(pref_id(person, channel_id))) or rules.quiet(
                noticed.get(notices_id(person)), now
            ):
                continue
            for sub in audience.subscriptions[person]:
                notice = rules.meeting_notice(
                    user=person,
                    lang=sub.lang,
                    meeting_id=change.id,
                    channel_id=channel_id,
                    channel=audience.channel,
                    starter=name,
                )
                payload = json.dumps(notice.payload)
                jobs.append(PushJob(sub.id, notice.topic, payload, notice.urgency, self.settings.push_ttl_s, now, now))
        return Notices(jobs, None)

    def _unread(
        self, message: Mapping[str, Value], follow: Mapping[str, Value] | None, cursor: Mapping[str, Value] | None
    ) -> int:
        """How many are unread in the conversation, by the sidebar's rule: the last number minus the
        read position (at least this one)."""
        tn = message.get("tn")
        if isinstance(tn, int):
            read = follow.get("read") if follow else 0
            return max(1, tn - (read if isinstance(read, int) else 0))
        n = message.get("n")
        if not isinstance(n, int):
            return 1
        read_n = cursor.get("n") if cursor else 0
        return max(1, n - (read_n if isinstance(read_n, int) else 0))
