"""Docs checked by tests: the protocol doc names everything the code speaks, and the README's
quickstart stays exactly the two commands CI runs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from backend.http import accounts, files, push
from backend.http.live import live
from backend.http.sync import sync
from sync_protocol import wire

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = (ROOT / "sync_protocol" / "PROTOCOL.md").read_text()


def test_every_live_frame_is_documented() -> None:
    tags = {cls.__struct_config__.tag for cls in wire.LiveFrame.__args__}  # type: ignore[attr-defined]
    documented = set(re.findall(r"^\| `(\w+)`(?: / `(\w+)`)? \|", PROTOCOL, re.M))
    flat = {t for pair in documented for t in pair if t}
    assert tags <= flat, f"undocumented live frames: {tags - flat}"


def test_every_endpoint_is_documented() -> None:
    for handler in [sync, live, *accounts.ROUTES, *push.ROUTES, *files.ROUTES]:
        for path in handler.paths:
            shown = re.sub(r"\{(\w+):\w+\}", r"{\1}", path).replace("{device_id}", "{id}")
            assert shown in PROTOCOL, f"{path} is not in PROTOCOL.md"


def test_every_error_code_the_server_sends_is_documented() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "backend").rglob("*.py"))
    codes = set(re.findall(r'ApiError\(\s*\d{3},\s*"(\w+)"', source))
    codes |= set(re.findall(r'Rejected\(\s*"(\w+)"', source))
    codes |= set(re.findall(r'TusError\(\s*(?:\d{3}|tus\.\w+),\s*"(\w+)"', source))
    codes |= {"forbidden"}  # access._forbid
    missing = {c for c in codes if f"`{c}`" not in PROTOCOL}
    assert not missing, f"error codes missing from PROTOCOL.md: {sorted(missing)}"


def test_every_wire_struct_is_named_in_the_protocol_doc_or_its_fields_are() -> None:
    for struct in (wire.Mutation, wire.SyncRequest, wire.Change, wire.Rejection, wire.SyncResponse):
        for field in struct.__struct_fields__:
            assert f'"{field}"' in PROTOCOL or f"`{field}`" in PROTOCOL, f"{struct.__name__}.{field} undocumented"


def test_the_readme_quickstart_is_make_run_and_make_test() -> None:
    readme = (ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quickstart.strip().splitlines()]
    assert commands == ["make run", "make test"]


def test_make_lists_its_targets() -> None:
    out = subprocess.run(["make", "-s"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for target in ("run", "test", "lint", "bench", "check"):
        assert re.search(rf"make {target}\b", out), f"`make` does not list {target}"


def test_ci_runs_the_readme_test_command() -> None:
    """CI runs `make check`: the linters, then every prerequisite of the README's `make test`."""
    assert "make check" in (ROOT / ".ci" / "run").read_text().splitlines()
    makefile = (ROOT / "Makefile").read_text()
    check = next(line for line in makefile.splitlines() if line.startswith("check:"))
    assert " test " in check.split("##")[0] + " "
    assert "make test" in (ROOT / "README.md").read_text()
