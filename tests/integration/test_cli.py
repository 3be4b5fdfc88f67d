"""The `teamtalk` command reads like a polished tool: clear messages, exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def teamtalk(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_the_first_user_added_creates_the_workspace(tmp_path: Path) -> None:
    done = teamtalk(
        "user",
        "add",
        "--email",
        "ada@example.com",
        "--name",
        "Ada",
        "--password-stdin",
        "--data",
        str(tmp_path),
        stdin="correct horse\n",
    )
    assert done.returncode == 0, done.stderr
    assert "created the workspace; owner" in done.stdout

    second = teamtalk(
        "user",
        "add",
        "--email",
        "bob@example.com",
        "--name",
        "Bob",
        "--password-stdin",
        "--admin",
        "--data",
        str(tmp_path),
        stdin="correct horse\n",
    )
    assert second.returncode == 0 and "(admin)" in second.stdout


def test_a_duplicate_email_is_a_one_line_error(tmp_path: Path) -> None:
    args = ("user", "add", "--email", "ada@example.com", "--name", "Ada", "--password-stdin", "--data", str(tmp_path))
    teamtalk(*args, stdin="correct horse\n")
    again = teamtalk(*args, stdin="correct horse\n")
    assert again.returncode == 1
    assert again.stderr.strip() == "teamtalk: an account for ada@example.com already exists"


def test_a_short_password_is_explained_without_a_traceback(tmp_path: Path) -> None:
    done = teamtalk(
        "user",
        "add",
        "--email",
        "ada@example.com",
        "--name",
        "Ada",
        "--password-stdin",
        "--data",
        str(tmp_path),
        stdin="short\n",
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "a password is 8-200 characters" in done.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert teamtalk("user", "add", "--email", "a@b.c", "--name", "A", "--data", str(tmp_path)).returncode == 2
    assert teamtalk("frobnicate").returncode == 2
