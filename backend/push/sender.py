"""The push sender: delivers the durable queue (push.db; requests by prepare.py and http1.py), off the sync path.

Rule 1. At least once: a row leaves the queue only after the push service accepted it (2xx).
        A crash between sending and marking sends it again after the restart, with the same
        ``Topic`` and tag, so the device shows one notification.
Rule 2. 429 and 5xx (and a push service that cannot be reached) are retried with jittered
        exponential backoff, never sooner than ``Retry-After``, for up to RETRY_FOR_MS from when
        the row was first queued; then the row is dropped. 404 and 410 remove the subscription
        (in teamtalk.db, then its rows in push.db): the browser dropped it. Other 4xx drop the
        row (logged). A row whose subscription is gone when the queue is read (revoked, signed
        out, keys rotated: the server removed it in teamtalk.db) is dropped unsent, with the
        subscription's other rows and its sent marks (``PushQueue.forget``).
Rule 3. Held back at sending time: a device that has the app open and visible on the live socket
        (it sees the message there). The row is dropped, not delayed.
Rule 4. Every push carries ``aes128gcm`` content, ``TTL``, ``Urgency`` and ``Topic`` (one per
        conversation, so the push service replaces an undelivered older push by a newer one),
        and a VAPID JWT (ES256) for the endpoint's origin, re-signed before it expires.
Rule 5. Sends run on a bounded pool of threads, up to IN_FLIGHT at once, streamed: a slow push
        service holds back only its own sends, and outcomes are stored in batches as they come.
        A thread sends up to PIPELINE pushes to one push service at once, pipelined on its
        keep-alive connection (http1.py); what the service left unanswered goes again one at a
        time, and that service gets one at a time from then on if it did not say it closes.
        The endpoint is checked again (rules.py, Rule 5) before every send, so a subscription
        stored under laxer settings is never called.
Rule 6. From memory: the producer offers a message's rows (``offer``) as soon as it knows them,
        before they are written and committed, and the sender starts them at once, without
        reading the queue back. Only rows due now, for a (subscription, topic) with no row
        already queued or in flight, are offered; the rest wait in the queue as before. A sent
        row's mark (Rule 1) is written in a transaction of the sender's own, which waits for the
        producer's: the mark deletes the row by the version a fresh row has (1), so a row the
        producer replaced meanwhile stays and goes again after the gap. A crash before the
        producer's commit loses its rows and position together: the message is derived and sent
        again after the restart (twice, never zero times). ``offer`` returns once the loop has
        started the rows (or after OFFER_WAIT_S). A record of outcomes waits for the producer's
        transaction, in which the producer offers: so the loop records only after starting what
        was offered, and an offer made while the loop records does not wait.
Rule 7. The queue and the marks are in push.db (storage/push_queue.py), never teamtalk.db: a
        mark's transaction never holds the server's write lock. Preparing a push (its target,
        body and headers) is prepare.py's.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from backend.push import rules
from backend.push.connections import Connections
from backend.push.ece import Encrypter
from backend.push.keyer import Keyer
from backend.push.keys import VapidKeys
from backend.push.prepare import Outcome, Preparer, Request, Target
from backend.settings import Settings
from backend.storage.base import PushJob, PushSubscription, Storage
from backend.storage.push_queue import PushQueue

log = logging.getLogger("teamtalk.push")

RETRY_FOR_MS = 24 * 3600 * 1000
BASE_BACKOFF_MS = 1000
MAX_BACKOFF_MS = 3600 * 1000
#: Sends in flight at once (Rule 5), on THREADS threads: against a real push service they mostly
#: wait on the network (tens of ms a round trip), so more threads than cores. They run in the
#: followers process (backend/followers/): their GIL is not the server's.
IN_FLIGHT = 2048
THREADS = 32
#: While sends are in flight the queue is read only when told to (``wake``) or this often: a
#: message's rows come from memory (Rule 6), and a read of the queue costs the senders the GIL.
LOOK_EVERY_S = 1.0
#: How long the producer waits, at most, for the loop to start what it offered (Rule 6).
OFFER_WAIT_S = 0.05
#: Pushes to one push service written at once on one connection (http1.py, post_many).
PIPELINE = 32
#: Outcomes are stored in one transaction per RECORD_BATCH sends or RECORD_EVERY_S (Rule 1: a
#: crash before that sends them again, with the same Topic).
RECORD_BATCH = 1024
RECORD_EVERY_S = 0.1
SEND_TIMEOUT_S = 10.0


def now_ms() -> int:
    return int(time.time() * 1000)


def backoff_ms(attempts: int, retry_after_ms: int | None, rand: Callable[[], float] = random.random) -> int:
    """Jittered exponential backoff (full jitter between half and all of it), never less than
    what the push service asked for (Rule 2)."""
    ceiling = min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** min(attempts, 30))
    wait = int(ceiling * (0.5 + rand() / 2))
    return max(wait, retry_after_ms or 0)


def retry_after_ms(value: str | None, now: float) -> int | None:
    """``Retry-After`` as seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return int(value.strip()) * 1000
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int((when.timestamp() - now) * 1000))


