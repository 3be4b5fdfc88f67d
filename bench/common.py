"""What every benchmark shares: a real server in a subprocess, signed-in devices speaking the
sync protocol over HTTP (MessagePack), percentiles and the report lines (message text: bench/text.py).

Everything runs on 127.0.0.1. The load generator and the server share one machine (on the
reference box: 2 cores), so client CPU is not free; each benchmark also reports the server's own
CPU time per operation (from /proc/<pid>/stat), which does not depend on the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import os
import pstats
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import msgspec

from backend.tokens import ulid
from sync_protocol.hlc import Clock
from sync_protocol.wire import MSGPACK, PROTOCOL_VERSION, ErrorBody, Mutation, SyncRequest, SyncResponse

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
CLK_TCK = os.sysconf("SC_CLK_TCK")

_request_encoder = msgspec.msgpack.Encoder()
_response_decoder = msgspec.msgpack.Decoder(SyncResponse)


# --- the server ----------------------------------------------------------------------------------


def raise_fd_limit(wanted: int = 8192) -> None:
    """1,000 sockets on each side need more than the usual 1,024 descriptors; children inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM (peak) of a process, in kB."""
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Server:
    """`python -m backend.cli serve` on a free port with a fresh data directory."""

    def __init__(self, name: str, tmpfs: bool = False, data: Path | None = None) -> None:
        """``data``: serve this existing directory (a cached data set) and keep it on stop."""
        raise_fd_limit()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # By default the system temp dir: on the reference box the same ext4 disk as the repository,
        # so fsync is real. tmpfs=True puts the data in /dev/shm (fsync is free), to separate disk
        # waits from CPU in the analysis.
        where = "/dev/shm" if tmpfs and os.path.isdir("/dev/shm") else None
        self.keep = data is not None
        self.data = data or Path(tempfile.mkdtemp(prefix=f"teamtalk-bench-{name}-", dir=where))
        self.log = open(self.data / "server.log", "w+b")
        self.proc: subprocess.Popen[bytes] | None = None
        #: How to start the server: under cProfile with TT_BENCH_PROFILE=1 (bench/profile_server.py).
        self.profiling = os.environ.get("TT_BENCH_PROFILE") == "1"
        self.launcher = ["-m", "bench.profile_server" if self.profiling else "backend.cli"]
        #: More `serve` options (the push benchmark's --push-test-mode).
        self.options: list[str] = []

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout_s: float = 30.0) -> None:
        cmd = [
            sys.executable,
            *self.launcher,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data",
            str(self.data / "db"),
            *self.options,
        ]
        env = {**os.environ, "TT_PROFILE_OUT": str(self.data / "server.prof")}
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    problem = f"the server exited with {self.proc.returncode}:\n{self.output()}"
                    self.stop()
                    raise RuntimeError(problem)
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/api/workspace").status_code == 200:
                        return
                time.sleep(0.05)
        problem = f"the server did not answer within {timeout_s:.0f} s:\n{self.output()}"
        self.stop()
        raise RuntimeError(problem)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

    def rss_mb(self) -> float:
        return proc_status(self.pid)["VmRSS"] / 1024

    def hwm_mb(self) -> float:
        return proc_status(self.pid)["VmHWM"] / 1024

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def children_cpu(self) -> float:
        """CPU of the server's live child processes (the followers process: backend/followers/)."""
        total = 0.0
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                try:
                    total += cpu_seconds(int(child))
                except FileNotFoundError:  # it ended meanwhile
                    continue
        return total

    @contextlib.contextmanager
    def profile(self, title: str, lines: int = 30) -> Iterator[None]:
        """With TT_BENCH_PROFILE=1: profile the server's main thread around the block and print
        its top functions by own CPU time (bench/profile_server.py); otherwise nothing."""
        if not self.profiling:
            yield
            return
        out = self.data / "server.prof"
        out.unlink(missing_ok=True)
        os.kill(self.pid, signal.SIGUSR2)
        try:
            yield
        finally:
            os.kill(self.pid, signal.SIGUSR1)
            deadline = time.monotonic() + 30
            while not out.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            if out.exists():
                time.sleep(0.2)  # dump_stats may still be writing
                report = io.StringIO()
                pstats.Stats(str(out), stream=report).sort_stats("tottime").print_stats(lines)
                info(f"profile of the server's main thread, {title} (CPU time, cProfile inflates calls):")
                print(report.getvalue().replace(str(ROOT) + "/", ""), flush=True)

    def stop(self) -> None:
        if self.log.closed:
            return
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()
        if not self.keep:
            shutil.rmtree(self.data, ignore_errors=True)

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc is not None and self.proc is not None:
            print(f"  [server log tail]\n{self.output()}", flush=True)
        self.stop()


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


