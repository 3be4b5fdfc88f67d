"""Meetings in real Chromium, inside a private network namespace (TOOLCHAIN.md, WebRTC).

WebRTC gathers candidates on every interface; on this machine only loopback traffic is allowed,
so the meeting tests run in a namespace of their own (``unshare -n``: loopback plus an
address-less veth pair, so Chromium believes it is online). This test is the wrapper: it runs
tests/browser/meetings_in_netns.py in that namespace and fails with its output. Where
``unshare -n`` is not permitted (an unprivileged CI user without user namespaces) it skips and
says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INNER = Path(__file__).with_name("meetings_in_netns.py")
NETNS_SETUP = "ip link set lo up && ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up"


def in_private_netns(*command: str) -> list[str]:
    """``command`` run in a new network namespace with loopback and an address-less veth."""
    return ["unshare", "-n", "sh", "-c", f'{NETNS_SETUP} && exec "$@"', "netns", *command]


def netns_refusal() -> str | None:
    """Why a private network namespace cannot be made here, or None when it can."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip (util-linux, iproute2) is not installed"
    probe = subprocess.run(in_private_netns("true"), capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return f"`unshare -n` is not permitted for this user: {probe.stderr.strip()[:200]}"
    return None


def test_meetings_in_a_private_network_namespace() -> None:
    reason = netns_refusal()
    if reason is not None:
        pytest.skip(f"the meeting browser tests need a private network namespace: {reason}")
    result = subprocess.run(
        in_private_netns(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(INNER)),
        cwd=ROOT,
        env={**os.environ, "TEAMTALK_NETNS": "1"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"{result.stdout[-8000:]}\n{result.stderr[-3000:]}"