class PushSender:
    def __init__(
        self,
        store: Storage,
        queue: PushQueue,
        keys: VapidKeys,
        settings: Settings,
        visible: Callable[[str], bool] = lambda d: False,
    ) -> None:
        self.store = store
        self.queue = queue
        self.keys = keys
        self.settings = settings
        self._connections = Connections(SEND_TIMEOUT_S)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._pool = ThreadPoolExecutor(THREADS, thread_name_prefix="push-send")
        self._encrypter = Encrypter()
        self._preparer = Preparer(keys, settings, self._encrypter, visible)
        #: True when nothing is coming for the sender (the followers process sets it: the producer
        #: has derived all it was told of); the keyer works only then and while nothing is in flight.
        self.quiet: Callable[[], bool] = lambda: True
        self._keyer = Keyer(store, self._encrypter, lambda: bool(self._in_flight) or not self.quiet())
        #: Push services that stopped answering a pipeline part way: one push at a time to them.
        self._serial: set[tuple[str, str, int | None]] = set()
        #: (subscription, topic) of the rows being sent, not yet recorded (the loop's own).
        self._in_flight: set[tuple[str, str]] = set()
        self._done: list[tuple[PushJob, tuple[Outcome, int]]] = []
        self._done_lock = threading.Lock()
        self._first_done = 0.0
        #: What the producer offered from memory (Rule 6), not yet taken by the loop, and the
        #: producer's wait for the loop to start it (``offer``).
        self._offered: list[tuple[PushJob, PushSubscription]] = []
        self._started: list[threading.Event] = []
        #: The loop is storing outcomes (``_record``): its transaction waits for the producer's.
        self._recording = False
        self._offered_lock = threading.Lock()
        #: The queue may hold rows the loop has not seen (set by ``wake``).
        self._look = True
        self._thread = threading.Thread(target=self._run, name="push-sender", daemon=True)
        #: Seconds from queueing to the push service's answer, per sent push (the benchmark reads it).
        self.on_sent: Callable[[PushJob, float], None] | None = None

    def start(self) -> None:
        self._thread.start()
        self._keyer.start()

    def wake(self) -> None:
        """Rows were queued that were not offered: read the queue."""
        self._look = True
        self._wake.set()

    def offer(self, items: list[tuple[PushJob, PushSubscription]], wait_s: float = OFFER_WAIT_S) -> None:
        """Rows due now, from memory, before their transaction commits (Rule 6). Returns once the
        loop has started sending them, or after ``wait_s``: the producer's thread, which writes
        the rows next, would otherwise keep the GIL from the loop for up to the switch interval."""
        started = threading.Event()
        with self._offered_lock:
            self._offered += items
            # A loop that is recording waits for the producer's transaction: no use waiting for it.
            wait = not self._recording
            if wait:
                self._started.append(started)
        self._wake.set()
        if wait:
            started.wait(wait_s)

    def close(self) -> None:
        self._keyer.close()
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=15)
        else:
            self._pool.shutdown(wait=True, cancel_futures=True)

    # --- the loop -----------------------------------------------------------------------------

    def _run(self) -> None:
        looked = 0.0
        while not self._stopping.is_set():
            look = self._look or time.monotonic() - looked >= LOOK_EVERY_S
            if look:
                self._look = False
                looked = time.monotonic()
            try:
                busy = self.run_once(look)
            except Exception:
                log.exception("the push sender failed; trying again")
                busy = False
            if busy:
                # Sends are in flight: wake for the next completion (or new rows), and record
                # what finished at least every RECORD_EVERY_S.
                self._wake.wait(RECORD_EVERY_S)
                self._wake.clear()
                continue
            due = self.queue.next_push_due()
            wait = 1.0 if due is None else max(0.0, min(1.0, (due - now_ms()) / 1000))
            self._wake.wait(wait)
            self._wake.clear()
            self._look = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._record(force=True)

    def run_once(self, look: bool = True) -> bool:
        """Start sending what was offered (Rule 6) and, when ``look``, what is due in the queue,
        neither in flight (Rule 5); then record the outcomes of finished sends. True while sends
        are in flight."""
        with self._offered_lock:
            offered, self._offered = self._offered, []
            started, self._started = self._started, []
        try:
            self._start(offered, look)
        finally:
            for event in started:
                event.set()
        # After the sends start: a record waits for the producer's transaction, and the producer
        # may be waiting in ``offer`` for them to start.
        self._record(force=False)
        return bool(self._in_flight)

    def _start(self, offered: list[tuple[PushJob, PushSubscription]], look: bool) -> None:
        free = IN_FLIGHT - len(self._in_flight)
        now = now_ms()
        jobs: list[PushJob] = []
        subs: dict[str, PushSubscription] = {}
        for job, sub in offered:
            key = (job.subscription, job.topic)
            if len(jobs) >= free or key in self._in_flight or job.due > now:
                self._look = True  # left to the queue: its row is read once committed
                continue
            self._in_flight.add(key)
            jobs.append(job)
            subs[sub.id] = sub
        free -= len(jobs)
        if look and free > 0:
            queued = [
                job
                for job in self.queue.due_pushes(now, free + len(self._in_flight))
                if (job.subscription, job.topic) not in self._in_flight
            ][:free]
            if queued:
                subs.update(self.store.push_subscriptions([job.subscription for job in queued]))
                for job in queued:
                    self._in_flight.add((job.subscription, job.topic))
                jobs += queued
        if jobs:
            for chunk in self._chunks(jobs, subs):
                future = self._pool.submit(self._deliver_many, chunk)
                future.add_done_callback(functools.partial(self._finished, [job for job, _ in chunk]))

    def _chunks(
        self, jobs: list[PushJob], subs: dict[str, PushSubscription]
    ) -> list[list[tuple[PushJob, PushSubscription | None]]]:
        """The jobs in pipelines (Rule 5): up to PIPELINE for one push service each, in queue order."""
        by_origin: dict[tuple[str, str, int | None] | None, list[tuple[PushJob, PushSubscription | None]]] = {}
        for job in jobs:
            sub = subs.get(job.subscription)
            origin = None
            if sub is not None:
                try:
                    origin = self._preparer.target(sub.endpoint).origin
                except rules.UnsafeEndpoint:
                    pass  # _prepare says so
            by_origin.setdefault(origin, []).append((job, sub))
        chunks = []
        for origin, items in by_origin.items():
            depth = 1 if origin in self._serial else PIPELINE
            chunks += [items[i : i + depth] for i in range(0, len(items), depth)]
        return chunks

    def _finished(self, jobs: list[PushJob], done: Future[list[tuple[Outcome, int]]]) -> None:
        """On a sending thread: keep the outcomes for the loop to record, and wake it."""
        try:
            outcomes = done.result()
        except Exception:
            log.exception("sending pushes failed; they are tried again")
            outcomes = [("retry", backoff_ms(job.attempts, None)) for job in jobs]
        with self._done_lock:
            if not self._done:
                self._first_done = time.monotonic()
            self._done += zip(jobs, outcomes, strict=True)
            many = len(self._done) >= RECORD_BATCH or len(self._done) == len(self._in_flight)
        if many:
            self._wake.set()

    def _record(self, force: bool) -> None:
        """Store the finished sends' outcomes in one transaction (Rule 1): at most every
        RECORD_EVERY_S, or once RECORD_BATCH finished, or when nothing else is in flight."""
        with self._done_lock:
            if not self._done:
                return
            waited = time.monotonic() - self._first_done
            count = len(self._done)
            if not (force or count >= RECORD_BATCH or waited >= RECORD_EVERY_S or count >= len(self._in_flight)):
                return
        with self._offered_lock:
            if self._offered and not force:
                return  # start them first: the producer may be waiting for that, in its transaction
            self._recording = True
        with self._done_lock:
            done, self._done = self._done, []
        now = now_ms()
        gone: set[str] = set()
        try:
            with self.queue.transaction():  # push.db's: the server's writes never wait for it (Rule 7)
                sent = [job for job, (outcome, _) in done if outcome == "sent"]
                self.queue.pushes_sent(sent, now, self.settings.push_gap_ms)
                for job, (outcome, wait) in done:
                    if outcome == "sent":
                        continue
                    if outcome == "gone":
                        gone.add(job.subscription)
                    elif outcome == "vanished":
                        self.queue.forget(job.subscription)  # its sent marks too: nothing else will
                    elif outcome == "retry" and now - job.first + wait < RETRY_FOR_MS:
                        self.queue.retry_push(job, now + wait)
                    else:  # drop, held, or a retry past its day
                        self.queue.drop_push(job)
        finally:
            self._recording = False
            # Recorded or not, they are no longer in flight: rows left unmarked by a failure go
            # again from the queue (Rule 1), rather than stay held back as in flight for ever.
            for job, _ in done:
                self._in_flight.discard((job.subscription, job.topic))
        for sub_id in gone:  # rare: the one write of teamtalk.db the sender makes (Rule 2)
            with self.store.transaction():
                self.store.remove_push_subscription(sub_id)
            self.queue.forget(sub_id)

    def _outcome(self, request: Request, status: int, retry_after: int | None) -> tuple[Outcome, int]:
        job, sub = request.job, request.sub
        if 200 <= status < 300:
            if self.on_sent is not None:
                self.on_sent(job, time.time() - job.first / 1000)
            return "sent", 0
        if status in (404, 410):
            return "gone", 0
        if status == 429 or status >= 500:
            return "retry", backoff_ms(job.attempts, retry_after)
        log.warning("push service answered %d for subscription %s; dropped", status, sub.id)
        return "drop", 0

    def _deliver_many(self, chunk: list[tuple[PushJob, PushSubscription | None]]) -> list[tuple[Outcome, int]]:
        """Send one pipeline (all to one push service) and say how each push went."""
        outcomes: list[tuple[Outcome, int] | Request] = [self._preparer.prepare(job, sub) for job, sub in chunk]
        requests = [r for r in outcomes if isinstance(r, Request)]
        self._keyer.used([r.sub for r in requests])  # their pre-keyed slots are spent: others, in idle time
        answers: list[tuple[int, int | None]] = []
        if len(requests) > 1:
            try:
                answers = self._post_many(requests)
            except OSError as exc:
                # Not one answer, on a fresh connection too: the service is down or too slow;
                # all wait for their backoff (one at a time would take SEND_TIMEOUT_S each).
                log.info("push service unreachable for %d pushes: %s", len(requests), exc)
                answers = [(0, None)] * len(requests)
        if len(requests) > 1 and len(answers) < len(requests):
            log.info("%s answered %d of %d pipelined pushes", requests[0].target.audience, len(answers), len(requests))
        for request in requests[len(answers) :]:  # unanswered: one at a time
            try:
                answers.append(self._post(request.target, request.body, request.headers))
            except OSError as exc:
                log.info("push service unreachable for %s: %s", request.sub.id, exc)
                answers.append((0, None))
        done = iter(zip(requests, answers, strict=True))
        return [outcome if not isinstance(outcome, Request) else self._answered(*next(done)) for outcome in outcomes]

    def _answered(self, request: Request, answer: tuple[int, int | None]) -> tuple[Outcome, int]:
        status, retry_after = answer
        if status == 0:  # not reached
            return "retry", backoff_ms(request.job.attempts, None)
        return self._outcome(request, status, retry_after)

    def _post_many(self, requests: list[Request]) -> list[tuple[int, int | None]]:
        """A pipeline to one push service (Rule 5): the answers to the first requests, in order.
        A service that stops answering part way without saying it closes gets one push at a
        time from then on."""
        origin = requests[0].target.origin
        responses = self._connections.post_many(origin, [(r.target.path, r.body, r.headers) for r in requests])
        if len(responses) < len(requests) and not responses[-1].will_close:
            self._serial.add(origin)
        now = time.time()
        return [(r.status, retry_after_ms(r.getheader("Retry-After"), now)) for r in responses]

    def _post(self, target: Target, body: bytes, headers: dict[str, str]) -> tuple[int, int | None]:
        response = self._connections.post(target.origin, target.path, body, headers)
        return response.status, retry_after_ms(response.getheader("Retry-After"), time.time())
