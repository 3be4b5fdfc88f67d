"""Three people meet in real Chromium with fake camera and microphone (run by test_meetings.py
inside a private network namespace; skipped anywhere else). One of them meets from a second
window of their browser, one that is not the sync leader.

What a person sees and what WebRTC reports are both checked: each decodes video from both others
(getStats framesDecoded) and receives audio (totalSamplesReceived grows); one mutes and the others
see it and hear silence (totalAudioEnergy stops growing); one leaves and the others' grids drop the
tile and close that connection; the synced meeting record lists the three with join and leave times.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aioice.ice
import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect

from backend.meetings.ice import turn_credentials
from tests.browser.conftest import (
    CHROMIUM,
    FLAGS,
    PASSWORD,
    OpenDevice,
    Person,
    channel_link,
    invite_link,
    open_channel,
    serving,
    sign_up,
    until,
)
from tests.browser.meeting_bot import MeetingBot
from tests.integration.conftest import free_port

if os.environ.get("TEAMTALK_NETNS") != "1":
    pytest.skip("runs inside a private network namespace (tests/browser/test_meetings.py)", allow_module_level=True)

#: The meeting as the channel shows it once over (its length depends on how fast this machine is).
PAST = re.compile(r"^Meeting · \d+ min · Ada Lovelace, Bob Babbage, Chen Ning$")
WEBRTC_FLAGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
]


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS + WEBRTC_FLAGS)
    yield browser
    browser.close()


def _inbound(page: Page, peer: str, kind: str, stat: str) -> float:
    """One inbound-rtp counter of this page's connection to ``peer`` (0 before it exists)."""
    return float(
        page.evaluate(
            """async ([peer, kind, stat]) => {
                const s = (await teamtalk.meeting.stats())[peer];
                const r = s && s.reports.find((r) => r.type === 'inbound-rtp' && r.kind === kind);
                return (r && r[stat]) || 0;
            }""",
            [peer, kind, stat],
        )
    )


def _me(page: Page) -> str:
    return str(page.evaluate("() => teamtalk.meeting.state.value.me"))


def _decodes_from_all(page: Page, count: int) -> str:
    return f"""(async () => {{
        const links = Object.values(await teamtalk.meeting.stats());
        return links.length === {count} && links.every((l) =>
            l.reports.some((r) => r.type === 'inbound-rtp' && r.kind === 'video' && r.framesDecoded > 0) &&
            l.reports.some((r) => r.type === 'inbound-rtp' && r.kind === 'audio' && r.totalSamplesReceived > 0));
    }})()"""


def _summary(page: Page) -> object:
    """What the call looks like from this page, for a failure message."""
    return page.evaluate(
        """async () => {
            const m = teamtalk.meeting, s = m.state.value;
            const inbound = (l) => l.reports.filter((r) => r.type === 'inbound-rtp')
                .map((r) => [r.kind, r.framesDecoded, r.totalSamplesReceived]);
            const links = Object.entries(await m.stats()).map(([id, l]) => [id, l.state, inbound(l)]);
            const pcs = m.connections.map((pc) => [pc.signalingState, pc.iceGatheringState, pc.iceConnectionState]);
            return {phase: s.phase, me: s.me, error: s.error, peers: [...s.peers.keys()], links, pcs};
        }"""
    )


def _grows(page: Page, peer: str, kind: str, stat: str, by: float = 0.0) -> bool:
    before = _inbound(page, peer, kind, stat)
    page.wait_for_timeout(400)  # a measuring interval, not a wait for a condition
    return _inbound(page, peer, kind, stat) > before + by


def _rate(page: Page, peer: str, kind: str, stat: str) -> float:
    """How much a counter grows in 400 ms, averaged over 2 s (a measuring window)."""
    before = _inbound(page, peer, kind, stat)
    page.wait_for_timeout(2000)
    return (_inbound(page, peer, kind, stat) - before) / 5


def _until_still(page: Page, peer: str, kind: str, stat: str, timeout_ms: int = 10_000, by: float = 0.0) -> None:
    """Wait until a counter stops growing (by more than ``by``) over two consecutive 400 ms
    intervals. A muted track is silence, but a receiver short of packets on a busy machine
    conceals the gap with generated audio of a tiny energy: ``by`` allows a small part of what
    the track added before."""
    waited = 0
    still = 0
    while still < 2:
        assert waited < timeout_ms, f"{stat} from {peer} kept growing"
        still = still + 1 if not _grows(page, peer, kind, stat, by) else 0
        waited += 400


