"""Each sending thread's keep-alive connections to the push services (sender.py, Rule 5).

A thread keeps one ``http1.Connection`` per push service (origin) and reuses it for the
service's next pushes. A kept-alive connection the service closed meanwhile fails on the next
write or read: the request (or the pipeline) goes once more on a fresh connection, and a second
failure is the caller's (it retries with backoff: sender.py, Rule 2).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from backend.push import http1

#: (scheme, host, port) of a push service.
Origin = tuple[str, str, int | None]
Request = tuple[str, bytes, Mapping[str, str]]


class Connections:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._local = threading.local()

    def _mine(self) -> dict[Origin, http1.Connection]:
        """The calling thread's connections, by origin."""
        found: dict[Origin, http1.Connection] = self._local.__dict__.setdefault("connections", {})
        return found

    def _open(self, origin: Origin) -> http1.Connection:
        mine = self._mine()
        conn = mine.get(origin)
        if conn is None:
            conn = mine[origin] = http1.Connection(*origin, timeout_s=self.timeout_s)
        return conn

    def _drop(self, origin: Origin) -> None:
        conn = self._mine().pop(origin, None)
        if conn is not None:
            conn.close()

    def post_many(self, origin: Origin, requests: Sequence[Request]) -> list[http1.Response]:
        """A pipeline to one push service (``http1.Connection.post_many``): the answers to the
        first requests, in order; fewer when the service closed the connection after those."""
        for attempt in (1, 2):
            conn = self._open(origin)
            try:
                responses = conn.post_many(requests)
            except OSError:
                self._drop(origin)
                if attempt == 2:
                    raise
                continue
            if conn.closed:
                self._drop(origin)
            return responses
        raise AssertionError("unreachable")

    def post(self, origin: Origin, path: str, body: bytes, headers: Mapping[str, str]) -> http1.Response:
        """One push, and its answer."""
        for attempt in (1, 2):
            conn = self._open(origin)
            try:
                response = conn.post(path, body, headers)
            except OSError:
                self._drop(origin)
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                self._drop(origin)
            return response
        raise AssertionError("unreachable")
