"""Search finds files by name on the server (issue 9): ``GET /api/files/search`` with the shared
syntax (sync_protocol/file_query.py; a device offline runs the same rules over its replica).
Only files the searcher may download are found."""

from __future__ import annotations

import os

from tests.integration.conftest import Workspace
from tests.integration.files_world import private_channel, upload_and_share


def _names(answer: dict[str, object]) -> list[str]:
    results = answer["results"]
    assert isinstance(results, list)
    return [str(hit["name"]) for hit in results]


def test_files_are_found_by_name_only_by_people_who_may_download_them(workspace: Workspace) -> None:
    ann, bob, cat = workspace.join("Ann"), workspace.join("Bob"), workspace.join("Cat")
    shared, private = private_channel(ann, bob), private_channel(ann)
    report = upload_and_share(ann, shared, os.urandom(4_000), "Inspection Report.pdf", "application/pdf")
    upload_and_share(bob, shared, os.urandom(4_000), "report draft.txt", "text/plain")
    upload_and_share(ann, shared, os.urandom(4_000), "gate.jpg", "image/jpeg")
    upload_and_share(ann, private, os.urandom(4_000), "secret report.pdf", "application/pdf")

    found = bob.client.get("/api/files/search", params={"q": "is:file report"})
    assert found.status_code == 200, found.text
    assert _names(found.json()) == ["report draft.txt", "Inspection Report.pdf"]  # newest first
    hit = found.json()["results"][1]
    assert hit["id"] == report and hit["channel"] == shared and hit["uploader"] == ann.user

    by_ann = bob.client.get("/api/files/search", params={"q": "report from:ann"}).json()
    assert _names(by_ann) == ["Inspection Report.pdf"]
    assert _names(ann.client.get("/api/files/search", params={"q": "secret"}).json()) == ["secret report.pdf"]
    assert _names(bob.client.get("/api/files/search", params={"q": "secret"}).json()) == []
    assert _names(cat.client.get("/api/files/search", params={"q": "report"}).json()) == []

    assert not ann.sync(ann.change("files", report, {"deleted": True})).json()["rejections"]
    assert _names(bob.client.get("/api/files/search", params={"q": "report"}).json()) == ["report draft.txt"]