def _join(person: Person, start: bool) -> None:
    page = person.page
    open_channel(page, "general")
    if start:
        page.get_by_role("link", name="Start meeting").click()
        page.get_by_role("button", name="Start meeting").click()
    else:
        expect(page.get_by_role("region", name="Meeting in progress")).to_be_visible()
        page.get_by_role("region", name="Meeting in progress").get_by_role("link", name="Join").click()
        page.get_by_role("button", name="Join meeting").click()
    expect(page.get_by_role("toolbar", name="Meeting controls")).to_be_visible()


def _second_tab(person: Person) -> Page:
    """Another window of the person's browser, which is not the sync leader (the first one is)."""
    page = person.context.new_page()
    page.on("pageerror", lambda error: person.errors.append(str(error)))
    page.goto("/")
    expect(channel_link(page, "general")).to_be_visible()
    assert person.page.evaluate("teamtalk.app.engine !== null"), "the first window leads"
    assert page.evaluate("teamtalk.app.engine === null"), "the second window does not"
    return page


def _device(people: OpenDevice, server: str, name: str) -> Person:
    """A device that has allowed the camera and microphone. Without that grant Chromium gathers no
    ICE candidates at all (it hides local addresses from pages without media permission)."""
    person = people(name)
    person.context.grant_permissions(["background-sync", "camera", "microphone"], origin=server)
    return person


def test_three_people_meet_see_and_hear_each_other_mute_and_leave(people: OpenDevice, server: str) -> None:
    ada, bob, chen = (_device(people, server, name) for name in ("Ada", "Bob", "Chen"))
    sign_up(ada.page, "Ada Lovelace", ada.email)
    for person, name in ((bob, "Bob Babbage"), (chen, "Chen Ning")):
        sign_up(person.page, name, person.email, invite=invite_link(ada.page))
        expect(channel_link(person.page, "general")).to_be_visible()
    # Chen meets from a second window, not the leader tab: the meeting tab has its own socket.
    chen.page = _second_tab(chen)

    _join(ada, start=True)
    _join(bob, start=False)
    _join(chen, start=False)
    trio = (ada, bob, chen)
    ids = {p.name: _me(p.page) for p in trio}
    for person in trio:
        try:
            until(person.page, _decodes_from_all(person.page, 2))
        except AssertionError as exc:
            seen = {p.name: _summary(p.page) for p in trio}
            raise AssertionError(f"{person.name} does not receive from both: {seen}") from exc
        grid = person.page.get_by_role("list", name="Participants")
        expect(grid.get_by_role("listitem")).to_have_count(3)
        for other in trio:
            if other is not person:
                assert _grows(person.page, ids[other.name], "audio", "totalSamplesReceived")

    # Ada mutes: the others see it on her tile, and the energy of her audio stops growing.
    speaking = {p.name: _rate(p.page, ids["Ada"], "audio", "totalAudioEnergy") for p in (bob, chen)}
    assert all(rate > 0 for rate in speaking.values()), speaking
    ada.page.get_by_role("button", name="Mute").click()
    for listener in (bob, chen):
        expect(listener.page.locator(f'[data-peer="{ids["Ada"]}"]')).to_have_attribute("data-muted", "true")
        _until_still(listener.page, ids["Ada"], "audio", "totalAudioEnergy", by=speaking[listener.name] / 20)
    assert _grows(bob.page, ids["Chen"], "audio", "totalAudioEnergy"), "Chen, not muted, fell silent too"

    # Bob's network changes: his tab resumes its seat on a new socket and restarts ICE. Ada keeps
    # the same connection to him (a freeze at most, no departure) and his video keeps coming.
    ada.page.evaluate("(id) => { globalThis.bobPc = teamtalk.meeting.peerConnection(id); }", ids["Bob"])
    bob.page.evaluate("() => teamtalk.meeting.reconnect()")
    until(bob.page, "teamtalk.meeting.state.value.phase === 'in'")
    until(ada.page, f"teamtalk.meeting.peerConnection('{ids['Bob']}') === globalThis.bobPc")
    assert _me(bob.page) == ids["Bob"]
    expect(ada.page.get_by_role("list", name="Participants").get_by_role("listitem")).to_have_count(3)
    assert _grows(ada.page, ids["Bob"], "video", "framesDecoded"), "Bob's video stopped after he resumed"

    # Chen leaves: the others drop the tile and close the connection to Chen.
    for stayer in (ada, bob):
        stayer.page.evaluate("(id) => { globalThis.leftPc = teamtalk.meeting.peerConnection(id); }", ids["Chen"])
    chen.page.get_by_role("button", name="Leave").click()
    for stayer in (ada, bob):
        expect(stayer.page.locator(f'[data-peer="{ids["Chen"]}"]')).to_have_count(0)
        until(stayer.page, "globalThis.leftPc.signalingState === 'closed'")
        until(stayer.page, "teamtalk.meeting.connections.length === 1")

    # Bob's tab dies without a word (closed with no leave: what the server sees of a crash).
    # Within 10 s Ada's grid drops his tile and her connection to him closes.
    gone = time.monotonic()
    bob.page.close()
    expect(ada.page.locator(f'[data-peer="{ids["Bob"]}"]')).to_have_count(0, timeout=10_000)
    assert time.monotonic() - gone < 10, "a crashed participant stayed in the grid for 10 s"
    until(ada.page, "globalThis.bobPc.signalingState === 'closed' && teamtalk.meeting.connections.length === 0")
    ada.page.get_by_role("button", name="Leave").click()

    # The synced record: three attendances with join and leave times; the meeting ended.
    until(
        ada.page,
        """(() => {
            const q = teamtalk.app.queries;
            const spans = [...q.collection('meeting_attendance').value.values()].map((r) => r.fields);
            const meetings = [...q.collection('meetings').value.values()].map((r) => r.fields);
            return meetings.length === 1 && typeof meetings[0].ended_at === 'number' && spans.length === 3 &&
                new Set(spans.map((s) => s.user)).size === 3 &&
                spans.every((s) => typeof s.joined_at === 'number' && s.left_at >= s.joined_at);
        })()""",
    )
    # ... and the channel shows it among its messages, everyone in the order they joined.
    for person in (ada, chen):
        open_channel(person.page, "general")
        row = person.page.get_by_role("log").get_by_role(
            "group", name="Meeting · 1 min · Ada Lovelace, Bob Babbage, Chen Ning"
        )
        expect(row).to_be_visible()
    for person in trio:
        assert person.errors == [], (person.name, person.errors)


