"""Bad input gets a clear 4xx naming the problem, and nothing of it is stored (invariant 8)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Person, Workspace, count_changes, wall_ms


def _message(person: Person, channel: str, **fields: Any) -> dict[str, Any]:
    return person.change("messages", "01BAD", {"channel": channel, "text": "hello", **fields})


@pytest.mark.parametrize(
    ("make_change", "status", "error", "field", "words"),
    [
        (
            lambda p, ch: _message(p, ch, author="01SOMEONEELSE"),
            400,
            "forged_field",
            "changes[1].fields.author",
            "set by the server",
        ),
        (lambda p, ch: _message(p, ch, n=1), 400, "forged_field", "changes[1].fields.n", "set by the server"),
        (
            lambda p, ch: p.change("polls", "01POLL", {"q": "?"}),
            400,
            "invalid_change",
            "changes[1].collection",
            "unknown collection 'polls'",
        ),
        (
            lambda p, ch: _message(p, ch, text=42),
            400,
            "invalid_change",
            "changes[1].fields.text",
            "expected str, got int",
        ),
        (
            lambda p, ch: _message(p, ch, deleted="yes"),
            400,
            "invalid_change",
            "changes[1].fields.deleted",
            "expected bool, got str",
        ),
        (
            lambda p, ch: _message(p, ch, text="x" * 10_001),
            400,
            "invalid_change",
            "changes[1].fields.text",
            "10001 characters; the limit is 10000",
        ),
        (
            lambda p, ch: _message(p, ch, colour="red"),
            400,
            "invalid_change",
            "changes[1].fields.colour",
            "have no field 'colour'",
        ),
        (
            lambda p, ch: {**_message(p, ch), "hlc": "yesterday"},
            400,
            "invalid_change",
            "changes[1].hlc",
            "not a hybrid logical clock",
        ),
        (
            lambda p, ch: {**_message(p, ch), "hlc": f"{wall_ms():013d}-00000-otherdevice"},
            400,
            "invalid_change",
            "changes[1].hlc",
            "names device 'otherdevice'",
        ),
        (lambda p, ch: {**_message(p, ch), "id": "../../etc"}, 400, "invalid_change", "changes[1].id", "ids are"),
        (
            lambda p, ch: {**_message(p, ch), "hlc": p.hlc(wall_ms() + 3_600_000)},
            409,
            "clock_ahead",
            "changes[1].hlc",
            "ahead of the server",
        ),
    ],
    ids=[
        "forged-author",
        "forged-number",
        "unknown-collection",
        "wrong-type",
        "bool-as-string",
        "oversized-text",
        "unknown-field",
        "garbled-clock",
        "someone-elses-clock",
        "bad-id",
        "clock-ahead",
    ],
)
def test_a_bad_change_fails_the_whole_push_naming_the_problem(
    workspace: Workspace, make_change: Any, status: int, error: str, field: str, words: str
) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    good = ada.change("messages", "01GOOD", {"channel": general, "text": "fine on its own"})
    before = count_changes(workspace)

    reply = ada.sync(good, make_change(ada, general))

    assert reply.status_code == status
    body = reply.json()
    assert body["error"] == error and body["field"] == field
    assert words in body["detail"]
    assert count_changes(workspace) == before, "nothing of a refused push may be stored"
    assert "01GOOD" not in ada.records("messages")


def test_clock_ahead_tells_the_device_the_server_time(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    body = ada.sync(
        ada.change(
            "messages", "01FAST", {"channel": general, "text": "from the future"}, hlc=ada.hlc(wall_ms() + 86_400_000)
        )
    ).json()
    assert abs(body["server_time"] - wall_ms()) < 5_000


def test_a_batch_over_the_limit_is_refused_whole(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    before = count_changes(workspace)
    changes = [ada.change("messages", f"01B{i:04d}", {"channel": general, "text": "x"}) for i in range(501)]

    reply = ada.sync(*changes)

    assert reply.status_code == 413
    assert reply.json() == {
        "error": "too_large",
        "field": "changes",
        "detail": "a push may carry at most 500 changes; this one has 501",
    }
    assert count_changes(workspace) == before


def test_a_body_over_two_mebibytes_is_refused(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    reply = ada.client.post(
        "/api/sync",
        content=b'{"v":1,"pad":"' + b"x" * (3 * 1024 * 1024) + b'"}',
        headers={**ada.csrf, "content-type": "application/json"},
    )
    assert reply.status_code == 413 and reply.json()["error"] == "too_large"


def test_an_old_client_is_told_to_update(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    reply = ada.sync(v=0)
    assert reply.status_code == 426
    assert reply.json()["error"] == "update_required" and "reload to update" in reply.json()["detail"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{not json", "malformed"),
        (b'{"v":1,"changes":"lots"}', "Expected `array`, got `str` - at `$.changes`"),
        (b'{"v":1,"changes":[{"mid":1}]}', "missing required field"),
    ],
)
def test_an_undecodable_body_is_a_400_naming_the_path(workspace: Workspace, body: bytes, words: str) -> None:
    ada = workspace.join("Ada")
    reply = ada.client.post("/api/sync", content=body, headers={**ada.csrf, "content-type": "application/json"})
    assert reply.status_code == 400
    assert reply.json()["error"] == "bad_request" and words in reply.json()["detail"]


def test_every_error_has_the_one_json_shape(workspace: Workspace) -> None:
    """The pinned error shape: {"error", "detail"} plus optional "field" and "server_time"."""
    ada = workspace.join("Ada")
    answers = [
        ada.client.post("/api/sync", json={"v": 1}),  # no CSRF header
        ada.client.get("/api/nothing-here"),
        ada.sync(v=99),
        workspace.client().post("/api/sync", json={"v": 1}, headers=ada.csrf),  # signed out, other cookie jar
    ]
    for reply in answers:
        body = reply.json()
        assert 400 <= reply.status_code < 500
        assert set(body) <= {"error", "detail", "field", "server_time"} and {"error", "detail"} <= set(body)
        assert isinstance(body["error"], str) and body["detail"]


def test_the_server_keeps_serving_after_bad_input(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    garbage_headers = {**ada.csrf, "content-type": "application/msgpack"}
    assert ada.client.post("/api/sync", content=b"\xff\x00garbage", headers=garbage_headers).status_code == 400
    reply = ada.sync(ada.change("messages", "01AFTER", {"channel": general, "text": "still here"}))
    assert reply.status_code == 200 and reply.json()["acks"]
