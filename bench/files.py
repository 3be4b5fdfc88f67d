"""Benchmark: files (issue 9). A 200 MB upload over tus and its download over loopback, with the
server's RSS growth during each (it streams: it must not buffer the file), the dedup hit of the
same 200 MB (creation answers complete once the hash is known), the thumbnails of a
12-megapixel JPEG (the worker's preview function, in this process), and the SHA-256 of 200 MB
in the PWA's hashing worker in Chromium (bench/files_hashing.py).

    .venv/bin/python -m bench.run_all files
    FILES_MB=50 .venv/bin/python -m bench.run_all files     # a smaller file on a slow disk

Targets: ≥ 150 MB/s each way, RSS growth ≤ 30 MB, a 12 MP thumbnail ≤ 300 ms, a dedup hit
≤ 50 ms, device hashing ≥ 300 MB/s.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import statistics
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

from PIL import Image

from backend.files import previews
from bench import files_hashing
from bench.common import Device, Server, header, info, median, percentile, verdict, workspace

SIZE = int(os.environ.get("FILES_MB", "200")) * 1024 * 1024
CHUNK = 1024 * 1024
PATCH_BYTES = 64 * 1024 * 1024
UPLOADS = "/api/files/uploads"


def _metadata(values: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


class RssWatch:
    """The server's peak RSS while a transfer runs (sampled every 20 ms)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.start = server.rss_mb()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.server.rss_mb())

    def __enter__(self) -> RssWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> float:
        return self.peak - self.start


def _source(seed: bytes) -> tuple[Path, str]:
    """SIZE pseudo-random bytes on disk, and their SHA-256."""
    path = Path(tempfile.mkstemp(prefix="teamtalk-bench-file-")[1])
    hasher = hashlib.sha256()
    block = hashlib.sha256(seed).digest() * (CHUNK // 32)
    with path.open("wb") as out:
        for i in range(SIZE // CHUNK):
            chunk = bytes([i % 251]) + block[1:]
            hasher.update(chunk)
            out.write(chunk)
    return path, hasher.hexdigest()


async def _read(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    with path.open("rb") as source:
        source.seek(start)
        left = length
        while left > 0:
            chunk = source.read(min(CHUNK, left))
            left -= len(chunk)
            yield chunk


async def _create(device: Device, channel: str, digest: str) -> tuple[int, dict[str, str]]:
    headers = {
        "Tus-Resumable": "1.0.0",
        "x-csrftoken": device.csrf,
        "Upload-Length": str(SIZE),
        "Upload-Metadata": _metadata({"filename": "big.bin", "sha256": digest, "channel": channel}),
    }
    answer = await device.http.post(UPLOADS, headers=headers)
    return answer.status_code, dict(answer.headers)


async def _upload(device: Device, channel: str, path: Path, digest: str) -> None:
    status, headers = await _create(device, channel, digest)
    assert status == 201, status
    location = headers["location"]
    offset = 0
    while offset < SIZE:
        length = min(PATCH_BYTES, SIZE - offset)
        answer = await device.http.patch(
            location,
            content=_read(path, offset, length),
            headers={
                "Tus-Resumable": "1.0.0",
                "x-csrftoken": device.csrf,
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(length),
                "Upload-Offset": str(offset),
            },
        )
        assert answer.status_code == 204, answer.text
        offset = int(answer.headers["upload-offset"])


async def _share(device: Device, channel: str, digest: str) -> str:
    file_id = f"bench{os.urandom(6).hex()}"
    fields = {"channel": channel, "name": "big.bin", "size": SIZE, "type": "application/octet-stream", "digest": digest}
    reply = await device.sync([device.mutation("files", file_id, fields)])
    assert not reply.rejections, reply.rejections
    return file_id


async def _download(device: Device, file_id: str) -> int:
    received = 0
    async with device.http.stream("GET", f"/api/files/{file_id}") as answer:
        assert answer.status_code == 200
        async for chunk in answer.aiter_raw():
            received += len(chunk)
    return received


def _thumbnail_times(rounds: int = 5) -> list[float]:
    image = Image.effect_noise((4000, 3000), 60).convert("RGB")  # 12 MP, noise: JPEG's worst case
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    path = Path(tempfile.mkstemp(prefix="teamtalk-bench-12mp-", suffix=".jpg")[1])
    path.write_bytes(out.getvalue())
    times = []
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            previews.image_thumbnails(path)
            times.append((time.perf_counter() - started) * 1000)
    finally:
        path.unlink()
    return times


async def run() -> None:
    header(f"files: a {SIZE // 2**20} MB upload and download, dedup, 12 MP thumbnails")
    path, digest = await asyncio.to_thread(_source, b"teamtalk")
    mb = SIZE / 2**20
    try:
        with Server("files") as server:
            (owner,) = await workspace(server.base_url, 1)
            channel = await owner.channel_id("general")
            with RssWatch(server) as up:
                started = time.perf_counter()
                await _upload(owner, channel, path, digest)
                up_s = time.perf_counter() - started
            file_id = await _share(owner, channel, digest)
            with RssWatch(server) as down:
                started = time.perf_counter()
                assert await _download(owner, file_id) == SIZE
                down_s = time.perf_counter() - started
            hits = []
            for _ in range(20):
                started = time.perf_counter()
                status, headers = await _create(owner, channel, digest)
                hits.append((time.perf_counter() - started) * 1000)
                assert status == 201 and headers["upload-offset"] == str(SIZE)
            await owner.close()
        info(f"upload {mb:.0f} MB in {up_s:.2f} s (64 MB PATCHes; the server hashes as it writes and fsyncs each)")
        verdict("files upload", mb / up_s, 150, "MB/s", higher_is_better=True)
        verdict("files server RSS growth during upload", up.growth, 30, "MB", higher_is_better=False)
        verdict("files download", mb / down_s, 150, "MB/s", higher_is_better=True)
        verdict("files server RSS growth during download", down.growth, 30, "MB", higher_is_better=False)
        info(f"dedup hit: median {median(hits):.1f} ms, p95 {percentile(hits, 95):.1f} ms over {len(hits)}")
        verdict("files dedup hit (200 MB known)", median(hits), 50, "ms", higher_is_better=False)
    finally:
        path.unlink(missing_ok=True)
    times = await asyncio.to_thread(_thumbnail_times)
    info(
        f"12 MP JPEG thumbnails (2 sizes): {', '.join(f'{t:.0f}' for t in times)} ms; mean {statistics.mean(times):.0f}"
    )
    verdict("files 12 MP thumbnail", median(times), 300, "ms", higher_is_better=False)
    await files_hashing.run()