def _bot_session(server: str, invite: str) -> str:
    """Sign a bot up through the documented HTTP API; returns its ``tt_session=...`` cookie."""
    with httpx.Client(base_url=server) as client:
        client.get("/api/workspace")
        body = {"name": "Recorder Bot", "email": "bot@example.com", "password": PASSWORD, "invite": invite}
        reply = client.post("/api/signup", json=body, headers={"x-csrftoken": client.cookies["csrftoken"]})
        assert reply.status_code == 201, reply.text
        return f"tt_session={client.cookies['tt_session']}"


def test_an_aiortc_peer_joins_through_the_documented_signaling_and_exchanges_video(
    people: OpenDevice, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # aioice never offers 127.0.0.1 (it assumes a real network); this namespace has only loopback.
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])
    ada = _device(people, server, "Ada")
    sign_up(ada.page, "Ada Lovelace", ada.email)
    cookie = _bot_session(server, invite_link(ada.page))
    _join(ada, start=True)
    channel = ada.page.url.split("#/c/")[1].split("/")[0]
    bot = MeetingBot(f"{server.replace('http', 'ws')}/api/meet/{channel}", cookie)
    bot.start()
    try:
        assert bot.joined.wait(15), bot.errors
        until(
            ada.page,
            f"""(async () => {{
            const s = (await teamtalk.meeting.stats())['{bot.me}'];
            return s && s.reports.some((r) => r.type === 'inbound-rtp' && r.kind === 'video' && r.framesDecoded > 0);
        }})()""",
        )
        expect(ada.page.locator(f'[data-peer="{bot.me}"]')).to_contain_text("Recorder Bot")
        ada_id = _me(ada.page)
        deadline = time.monotonic() + 15
        while bot.frames.get(ada_id, 0) < 5:
            assert time.monotonic() < deadline, f"the bot decoded no video from the browser: {bot.frames} {bot.errors}"
            ada.page.wait_for_timeout(100)
    finally:
        bot.stop()
    assert bot.errors == []
    expect(ada.page.locator(f'[data-peer="{bot.me}"]')).to_have_count(0)  # the bot said leave


