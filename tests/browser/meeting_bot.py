"""A third-party meeting participant built on aiortc, speaking only what PROTOCOL.md ("Meetings")
documents: sign in over HTTP, open /api/meet/<channel> with the session cookie, join, offer to
everyone already there, answer newcomers, trickle candidates, heartbeat. It sends aiortc's test
video (green frames) and counts the video frames it decodes from each peer.

Runs its own event loop on a thread (``MeetingBot.start``), so a sync Playwright test can drive
the browser meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import websockets
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.sdp import candidate_from_sdp


@dataclass
class MeetingBot:
    url: str  # ws://host:port/api/meet/<channel>
    session_cookie: str
    relay_only: bool = False
    me: str = ""
    frames: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    joined: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _pcs: dict[str, RTCPeerConnection] = field(default_factory=dict)
    _ice: list[RTCIceServer] = field(default_factory=list)
    _tasks: set[asyncio.Future[None]] = field(default_factory=set)

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    async def _main(self) -> None:
        try:
            async with websockets.connect(self.url, additional_headers={"cookie": self.session_cookie}) as ws:
                await self._session(ws)
        except Exception as exc:  # reported to the test, which fails with it
            self.errors.append(repr(exc))
        finally:
            for pc in self._pcs.values():
                await pc.close()

    async def _session(self, ws: Any) -> None:
        assert json.loads(await ws.recv())["t"] == "room"
        await ws.send(json.dumps({"t": "join", "muted": True, "camera": True}))
        while not self._stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 1.0)
            except TimeoutError:
                await ws.send(json.dumps({"t": "heartbeat"}))
                continue
            frame = json.loads(raw)
            if frame["t"] == "joined":
                self.me = frame["me"]
                self._ice = [RTCIceServer(**server) for server in frame["ice_servers"]]
                self.joined.set()
                for peer in frame["peers"]:
                    await self._offer(ws, peer["id"])
            elif frame["t"] == "offer":
                await self._answer(ws, frame)
            elif frame["t"] == "answer":
                await self._pcs[frame["from"]].setRemoteDescription(RTCSessionDescription(frame["sdp"], "answer"))
            elif frame["t"] == "candidate" and frame["candidate"] and frame["from"] in self._pcs:
                candidate = candidate_from_sdp(frame["candidate"].split(":", 1)[1])
                candidate.sdpMid = frame["sdp_mid"]
                candidate.sdpMLineIndex = frame["sdp_mline_index"]
                await self._pcs[frame["from"]].addIceCandidate(candidate)
            elif frame["t"] == "peer_left" and frame["id"] in self._pcs:
                await self._pcs.pop(frame["id"]).close()
            elif frame["t"] == "error":
                self.errors.append(f"{frame['code']}: {frame['detail']}")
        await ws.send(json.dumps({"t": "leave"}))

    def _connection(self, peer: str) -> RTCPeerConnection:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=self._ice))
        self._pcs[peer] = pc
        self.frames[peer] = 0

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                self._tasks.add(asyncio.ensure_future(self._count(peer, track)))

        return pc

    async def _count(self, peer: str, track: MediaStreamTrack) -> None:
        while not self._stop.is_set():
            try:
                await track.recv()
            except Exception:  # the track ended (MediaStreamError)
                return
            self.frames[peer] += 1

    async def _offer(self, ws: Any, peer: str) -> None:
        pc = self._connection(peer)
        pc.addTrack(VideoStreamTrack())
        pc.addTransceiver("audio", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers every candidate here
        await ws.send(json.dumps({"t": "offer", "to": peer, "sdp": pc.localDescription.sdp}))

    async def _answer(self, ws: Any, frame: dict[str, Any]) -> None:
        pc = self._connection(frame["from"])
        await pc.setRemoteDescription(RTCSessionDescription(frame["sdp"], "offer"))
        pc.addTrack(VideoStreamTrack())  # takes the offer's video transceiver: send back on it
        await pc.setLocalDescription(await pc.createAnswer())
        await ws.send(json.dumps({"t": "answer", "to": frame["from"], "sdp": pc.localDescription.sdp}))
