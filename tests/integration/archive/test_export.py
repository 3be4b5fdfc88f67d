"""Archives for auditors: consistent immutable exports, chain verification, Datasette for auditors
only, compliance shapes (CSV, Slack), retention."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from backend import retention
from backend.app import create_app
from backend.archive import export as archive_export
from backend.archive import formats
from backend.archive.model import Progress
from backend.settings import Settings
from backend.storage.sqlite import SqliteStorage
from backend.sync_service import SyncService
from sync_protocol.collections import COLLECTIONS
from tests.integration.archive.conftest import (
    DAY_MS,
    ROOT,
    SECRET_WORDS,
    Scene,
    dump,
    export,
    rows,
    teamtalk,
)
from tests.integration.conftest import Workspace, wall_ms

# --- the SQLite archive ----------------------------------------------------------------------


def test_the_archive_holds_people_channels_history_and_a_verifiable_log(scene: Scene, tmp_path: Path) -> None:
    out = export(scene, tmp_path / "archive.db")

    people = {p["email"]: p for p in rows(out, "SELECT * FROM people")}
    assert {"ada@example.com", "bob@example.com", "ivy@example.com"} <= set(people)
    assert people["ada@example.com"]["role"] == "owner" and people["ivy@example.com"]["role"] == "auditor"
    assert not rows(out, "SELECT name FROM pragma_table_info('people') WHERE name LIKE '%password%'")
    tables = {r["name"] for r in rows(out, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    assert {
        "people",
        "channels",
        "memberships",
        "messages",
        "message_versions",
        "reactions",
        "files",
        "changes",
        "archive_info",
        "messages_fts",
        "message_timeline",
        "edits_and_deletions",
    } <= tables
    assert not tables & {"sessions", "accounts", "invites", "settings"}
    assert {t for t in ("tasks", "events") if t in tables} == {t for t in ("tasks", "events") if t in COLLECTIONS}

    m1 = rows(out, "SELECT * FROM messages WHERE id = '01M1'")[0]
    assert m1["text"] == "Standup at ten" and m1["edits"] == 1 and m1["author"] == scene.ada.user
    versions = rows(out, "SELECT kind, text, replaces, seq FROM message_versions WHERE message = '01M1' ORDER BY hlc")
    assert [(v["kind"], v["text"]) for v in versions] == [("created", "Standup at nine"), ("edited", "Standup at ten")]
    assert versions[1]["replaces"] == versions[0]["seq"]
    assert rows(out, "SELECT thread FROM messages WHERE id = '01M3'") == [{"thread": "01M1"}]
    assert rows(out, "SELECT emoji, active FROM reactions") == [{"emoji": "👍", "active": 1}]

    periods = rows(out, "SELECT user, left_at, left_by FROM memberships WHERE channel = ? ORDER BY user", scene.secret)
    assert {(p["user"], p["left_by"]) for p in periods} == {(scene.ada.user, None), (scene.bob.user, scene.bob.user)}

    hits = rows(out, "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'standup'")
    assert len(hits) == 1
    assert rows(out, "PRAGMA foreign_key_check") == []
    assert rows(out, "SELECT count(*) AS n FROM pragma_foreign_key_list('messages')")[0]["n"] >= 2
    assert os.stat(out).st_mode & 0o222 == 0, "the archive file is read-only"

    info = {r["key"]: r["value"] for r in rows(out, "SELECT key, value FROM archive_info")}
    head = scene.ada.client.get("/api/admin/chain")
    assert head.status_code == 200
    assert (info["head_seq"], info["head_hash"]) == (str(head.json()["seq"]), head.json()["hash"])
    assert teamtalk("archive", "verify", out) == 0


def test_a_deleted_message_leaves_its_deletion_but_not_its_text(scene: Scene, tmp_path: Path) -> None:
    out = export(scene, tmp_path / "archive.db")

    assert SECRET_WORDS.encode() not in out.read_bytes()
    assert b"swordfish" not in out.read_bytes()
    m2 = rows(out, "SELECT * FROM messages WHERE id = '01M2'")[0]
    assert m2["deleted"] == 1 and m2["text"] is None and m2["author"] == scene.bob.user
    assert m2["deleted_by"] == scene.bob.user and m2["deleted_utc"].endswith("Z")
    kinds = rows(out, "SELECT kind, text, text_removed FROM message_versions WHERE message = '01M2' ORDER BY hlc")
    assert kinds[0] == {"kind": "created", "text": None, "text_removed": 1}
    assert "deleted" in [k["kind"] for k in kinds]
    logged = rows(out, "SELECT fields, redacted FROM changes WHERE record_id = '01M2' ORDER BY seq")
    assert "text" in json.loads(logged[0]["redacted"]) and "text" not in json.loads(logged[0]["fields"])
    assert teamtalk("archive", "verify", out) == 0


def test_one_altered_byte_fails_verify_naming_that_entry(
    scene: Scene, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = export(scene, tmp_path / "archive.db")
    target = rows(out, "SELECT seq FROM changes WHERE fields LIKE '%Standup at ten%'")[0]["seq"]
    for column, before, after in (("fields", "ten", "tan"), ("author", scene.ada.user[-1], "#")):
        copy = tmp_path / f"tampered-{column}.db"
        shutil.copyfile(out, copy)
        os.chmod(copy, 0o644)
        db = sqlite3.connect(copy)
        old = db.execute(f"SELECT {column} FROM changes WHERE seq = ?", (target,)).fetchone()[0]
        new = old[: old.rindex(before)] + after + old[old.rindex(before) + len(before) :]
        assert len(new.encode()) == len(old.encode()) and new != old  # one byte
        db.execute(f"UPDATE changes SET {column} = ? WHERE seq = ?", (new, target))
        db.commit()
        db.close()
        capsys.readouterr()

        assert teamtalk("archive", "verify", copy) == 1
        assert f"seq {target} does not match" in capsys.readouterr().err

    cut = tmp_path / "cut.db"
    shutil.copyfile(out, cut)
    os.chmod(cut, 0o644)
    with sqlite3.connect(cut) as db:
        db.execute("DELETE FROM changes WHERE seq = (SELECT max(seq) FROM changes)")
    assert teamtalk("archive", "verify", cut) == 1
    assert "but the export recorded head seq" in capsys.readouterr().err

    broken = tmp_path / "not-json.db"
    shutil.copyfile(out, broken)
    os.chmod(broken, 0o644)
    with sqlite3.connect(broken) as db:
        db.execute("UPDATE changes SET fields = substr(fields, 2) WHERE seq = 3")
    assert teamtalk("archive", "verify", broken) == 1
    assert "seq 3 does not match" in capsys.readouterr().err


def test_verify_live_checks_the_servers_own_store(scene: Scene, capsys: pytest.CaptureFixture[str]) -> None:
    assert teamtalk("archive", "verify", "--live", "--data", scene.data) == 0
    assert capsys.readouterr().out.startswith("ok: ")
    with sqlite3.connect(scene.data / "teamtalk.db") as db:
        db.execute("UPDATE changes SET received_at = received_at + 1 WHERE seq = 5")
    assert teamtalk("archive", "verify", "--live", "--data", scene.data) == 1
    assert "seq 5 does not match" in capsys.readouterr().err


def test_filters_select_messages_and_keep_the_whole_chain(scene: Scene, tmp_path: Path) -> None:
    out = export(scene, tmp_path / "secret.db", "--channel", "secret")

    assert [m["id"] for m in rows(out, "SELECT id FROM messages")] == ["01S1"]
    assert [c["name"] for c in rows(out, "SELECT name FROM channels")] == ["secret"]
    assert b"Standup" not in out.read_bytes(), "other channels' values are digests only"
    head = rows(out, "SELECT max(seq) AS seq, count(*) AS n FROM changes")[0]
    assert head["seq"] == head["n"]
    assert teamtalk("archive", "verify", out) == 0

    future = export(scene, tmp_path / "future.db", "--since", "2999-01-01")
    assert rows(future, "SELECT count(*) AS n FROM messages") == [{"n": 0}]
    assert teamtalk("archive", "verify", future) == 0


def test_export_mistakes_are_one_line_errors(scene: Scene, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = export(scene, tmp_path / "a.db")
    assert teamtalk("archive", "export", out, "--data", scene.data) == 1
    assert "exists; pass --force" in capsys.readouterr().err
    assert teamtalk("archive", "export", tmp_path / "b.db", "--data", scene.data, "--channel", "nope") == 1
    assert "no channel named 'nope'" in capsys.readouterr().err
    assert teamtalk("archive", "export", tmp_path / "c.db", "--data", tmp_path / "empty") == 1
    with pytest.raises(SystemExit) as usage:
        teamtalk("archive", "export", tmp_path / "d.db", "--since", "yesterday")
    assert usage.value.code == 2
    assert teamtalk("archive", "export", out, "--data", scene.data, "--force", "--progress") == 0
    assert "exporting" in capsys.readouterr().err


def test_export_while_writes_continue_is_one_consistent_snapshot(workspace: Workspace, tmp_path: Path) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    database = workspace.data_dir / "teamtalk.db"
    seed = SqliteStorage(database)
    seed_sync = SyncService(seed, Settings(data_dir=workspace.data_dir))
    seed_sync.write_as_server(
        ada.user,
        [("messages", f"01SEED{i:05d}", {"channel": general, "text": f"seed {i}"}) for i in range(2000)],
        wall_ms(),
    )
    seed.close()
    stop = threading.Event()
    written = [0]

    def keep_writing() -> None:
        store = SqliteStorage(database)
        sync = SyncService(store, Settings(data_dir=workspace.data_dir))
        while not stop.is_set():
            sync.write_as_server(
                ada.user, [("messages", f"01LIVE{written[0]:05d}", {"channel": general, "text": "during"})], wall_ms()
            )
            written[0] += 1
        store.close()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    paused: list[str] = []

    def progress(phase: str, done: int, total: int) -> None:
        # Right after the snapshot began, and again between the tables and the change log: the
        # server writes meanwhile, and none of it may reach the archive.
        if phase in ("reading channels and people", "writing files") and phase not in paused:
            paused.append(phase)
            before = written[0]
            deadline = time.monotonic() + 5
            while written[0] < before + 20 and time.monotonic() < deadline:
                time.sleep(0.005)

    hook: Progress = progress
    try:
        archive_export.export_sqlite(database, tmp_path / "live.db", progress=hook)
    finally:
        stop.set()
        writer.join()
    out = tmp_path / "live.db"

    assert paused == ["reading channels and people", "writing files"]
    assert written[0] > 40, "the server kept writing during the export"
    logged = {r["record_id"] for r in rows(out, "SELECT DISTINCT record_id FROM changes WHERE collection = 'messages'")}
    exported = {r["id"] for r in rows(out, "SELECT id FROM messages")}
    assert logged == exported and len(exported) >= 2000
    assert len(exported) < 2000 + written[0], "writes after the snapshot are not in it"
    info = {r["key"]: r["value"] for r in rows(out, "SELECT key, value FROM archive_info")}
    assert int(info["head_seq"]) == rows(out, "SELECT max(seq) AS s FROM changes")[0]["s"]
    assert teamtalk("archive", "verify", out) == 0
    assert teamtalk("archive", "verify", "--live", "--data", workspace.data_dir) == 0


def test_an_export_holds_the_same_whatever_its_batch_size(
    scene: Scene, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exports stream through batches; with batches of two rows every table and the log cross
    many batch boundaries, and nothing may change."""
    ada, bob = scene.ada, scene.bob
    for i in range(3):
        mid = f"01B{i}"
        assert ada.sync(ada.change("messages", mid, {"channel": scene.general, "text": f"batch {i}"})).json()["acks"]
        rid = f"{mid}:{bob.user}:1f389"
        assert bob.sync(
            bob.change(
                "reactions",
                rid,
                {"message": mid, "channel": scene.general, "user": bob.user, "emoji": "🎉", "on": True},
            )
        ).json()["acks"]
    assert bob.sync(bob.change("reactions", f"01B0:{bob.user}:1f389", {"on": False})).json()["acks"]
    assert ada.sync(ada.change("members", f"{scene.secret}:{bob.user}", {"left": False})).json()["acks"]

    def everything(where: Path) -> list[object]:
        where.mkdir()
        slack = export(scene, where / "slack", "--format", "slack")
        return [
            dump(export(scene, where / "all.db")),
            dump(export(scene, where / "secret.db", "--channel", "secret")),
            dump(export(scene, where / "period.db", "--since", "2000-01-01", "--until", "2999-12-31")),
            export(scene, where / "events.csv", "--format", "csv").read_bytes(),
            {str(f.relative_to(slack)): f.read_bytes() for f in sorted(slack.rglob("*.json"))},
        ]

    whole = everything(tmp_path / "default")
    monkeypatch.setattr(archive_export, "BATCH", 2)
    assert everything(tmp_path / "two") == whole
    assert not list(tmp_path.rglob(".*")), "no partial or scratch files are left behind"


