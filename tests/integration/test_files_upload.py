"""Uploads over tus: a client we did not write (tuspy) and raw HTTP, dedup, digest checks,
resumption, ownership, limits before any byte (PROTOCOL.md, "Files")."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from tusclient import client as tus_client

from backend.settings import Settings
from tests.integration.conftest import Person, Workspace
from tests.integration.files_world import (
    TUS,
    UPLOADS,
    create,
    offset_of,
    partial_bytes,
    private_channel,
    real_server,
    send,
    sha256,
    share,
    signed_up,
    stored_blobs,
    upload,
    wait_for,
)


def _tuspy(person: Person, url: str) -> tus_client.TusClient:
    cookies = "; ".join(f"{name}={value}" for name, value in person.client.cookies.items())
    return tus_client.TusClient(f"{url}{UPLOADS}", headers={**person.csrf, "Cookie": cookies})


def test_tuspy_uploads_and_the_file_comes_back_byte_for_byte(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    source = tmp_path / "site.bin"
    source.write_bytes(data)
    with real_server(Settings(data_dir=tmp_path / "data", frontend_dir=tmp_path / "none")) as url:
        ann = signed_up(url, "Ann")
        channel = private_channel(ann)
        metadata = {"filename": "site.bin", "filetype": "application/octet-stream", "sha256": sha256(data)}
        uploader = _tuspy(ann, url).uploader(
            str(source), chunk_size=1024 * 1024, metadata={**metadata, "channel": channel}, upload_checksum=True
        )
        uploader.upload()
        assert uploader.offset == len(data)
        file_id, reply = share(ann, channel, data, "site.bin", "application/octet-stream")
        assert not reply["rejections"]
        got = ann.client.get(f"/api/files/{file_id}")
        assert got.status_code == 200 and got.content == data
        # Dedup through tuspy: a stored digest is complete at once; HEAD tells the client so.
        again = create(ann, channel, data)
        assert again.headers["upload-offset"] == str(len(data))
        resumed = _tuspy(ann, url).uploader(str(source), url=urlsplit(url).geturl() + again.headers["location"])
        assert resumed.offset == len(data)
        resumed.upload()  # nothing left to send


def test_raw_tus_options_create_patch_head(workspace: Workspace) -> None:
    ann = workspace.join("Ann")
    channel = private_channel(ann)
    options = ann.client.options(UPLOADS)
    assert options.status_code == 204
    assert options.headers["tus-version"] == "1.0.0"
    assert set(options.headers["tus-extension"].split(",")) == {"creation", "termination", "checksum"}
    assert int(options.headers["tus-max-size"]) == 1024**3
    data = os.urandom(100_000)
    created = create(ann, channel, data)
    assert created.status_code == 201 and created.headers["upload-offset"] == "0"
    location = created.headers["location"]
    assert offset_of(ann, location).headers["upload-offset"] == "0"
    assert send(ann, location, 0, data[:40_000]).headers["upload-offset"] == "40000"
    wrong = send(ann, location, 0, data[40_000:])
    assert wrong.status_code == 409 and wrong.headers["upload-offset"] == "40000"
    checksum = "sha256 " + base64.b64encode(hashlib.sha256(b"not these bytes").digest()).decode()
    refused = send(ann, location, 40_000, data[40_000:], **{"Upload-Checksum": checksum})
    assert refused.status_code == 460
    assert offset_of(ann, location).headers["upload-offset"] == "40000"  # the bad body was dropped
    good = "sha1 " + base64.b64encode(hashlib.sha1(data[40_000:]).digest()).decode()
    done = send(ann, location, 40_000, data[40_000:], **{"Upload-Checksum": good})
    assert done.status_code == 204 and done.headers["upload-offset"] == str(len(data))
    head = offset_of(ann, location)
    assert head.headers["upload-length"] == str(len(data)) and head.headers["cache-control"] == "no-store"
    assert not share(ann, channel, data, "x.bin", "application/octet-stream")[1]["rejections"]


def test_a_stored_digest_is_linked_at_once_whoever_uploaded_it(workspace: Workspace) -> None:
    ann, bob = workspace.join("Ann"), workspace.join("Bob")
    channel = private_channel(ann, bob)
    data = os.urandom(50_000)
    upload(ann, channel, data)
    blobs = len(stored_blobs(workspace.data_dir))
    again = create(bob, channel, data)
    assert again.status_code == 201 and again.headers["upload-offset"] == str(len(data))
    assert offset_of(bob, again.headers["location"]).headers["upload-offset"] == str(len(data))
    assert not share(bob, channel, data, "same.bin", "application/octet-stream")[1]["rejections"]
    assert len(stored_blobs(workspace.data_dir)) == blobs
    # Knowing a digest is not having uploaded it: Cat never sent (or announced) these bytes.
    cat = workspace.join("Cat")
    other = private_channel(cat)
    _, reply = share(cat, other, data, "stolen.bin", "application/octet-stream")
    assert reply["rejections"][0]["code"] == "not_stored"


def test_a_corrupted_upload_is_refused_and_nothing_is_stored(workspace: Workspace) -> None:
    ann = workspace.join("Ann")
    channel = private_channel(ann)
    data = os.urandom(64_000)
    created = create(ann, channel, data)
    location = created.headers["location"]
    corrupted = bytearray(data)
    corrupted[1000] ^= 0xFF
    answer = send(ann, location, 0, bytes(corrupted))
    assert answer.status_code == 460 and answer.json()["error"] == "digest_mismatch"
    assert stored_blobs(workspace.data_dir) == []
    assert partial_bytes(workspace.data_dir) == 0
    assert offset_of(ann, location).status_code == 404
    _, reply = share(ann, channel, data, "x.bin", "application/octet-stream")
    assert reply["rejections"][0]["code"] == "not_stored"


def test_an_interrupted_upload_resumes_from_its_offset(tmp_path: Path) -> None:
    """A connection cut mid-body keeps what arrived; HEAD says where to go on from."""
    data = os.urandom(2 * 1024 * 1024)
    with real_server(Settings(data_dir=tmp_path / "data", frontend_dir=tmp_path / "none")) as url:
        ann = signed_up(url, "Ann")
        channel = private_channel(ann)
        location = create(ann, channel, data).headers["location"]
        cookies = "; ".join(f"{k}={v}" for k, v in ann.client.cookies.items())
        host, port = urlsplit(url).hostname, urlsplit(url).port
        head = (
            f"PATCH {location} HTTP/1.1\r\nHost: {host}:{port}\r\nTus-Resumable: 1.0.0\r\n"
            f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
            f"Content-Length: {len(data)}\r\nCookie: {cookies}\r\nx-csrftoken: {ann.csrf['x-csrftoken']}\r\n\r\n"
        )
        with socket.create_connection((host, port)) as sock:  # type: ignore[arg-type]
            sock.sendall(head.encode() + data[:700_000])
            wait_for(lambda: partial_bytes(tmp_path / "data") >= 700_000)
        offset = wait_for(lambda: int(offset_of(ann, location).headers["upload-offset"]) or None)
        assert offset == 700_000
        done = send(ann, location, offset, data[offset:])
        assert done.status_code == 204 and done.headers["upload-offset"] == str(len(data)), done.text
        file_id, reply = share(ann, channel, data, "big.bin", "application/octet-stream")
        assert not reply["rejections"]
        assert ann.client.get(f"/api/files/{file_id}").content == data


def test_an_upload_belongs_to_the_device_that_created_it(workspace: Workspace) -> None:
    ann = workspace.join("Ann")
    laptop = workspace.another_device(ann)
    channel = private_channel(ann)
    data = os.urandom(10_000)
    location = create(ann, channel, data).headers["location"]
    send(ann, location, 0, data[:5000])
    assert offset_of(laptop, location).status_code == 404
    assert send(laptop, location, 5000, data[5000:]).status_code == 404
    assert laptop.client.delete(location, headers={**TUS, **laptop.csrf}).status_code == 404
    assert offset_of(ann, location).headers["upload-offset"] == "5000"
    assert ann.client.delete(location, headers={**TUS, **ann.csrf}).status_code == 204  # termination
    assert offset_of(ann, location).status_code == 404
    assert partial_bytes(workspace.data_dir) == 0


def test_size_and_quota_are_refused_before_any_byte(tmp_path: Path) -> None:
    from backend.app import create_app

    settings = Settings(data_dir=tmp_path, frontend_dir=tmp_path / "none", max_file_bytes=1000, quota_bytes=1500)
    ws = Workspace(create_app(settings), tmp_path)
    try:
        ann = ws.join("Ann")
        channel = private_channel(ann)
        too_big = create(ann, channel, b"x" * 1001)
        assert too_big.status_code == 413 and too_big.json()["error"] == "file_too_large"
        first = create(ann, channel, b"a" * 900)
        assert first.status_code == 201  # announced: the quota counts it from now on
        over = create(ann, channel, b"b" * 700)
        assert over.status_code == 413 and over.json()["error"] == "quota_exceeded"
        assert partial_bytes(tmp_path) == 0 and stored_blobs(tmp_path) == []
        assert ann.client.options(UPLOADS).headers["tus-max-size"] == "1000"
    finally:
        ws.close()


def test_an_upload_needs_a_channel_the_device_may_post_in(workspace: Workspace) -> None:
    ann, bob = workspace.join("Ann"), workspace.join("Bob")
    channel = private_channel(ann)
    assert create(bob, channel, b"data").status_code == 404
    assert create(bob, "no-such-channel", b"data").status_code == 404
    assert create(ann, channel, b"data", digest="abc").status_code == 400
    no_version = ann.client.post(UPLOADS, headers={**ann.csrf, "Upload-Length": "4"})
    assert no_version.status_code == 412 and no_version.headers["tus-version"] == "1.0.0"


def test_a_partial_upload_expires_after_a_day(workspace: Workspace) -> None:
    ann = workspace.join("Ann")
    channel = private_channel(ann)
    data = os.urandom(4000)
    location = create(ann, channel, data).headers["location"]
    send(ann, location, 0, data[:1000])
    files = workspace.app.state["services"].files
    import time

    day_later = int(time.time() * 1000) + 86_400_000 + 1000
    assert files.worker.collect(day_later)[0] == 1
    assert offset_of(ann, location).status_code == 404
    assert partial_bytes(workspace.data_dir) == 0


@pytest.mark.parametrize("name", ["evil\u202egnp.exe", "../../etc/passwd", "a\x00b\nc.txt"])
def test_a_file_name_is_display_data_only(workspace: Workspace, name: str) -> None:
    ann = workspace.join("Ann")
    channel = private_channel(ann)
    data = name.encode() + os.urandom(8)
    upload(ann, channel, data, name=name)
    file_id, _ = share(ann, channel, data, name, "application/octet-stream")
    disposition = ann.client.get(f"/api/files/{file_id}").headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "\u202e" not in disposition and "%E2%80%AE" not in disposition and "/" not in disposition.split(";", 1)[1]
    assert "\n" not in disposition and "\x00" not in disposition
