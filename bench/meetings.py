"""Meetings (issue 13): join time, a participant's CPU, and the server's CPU for signaling.

    .venv/bin/python -m bench.meetings            # re-runs itself in a private network namespace

1. Join -> first decoded remote frame, JOINS times: Ada is in the meeting (real Chromium, fake
   camera); Bob joins, the clock runs in Bob's page from his join until his connection to Ada
   reports framesDecoded > 0; Bob leaves; again. p50 (target <= 1.5 s) and p95.
2. CPU of one participant in a 4-person call: four contexts of one Chromium in one meeting;
   the CPU seconds of the whole Chromium process tree over WINDOW_S, divided by four (they share
   the browser and GPU processes, so this is per participant on average), as % of one core.
3. Server CPU for signaling an 8-person meeting: eight signaling-only clients (no media: the
   server never sees media) join one meeting and run the full exchange (offer/answer per pair
   with a real browser SDP, 6 candidates each way, state changes), then heartbeat for WINDOW_S.
   The server's CPU seconds for the joins and per minute of steady meeting.

WebRTC needs a network: like the tests, this runs inside ``unshare -n`` (loopback + veth).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import websockets
from playwright.sync_api import Browser, Page, sync_playwright

from bench.browser_steps import step, synced, until
from bench.common import PASSWORD, Server, cpu_meter, header, info, percentile, run_child, verdict

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
]
NETNS = "ip link set lo up && ip link add v0 type veth peer name v1 && ip link set v0 up && ip link set v1 up"
JOINS = 20
WINDOW_S = 10.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _tree_cpu(root: int) -> float:
    """CPU seconds of every live descendant of ``root`` (the Chromium processes Playwright started)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        ticks[int(entry)] = int(fields[11]) + int(fields[12])
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        for child, parent in parents.items():
            if parent == pid:
                total += ticks.get(child, 0)
                stack.append(child)
    return total / CLK_TCK


def _device(browser: Browser, url: str) -> Page:
    context = browser.new_context(base_url=url, viewport={"width": 640, "height": 480}, locale="en-US")
    context.grant_permissions(["background-sync", "camera", "microphone"], origin=url)
    return context.new_page()


def _sign_up(page: Page, name: str, email: str, invite: str | None) -> None:
    page.goto(f"/?invite={invite}" if invite else "/")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    synced(page)


def _invite(page: Page) -> str:
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    reply = page.request.post(
        "/api/invites", data="{}", headers={"content-type": "application/json", "x-csrftoken": cookies["csrftoken"]}
    )
    return str(reply.json()["token"])


def _open_meeting(page: Page, channel: str) -> None:
    page.evaluate("(hash) => { location.hash = hash; }", f"#/c/{channel}/meet")
    until(page, "teamtalk.meeting && teamtalk.meeting.state.value.phase === 'preview' && teamtalk.meeting.local")


def _first_frame_ms(page: Page) -> float:
    """Join, and time it until a remote video frame is decoded (on the page's own clock)."""
    return float(
        page.evaluate(
            """async () => {
                const m = teamtalk.meeting;
                const t0 = performance.now();
                await m.join();
                for (;;) {
                    const stats = Object.values(await m.stats());
                    const decoded = (r) => r.type === 'inbound-rtp' && r.kind === 'video' && r.framesDecoded > 0;
                    if (stats.some((l) => l.reports.some(decoded))) {
                        return performance.now() - t0;
                    }
                    if (performance.now() - t0 > 20000) throw new Error('no frame within 20 s');
                    await new Promise((r) => setTimeout(r, 10));
                }
            }"""
        )
    )


def _connected(count: int) -> str:
    return (
        "(async () => Object.values(await teamtalk.meeting.stats())"
        f".filter((l) => l.state === 'connected').length === {count})()"
    )


