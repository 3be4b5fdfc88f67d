"""The server's leg of the live path (issue 17), without the browsers: A's request in, B's frame out.

    .venv/bin/python -m bench.live_leg                  # TT_BENCH_LIVE messages (default 400)
    TT_BENCH_PROFILE=1 .venv/bin/python -m bench.live_leg   # and cProfile of the server's main thread
    TT_BENCH_TRACE=1 .venv/bin/python -m bench.live_leg     # and the server's steps (bench/trace_server.py)

In the browser bench (bench/browser_hotpath.py, TT_BENCH_TRACE=1) the step from A's request
reaching the server to B's frame leaving it is ~3 ms of B's ~14 ms, but two Chromiums share the
box with it, so a change to the server is lost in their noise there. This drives the same path
from one small asyncio client: Ada sends each message as the send worker does (one MessagePack
SyncRequest over GET /api/sync/socket, her cursors with it), Bob listens on /api/live
(MessagePack) in #general. Per message: the frame at Bob's socket and the answer at Ada's,
both from the moment Ada's frame was written (one monotonic clock), PAUSE_MS apart; and the
server's CPU per message, all its threads and the main (event loop) thread alone, from /proc.
The client's own costs are in the times (a few tens of microseconds a message): compare runs.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import time
from pathlib import Path

import msgspec
import websockets

from bench.browser_steps import pct
from bench.common import Server, header, info
from bench.device import Device
from sync_protocol.wire import PROTOCOL_VERSION, SyncRequest

MESSAGES = int(os.environ.get("TT_BENCH_LIVE", "400"))
TRACE = os.environ.get("TT_BENCH_TRACE") == "1"
PAUSE_MS = float(os.environ.get("TT_BENCH_PAUSE_MS", "20"))
WARMUP = 20

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder().decode


def _thread_cpu(pid: int) -> tuple[float, float]:
    """(all threads, the main thread) CPU seconds of ``pid``."""
    tick = os.sysconf("SC_CLK_TCK")

    def of(stat: Path) -> float:
        fields = stat.read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / tick

    return of(Path(f"/proc/{pid}/stat")), of(Path(f"/proc/{pid}/task/{pid}/stat"))


async def _run(server: Server) -> None:
    ada = await Device(server.base_url).sign_up("Ada", "ada@example.com")
    bob = await Device(server.base_url).sign_up("Bob", "bob@example.com", await ada.invite())
    general = await ada.channel_id("general")
    await ada.pull_all()
    await bob.pull_all()
    ws_url = server.base_url.replace("http://", "ws://")

    def cookie(device: Device) -> dict[str, str]:
        return {"cookie": "; ".join(f"{k}={v}" for k, v in device.http.cookies.items())}

    heard: dict[str, float] = {}
    waiting: dict[str, asyncio.Future[float]] = {}
    async with (
        websockets.connect(f"{ws_url}/api/live?format=msgpack", additional_headers=cookie(bob)) as live,
        websockets.connect(f"{ws_url}/api/sync/socket?device={ada.device_id}", additional_headers=cookie(ada)) as sync,
    ):

        async def listen() -> None:
            async for data in live:
                at = time.perf_counter()
                frame = _decode(data)
                for change in frame.get("changes", ()) if isinstance(frame, dict) else ():
                    text = change.get("fields", {}).get("text")
                    if isinstance(text, str):
                        heard[text] = at
                        if (future := waiting.pop(text, None)) is not None:
                            future.set_result(at)

        listener = asyncio.create_task(listen())
        to_b: list[float] = []
        to_reply: list[float] = []
        loop = asyncio.get_running_loop()
        cpu_before = (0.0, 0.0)
        followers_before = 0.0
        for i in range(WARMUP + MESSAGES):
            if i == WARMUP:
                cpu_before = _thread_cpu(server.pid)
                followers_before = server.children_cpu()
            text = f"hotpath-{i}"  # the label bench/trace_server.py notes
            request = SyncRequest(v=PROTOCOL_VERSION, changes=[ada.message(general, text)], cursors=ada.cursors)
            future: asyncio.Future[float] = loop.create_future()
            waiting[text] = future
            body = _encode(request)
            start = time.perf_counter()
            await sync.send(body)
            answer = _decode(await sync.recv())
            replied = time.perf_counter()
            assert answer["status"] == 200, answer
            ada.cursors.update(answer["body"]["cursors"])
            b_at = await asyncio.wait_for(future, 10)
            if i >= WARMUP:
                to_b.append((b_at - start) * 1000)
                to_reply.append((replied - start) * 1000)
            await asyncio.sleep(PAUSE_MS / 1000)
        cpu_after = _thread_cpu(server.pid)
        followers = (server.children_cpu() - followers_before) * 1e6 / MESSAGES
        listener.cancel()
    all_cpu, main_cpu = ((after - before) * 1e6 / MESSAGES for before, after in zip(cpu_before, cpu_after, strict=True))
    info(f"{MESSAGES} messages, one at a time, {PAUSE_MS:.0f} ms apart (after {WARMUP} unmeasured)")
    for name, values in (("A's frame -> B's live frame", to_b), ("A's frame -> A's answer", to_reply)):
        info(
            f"{name}: p50 {statistics.median(values):.2f} / p90 {pct(values, 0.9):.2f} / p99 {pct(values, 0.99):.2f} ms"
        )
    info(
        f"server CPU per message: {all_cpu:.0f} us all threads, {main_cpu:.0f} us the event loop's thread; "
        f"its followers process (search index, push sender) {followers:.0f} us"
    )
    await ada.close()
    await bob.close()


def _steps(trace: Path) -> str:
    """The p50 of each server step (bench/trace_server.py: the push decoded, its group committed and
    fanned out, B's frame handed to its socket, A's reply built), measured messages only."""
    at: dict[str, dict[str, float]] = {}
    for line in trace.read_text().splitlines():
        name, label, ms = line.split()
        if int(label.rsplit("-", 1)[1]) >= WARMUP:
            at.setdefault(name, {}).setdefault(label, float(ms))
    order = ["arrive", "commit", "sent", "reply"]
    parts = []
    for before, after in itertools.pairwise(order):
        gaps = [at[after][k] - t for k, t in at.get(before, {}).items() if k in at.get(after, {})]
        if gaps:
            parts.append(f"{before} -> {after} {statistics.median(gaps):.2f}")
    return "; ".join(parts)


def main() -> int:
    header("The server's leg of the live path: sync socket in, live frame out (issue 17)")
    server = Server("live-leg")
    trace = server.data / "trace.txt"
    if TRACE:
        server.launcher = ["-m", "bench.trace_server"]
        os.environ["TT_TRACE_OUT"] = str(trace)
    server.start()
    try:
        with server.profile("the live leg"):
            asyncio.run(_run(server))
        if TRACE:
            info(f"the server's steps (p50, ms): {_steps(trace)}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
