"""The followers process (backend/followers/): the search indexer and the push producer and sender
follow the log in a process of their own, which the server supervises. Real app, real SQLite,
a real child process killed with SIGKILL, and the local push service that decrypts every push."""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.app import create_app
from backend.followers import supervisor
from backend.followers.log_feed import LogFeed
from backend.settings import Settings
from backend.storage import chain
from backend.storage.base import NewChange
from backend.storage.sqlite import SqliteStorage
from backend.storage.sqlite_chain import ChainFile
from sync_protocol.collections import read_id
from tests.integration.conftest import Person, Workspace
from tests.integration.polling import wait_until
from tests.integration.push_service import PushService
from tests.integration.storage_contract.entries import _rows
from tests.integration.test_push import channel, post, settle, subscribe, write


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    settings = Settings(data_dir=tmp_path, frontend_dir=tmp_path / "none", push_test_mode=True, push_gap_ms=0)
    workspace = Workspace(create_app(settings), tmp_path)
    yield workspace
    workspace.close()


def status(admin: Person) -> dict[str, Any]:
    reply = admin.client.get("/api/admin/followers")
    assert reply.status_code == 200, reply.text
    found: dict[str, Any] = reply.json()
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that exited but was not reaped yet is a zombie: gone for our purpose.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


def test_the_followers_survive_kill_9_catch_up_and_push_each_message_once(ws: Workspace, push: PushService) -> None:
    ada, bob = ws.join("Ada"), ws.join("Bob")
    assert status(ada)["pid"] is None  # nothing to follow yet: not spawned
    sub = subscribe(bob, push)
    rooms = [channel(ada, f"site-{i}", bob) for i in range(4)]
    first = post(ada, rooms[0], "@Bob before the kill", mentions=bob.user)
    push.wait_for(lambda: len(push.to(sub)) == 1)
    settle(ws)  # sent and marked sent: a kill now cannot make a duplicate (sender.py, Rule 1)
    wait_until(lambda: status(ada)["search_lag"] == 0)  # the indexer catches up by itself too
    before = status(ada)
    assert before["running"] and before["push_lag"] == 0

    os.kill(before["pid"], signal.SIGKILL)
    later = [post(ada, room, f"@Bob after the kill {i}", mentions=bob.user) for i, room in enumerate(rooms[1:])]
    # A search waits until the restarted indexer has reached the head of when it was asked.
    hits = ada.client.get("/api/search", params={"q": "after the kill"}).json()["results"]
    assert sorted(h["id"] for h in hits) == sorted(later)

    push.wait_for(lambda: len(push.to(sub)) >= 4)
    settle(ws)
    assert sorted(r.payload["id"] for r in push.to(sub)) == sorted([first, *later])  # each once
    after = status(ada)
    assert after["running"] and after["pid"] != before["pid"] and after["restarts"] >= 1
    assert after["search_lag"] == 0 and after["push_lag"] == 0 and after["search_position"] == after["head"]

    ws.close()
    wait_until(lambda: not alive(after["pid"]))  # it ends with the server


def test_the_followers_keep_the_hash_chain_behind_the_log_and_catch_up_after_kill_9(ws: Workspace) -> None:
    """Nobody asks for the head here: the chain's file reaches the log's head by the followers
    alone (sqlite_chain.py, Rule 2), before and after the process is killed."""
    ada = ws.join("Ada")
    general = ada.channel_named("general")
    store: SqliteStorage = ws.app.state["services"].store
    watched = ChainFile(store.path)  # another reader of the file: head() never extends it

    def log_head() -> int:
        with sqlite3.connect(store.path) as db:
            return int(db.execute("SELECT max(seq) FROM changes").fetchone()[0])

    post(ada, general, "chained by the followers")
    wait_until(lambda: status(ada)["running"] and watched.head()[0] == log_head())  # on its start
    before = status(ada)
    for i in range(3):
        post(ada, general, f"chained as it follows {i}")
    wait_until(lambda: watched.head()[0] == log_head())  # by the running process, as the feed tells it
    assert status(ada)["pid"] == before["pid"]
    os.kill(before["pid"], signal.SIGKILL)
    for i in range(3):
        post(ada, general, f"chained after the kill {i}")
    wait_until(lambda: status(ada)["pid"] not in (None, before["pid"]) and watched.head()[0] == log_head())
    wait_until(lambda: status(ada)["chain_position"] == log_head())
    rows = _rows(store)
    assert chain.first_mismatch(rows) is None and watched.head() == (rows[-1].seq, rows[-1].hash)
    watched.close()