# --- compliance shapes -----------------------------------------------------------------------


def test_csv_has_one_row_per_message_event(scene: Scene, tmp_path: Path) -> None:
    out = export(scene, tmp_path / "events.csv", "--format", "csv")
    with out.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == formats.CSV_COLUMNS
        events = list(reader)

    assert {e["event"] for e in events} >= {"created", "edited", "deleted", "joined", "left"}
    m1 = [e for e in events if e["message_id"] == "01M1"]
    assert [e["event"] for e in m1] == ["created", "edited"]
    assert m1[1]["replaces_event_id"] == m1[0]["event_id"] and m1[1]["text"] == "Standup at ten"
    assert m1[0]["author_email"] == "ada@example.com" and m1[0]["author_type"] == "user"
    assert m1[0]["channel_name"] == "general" and m1[0]["at_utc"].endswith("Z")
    assert [e["thread_parent_id"] for e in events if e["message_id"] == "01M3"] == ["01M1"]
    deleted = [e for e in events if e["message_id"] == "01M2"]
    assert [e["event"] for e in deleted] == ["created", "deleted"] and all(not e["text"] for e in deleted)
    left = [e for e in events if e["event"] == "left"]
    assert [(e["author_id"], e["channel_name"]) for e in left] == [(scene.bob.user, "secret")]
    assert "swordfish" not in out.read_text(encoding="utf-8")
    assert all(e["attachments"] == "" for e in events)  # until files exist


