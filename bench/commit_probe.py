"""The SQLite commit probe: how long this disk takes to make a small transaction durable, so a
benchmark can say how much of its latency is the disk's (bench 1 prints it beside its figures).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from bench.report import percentile


def commit_probe(directory: Path, seconds: float = 2.0) -> dict[str, float]:
    """How long this disk takes to make a small SQLite transaction durable, with the server's
    settings (WAL, synchronous=FULL, default autocheckpoint): each transaction inserts one
    ~300-byte row into an indexed log and bumps a counter, like a one-message push. Latencies
    of COMMIT in ms; `per_s` is the most such commits one connection can do per second."""
    path = directory / "commit-probe.db"
    db = sqlite3.connect(path, isolation_level=None)
    times: list[float] = []
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE log (seq INTEGER PRIMARY KEY, scope TEXT, rid TEXT, body TEXT)")
        db.execute("CREATE INDEX log_scope ON log (scope, seq)")
        db.execute("CREATE INDEX log_rid ON log (rid, seq)")
        db.execute("CREATE TABLE heads (scope TEXT PRIMARY KEY, seq INTEGER) WITHOUT ROWID")
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline and len(times) < 20_000:
            db.execute("BEGIN IMMEDIATE")
            cursor = db.execute(
                "INSERT INTO log (scope, rid, body) VALUES ('c:x', ?, ?)", (os.urandom(13).hex(), os.urandom(150).hex())
            )
            db.execute(
                "INSERT INTO heads VALUES ('c:x', ?) ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq",
                (cursor.lastrowid,),
            )
            start = time.perf_counter()
            db.execute("COMMIT")
            times.append((time.perf_counter() - start) * 1e3)
    finally:
        db.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    mean = sum(times) / len(times)
    return {"p50": percentile(times, 50), "p99": percentile(times, 99), "mean": mean, "per_s": 1e3 / mean}
