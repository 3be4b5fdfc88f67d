"""The feed of committed changes (backend/feed.py): each commit once, in seq order, to listeners and
followers; a follower resumes from a seq after a restart, from the log, then live."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend import feed as feed_module
from backend.accounts import GENERAL_SETTING, AccountService, CurrentSession
from backend.change_apply import SERVER_DEVICE
from backend.feed import Committed, Follower, InProcessFeed
from backend.following import FollowerThread
from backend.search_index import SearchIndex
from backend.settings import Settings
from backend.storage.base import DeviceSession
from backend.storage.sqlite import SqliteStorage
from backend.sync_service import SyncService
from sync_protocol.hlc import Clock
from sync_protocol.wire import Mutation, SyncRequest
from tests.integration.conftest import Workspace


class Server:
    """One server's sync core on a real SQLite file; a second one on the same file is a restart."""

    def __init__(self, data_dir: Path) -> None:
        self.settings = Settings(data_dir=data_dir, frontend_dir=data_dir / "no-frontend")
        self.store = SqliteStorage(self.settings.database)
        self.feed = InProcessFeed(self.store)
        self.sync = SyncService(self.store, self.settings, self.feed)
        self.accounts = AccountService(self.store, self.sync, self.settings)

    def device(self, name: str) -> tuple[CurrentSession, Clock]:
        now = int(time.time() * 1000)
        account = self.accounts.create_account(name, f"{name.lower()}@example.com", "correct horse battery", None, now)
        device = f"dev{name.lower()}"
        with self.store.transaction():
            self.store.add_session(DeviceSession(device, account.id, "test", now, now), f"token-{device}")
        return CurrentSession(account.id, device, account.role), Clock(device)

    def existing(self, name: str) -> tuple[CurrentSession, Clock]:
        account = self.store.account_by_email(f"{name.lower()}@example.com")
        assert account is not None
        session = self.store.session(f"dev{name.lower()}")
        assert session is not None
        return CurrentSession(account.id, session.id, account.role), Clock(session.id)

    def send(self, who: tuple[CurrentSession, Clock], *texts: str) -> None:
        actor, clock = who
        session = self.store.session(actor.device_id)
        assert session is not None
        general = self.store.get_setting(GENERAL_SETTING)
        now = int(time.time() * 1000)
        mutations = [
            Mutation(
                session.last_mid + i,
                "messages",
                f"01{actor.device_id}{text}",
                {"channel": general, "text": text},
                clock.tick(now),
            )
            for i, text in enumerate(texts, 1)
        ]
        assert self.sync.push(actor, SyncRequest(v=1, changes=mutations), now)[1] == []

    def head(self) -> int:
        return self.store.log_head()

    def close(self) -> None:
        self.store.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    made = Server(tmp_path)
    yield made
    made.close()


def _seqs(units: list[Committed]) -> list[int]:
    return [c.seq for unit in units for c in unit.changes]


def _drain(follower: Follower, upto: int) -> list[Committed]:
    """Take until ``upto`` (waiting on the follower, never on a fixed sleep)."""
    units: list[Committed] = []
    deadline = time.monotonic() + 10
    while follower.position < upto:
        assert time.monotonic() < deadline, f"stuck at {follower.position}, wanted {upto}"
        units += follower.take(1.0, limit=3)
    return units


def test_each_commit_is_heard_once_in_seq_order_with_its_origin_prev_and_members(server: Server) -> None:
    heard: list[Committed] = []
    server.feed.listen(heard.append)
    start = server.head()
    ada = server.device("Ada")  # a new account: the server writes its profile and joins it to #general
    server.send(ada, "one", "two")
    server.send(ada, "three")

    assert _seqs(heard) == list(range(start + 1, server.head() + 1)), "every change once, in order, no gap"
    joined, *pushes = heard
    assert joined.origin == SERVER_DEVICE and ada[0].user_id in joined.members
    assert [u.origin for u in pushes] == ["devada", "devada"] and all(u.members == [] for u in pushes)
    (scope,) = {c.scope for u in pushes for c in u.changes}
    assert pushes[0].prev[scope] == server.store.changes_after(scope, 0, 100)[-4].seq, "the head before the push"
    assert pushes[1].prev[scope] == pushes[0].last