def test_slack_layout_has_users_channels_and_daily_files(scene: Scene, tmp_path: Path) -> None:
    out = export(scene, tmp_path / "slack", "--format", "slack")

    users = json.loads((out / "users.json").read_text())
    assert {u["profile"]["email"] for u in users} >= {"ada@example.com", "bob@example.com"}
    assert [c["name"] for c in json.loads((out / "channels.json").read_text())] == ["general"]
    assert [c["name"] for c in json.loads((out / "groups.json").read_text())] == ["secret"]
    days = sorted((out / "general").glob("*.json"))
    assert days and all(len(d.stem) == 10 and d.stem[4] == "-" for d in days)
    messages = [m for d in days for m in json.loads(d.read_text())]
    by_id = {m.get("client_msg_id"): m for m in messages}
    assert by_id["01M1"]["text"] == "Standup at ten" and by_id["01M1"]["user"] == scene.ada.user
    assert by_id["01M1"]["reactions"] == [{"name": "👍", "users": [scene.bob.user], "count": 1}]
    assert by_id["01M3"]["thread_ts"] == by_id["01M1"]["ts"]
    assert by_id["01M2"]["subtype"] == "tombstone"
    assert any(m.get("subtype") == "channel_join" for m in messages)
    assert all(float(m["ts"]) > 0 for m in messages)
    assert not any("swordfish" in p.read_text() for p in out.rglob("*.json"))

    zipped = export(scene, tmp_path / "slack.zip", "--format", "slack")
    import zipfile

    with zipfile.ZipFile(zipped) as archive:
        assert {"users.json", "channels.json"} <= set(archive.namelist())


