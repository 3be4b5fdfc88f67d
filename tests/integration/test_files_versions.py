"""Versions of a file (issue 9): a new version is a new files record whose ``version_of`` names
the first version; every version stays listed (it syncs) and downloadable, byte for byte."""

from __future__ import annotations

import os

from tests.integration.conftest import Workspace
from tests.integration.files_world import private_channel, share, upload, upload_and_share


def test_a_new_version_keeps_the_earlier_ones_downloadable(workspace: Workspace) -> None:
    ann, bob = workspace.join("Ann"), workspace.join("Bob")
    channel = private_channel(ann, bob)
    first, second, third = os.urandom(20_000), os.urandom(30_000), os.urandom(10_000)
    v1 = upload_and_share(ann, channel, first, "plan.pdf", "application/pdf")
    v2 = upload_and_share(bob, channel, second, "plan.pdf", "application/pdf", version_of=v1)
    v3 = upload_and_share(ann, channel, third, "plan (final).pdf", "application/pdf", version_of=v1)

    records = {r["id"]: r["fields"] for r in bob.pull()["changes"] if r["collection"] == "files"}
    assert {v1, v2, v3} <= records.keys()
    assert records[v2]["version_of"] == v1 and records[v3]["version_of"] == v1
    assert "version_of" not in records[v1]
    for file_id, data in ((v1, first), (v2, second), (v3, third)):
        got = bob.client.get(f"/api/files/{file_id}")
        assert got.status_code == 200 and got.content == data


def test_a_version_names_the_first_version_of_a_live_file_in_the_same_channel(workspace: Workspace) -> None:
    ann = workspace.join("Ann")
    channel, elsewhere = private_channel(ann), private_channel(ann)
    v1 = upload_and_share(ann, channel, os.urandom(5_000), "a.txt", "text/plain")
    v2 = upload_and_share(ann, channel, os.urandom(5_000), "a.txt", "text/plain", version_of=v1)

    data = os.urandom(5_000)
    upload(ann, channel, data)
    _, of_a_version = share(ann, channel, data, "a.txt", "text/plain", version_of=v2)
    assert of_a_version["rejections"][0]["code"] == "invalid"
    upload(ann, elsewhere, data)
    _, other_channel = share(ann, elsewhere, data, "a.txt", "text/plain", version_of=v1)
    assert other_channel["rejections"][0]["code"] == "not_found"

    assert not ann.sync(ann.change("files", v1, {"deleted": True})).json()["rejections"]
    _, of_deleted = share(ann, channel, data, "a.txt", "text/plain", version_of=v1)
    assert of_deleted["rejections"][0]["code"] == "not_found"
