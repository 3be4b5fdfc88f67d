"""The server under test: ``python -m backend.cli serve`` in a subprocess on a free port with a
fresh data directory, and what a benchmark reads about it from /proc (memory, CPU time, the CPU
of its followers process).

The load generator and the server share one machine (on the reference box: 2 cores), so client
CPU is not free; each benchmark also reports the server's own CPU time per operation (from
/proc/<pid>/stat), which does not depend on the client.
"""

from __future__ import annotations

import contextlib
import io
import os
import pstats
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.report import info

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


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
        #: TT_BENCH_SERVER_SESSION=own starts the server in a session of its own, as a service runs.
        #: With the kernel's autogroups (kernel.sched_autogroup_enabled=1) a session is one
        #: scheduling group: by default the server shares the bench's (its Python, Playwright's
        #: driver) and competes with Chromium's and every other session's as one group's share.
        self.own_session = os.environ.get("TT_BENCH_SERVER_SESSION") == "own"

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
            cmd,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=self.own_session,
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

    def children(self) -> list[int]:
        """The pids of the server's child processes (the followers process: backend/followers/)."""
        tasks = Path(f"/proc/{self.pid}/task").iterdir()
        return [int(child) for task in tasks for child in (task / "children").read_text().split()]

    def children_cpu(self) -> float:
        """CPU of the server's live child processes."""
        total = 0.0
        for child in self.children():
            try:
                total += cpu_seconds(child)
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
                order = os.environ.get("TT_BENCH_PROFILE_SORT", "tottime")  # or "cumtime"
                pstats.Stats(str(out), stream=report).sort_stats(order).print_stats(lines)
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


@contextlib.contextmanager
def cpu_meter(server: Server) -> Iterator[dict[str, float]]:
    """Wall and CPU seconds spent inside the block: the server's, and its followers process's."""
    out: dict[str, float] = {}
    cpu0, children0, t0 = server.cpu(), server.children_cpu(), time.perf_counter()
    yield out
    out["wall"] = time.perf_counter() - t0
    out["server_cpu"] = server.cpu() - cpu0
    out["followers_cpu"] = server.children_cpu() - children0