# --- retention -------------------------------------------------------------------------------


def test_retention_expires_bodies_everywhere_and_the_chain_still_verifies(scene: Scene, tmp_path: Path) -> None:
    ada, bob = scene.ada, scene.bob
    refused = bob.sync(bob.change("channels", scene.general, {"retention_days": 1})).json()
    assert refused["rejections"][0]["code"] == "forbidden"
    assert ada.sync(ada.change("channels", scene.general, {"retention_days": 1})).json()["rejections"] == []
    bob.pull()
    services = scene.ws.app.state["services"]

    assert retention.expire(services.store, services.sync, wall_ms()) == 0, "nothing is a day old yet"
    expired = retention.expire(services.store, services.sync, wall_ms() + 2 * DAY_MS)

    assert expired in (2, 3)  # 01M1, 01M3 (and 01M2 if its deletion left its text); #secret keeps its messages
    replica = [c for c in bob.pull()["changes"] if c["collection"] == "messages"]
    assert {"01M1", "01M3"} <= {c["id"] for c in replica}, replica
    assert all("text" in c["fields"] and c["fields"]["text"] is None for c in replica), replica
    store = scene.ws.store()
    try:
        logged = store._db.execute("SELECT fields FROM changes WHERE record_id IN ('01M1', '01M3')").fetchall()
        assert not any(b"Standup" in bytes(f) or b"see you" in bytes(f) for (f,) in logged)
        assert store.get_record("messages", "01S1").state.fields["text"] == "private plans"  # type: ignore[union-attr]
    finally:
        store.close()
    assert teamtalk("archive", "verify", "--live", "--data", scene.data) == 0
    assert retention.expire(services.store, services.sync, wall_ms() + 2 * DAY_MS) == 0

    out = export(scene, tmp_path / "after.db")
    m1 = rows(out, "SELECT text, expired FROM messages WHERE id = '01M1'")[0]
    assert m1 == {"text": None, "expired": 1}
    assert "expired" in {v["kind"] for v in rows(out, "SELECT kind FROM message_versions WHERE message = '01M1'")}
    assert teamtalk("archive", "verify", out) == 0