@contextmanager
def coturn(tmp: Path, secret: str) -> Iterator[str]:
    """Debian's coturn on a free port with the TURN REST API shared secret; yields its TURN URL."""
    port = free_port()
    (tmp / "turn").mkdir()
    log = (tmp / "turn" / "turnserver.log").open("wb")
    process = subprocess.Popen(
        [
            "turnserver", "-n", "--listening-ip=127.0.0.1", f"--listening-port={port}", "--relay-ip=127.0.0.1",
            "--use-auth-secret", f"--static-auth-secret={secret}", "--realm=teamtalk.test",
            "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers", "--fingerprint",
            "--min-port=49160", "--max-port=49260", f"--pidfile={tmp / 'turn' / 'pid'}",
            f"--userdb={tmp / 'turn' / 'db.sqlite'}", "--log-file=stdout", "--simple-log",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:  # ready once it accepts TCP on its port (it listens on UDP and TCP alike)
            assert process.poll() is None, (tmp / "turn" / "turnserver.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "coturn did not start listening"
                time.sleep(0.05)
        yield f"turn:127.0.0.1:{port}?transport=udp"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _relay_only(page: Page) -> None:
    page.evaluate("() => { teamtalk.meeting.relayOnly = true; }")


def _gather_relay(page: Page, url: str, username: str, credential: str) -> dict[str, object]:
    """Gather relay candidates from the TURN server with these credentials, in the page."""
    return dict(
        page.evaluate(
            """async ([url, username, credential]) => {
                const pc = new RTCPeerConnection({iceServers: [{urls: url, username, credential}],
                    iceTransportPolicy: 'relay'});
                const found = {relay: 0, errors: []};
                pc.onicecandidate = (e) => {
                    if (e.candidate && / typ relay /.test(e.candidate.candidate)) found.relay++;
                };
                pc.onicecandidateerror = (e) => found.errors.push(e.errorCode);
                pc.createDataChannel('probe');
                await pc.setLocalDescription(await pc.createOffer());
                const until = Date.now() + 8000;
                while (pc.iceGatheringState !== 'complete' && Date.now() < until) {
                    await new Promise((r) => setTimeout(r, 50));
                }
                pc.close();
                return found;
            }""",
            [url, username, credential],
        )
    )


@pytest.mark.skipif(shutil.which("turnserver") is None, reason="Debian's coturn is not installed (make chromium)")
def test_two_people_forced_to_relay_through_coturn_still_meet(browser: Browser, tmp_path: Path) -> None:
    secret = "a-shared-secret-for-tests"
    (tmp_path / "turn-secret").write_text(secret)
    with (
        coturn(tmp_path, secret) as turn_url,
        serving(
            tmp_path / "data", "--ice-server", turn_url, "--turn-secret-file", str(tmp_path / "turn-secret")
        ) as url,
    ):
        contexts = []
        try:
            pages = []
            for _ in ("Ada", "Bob"):
                context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 800}, locale="en-US")
                context.grant_permissions(["background-sync", "camera", "microphone"], origin=url)
                contexts.append(context)
                pages.append(context.new_page())
            ada, bob = pages
            sign_up(ada, "Ada Lovelace", "ada@example.com")
            sign_up(bob, "Bob Babbage", "bob@example.com", invite=invite_link(ada))
            for page, start in ((ada, True), (bob, False)):
                open_channel(page, "general")
                if start:
                    page.get_by_role("link", name="Start meeting").click()
                else:
                    page.get_by_role("region", name="Meeting in progress").get_by_role("link", name="Join").click()
                join = page.get_by_role("button", name="Start meeting" if start else "Join meeting")
                expect(join).to_be_visible()  # the meeting view is up: its call exists
                _relay_only(page)
                join.click()
            for page in (ada, bob):
                until(page, _decodes_from_all(page, 1), timeout_ms=30_000)
                # The pair in use is relayed by coturn: nothing went host to host.
                until(
                    page,
                    """(async () => {
                        const [link] = Object.values(await teamtalk.meeting.stats());
                        const byId = new Map(link.reports.map((r) => [r.id, r]));
                        const pair = link.reports.find((r) =>
                            r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded');
                        return pair && byId.get(pair.localCandidateId).candidateType === 'relay';
                    })()""",
                )

            # An expired credential is refused (401); a fresh one for the same user is not.
            expired = turn_credentials(secret, "someone", int(time.time()) - 60)
            fresh = turn_credentials(secret, "someone", int(time.time()) + 600)
            refused = _gather_relay(ada, turn_url, *expired)
            assert refused["relay"] == 0 and 401 in refused["errors"], refused  # type: ignore[operator]
            assert _gather_relay(ada, turn_url, *fresh)["relay"], "a fresh credential got no relay candidate"
        finally:
            for context in contexts:
                context.close()
