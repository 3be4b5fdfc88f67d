"""Many live-channel clients in one process: `python -m bench.fleet` (driven by bench.live_fanout).

Each client is a bare asyncio Protocol speaking just enough WebSocket (RFC 6455) to open
/api/live?format=msgpack with a session cookie, answer pings and timestamp every frame the
moment its bytes arrive (time.perf_counter_ns = CLOCK_MONOTONIC, comparable across processes on
Linux). Frames are decoded only when asked for the results, so the receiving side does a few
microseconds of work per frame and is not what the benchmark measures. The `websockets`
library costs several times more per frame, which with 1,000 sockets on a shared 2-core box
would show up as server latency.

Protocol on stdin/stdout, one JSON object per line:
  {"cmd": "connect", "n": 100}           -> {"connected": total, "failed": k, "seconds": s}
  {"cmd": "reset"}                       -> {"ok": true}          (forget frames; start CPU meter)
  {"cmd": "dump", "t0": {message id: perf_counter_ns before its POST}}
                                          -> {"lat_us": {id: [µs per socket]}, "missing": n, ...}
  {"cmd": "quit"}
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import sys
import time
from typing import Any, cast

import msgspec

from sync_protocol.wire import Changes, live_msgpack_decoder

Frame = tuple[int, int, bytes]  # (client index, perf_counter_ns at arrival, payload)


class Fleet:
    def __init__(self, port: int, tokens: list[str]) -> None:
        self.port = port
        self.tokens = tokens
        self.clients: list[LiveClient] = []
        self.frames: list[Frame] = []
        self.cpu0 = 0.0
        self.wall0 = 0.0

    async def connect(self, n: int) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        start = time.perf_counter()
        fresh: list[LiveClient] = []
        gate = asyncio.Semaphore(50)

        async def one(index: int) -> None:
            client = LiveClient(self, index, self.tokens[index % len(self.tokens)], self.port)
            fresh.append(client)
            async with gate:
                with contextlib.suppress(OSError, TimeoutError):
                    await loop.create_connection(lambda: client, "127.0.0.1", self.port)
                    await asyncio.wait_for(client.hello.wait(), 30)

        base = len(self.clients)
        await asyncio.gather(*(one(base + i) for i in range(n)))
        self.clients.extend(fresh)
        failed = sum(1 for c in fresh if not c.hello.is_set() or c.closed)
        return {
            "connected": sum(1 for c in self.clients if c.hello.is_set() and not c.closed),
            "failed": failed,
            "seconds": time.perf_counter() - start,
        }

    def reset(self) -> dict[str, Any]:
        self.frames.clear()
        self.cpu0, self.wall0 = _cpu(), time.perf_counter()
        return {"ok": True}

    def dump(self, t0: dict[str, int]) -> dict[str, Any]:
        cpu, wall = _cpu() - self.cpu0, time.perf_counter() - self.wall0
        frames = len(self.frames)
        seen: dict[str, dict[int, int]] = {mid: {} for mid in t0}
        for index, arrived, payload in self.frames:
            try:
                frame = live_msgpack_decoder.decode(payload)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue
            if isinstance(frame, Changes):
                for change in frame.changes:
                    per_socket = seen.get(change.id)
                    if per_socket is not None and index not in per_socket:
                        per_socket[index] = arrived
        live = [c.index for c in self.clients if c.hello.is_set() and not c.closed]
        lat_us: dict[str, list[int]] = {}
        missing = 0
        for mid, per_socket in seen.items():
            lat_us[mid] = [(t - t0[mid]) // 1000 for t in per_socket.values()]
            missing += sum(1 for i in live if i not in per_socket)
        return {
            "lat_us": lat_us,
            "missing": missing,
            "sockets": len(live),
            "frames": frames,
            "cpu_s": cpu,
            "wall_s": wall,
            "closed": sum(1 for c in self.clients if c.closed),
        }

    def close(self) -> None:
        for client in self.clients:
            if client.transport is not None:
                client.transport.close()


def _cpu() -> float:
    times = os.times()
    return times.user + times.system


class LiveClient(asyncio.Protocol):
    def __init__(self, fleet: Fleet, index: int, token: str, port: int) -> None:
        self.fleet = fleet
        self.index = index
        self.token = token
        self.port = port
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.hello = asyncio.Event()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(
            f"GET /api/live?format=msgpack HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nCookie: tt_session={self.token}\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        arrived = time.perf_counter_ns()
        buf = self.buffer
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.closed = True
                assert self.transport is not None
                self.transport.close()
                return
            del buf[: end + 4]
            self.upgraded = True
        while len(buf) >= 2:
            opcode = buf[0] & 0x0F
            length = buf[1] & 0x7F
            offset = 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, offset = int.from_bytes(buf[2:4], "big"), 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, offset = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < offset + length:
                return
            payload = bytes(buf[offset : offset + length])
            del buf[: offset + length]
            if opcode == 2:
                self.fleet.frames.append((self.index, arrived, payload))
                self.hello.set()
            elif opcode == 9:
                self._send(0xA, payload)  # pong
            elif opcode == 8:
                self.closed = True

    def _send(self, opcode: int, payload: bytes) -> None:
        # Client frames must be masked; a zero mask leaves the payload as it is.
        assert len(payload) < 126 and self.transport is not None
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload), 0, 0, 0, 0]) + payload)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    config = json.loads(await reader.readline())
    fleet = Fleet(config["port"], config["tokens"])
    print(json.dumps({"ready": True}), flush=True)
    while line := await reader.readline():
        command = json.loads(line)
        if command["cmd"] == "connect":
            answer = await fleet.connect(command["n"])
        elif command["cmd"] == "reset":
            answer = fleet.reset()
        elif command["cmd"] == "dump":
            answer = fleet.dump(command["t0"])
        else:
            break
        print(json.dumps(answer), flush=True)
    fleet.close()


def run() -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())


if __name__ == "__main__":
    run()