def browser_part(url: str, sdp_out: Path) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            pages = [_device(browser, url) for _ in range(4)]
            _sign_up(pages[0], "Ada", "ada@example.com", None)
            for i, page in enumerate(pages[1:], 1):
                _sign_up(page, f"Person {i}", f"p{i}@example.com", _invite(pages[0]))
            channel = pages[0].evaluate("() => teamtalk.app.queries.myChannels.value[0].id")
            ada, bob = pages[0], pages[1]
            _open_meeting(ada, channel)
            ada.evaluate("() => teamtalk.meeting.join()")
            until(ada, "teamtalk.meeting.state.value.phase === 'in'")
            _open_meeting(bob, channel)

            step(f"Join -> first decoded remote frame, {JOINS} joins")
            times = []
            for _ in range(JOINS):
                times.append(_first_frame_ms(bob))
                sdp = bob.evaluate("() => teamtalk.meeting.connections[0].localDescription.sdp")
                bob.evaluate("() => teamtalk.meeting.leave()")
                until(ada, "teamtalk.meeting.connections.length === 0")
            sdp_out.write_text(sdp)
            info(
                f"join -> first frame: p50 {percentile(times, 50):.0f} ms, p95 {percentile(times, 95):.0f} ms, "
                f"max {max(times):.0f} ms"
            )
            verdict(
                "meeting join -> first remote frame p50", percentile(times, 50) / 1000, 1.5, "s", higher_is_better=False
            )

            step("4-person call: Chromium CPU per participant")
            for n, page in enumerate(pages[1:], 2):  # people arrive one after another
                if page is not bob:
                    _open_meeting(page, channel)
                page.evaluate("() => teamtalk.meeting.join()")
                for present in pages[:n]:
                    until(present, _connected(n - 1))
            cpu0, t0 = _tree_cpu(os.getpid()), time.monotonic()
            bob.wait_for_timeout(WINDOW_S * 1000)
            used = (_tree_cpu(os.getpid()) - cpu0) / (time.monotonic() - t0)
            info(f"4 participants, fake camera: Chromium {used * 100:.0f}% of a core in all, "
                 f"{used * 25:.0f}% per participant (reported, no target)")  # fmt: skip
        finally:
            browser.close()


# --- 3. the server's CPU for signaling ---------------------------------------------------------


async def _session(base: str, name: str, invite: str | None) -> str:
    async with httpx.AsyncClient(base_url=base) as client:
        await client.get("/api/workspace")
        body: dict[str, Any] = {"name": name, "email": f"{name}@example.com", "password": PASSWORD}
        if invite:
            body["invite"] = invite
        reply = await client.post("/api/signup", json=body, headers={"x-csrftoken": client.cookies["csrftoken"]})
        reply.raise_for_status()
        return f"tt_session={client.cookies['tt_session']}"


async def _signaling_client(url: str, cookie: str, sdp: str, ready: asyncio.Event, done: asyncio.Event) -> None:
    candidate = "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0 ufrag abcd network-id 1"
    async with websockets.connect(url, additional_headers={"cookie": cookie}, max_size=1 << 20) as ws:
        await ws.recv()
        await ws.send(json.dumps({"t": "join"}))
        while True:
            frame = json.loads(await ws.recv())
            if frame["t"] == "joined":
                for peer in frame["peers"]:
                    await ws.send(json.dumps({"t": "offer", "to": peer["id"], "sdp": sdp}))
                    for i in range(6):
                        await ws.send(
                            json.dumps(
                                {
                                    "t": "candidate",
                                    "to": peer["id"],
                                    "candidate": candidate,
                                    "sdp_mid": str(i % 2),
                                    "sdp_mline_index": i % 2,
                                }
                            )
                        )
                ready.set()
                break
        heartbeat = asyncio.get_running_loop().time()
        while not done.is_set():
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
            except TimeoutError:
                frame = {}
            if frame.get("t") == "offer":
                await ws.send(json.dumps({"t": "answer", "to": frame["from"], "sdp": sdp}))
                for _ in range(6):
                    await ws.send(
                        json.dumps(
                            {
                                "t": "candidate",
                                "to": frame["from"],
                                "candidate": candidate,
                                "sdp_mid": "0",
                                "sdp_mline_index": 0,
                            }
                        )
                    )
            if asyncio.get_running_loop().time() - heartbeat > 3:
                heartbeat = asyncio.get_running_loop().time()
                await ws.send(json.dumps({"t": "heartbeat"}))
        await ws.send(json.dumps({"t": "leave"}))


