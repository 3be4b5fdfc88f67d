"""Previews made by the worker that follows the feed, bombs that fail cleanly, and garbage
collection of bytes nothing refers to."""

from __future__ import annotations

import io
import os
import struct
import time
import zlib
from typing import Any

import pypdfium2 as pdfium
from PIL import ExifTags, Image

from tests.integration.conftest import Person, Workspace
from tests.integration.files_world import (
    private_channel,
    sha256,
    stored_blobs,
    upload,
    upload_and_share,
    wait_for,
)

GPS = ExifTags.IFD.GPSInfo


def photo_with_gps(width: int = 600, height: int = 400, orientation: int = 6) -> bytes:
    """A JPEG with EXIF orientation (6: turn 90 degrees clockwise to view) and a GPS position."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, width // 2, height))  # the left half blue: the turn shows
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "FieldCam"
    exif[GPS] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def bomb_png(side: int = 50_000) -> bytes:
    """A PNG that claims side x side pixels (2.5 gigapixels) in a few bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )


def preview(person: Person, file_id: str) -> Any:
    def done() -> Any:
        info = person.client.get(f"/api/files/{file_id}/preview").json()
        return info if info["state"] != "waiting" else None

    return wait_for(done)


def test_thumbnails_are_upright_and_carry_no_exif(workspace: Workspace) -> None:
    ann, bob = workspace.join("Ann"), workspace.join("Bob")
    channel = private_channel(ann, bob)
    original = photo_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS)  # the original has a position
    file_id = upload_and_share(ann, channel, original, "site.jpg", "image/jpeg")
    info = preview(bob, file_id)
    assert info == {"kind": "image", "state": "ready", "width": 400, "height": 600, "sizes": ["large", "small"]}
    for size, side in (("small", 320), ("large", 1280)):
        answer = bob.client.get(f"/api/files/{file_id}/thumb/{size}")
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
        thumb = Image.open(io.BytesIO(answer.content))
        assert max(thumb.size) == min(side, 600) and thumb.width < thumb.height  # turned upright
        assert thumb.getpixel((thumb.width // 2, 5))[2] > 150  # blue on top after the turn
        assert not thumb.getexif() and "exif" not in thumb.info
        assert b"FieldCam" not in answer.content and b"Exif" not in answer.content
    assert bob.client.get(f"/api/files/{file_id}").content == original  # the original is untouched


def test_a_pdf_gets_its_first_page_as_thumbnail(workspace: Workspace) -> None:
    ann = workspace.join("Ann")
    channel = private_channel(ann)
    document = pdfium.PdfDocument.new()
    document.new_page(595, 842)
    out = io.BytesIO()
    document.save(out)
    file_id = upload_and_share(ann, channel, out.getvalue(), "report.pdf", "application/pdf")
    info = preview(ann, file_id)
    assert info["state"] == "ready" and (info["width"], info["height"]) == (595, 842)
    thumb = Image.open(io.BytesIO(ann.client.get(f"/api/files/{file_id}/thumb/small").content))
    assert thumb.height == 320 and thumb.width < thumb.height


def test_a_huge_pdf_page_is_rendered_at_a_bounded_size(workspace: Workspace) -> None:
    """A page of 200 x 200 inches (PDF's largest, 14,400 points a side) at the PDF's own 72 dpi
    would be 200 megapixels at 4x: the worker renders it to fit the large size instead."""
    ann = workspace.join("Ann")
    channel = private_channel(ann)
    document = pdfium.PdfDocument.new()
    document.new_page(14_400, 14_400)
    out = io.BytesIO()
    document.save(out)
    file_id = upload_and_share(ann, channel, out.getvalue(), "poster.pdf", "application/pdf")
    assert preview(ann, file_id)["state"] == "ready"
    large = Image.open(io.BytesIO(ann.client.get(f"/api/files/{file_id}/thumb/large").content))
    assert max(large.size) <= 1280
    assert ann.client.get(f"/api/files/{file_id}").content == out.getvalue()
    assert workspace.app.state["services"].files.worker._thread.is_alive()


def test_a_bomb_fails_cleanly_the_worker_goes_on_and_the_file_stays_downloadable(workspace: Workspace) -> None:
    ann = workspace.join("Ann")
    channel = private_channel(ann)
    bomb = bomb_png()
    bomb_id = upload_and_share(ann, channel, bomb, "huge.png", "image/png")
    broken_id = upload_and_share(ann, channel, b"\xff\xd8 not really a jpeg", "broken.jpg", "image/jpeg")
    after_id = upload_and_share(ann, channel, photo_with_gps(orientation=1), "next.jpg", "image/jpeg")
    assert preview(ann, bomb_id)["state"] == "failed"
    assert preview(ann, broken_id)["state"] == "failed"
    assert preview(ann, after_id)["state"] == "ready"  # the worker kept going
    assert ann.client.get(f"/api/files/{bomb_id}/thumb/small").status_code == 404
    assert ann.client.get(f"/api/files/{bomb_id}").content == bomb
    assert workspace.app.state["services"].files.worker._thread.is_alive()


def test_unreferenced_bytes_are_collected_after_the_grace_period(workspace: Workspace) -> None:
    ann = workspace.join("Ann")
    channel = private_channel(ann)
    kept, dropped, orphan = os.urandom(3000), photo_with_gps(orientation=1), os.urandom(2000)
    kept_id = upload_and_share(ann, channel, kept, "kept.bin", "application/octet-stream")
    dropped_id = upload_and_share(ann, channel, dropped, "dropped.jpg", "image/jpeg")
    upload(ann, channel, orphan)  # uploaded, never shared
    preview(ann, dropped_id)
    ann.sync(ann.change("files", dropped_id, {"deleted": True}))
    names = {p.name for p in stored_blobs(workspace.data_dir)}
    assert {sha256(kept), sha256(dropped), sha256(orphan), f"{sha256(dropped)}.small"} <= names
    worker = workspace.app.state["services"].files.worker
    now = int(time.time() * 1000)
    assert worker.collect(now) == (0, 0)  # within the grace period nothing goes
    grace = workspace.app.state["services"].settings.blob_grace_s * 1000
    assert worker.collect(now + grace + 1000)[1] == 2
    assert {p.name for p in stored_blobs(workspace.data_dir)} == {sha256(kept)}
    assert ann.client.get(f"/api/files/{kept_id}").content == kept
    assert worker.collect(now + 2 * grace)[1] == 0  # referenced bytes are never collected


def test_channel_retention_expires_files_and_then_their_bytes(workspace: Workspace) -> None:
    from backend import retention

    ann = workspace.join("Ann")  # the owner: she may set retention
    channel = private_channel(ann)
    data = os.urandom(1000)
    file_id = upload_and_share(ann, channel, data, "old.bin", "application/octet-stream")
    reply = ann.sync(ann.change("channels", channel, {"retention_days": 1}))
    assert not reply.json()["rejections"]
    services = workspace.app.state["services"]
    now = int(time.time() * 1000)
    assert retention.expire_files(services.store, services.sync, now) == 0  # not a day old yet
    two_days = now + 2 * 86_400_000
    assert retention.expire_files(services.store, services.sync, two_days) == 1
    assert ann.client.get(f"/api/files/{file_id}").status_code == 404
    assert ann.records("files")[file_id]["deleted"] is True
    grace = services.settings.blob_grace_s * 1000
    assert services.files.worker.collect(two_days + grace)[1] == 1
    assert sha256(data) not in {p.name for p in stored_blobs(workspace.data_dir)}