def test_the_followers_process_ends_when_its_server_is_killed(ws: Workspace) -> None:
    """Its stdin closes with the server, however the server ends: no orphan keeps indexing."""
    ada = ws.join("Ada")
    post(ada, ada.channel_named("general"), "start the followers")
    wait_until(lambda: status(ada)["running"])
    found = ws.app.state["services"].followers
    proc = found._proc
    assert proc is not None and proc.stdin is not None
    proc.stdin.close()  # what the kernel does when the server dies
    wait_until(lambda: proc.poll() is not None)
    assert proc.returncode == 0


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux's")
def test_the_followers_process_and_its_threads_yield_to_the_server(ws: Workspace) -> None:
    """SCHED_IDLE, not a nice value (worker.yield_to_server): a waking server thread takes the
    core from the push sender at once, which a nice value does not do on EEVDF (issue 10)."""
    ada = ws.join("Ada")
    post(ada, ada.channel_named("general"), "start the followers")
    wait_until(lambda: status(ada)["running"] and status(ada)["search_lag"] == 0)
    pid = status(ada)["pid"]
    tasks = [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
    assert len(tasks) > 3  # the followers' threads are running: they inherit the policy
    assert {os.sched_getscheduler(tid) for tid in tasks} == {os.SCHED_IDLE}


@pytest.mark.skipif(len(getattr(os, "sched_getaffinity", lambda _: ())(0)) < 2, reason="needs 2 CPUs and affinity")
def test_the_followers_process_and_its_threads_keep_off_the_first_core(ws: Workspace) -> None:
    """worker.keep_off_a_core: a core where no followers thread can be picked ahead of a server
    thread that EEVDF does not yet count as eligible (issue 10)."""
    ada = ws.join("Ada")
    post(ada, ada.channel_named("general"), "start the followers")
    wait_until(lambda: status(ada)["running"] and status(ada)["search_lag"] == 0)
    pid = status(ada)["pid"]
    allowed = os.sched_getaffinity(0)
    tasks = [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
    assert len(tasks) > 3
    assert {frozenset(os.sched_getaffinity(tid)) for tid in tasks} == {frozenset(allowed - {min(allowed)})}


def test_only_admins_and_auditors_see_the_followers_lag(ws: Workspace) -> None:
    ada, bob = ws.join("Ada"), ws.join("Bob")
    assert status(ada)["restarts"] == 0
    reply = bob.client.get("/api/admin/followers")
    assert (reply.status_code, reply.json()["error"]) == (403, "forbidden")


def _read_up_to(person: Person, room: str, n: int) -> None:
    write(person, "reads", read_id(person.user, room), {"channel": room, "user": person.user, "n": n})


def test_a_commit_with_nothing_to_push_or_index_does_not_wake_the_followers(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read cursors never notify and are never searched: while pushes drain, a Head line for each
    woke the server's writer thread and the followers' threads for nothing (issue 10). Only a
    commit they act on is told at once; a search still waits for the head of when it was asked."""
    monkeypatch.setattr(supervisor, "HEAD_EVERY_S", 3600.0)  # no lazy head during the test
    ada = ws.join("Ada")
    room = ada.channel_named("general")
    post(ada, room, "wake the followers")
    followers = ws.app.state["services"].followers
    wait_until(lambda: followers.progress.push >= followers.head)
    told = followers.heads_told
    for n in range(1, 21):
        _read_up_to(ada, room, n)
    found = post(ada, room, "something to index after the cursors")
    hits = ada.client.get("/api/search", params={"q": "something to index"}).json()["results"]
    assert [h["id"] for h in hits] == [found]
    assert followers.heads_told - told == 1, "one Head line, the message's: none for the 20 read cursors"
    assert followers.progress.search == followers.head


def test_a_head_with_nothing_followed_is_still_told_soon(ws: Workspace) -> None:
    """The followers' positions reach such a head within HEAD_EVERY_S (no lag shown to admins)."""
    ada = ws.join("Ada")
    room = ada.channel_named("general")
    post(ada, room, "wake the followers")
    _read_up_to(ada, room, 1)
    head = ws.app.state["services"].followers.head
    wait_until(lambda: status(ada)["push_position"] >= head and status(ada)["push_lag"] == 0)


def test_the_push_producer_takes_only_what_the_server_told_of(tmp_path: Path) -> None:
    """A commit in the log before its Head line must wait: the server names the devices showing
    the app before each head, and a device already showing the message must get no push."""
    store = SqliteStorage(tmp_path / "db")
    try:
        with store.transaction():
            first = store.append_change(_entry("01A"))
            second = store.append_change(_entry("01B"))
        feed = LogFeed(store)
        bounded, free = feed.bounded().follow(0), feed.follow(0)
        assert [c.seq for unit in free.take(0) for c in unit.changes] == [first, second]  # the indexer reads on
        assert bounded.take(0.05) == []  # nothing told yet
        feed.heard(first)
        assert [c.seq for unit in bounded.take(1) for c in unit.changes] == [first]
        feed.heard(second)
        assert [c.seq for unit in bounded.take(1) for c in unit.changes] == [second]
        feed.close()
    finally:
        store.close()


def _entry(record_id: str) -> NewChange:
    return NewChange("c:a", "messages", record_id, "1764172800000-00000-dev", "u1", "dev", 1, 1, {"text": "x"})
