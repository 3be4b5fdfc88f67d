"""Rules the server enforces that a client author reads in PROTOCOL.md (issue 8, protocol gaps).

Each rule is checked twice: the server keeps it, and the protocol doc says it.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.integration.conftest import Workspace, count_changes, wall_ms

PROTOCOL = (Path(__file__).resolve().parents[2] / "sync_protocol" / "PROTOCOL.md").read_text()


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_the_hlc_device_must_be_the_sessions_device(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    before = count_changes(workspace)
    change = ada.change(
        "messages", "01OTHER", {"channel": general, "text": "x"}, hlc=f"{wall_ms():013d}-00000-someoneelse"
    )

    reply = ada.sync(change)

    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_change" and reply.json()["field"] == "changes[0].hlc"
    assert count_changes(workspace) == before
    assert "The device part of a pushed change's HLC must equal the device id of the session" in _flat(PROTOCOL)


def test_a_push_whose_mids_decrease_is_refused_whole(workspace: Workspace) -> None:
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    first = ada.change("messages", "01LATER", {"channel": general, "text": "sent second"})
    second = ada.change("messages", "01EARLIER", {"channel": general, "text": "sent first"})
    before = count_changes(workspace)

    reply = ada.sync(second, first)  # mids 2, 1

    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_change" and reply.json()["field"] == "changes[1].mid"
    assert count_changes(workspace) == before
    assert "a push whose `mid`s do not strictly increase" in _flat(PROTOCOL)
    assert "refused whole with 400 `invalid_change`, `field` `changes[i].mid`" in _flat(PROTOCOL)


def test_the_integer_bound_is_documented() -> None:
    assert "within ±(2^53 − 1)" in _flat(PROTOCOL)


def test_an_id_with_a_trailing_newline_is_refused(workspace: Workspace) -> None:
    """Bug 5: ``$`` with ``.match`` accepted ``"01X\\n"`` and replicated it."""
    ada = workspace.join("Ada")
    general = ada.channel_named("general")
    before = count_changes(workspace)

    reply = ada.sync(ada.change("messages", "01NEWLINE\n", {"channel": general, "text": "x"}))

    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] == "invalid_change" and reply.json()["field"] == "changes[0].id"
    assert count_changes(workspace) == before
