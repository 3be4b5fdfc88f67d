"""A second receiver for the browser hot path: the same messages, drawn by another build.

With ``TT_BENCH_COMPARE=DIST`` (bench/browser_hotpath.py), a third person, Cleo, joins #general
in her own context (no service worker), whose scripts and styles come from DIST instead of the
server's: every message A sends reaches B (this build) and C (that build) by the same fan-out,
at the same moment, under the same load. On a shared machine that is the fairest A/B of a
receiver-side change: both builds pay for whatever else runs. The fan-out sends to one of them
first (a few tenths of a millisecond): hotpath_ab.py swaps the builds between the two receivers
run by run, so that order cannot favour one build.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import BrowserContext, Page, Route

from bench.browser_steps import synced, until


def serve_build(context: BrowserContext, dist: Path) -> None:
    """Answer the context's requests for the app's scripts and styles from ``dist``. The page
    itself still comes from the server (a page fulfilled here would count as a public one, and
    Chromium's local network checks would then refuse its socket to 127.0.0.1); the builds'
    pages differ only in the hashed names, so the server's names are mapped to ``dist``'s by
    their stem (``app-*.js``, ``style-*.css``), and the old build's workers, unknown to the
    server, are served by name."""
    by_stem = {
        (name.split("-")[0], "".join(Path(name).suffixes)): dist / name
        for name in (p.name for p in dist.iterdir() if p.is_file())
        if "-" in name
    }

    def answer(route: Route) -> None:
        name = urlparse(route.request.url).path.lstrip("/")
        target = dist / name
        if not target.is_file() and "-" in name:
            target = by_stem.get((name.split("-")[0], "".join(Path(name).suffixes)), target)
        if "/" in name or not target.is_file() or route.request.resource_type == "document":
            route.fallback()
            return
        kind = "text/javascript" if target.suffix == ".js" else mimetypes.guess_type(target.name)[0]
        route.fulfill(
            status=200, headers={"content-type": kind or "application/octet-stream"}, body=target.read_bytes()
        )

    # Only the app's files: a route on the API would also take the live WebSocket's upgrade.
    context.route(lambda url: not urlparse(url).path.startswith("/api/"), answer)


def join(page: Page, invite: str, name: str, email: str, password: str, channel: str) -> None:
    """Sign up through the invite and open the channel."""
    page.goto(f"/?invite={invite}")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    synced(page)
    page.evaluate(f"location.hash = '#/c/{channel}'")
    until(page, "document.querySelector('[role=log]')")
