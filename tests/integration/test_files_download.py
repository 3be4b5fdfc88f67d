"""Downloads: ranges, who may see a file, and headers that keep uploaded HTML and SVG inert."""

from __future__ import annotations

import os

import pytest

from tests.integration.conftest import Workspace
from tests.integration.files_world import private_channel, share, upload_and_share

SANDBOX = "sandbox; default-src 'none'"


def test_ranges_return_the_right_bytes(workspace: Workspace) -> None:
    ann = workspace.join("Ann")
    channel = private_channel(ann)
    data = os.urandom(10_000)
    file_id = upload_and_share(ann, channel, data, "clip.mp4", "video/mp4")
    url = f"/api/files/{file_id}"

    def get(range_: str) -> tuple[int, bytes, str | None]:
        answer = ann.client.get(url, headers={"Range": range_})
        return answer.status_code, answer.content, answer.headers.get("content-range")

    assert get("bytes=0-99") == (206, data[:100], "bytes 0-99/10000")
    assert get("bytes=5000-5009") == (206, data[5000:5010], "bytes 5000-5009/10000")
    assert get("bytes=9990-") == (206, data[9990:], "bytes 9990-9999/10000")
    assert get("bytes=-300") == (206, data[-300:], "bytes 9700-9999/10000")
    assert get("bytes=9000-20000") == (206, data[9000:], "bytes 9000-9999/10000")
    assert get("bytes=10000-")[0::2] == (416, "bytes */10000")
    assert get("bytes=500-100")[0] == 416
    whole = ann.client.get(url)
    assert whole.status_code == 200 and whole.content == data and whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-disposition"].startswith("inline;")  # video plays in the page
    assert whole.headers["content-type"] == "video/mp4"
    assert "content-encoding" not in ann.client.get(url, headers={"Accept-Encoding": "gzip"}).headers


def test_a_non_member_gets_the_404_a_missing_file_gets(workspace: Workspace) -> None:
    ann, bob, eve = workspace.join("Ann"), workspace.join("Bob"), workspace.join("Eve")
    channel = private_channel(ann, bob)
    file_id = upload_and_share(ann, channel, b"%PDF-1.4 site report", "report.pdf", "application/pdf")
    assert bob.client.get(f"/api/files/{file_id}").status_code == 200
    for path in ("", "/preview", "/thumb/small", "/text"):
        refused = eve.client.get(f"/api/files/{file_id}{path}")
        missing = eve.client.get(f"/api/files/nosuchfile{path}")
        assert refused.status_code == missing.status_code == 404
        assert refused.json() == missing.json()
    # Deleting the file hides it for everyone, its uploader included.
    reply = ann.sync(ann.change("files", file_id, {"deleted": True}))
    assert not reply.json()["rejections"]
    assert ann.client.get(f"/api/files/{file_id}").status_code == 404
    assert bob.client.get(f"/api/files/{file_id}").status_code == 404


def test_deleting_the_message_hides_its_files(workspace: Workspace) -> None:
    ann, bob = workspace.join("Ann"), workspace.join("Bob")
    channel = private_channel(ann, bob)
    message = "m" + os.urandom(8).hex()
    file_id = upload_and_share(ann, channel, b"photo bytes", "a.jpg", "image/jpeg", message=message)
    ann.sync(ann.change("messages", message, {"channel": channel, "text": "the site"}))
    assert bob.client.get(f"/api/files/{file_id}").status_code == 200
    ann.sync(ann.change("messages", message, {"deleted": True}))
    assert bob.client.get(f"/api/files/{file_id}").status_code == 404


@pytest.mark.parametrize(
    ("name", "type_", "body"),
    [
        ("page.html", "text/html", b"<script>alert(document.cookie)</script>"),
        ("logo.svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("page.html", "image/png", b"<html><script>alert(1)</script></html>"),  # a lie about the type
    ],
)
def test_html_and_svg_are_attachments_in_a_sandbox(workspace: Workspace, name: str, type_: str, body: bytes) -> None:
    ann = workspace.join("Ann")
    channel = private_channel(ann)
    file_id = upload_and_share(ann, channel, body, name, type_)
    answer = ann.client.get(f"/api/files/{file_id}")
    assert answer.status_code == 200 and answer.content == body
    assert answer.headers["content-security-policy"] == SANDBOX
    assert answer.headers["x-content-type-options"] == "nosniff"
    if type_ != "image/png":
        assert answer.headers["content-disposition"].startswith("attachment;")
        assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers.get_list("content-security-policy") == [SANDBOX]  # not the app's CSP beside it
    forced = ann.client.get(f"/api/files/{file_id}?download=true")
    assert forced.headers["content-disposition"].startswith("attachment;")


def test_text_previews_are_the_first_lines_as_plain_text(workspace: Workspace) -> None:
    ann = workspace.join("Ann")
    channel = private_channel(ann)
    lines = "".join(f"<b>line {n}</b>\n" for n in range(1, 501)).encode()
    file_id = upload_and_share(ann, channel, lines, "notes.md", "text/markdown")
    answer = ann.client.get(f"/api/files/{file_id}/text")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    assert answer.text.count("\n") == 200 and answer.text.startswith("<b>line 1</b>")
    assert answer.headers["content-security-policy"] == SANDBOX


def test_a_file_record_without_its_bytes_is_refused(workspace: Workspace) -> None:
    ann = workspace.join("Ann")
    channel = private_channel(ann)
    _, reply = share(ann, channel, b"never uploaded", "x.txt", "text/plain")
    assert reply["rejections"][0]["code"] == "not_stored"
