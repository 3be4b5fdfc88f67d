"""A keep-alive HTTP/1.1 connection that POSTs a push and reads the push service's answer.

The sender's requests are all alike (a POST with a small body, an answer that is mostly empty),
and http.client spent more CPU per push than the encryption (its email-parser headers, a
putheader call per header: bench 9's profile). This writes the request in one piece and reads
only what the sender needs: the status, ``Retry-After``, and how the body ends (Content-Length,
chunked, or the connection closing), so the connection can be reused.

``post_many`` pipelines (RFC 9112, 9.3): it writes several requests at once and reads the answers
in order, so a burst costs one write and a few reads instead of a round trip per push. A service
that closes the connection part way has answered only the first ones; the caller sends the rest
again (at least once: a request written but not answered may have been delivered).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Mapping, Sequence

MAX_HEAD = 64 * 1024
MAX_BODY = 1 << 20


class ProtocolError(OSError):
    """The push service's answer is not HTTP/1.x as expected; the connection is dropped."""


class Response:
    def __init__(self, status: int, headers: dict[str, str], will_close: bool) -> None:
        self.status = status
        self.headers = headers
        self.will_close = will_close

    def getheader(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Connection:
    def __init__(self, scheme: str, host: str, port: int | None, timeout_s: float) -> None:
        self.host = host
        self.port = port or (443 if scheme == "https" else 80)
        self.tls = scheme == "https"
        self.timeout_s = timeout_s
        self._sock: socket.socket | None = None
        self._buffer = b""
        authority = host if port is None else f"{host}:{port}"
        self._host_header = f"Host: {authority}\r\n".encode()
        #: The last headers encoded, and their encoding (``_request``).
        self._last_headers: Mapping[str, str] | None = None
        self._last_head = b""

    _context: ssl.SSLContext | None = None

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls:
            if Connection._context is None:
                Connection._context = ssl.create_default_context()
            sock = Connection._context.wrap_socket(sock, server_hostname=self.host)
        return sock

    def _request(self, path: str, body: bytes, headers: Mapping[str, str]) -> bytes:
        # A message's pushes to one service share their headers (the sender passes the same
        # mapping): encoded once, not once per push.
        if headers is not self._last_headers:
            self._last_headers = headers
            self._last_head = "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode("latin-1")
        return b"".join(
            (
                f"POST {path} HTTP/1.1\r\n".encode(),
                self._host_header,
                self._last_head,
                f"Content-Length: {len(body)}\r\n\r\n".encode(),
                body,
            )
        )

    def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> Response:
        if self._sock is None:
            self._sock = self._connect()
            self._buffer = b""
        self._sock.sendall(self._request(path, body, headers))
        try:
            return self._read_response()
        except ValueError as exc:  # a length that is not a number
            raise ProtocolError(f"malformed response: {exc}") from None

    def post_many(self, requests: Sequence[tuple[str, bytes, Mapping[str, str]]]) -> list[Response]:
        """Pipelined POSTs: the answers to the first requests, in order. Fewer than asked when
        the service closed the connection (or said it would) after those: the connection is then
        closed and the rest are unanswered. Raises OSError when not one was answered."""
        if self._sock is None:
            self._sock = self._connect()
            self._buffer = b""
        self._sock.sendall(b"".join(self._request(*request) for request in requests))
        answers: list[Response] = []
        try:
            while len(answers) < len(requests):
                answers.append(self._read_response())
                if answers[-1].will_close:
                    break
        except (OSError, ValueError) as exc:
            self.close()
            if not answers:
                raise exc if isinstance(exc, OSError) else ProtocolError(f"malformed response: {exc}") from None
            return answers
        if answers[-1].will_close:
            self.close()
        return answers

    def _recv(self) -> bytes:
        assert self._sock is not None
        data = self._sock.recv(65536)
        if not data:
            raise ProtocolError("the push service closed the connection")
        return data

    def _read_response(self) -> Response:
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            if len(self._buffer) > MAX_HEAD:
                raise ProtocolError("response head too large")
            self._buffer += self._recv()
        head, self._buffer = self._buffer[:end].decode("latin-1"), self._buffer[end + 4 :]
        status_line, *lines = head.split("\r\n")
        version, _, rest = status_line.partition(" ")
        if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
            raise ProtocolError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
        status = int(rest[:3])
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        will_close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
        if status in (204, 304) or 100 <= status < 200:
            return Response(status, headers, will_close)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._skip_chunked()
        elif "content-length" in headers:
            self._skip(int(headers["content-length"]))
        else:  # the body ends when the connection does
            will_close = True
        return Response(status, headers, will_close)

    def _skip(self, length: int) -> None:
        if length > MAX_BODY:
            raise ProtocolError("response body too large")
        while len(self._buffer) < length:
            self._buffer += self._recv()
        self._buffer = self._buffer[length:]

    def _skip_chunked(self) -> None:
        while True:
            while (end := self._buffer.find(b"\r\n")) < 0:
                self._buffer += self._recv()
            size = int(self._buffer[:end].split(b";")[0], 16)
            self._buffer = self._buffer[end + 2 :]
            if size == 0:  # trailers, then the empty line
                while (end := self._buffer.find(b"\r\n")) != 0:
                    if end > 0:
                        self._buffer = self._buffer[end + 2 :]
                    else:
                        self._buffer += self._recv()
                self._buffer = self._buffer[2:]
                return
            self._skip(size + 2)

    @property
    def closed(self) -> bool:
        return self._sock is None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self._buffer = b""
