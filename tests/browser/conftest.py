"""Browser test harness: the real server on a free port, real Chromium, helpers in the product's words.

Each test gets a fresh server (its own temporary data directory), so workspaces never leak
between tests. Two browser contexts are two people (or two devices); `go_offline` is a field
worker losing signal.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Locator, Page, Playwright, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery"
TIMEOUT_MS = 15_000

expect.set_options(timeout=TIMEOUT_MS)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], deadline_s: float = 20.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before serving")
        try:
            with urllib.request.urlopen(f"{url}/api/workspace", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server did not answer GET /api/workspace within {deadline_s} s")


@pytest.fixture(scope="session", autouse=True)
def built_frontend() -> None:
    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        pytest.fail("frontend/dist is missing: run `make build` first")


@contextmanager
def serving(data: Path, *options: str) -> Iterator[str]:
    """A TeamTalk server on a free port over the data directory `data` (with extra `serve`
    options, e.g. --push-test-mode); yields its base URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    data.mkdir(parents=True, exist_ok=True)
    log = (data.parent / f"server-{port}.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backend.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data",
            str(data),
            *options,
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        _wait_until_serving(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A fresh TeamTalk server with an empty workspace; yields its base URL."""
    with serving(tmp_path / "data") as url:
        yield url


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
    yield browser
    browser.close()


@dataclass
class Person:
    """One teammate: a browser context (their device) and its open page."""

    name: str
    email: str
    context: BrowserContext
    page: Page
    errors: list[str]


#: Two teammates, and the factory that opens a device for one more.
Team = tuple[Person, Person]
OpenDevice = Callable[[str], Person]


@pytest.fixture
def people(browser: Browser, server: str) -> Iterator[Callable[[str], Person]]:
    """Factory: `people("Ada")` opens a new device (context + page) for a teammate."""
    opened: list[BrowserContext] = []

    def open_device(name: str) -> Person:
        context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 800}, locale="en-US")
        context.grant_permissions(["background-sync"], origin=server)
        opened.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        return Person(name, f"{name.lower()}@example.com", context, page, errors)

    yield open_device
    for context in opened:
        context.close()


@pytest.fixture
def team(people: OpenDevice) -> Team:
    """Ada owns the workspace; Bob joined through her invite link. Both see #general."""
    ada = people("Ada")
    sign_up(ada.page, "Ada Lovelace", ada.email)
    token = invite_link(ada.page)
    bob = people("Bob")
    sign_up(bob.page, "Bob Babbage", bob.email, invite=token)
    expect(channel_link(bob.page, "general")).to_be_visible()
    return ada, bob


# --- helpers in the product's language ---------------------------------------------------------


def sign_up(page: Page, name: str, email: str, password: str = PASSWORD, invite: str | None = None) -> None:
    page.goto(f"/?invite={invite}" if invite else "/")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    wait_until_synced(page)


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_until_synced(page)


def channel_link(page: Page, name: str) -> Locator:
    """The channel's own link, whose name starts with the channel's (a Join beside it names the
    channel later: "Join the meeting in general")."""
    return page.get_by_role("navigation", name="Channels").get_by_role("link", name=re.compile(rf"^{re.escape(name)}"))


def open_channel(page: Page, name: str) -> None:
    channel_link(page, name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()


def send_message(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    page.get_by_role("button", name="Send").click()
    expect(box).to_have_value("")


def message_list(page: Page) -> Locator:
    return page.get_by_role("log").get_by_role("listitem")


def message_texts(page: Page) -> list[str]:
    return page.get_by_role("log").locator(".msg__text").all_inner_texts()


def go_offline(context: BrowserContext) -> None:
    context.set_offline(True)


def go_online(context: BrowserContext) -> None:
    context.set_offline(False)


def connection_status(page: Page) -> Locator:
    return page.get_by_role("status")


def wait_until_synced(page: Page) -> None:
    """The connection reads Online and nothing waits in the outbox."""
    status = connection_status(page)
    expect(status).to_have_text("Online")
    expect(status).to_have_attribute("data-pending", "0")


def until(page: Page, expression: str, timeout_ms: int = TIMEOUT_MS) -> None:
    """Wait until a JS expression is truthy in the page. (Playwright's wait_for_function polls with
    eval(), which the app's CSP rightly refuses; page.evaluate goes through DevTools.)"""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(f"async () => Boolean(await ({expression}))"):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_ms} ms: {expression}")
        page.wait_for_timeout(25)


def invite_link(page: Page) -> str:
    """The owner makes an invite through the API, with their cookies and CSRF header."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    response = page.request.post(
        "/api/invites",
        data=json.dumps({}),
        headers={"content-type": "application/json", "x-csrftoken": cookies["csrftoken"]},
    )
    assert response.status == 201, response.text()
    return str(response.json()["token"])


def axe_violations(page: Page) -> list[dict[str, object]]:
    # The strict CSP refuses <script> tags we would add; evaluating through DevTools is allowed.
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        "async () => (await axe.run(document)).violations.map(v => ({id: v.id, impact: v.impact,"
        " help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return list(result)


def record_dialogs(*pages: Page) -> list[str]:
    """Every alert/confirm/prompt these pages open (dismissed at once): user content must open none."""
    opened: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    for page in pages:
        page.on("dialog", on_dialog)
    return opened