def test_a_commit_published_early_waits_for_the_one_before_it(server: Server) -> None:
    ada = server.device("Ada")
    start = server.head()
    real = InProcessFeed(server.store)  # a second feed, published to by hand
    held: list[Committed] = []
    server.feed.listen(held.append)
    server.send(ada, "first")
    server.send(ada, "second")
    heard: list[Committed] = []
    real.listen(heard.append)

    # Two threads' commits finishing their after-commit steps the other way round.
    real.publish(held[1])
    assert heard == [], "the later commit waits"
    real.publish(held[0])
    real.publish(held[1])  # published again (a retry, a bus redelivering): heard once
    assert _seqs(heard) == [start + 1, start + 2]


def test_a_gap_nobody_publishes_is_read_back_from_the_log(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    ada = server.device("Ada")
    heard: list[Committed] = []
    server.feed.listen(heard.append)
    monkeypatch.setattr(feed_module, "GAP_WAIT_S", 0.0)
    publish = server.feed.publish
    server.feed.publish = lambda unit: None  # type: ignore[method-assign]
    server.send(ada, "lost")  # committed, never published (another process wrote it, or a bug)
    server.feed.publish = publish  # type: ignore[method-assign]
    server.send(ada, "next")
    server.send(ada, "after")

    assert [c.fields["text"] for u in heard for c in u.changes] == ["lost", "next", "after"]
    lost = heard[0].changes[0]
    before = server.store.changes_after(lost.scope, 0, 100)[-4].seq
    assert heard[0].origin is None, "read back: who pushed is not in the log"
    assert heard[0].prev == {lost.scope: before}, "the feed saw the scope's head before it published"


def test_a_follower_resumes_after_a_restart_from_the_log_then_live(tmp_path: Path) -> None:
    first = Server(tmp_path)
    ada = first.device("Ada")
    follower = first.feed.follow(0)
    first.send(ada, "a", "b")
    processed = _drain(follower, first.head())
    first.send(ada, "c", "d")  # committed after the follower's last processed seq: it must not be lost
    position = follower.position
    follower.close()
    first.close()

    restarted = Server(tmp_path)  # a new process: new store, feed and sync service on the same file
    try:
        resumed = restarted.feed.follow(position)
        restarted.send(restarted.existing("Ada"), "e")  # live, while the follower still reads the log
        processed += _drain(resumed, restarted.head())
        restarted.send(restarted.existing("Ada"), "f", "g")
        processed += _drain(resumed, restarted.head())
        assert _seqs(processed) == list(range(1, restarted.head() + 1)), "no gap, no duplicate, in order"
        texts = [c.fields.get("text") for u in processed for c in u.changes if c.collection == "messages"]
        assert texts == ["a", "b", "c", "d", "e", "f", "g"]
        assert resumed.take(0) == []
    finally:
        restarted.close()


def test_a_follower_that_falls_behind_reads_from_the_log_and_publishing_never_waits(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    ada = server.device("Ada")
    monkeypatch.setattr(feed_module, "INBOX_LIMIT", 2)
    follower = server.feed.follow(server.head())
    for i in range(6):
        server.send(ada, f"m{i}", f"n{i}")  # the inbox overflows and is dropped: nobody waited
    start = follower.position
    units = _drain(follower, server.head())
    assert _seqs(units) == list(range(start + 1, server.head() + 1))


def test_a_waiting_follower_wakes_when_a_commit_is_published(server: Server) -> None:
    ada = server.device("Ada")
    follower = server.feed.follow(server.head())
    assert follower.take(0) == [], "caught up with the log"
    got: list[list[Committed]] = []
    taker = threading.Thread(target=lambda: got.append(follower.take(10)))
    taker.start()
    server.send(ada, "wake")
    taker.join(10)
    assert [c.fields["text"] for c in got[0][0].changes] == ["wake"]
    follower.close()
    assert follower.take(10) == [], "closed: returns at once"


async def test_concurrent_pushes_in_one_group_are_published_each_once_in_order(server: Server) -> None:
    heard: list[Committed] = []
    server.feed.listen(heard.append)
    people = [server.device(name) for name in ("Ada", "Bob", "Cat")]
    start = server.head()
    general = server.store.get_setting(GENERAL_SETTING)
    now = int(time.time() * 1000)

    def request(actor: CurrentSession, clock: Clock) -> SyncRequest:
        fields = {"channel": general, "text": "x"}
        return SyncRequest(
            v=1,
            changes=[
                Mutation(i + 1, "messages", f"01G{actor.device_id}{i}", fields, clock.tick(now)) for i in range(3)
            ],
        )

    await asyncio.gather(*(server.sync.push_async(actor, request(actor, clock), now) for actor, clock in people))
    pushed = [u for u in heard if u.first > start]
    assert [u.origin for u in pushed] == [actor.device_id for actor, _ in people]
    assert _seqs(pushed) == list(range(start + 1, server.head() + 1))


def test_search_finds_what_was_just_sent(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    for i in range(3):
        sent = ada.sync(ada.change("messages", f"01FIND{i}", {"channel": general, "text": f"Kettle {i}"}))
        assert sent.status_code == 200
        hits = ada.client.get("/api/search", params={"q": "kettle"}).json()["results"]
        assert [h["id"] for h in hits] == [f"01FIND{j}" for j in range(i, -1, -1)]


def test_the_search_index_resumes_from_its_position_after_a_restart(tmp_path: Path) -> None:
    first = Server(tmp_path)
    index_path = tmp_path / "search.db"
    ada = first.device("Ada")
    index = SearchIndex(first.feed, index_path)
    first.send(ada, "alpha", "beta")
    channels = first.store.channels_of(ada[0].user_id)
    assert index.wait(first.head(), timeout_s=10)
    assert index.search(["alpha"], channels, [], None, None, 10) == ["01devadaalpha"]
    index.close()
    first.send(ada, "gamma")  # while no indexer runs
    first.close()

    restarted = Server(tmp_path)
    index = SearchIndex(restarted.feed, index_path)
    try:
        ada = restarted.existing("Ada")
        actor, clock = ada
        now = int(time.time() * 1000)
        session = restarted.store.session(actor.device_id)
        assert session is not None
        edit = Mutation(session.last_mid + 1, "messages", "01devadaalpha", {"text": "alpha edited"}, clock.tick(now))
        restarted.sync.push(actor, SyncRequest(v=1, changes=[edit]), now)
        restarted.send(ada, "delta")
        assert index.wait(restarted.head(), timeout_s=10)
        found = index.search(["a"], channels, [], None, None, 10)
        assert found == ["01devadadelta", "01devadagamma", "01devadabeta", "01devadaalpha"]
        assert index.search(["edited"], channels, [], None, None, 10) == ["01devadaalpha"]
    finally:
        index.close()
        restarted.close()


def test_the_search_index_batches_messages_sent_one_at_a_time_and_a_search_skips_the_wait(tmp_path: Path) -> None:
    """search_index.COALESCE_S (issue 17): messages a person sends one at a time are indexed a
    batch per second, not a transaction each (whose merges grow with the index); a search that
    waits for them cuts the window short (Rule 2)."""
    from backend import search_index

    batches: list[int] = []

    class Counting(SearchIndex):
        def _index(self, index: sqlite3.Connection, units: list[Committed], upto: int) -> None:
            batches.append(upto)
            super()._index(index, units, upto)

    server = Server(tmp_path)
    ada = server.device("Ada")
    channels = server.store.channels_of(ada[0].user_id)
    index = Counting(server.feed, tmp_path / "search.db")
    try:
        server.send(ada, "warmup")
        assert index.wait(server.head(), timeout_s=10)
        batches.clear()
        for i in range(5):  # a person typing: 80 ms apart, more than the old 50 ms window
            server.send(ada, f"typed{i}")
            time.sleep(0.08)
        started = time.monotonic()
        assert index.wait(server.head(), timeout_s=10)
        assert time.monotonic() - started < search_index.COALESCE_S / 2
        assert len(batches) <= 2, batches
        assert index.search(["typed"], channels, [], None, None, 10) == [f"01devadatyped{i}" for i in range(4, -1, -1)]
    finally:
        index.close()
        server.close()


def test_the_search_index_merges_eight_segments_per_level(tmp_path: Path) -> None:
    """At FTS5's default (4) a one-message commit over a long history pays merges that grow with
    it (issue 17, bench/push_cost.py); the setting lives in the index file and is set at every open."""
    from backend.search_index import AUTOMERGE, _open_index

    for _ in range(2):
        index = _open_index(tmp_path / "search.db")
        try:
            row = index.execute("SELECT v FROM docs_fts_config WHERE k = 'automerge'").fetchone()
            assert row is not None and int(row[0]) == AUTOMERGE == 8
        finally:
            index.close()


def test_a_follower_thread_survives_failures_and_resumes_from_its_stored_position(server: Server) -> None:
    """following.py, Rule 2: a failing resume and a failing step are retried from the stored
    position; nothing is skipped, nothing is lost, and the thread ends only at close()."""
    ada = server.device("Ada")
    stored = {"at": server.head()}
    resumes: list[int] = []
    seen: list[int] = []
    failures = {"resume": 1, "step": 1}

    def resume() -> int:
        resumes.append(stored["at"])
        if failures["resume"]:
            failures["resume"] -= 1
            raise sqlite3.OperationalError("database is locked")
        return stored["at"]

    def step(follower: Follower) -> None:
        units = follower.take(0.05)
        if units and failures["step"]:
            failures["step"] -= 1
            raise RuntimeError("a bug on one odd record")
        seen.extend(_seqs(units))
        stored["at"] = follower.position

    thread = FollowerThread(server.feed, "test-follower", resume, step, logging.getLogger("test"), retry_s=0.01)
    thread.start()
    try:
        server.send(ada, "one", "two")
        server.send(ada, "three")
        deadline = time.monotonic() + 10
        while stored["at"] < server.head():
            assert time.monotonic() < deadline, (seen, resumes)
            assert thread.is_alive()
            time.sleep(0.01)
        first = resumes[0]
        assert seen == list(range(first + 1, server.head() + 1))  # each once, in order, none skipped
        assert len(resumes) == 3  # the failed resume, the retry, and the resume after the failed step
    finally:
        thread.close()
    assert not thread.is_alive()


def test_a_follower_wakes_only_for_the_collections_it_names_and_still_takes_every_unit(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule 7: messages do not wake a follower of files; it takes them when its take times out,
    or woken by a unit it acts on, or by an inbox of WAKE_CHANGES."""
    ada = server.device("Ada")
    monkeypatch.setattr(feed_module, "WAKE_CHANGES", 4)
    follower = server.feed.follow(server.head(), wakes_for=frozenset({"files"}))
    assert isinstance(follower, feed_module._InboxFollower)
    assert follower.take(0) == [], "caught up with the log"
    start = follower.position
    got: list[list[Committed]] = []
    # Long enough that the push below lands inside it on a loaded machine: not woken, the take
    # returns at its timeout with what was queued.
    taker = threading.Thread(target=lambda: got.append(follower.take(1.0)))
    taker.start()
    server.send(ada, "a", "b")
    taker.join(10)
    assert follower.wakes == 0, "two messages: nothing it acts on"
    assert _seqs(got[0]) == [start + 1, start + 2], "taken at the timeout (or at once if already queued)"
    server.send(ada, "c", "d")
    server.send(ada, "e")
    assert follower.wakes == 0, "three changes in the inbox: under WAKE_CHANGES"
    server.send(ada, "f")
    assert follower.wakes == 1, "four: a page to take, whatever they are"
    assert _seqs(follower.take(0)) == list(range(start + 3, server.head() + 1)), "none lost"
    everything = server.feed.follow(server.head())
    assert isinstance(everything, feed_module._InboxFollower)
    server.send(ada, "g")
    assert (everything.wakes, follower.wakes) == (1, 1), "a follower that names nothing wakes for every unit"
