"""The push benchmark's receiver: a minimal HTTP/1.1 push service in its own process.

It answers every POST with 201 at once (keep-alive, Content-Length bodies) and notes when each
request's last byte arrived (CLOCK_MONOTONIC, the clock of the benchmark process too) with its
``Topic``. Commands on stdin, one JSON line each: {"cmd": "dump"} answers {"arrivals": [[ns,
topic], ...]} and forgets them; {"cmd": "quit"}. The first line it prints is its port.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

arrivals: list[tuple[int, str]] = []


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length, topic = 0, ""
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                key = name.strip().lower()
                if key == b"content-length":
                    length = int(value)
                elif key == b"topic":
                    topic = value.strip().decode()
            if length:
                await reader.readexactly(length)
            arrivals.append((time.perf_counter_ns(), topic))
            writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    except asyncio.CancelledError:  # "quit" with connections open: they end with the loop, quietly
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while line := await stdin.readline():
        command = json.loads(line)
        if command["cmd"] == "quit":
            break
        if command["cmd"] == "dump":
            print(json.dumps({"arrivals": arrivals}), flush=True)
            arrivals.clear()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