async def signaling_part(sdp: str) -> None:
    step("8-person meeting: the server's CPU for signaling")
    with Server("meetings") as server:
        first = await _session(server.base_url, "host", None)
        invites = await _invites(server.base_url, first, 7)
        cookies = [first] + [await _session(server.base_url, f"p{i}", invites[i]) for i in range(7)]
        channel = await _general(server.base_url, first)
        url = f"ws://127.0.0.1:{server.port}/api/meet/{channel}"
        done = asyncio.Event()
        readies = [asyncio.Event() for _ in cookies]
        with cpu_meter(server) as joins:
            tasks = []
            for cookie, ready in zip(cookies, readies, strict=True):
                tasks.append(asyncio.create_task(_signaling_client(url, cookie, sdp, ready, done)))
                await ready.wait()  # one after another, as people arrive
        with cpu_meter(server) as steady:
            await asyncio.sleep(WINDOW_S)
        done.set()
        await asyncio.gather(*tasks)
        info(f"8 joins with full-mesh offers/answers/candidates: server {joins['server_cpu'] * 1000:.0f} ms CPU "
             f"({len(sdp)} B SDP)")  # fmt: skip
        share = steady["server_cpu"] / steady["wall"]
        info(f"steady 8-person meeting (heartbeats): server {share * 60_000:.0f} ms CPU per minute "
             f"= {share * 100:.2f}% of a core (reported; should be near zero)")  # fmt: skip


async def _invites(base: str, cookie: str, count: int) -> list[str]:
    async with httpx.AsyncClient(base_url=base, cookies=_jar(cookie)) as client:
        await client.get("/api/workspace")
        csrf = client.cookies["csrftoken"]
        return [
            (await client.post("/api/invites", json={}, headers={"x-csrftoken": csrf})).json()["token"]
            for _ in range(count)
        ]


def _jar(cookie: str) -> dict[str, str]:
    name, value = cookie.split("=", 1)
    return {name: value}


async def _general(base: str, cookie: str) -> str:
    async with httpx.AsyncClient(base_url=base, cookies=_jar(cookie)) as client:
        await client.get("/api/workspace")
        csrf = client.cookies["csrftoken"]
        reply = await client.post("/api/sync", json={"v": 1, "cursors": {}}, headers={"x-csrftoken": csrf})
        for change in reply.json()["changes"]:
            if change["collection"] == "channels" and change["fields"].get("name") == "general":
                return str(change["id"])
    raise RuntimeError("no #general")


def main() -> None:
    header("meetings: join time, a participant's CPU, the server's CPU for signaling")
    sdp_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"teamtalk-bench-sdp-{os.getpid()}.txt"
    with Server("meetings-browser") as server:
        browser_part(server.base_url, sdp_file)
    sdp = sdp_file.read_text()
    sdp_file.unlink()
    asyncio.run(signaling_part(sdp))


async def run() -> None:
    """For bench.run_all: re-run this module inside a private network namespace."""
    needs = "it needs `unshare -n`: root or user namespaces"
    await run_child("bench.meetings", ROOT, "--here", wrapper=_in_netns(), needs=needs)


def _in_netns() -> list[str]:
    return ["unshare", "-n", "sh", "-c", f'{NETNS} && exec "$@"', "netns"]


if __name__ == "__main__":
    if "--here" not in sys.argv:  # run by hand: enter the namespace first
        sys.exit(subprocess.call([*_in_netns(), sys.executable, "-m", "bench.meetings", "--here"], cwd=ROOT))
    main()
