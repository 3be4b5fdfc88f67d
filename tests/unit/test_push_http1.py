"""The push sender's HTTP/1.1 client (backend/push/http1.py) against a real socket that answers
the ways push services do: empty 201s on one kept-alive connection, a chunked error body, a
body that ends with the connection, and a 429 with Retry-After."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from backend.push import http1

ANSWERS = [
    b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 201 Created\r\nLocation: /m/1\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nbad \r\n3\r\nkey\r\n0\r\nX-T: 1\r\n\r\n",
    b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.0 500 Oops\r\n\r\nthe body ends with the connection",
]


@pytest.fixture
def service() -> Iterator[tuple[int, list[bytes]]]:
    """Reads requests on one connection after another and answers ANSWERS in turn."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []
    answers = list(ANSWERS)

    def serve() -> None:
        while answers:
            conn, _ = listener.accept()
            buffer = b""
            with conn:
                while answers:
                    while b"\r\n\r\n" not in buffer:
                        data = conn.recv(65536)
                        if not data:
                            break
                        buffer += data
                    if b"\r\n\r\n" not in buffer:
                        break
                    head, _, buffer = buffer.partition(b"\r\n\r\n")
                    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                    while len(buffer) < length:
                        buffer += conn.recv(65536)
                    received.append(head + b"\r\n\r\n" + buffer[:length])
                    buffer = buffer[length:]
                    answer = answers.pop(0)
                    conn.sendall(answer)
                    if answer.startswith(b"HTTP/1.0"):
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], received
    listener.close()
    thread.join(timeout=5)


def test_answers_are_read_whole_so_the_connection_is_reused(service: tuple[int, list[bytes]]) -> None:
    port, received = service
    conn = http1.Connection("http", "127.0.0.1", port, timeout_s=5)
    statuses = []
    for i in range(len(ANSWERS)):
        response = conn.post(f"/p/{i}", b"\x00body", {"TTL": "60", "Topic": "t"})
        statuses.append((response.status, response.getheader("retry-after"), response.will_close))
    conn.close()
    assert statuses == [
        (201, None, False),
        (201, None, False),
        (400, None, False),
        (429, "7", False),
        (500, None, True),
    ]
    assert received[0].startswith(b"POST /p/0 HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nTTL: 60\r\nTopic: t\r\nContent-Length: 5\r\n\r\n\x00body" in received[0]


def test_a_closed_connection_is_an_os_error() -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def close_at_once() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.close()

    thread = threading.Thread(target=close_at_once, daemon=True)
    thread.start()
    conn = http1.Connection("http", "127.0.0.1", listener.getsockname()[1], timeout_s=5)
    with pytest.raises(OSError):
        conn.post("/p", b"x", {})
    conn.close()
    listener.close()
    thread.join(timeout=5)


def test_pipelined_posts_are_answered_in_order_and_a_close_part_way_leaves_the_rest_unanswered() -> None:
    """Three requests written at once; the service answers two, the second with Connection:
    close: the third is unanswered (the sender sends it again), and the connection is closed."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def answer_two() -> None:
        conn, _ = listener.accept()
        with conn:
            buffer = b""
            while buffer.count(b"Content-Length: 1\r\n\r\nx") < 3:
                buffer += conn.recv(65536)
            received.append(buffer)
            conn.sendall(
                b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
                b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
            )

    thread = threading.Thread(target=answer_two, daemon=True)
    thread.start()
    conn = http1.Connection("http", "127.0.0.1", listener.getsockname()[1], timeout_s=5)
    answers = conn.post_many([(f"/p/{i}", b"x", {"Topic": f"t{i}"}) for i in range(3)])
    assert [(a.status, a.getheader("retry-after")) for a in answers] == [(201, None), (429, "3")]
    assert conn.closed
    assert [received[0].count(f"POST /p/{i} HTTP/1.1".encode()) for i in range(3)] == [1, 1, 1]
    listener.close()
    thread.join(timeout=5)