def test_the_retention_command_runs_once(scene: Scene, capsys: pytest.CaptureFixture[str]) -> None:
    assert teamtalk("archive", "retention", "--data", scene.data) == 0
    assert capsys.readouterr().out.strip() == "expired 0 message bodies"


# --- the metadata and the server hook ---------------------------------------------------------


def test_every_canned_query_runs_and_every_table_is_described(scene: Scene, tmp_path: Path) -> None:
    import yaml

    out = export(scene, tmp_path / "archive.db")
    metadata = yaml.safe_load((ROOT / "datasette_metadata.yml").read_text())
    block = metadata["databases"]["archive"]
    params = {
        "person": "ada@example.com",
        "since": "2000-01-01",
        "until": "2999-12-31",
        "message": "01M1",
        "id": "01M1",
        "channel": "general",
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    db = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
    try:
        for name, query in block["queries"].items():
            assert query.get("title") and not query.get("write"), name
            db.execute(query["sql"], params).fetchall()
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()
    described = {t for t, v in block["tables"].items() if v.get("description")}
    assert {t for t in tables if not t.startswith("messages_fts")} <= described
    assert metadata["allow"] == {"role": ["auditor", "admin", "owner"]}


def test_the_server_runs_retention_in_the_background(tmp_path: Path) -> None:
    from litestar.testing import TestClient

    app = create_app(Settings(data_dir=tmp_path, frontend_dir=tmp_path / "none"))
    with TestClient(app):
        task = app.state["retention_task"]
        assert not task.done()
    assert task.cancelled()
    app.state["services"].close()
