"""The archive lists files, and `--with-files` copies their bytes beside it, named by content."""

from __future__ import annotations

import os
from pathlib import Path

from backend.archive.files import files_dir
from tests.integration.archive.conftest import rows, teamtalk
from tests.integration.conftest import Workspace
from tests.integration.files_world import private_channel, sha256, upload_and_share


def test_the_archive_lists_files_and_can_carry_their_bytes(workspace: Workspace, tmp_path: Path) -> None:
    ann = workspace.join("Ann")
    channel = private_channel(ann)
    photo, notes = os.urandom(5000), b"minutes of the site visit\n"
    photo_id = upload_and_share(ann, channel, photo, "../site.jpg", "image/jpeg")
    upload_and_share(ann, channel, notes, "notes.txt", "text/plain")
    out = tmp_path / "archive.db"
    assert teamtalk("archive", "export", out, "--data", workspace.data_dir, "--with-files") == 0
    shared = rows(out, "SELECT created_utc FROM files")
    assert all(r["created_utc"] for r in shared)  # when each was shared (the "time")
    listed = rows(out, "SELECT id, name, size, type, sha256, author, channel FROM files ORDER BY size DESC")
    assert listed[0] == {
        "id": photo_id,
        "name": "../site.jpg",  # display data as shared; never used as a path
        "size": 5000,
        "type": "image/jpeg",
        "sha256": sha256(photo),
        "author": ann.user,
        "channel": channel,
    }
    assert listed[1]["sha256"] == sha256(notes)
    copied = files_dir(out)
    assert sorted(p.name for p in copied.iterdir()) == sorted([sha256(photo), sha256(notes)])
    assert (copied / sha256(photo)).read_bytes() == photo
