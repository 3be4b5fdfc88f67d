"""The installable shell: service worker updates, tabs sharing one replica, background sync."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import (
    ROOT,
    OpenDevice,
    Team,
    _free_port,
    _wait_until_serving,
    channel_link,
    go_offline,
    go_online,
    message_list,
    open_channel,
    send_message,
    sign_up,
    until,
    wait_until_synced,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def deployable(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A server whose web app is a private copy of frontend/dist, so a test can 'deploy' a new version."""
    dist = tmp_path / "dist"
    shutil.copytree(ROOT / "frontend" / "dist", dist)
    port = _free_port()
    code = (
        "import sys, uvicorn; from pathlib import Path; from backend.app import create_app; "
        "from backend.settings import Settings; "
        "uvicorn.run(create_app(Settings(data_dir=Path(sys.argv[1]), frontend_dir=Path(sys.argv[2]))), "
        "host='127.0.0.1', port=int(sys.argv[3]), log_level='warning')"
    )
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "data"), str(dist), str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process)
        yield url, dist
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_a_new_version_waits_for_the_user_then_reloads_into_it(browser: Browser, deployable: tuple[str, Path]) -> None:
    url, dist = deployable
    context = browser.new_context(base_url=url)
    page = context.new_page()
    sign_up(page, "Ada Lovelace", "ada@example.com")
    until(page, "navigator.serviceWorker.controller !== null")
    old_caches = page.evaluate("caches.keys()")

    [old_cache] = old_caches
    version = old_cache.removeprefix("teamtalk-shell-")
    sw = dist / "sw.js"  # a deploy: same shell, new version
    sw.write_text(sw.read_text(encoding="utf-8").replace(version, "deployed-again"), encoding="utf-8")
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")

    banner = page.get_by_text("A new version of TeamTalk is available.")
    expect(banner).to_be_visible()
    with page.expect_event("load"):
        page.get_by_role("button", name="Reload").click()
    wait_until_synced(page)
    expect(banner).to_have_count(0)
    new_caches = page.evaluate("caches.keys()")
    assert new_caches == ["teamtalk-shell-deployed-again"], "the old version's cache is gone"
    context.close()


def test_tabs_share_one_replica_and_one_sync_leader(people: OpenDevice) -> None:
    ada = people("Ada")
    sign_up(ada.page, "Ada Lovelace", ada.email)
    second = ada.context.new_page()
    second.goto("/")
    wait_until_synced(second)
    open_channel(second, "general")
    open_channel(ada.page, "general")

    send_message(second, "from the second tab")
    wait_until_synced(second)
    expect(message_list(ada.page).filter(has_text="from the second tab")).to_have_count(1)
    leaders = [p.evaluate("teamtalk.app.engine !== null") for p in (ada.page, second)]
    assert sorted(leaders) == [False, True]


def test_writing_offline_asks_for_background_sync(people: OpenDevice) -> None:
    ada = people("Ada")
    sign_up(ada.page, "Ada Lovelace", ada.email)
    open_channel(ada.page, "general")
    until(ada.page, "navigator.serviceWorker.controller !== null")
    go_offline(ada.context)
    send_message(ada.page, "queued for background sync")
    tags = "navigator.serviceWorker.ready.then(r => r.sync.getTags())"
    until(ada.page, f"{tags}.then(t => t.includes('outbox'))")
    go_online(ada.context)
    wait_until_synced(ada.page)
    expect(channel_link(ada.page, "general")).to_be_visible()


def test_background_sync_flushes_the_outbox_with_no_page_open(team: Team) -> None:
    ada, bob = team
    open_channel(bob.page, "general")
    open_channel(ada.page, "general")
    until(ada.page, "navigator.serviceWorker.controller !== null")
    go_offline(ada.context)
    send_message(ada.page, "sent while the app was closed")
    until(ada.page, "navigator.serviceWorker.ready.then(r => r.sync.getTags()).then(t => t.includes('outbox'))")
    ada.page.close()
    (worker,) = ada.context.service_workers
    deadline = time.monotonic() + 15
    while worker.evaluate("self.clients.matchAll({type: 'window'}).then(p => p.length)"):
        assert time.monotonic() < deadline, "the closed page is still a client of the worker"
        time.sleep(0.025)
    # The network is back and no page is open: the worker's sync event runs the engine itself.
    go_online(ada.context)
    expect(message_list(bob.page).filter(has_text="sent while the app was closed")).to_have_count(1)


def test_an_upgrade_in_another_tab_closes_the_database_and_asks_to_reload(people: OpenDevice) -> None:
    ada = people("Ada")
    sign_up(ada.page, "Ada Lovelace", ada.email)
    newer = ada.context.new_page()
    newer.goto("/manifest.webmanifest")  # same origin, no app running
    # A newer version of the app opens the database at a higher version: the old tab must let go.
    until(newer, "new Promise(ok => { const r = indexedDB.open('teamtalk', 99); r.onsuccess = () => ok(true); })")
    expect(ada.page.get_by_text("TeamTalk was updated in another tab. Reload to continue.")).to_be_visible()