# --- devices -------------------------------------------------------------------------------------


class Failed(Exception):
    pass


class RawHttp:
    """A minimal HTTP/1.1 keep-alive client over one asyncio connection, for the hot loops.

    httpx costs ~1.7 ms of client CPU per request on the reference box, more than the server
    spends on a one-message push; on a shared 2-core machine that would be measured as server
    latency. This client sends each request in one write (TCP_NODELAY) and reads
    Content-Length framed replies, which is all /api/sync answers (uncompressed) need."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in {"host": f"{host}:{port}", **headers}.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """One request; a connection the server closed while idle (uvicorn keeps them 5 s) is
        reopened and the request sent again (only used for idempotent requests)."""
        if self.writer is not None and time.monotonic() - self.used > 3.0:
            await self.close()
        for attempt in range(2):
            try:
                return await self._request(method, path, body, headers)
            except (asyncio.IncompleteReadError, ConnectionError):
                await self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _request(self, method: str, path: str, body: bytes, headers: dict[str, str] | None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert self.reader is not None
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        head = f"{method} {path} HTTP/1.1\r\n{self.fixed}{extra}content-length: {len(body)}\r\n\r\n"
        self.writer.write(head.encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                raise Failed("RawHttp reads Content-Length replies only")
        content = await self.reader.readexactly(length or 0)
        self.used = time.monotonic()
        return status, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = None


class Device:
    """One signed-in session (a device) speaking MessagePack to /api/sync over one keep-alive
    connection. Lighter than teamtalk_client.TeamTalkClient on purpose: it keeps cursors but no
    replica, so the client's own merge work does not weigh on the server's figures."""

    def __init__(self, base_url: str, gzip: bool = False) -> None:
        self.base_url = base_url
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        headers = {"accept-encoding": "gzip" if gzip else "identity"}
        self.http = httpx.AsyncClient(base_url=base_url, timeout=60.0, limits=limits, headers=headers)
        self.user_id = ""
        self.device_id = ""
        self.role = ""
        self.token = ""
        self.cursors: dict[str, int] = {}
        self.mids = itertools.count(1)
        self.clock: Clock | None = None
        self.csrf = ""
        self._raw: RawHttp | None = None

    async def close(self) -> None:
        if self._raw is not None:
            await self._raw.close()
        await self.http.aclose()

    async def _ensure_csrf(self) -> None:
        if not self.csrf:
            await self.http.get("/api/workspace")
            self.csrf = self.http.cookies["csrftoken"]

    async def post_json(self, path: str, body: dict[str, Any]) -> Any:
        await self._ensure_csrf()
        reply = await self.http.post(path, json=body, headers={"x-csrftoken": self.csrf})
        if reply.status_code >= 400:
            raise Failed(f"{path}: {reply.status_code} {reply.text}")
        return reply.json() if reply.content else None

    def _signed(self, session: dict[str, Any]) -> None:
        self.user_id = session["user"]["id"]
        self.role = session["user"]["role"]
        self.device_id = session["device"]
        self.token = str(self.http.cookies.get("tt_session", ""))
        self.clock = Clock(self.device_id)

    async def sign_up(self, name: str, email: str, invite: str | None = None) -> Device:
        body = {"name": name, "email": email, "password": PASSWORD, "invite": invite, "device_name": "bench"}
        self._signed(await self.post_json("/api/signup", body))
        return self

    async def sign_in(self, email: str) -> Device:
        self._signed(
            await self.post_json("/api/signin", {"email": email, "password": PASSWORD, "device_name": "bench"})
        )
        return self

    async def invite(self) -> str:
        token: str = (await self.post_json("/api/invites", {}))["token"]
        return token

    # --- sync -------------------------------------------------------------------------------

    def mutation(self, collection: str, record_id: str, fields: dict[str, Any]) -> Mutation:
        assert self.clock is not None
        return Mutation(
            mid=next(self.mids),
            collection=collection,
            id=record_id,
            fields=fields,
            hlc=self.clock.tick(int(time.time() * 1000)),
        )

    def message(self, channel: str, text: str) -> Mutation:
        return self.mutation("messages", ulid(), {"channel": channel, "text": text})

    def body(self, changes: Sequence[Mutation], limit: int = 1000, cursors: dict[str, int] | None = None) -> bytes:
        request = SyncRequest(
            v=PROTOCOL_VERSION, changes=list(changes), cursors=self.cursors if cursors is None else cursors, limit=limit
        )
        return _request_encoder.encode(request)

    def lean(self) -> RawHttp:
        """The RawHttp connection of this device (made on first use), carrying its cookies."""
        if self._raw is None:
            url = httpx.URL(self.base_url)
            cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
            self._raw = RawHttp(
                url.host,
                url.port or 80,
                {"cookie": cookie, "x-csrftoken": self.csrf, "content-type": MSGPACK, "accept": MSGPACK},
            )
        return self._raw

    async def post_sync(self, body: bytes) -> tuple[int, bytes]:
        """POST /api/sync over the lean connection: (status, body)."""
        await self._ensure_csrf()
        return await self.lean().request("POST", "/api/sync", body)

    async def sync_httpx(self, body: bytes) -> httpx.Response:
        """POST /api/sync through httpx (gzip if the device asked for it)."""
        await self._ensure_csrf()
        headers = {"x-csrftoken": self.csrf, "content-type": MSGPACK, "accept": MSGPACK}
        return await self.http.post("/api/sync", content=body, headers=headers)

    async def sync(
        self, changes: Sequence[Mutation] = (), limit: int = 1000, keep_cursors: bool = True
    ) -> SyncResponse:
        status, content = await self.post_sync(self.body(changes, limit))
        return self.check(status, content, keep_cursors)

    def check(self, status: int, content: bytes, keep_cursors: bool = True) -> SyncResponse:
        if status != 200:
            error = msgspec.json.decode(content, type=ErrorBody)
            raise Failed(f"sync: {status} {error.error}: {error.detail}")
        decoded = _response_decoder.decode(content)
        if decoded.rejections:
            raise Failed(f"sync: {len(decoded.rejections)} rejected, first: {decoded.rejections[0]}")
        if keep_cursors:
            self.cursors.update(decoded.cursors)
        return decoded

    async def pull_all(self, limit: int = 5000) -> int:
        """Sync until `more` is false; returns the number of changes received."""
        total = 0
        while True:
            reply = await self.sync(limit=limit)
            total += len(reply.changes)
            if not reply.more:
                return total

    async def channel_id(self, name: str) -> str:
        """The id of a channel by name, from a pull of the workspace scope."""
        reply = await self.sync(limit=5000, keep_cursors=False)
        for change in reply.changes:
            if change.collection == "channels" and change.fields.get("name") == name:
                return change.id
        raise KeyError(name)


async def workspace(base_url: str, people: int, gzip: bool = False) -> list[Device]:
    """The owner (first sign-up) and ``people - 1`` more accounts joined through invites."""
    owner = await Device(base_url, gzip).sign_up("Owner", "owner@example.com")
    devices = [owner]
    for i in range(1, people):
        token = await owner.invite()
        devices.append(await Device(base_url, gzip).sign_up(f"Person {i}", f"person{i}@example.com", token))
    return devices


# --- figures -----------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


#: Every target line, collected so run_all can print the summary.
RESULTS: list[tuple[str, str, bool]] = []


def verdict(label: str, value: float, target: float, unit: str, higher_is_better: bool) -> str:
    """`label: value unit  (target ≥/≤ t)  PASS/MISS ×ratio`; ratio > 1 means better than the target."""
    ratio = (value / target if higher_is_better else target / value) if value else float("inf")
    ok = value >= target if higher_is_better else value <= target
    sign = "≥" if higher_is_better else "≤"
    needs = "" if ok else f"; needs {1 / ratio:.2f}× better"
    line = (
        f"{label}: {fmt(value)} {unit}   target {sign} {fmt(target)} {unit}   "
        f"{'PASS' if ok else 'MISS'} ({ratio:.2f}× the target{needs})"
    )
    RESULTS.append((label, line, ok))
    print("  " + line, flush=True)
    return line


def fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if value < 1 else f"{value:.2f}"


def info(text: str) -> None:
    print("  " + text, flush=True)


def header(title: str) -> None:
    print(f"\n== {title}", flush=True)


@contextlib.contextmanager
def cpu_meter(server: Server) -> Iterator[dict[str, float]]:
    """Wall and CPU seconds spent inside the block: the server's, and its followers process's."""
    out: dict[str, float] = {}
    cpu0, children0, t0 = server.cpu(), server.children_cpu(), time.perf_counter()
    yield out
    out["wall"] = time.perf_counter() - t0
    out["server_cpu"] = server.cpu() - cpu0
    out["followers_cpu"] = server.children_cpu() - children0
