"""The meeting socket's wire contract: WebRTC signaling frames, as msgspec Structs.

A meeting tab opens its own WebSocket, ``GET /api/meet/{channel}`` (not the leader tab's live
socket), so any tab or a third-party client (an ``aiortc`` bot) can be in a call. Frames are
JSON text, tagged by ``t``. PROTOCOL.md, "Meetings", describes the exchange; in short:

1. On connect the server sends ``room`` (the connection's id, and who is in the meeting now).
2. ``join`` enters the meeting; the server answers ``joined`` (the peers already in it and the
   ICE servers with fresh TURN credentials) and tells the others ``peer_joined``.
3. The newcomer sends an ``offer`` to each peer already there; each answers with ``answer``;
   both trickle ``candidate``s. The server relays these to the one connection named in ``to``
   and sets ``from``; it stores none of them.
4. ``state`` (muted, camera, screen, hand) reaches everyone as ``peer_state``.
5. ``heartbeat`` (or any frame) at least every HEARTBEAT_MS keeps a participant in; one silent
   for DROP_AFTER_MS is dropped as if it had sent ``leave``: everyone gets ``peer_left``.
6. A frame the server refuses gets ``error`` back to its sender only; the socket stays open
   unless the sender keeps misbehaving (rate) or is not allowed in at all (close 4403).

Evolution rules are those of wire.py: new fields get defaults, no retyping, no tag reuse, no
``forbid_unknown_fields``.

Pure: stdlib and msgspec only.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

#: A frame larger than this is refused before it is decoded (SDP with many codecs is ~6-10 kB).
MAX_FRAME_BYTES = 64 * 1024
#: A participant is dropped after this long without any frame (a crashed tab, a lost network), or
#: this long after its socket closed without ``leave`` (unless resumed). 8 s, so a crashed tab is
#: out of everyone's grid within 10 s, the time ``peer_left`` takes to arrive included.
DROP_AFTER_MS = 8_000
#: ... and sends a heartbeat this often (the server says so in ``joined``: a third of its drop time).
HEARTBEAT_MS = DROP_AFTER_MS // 3
#: Full mesh: past this many, the SFU path (docs/architecture.md, "Meetings") is the way.
MAX_PARTICIPANTS = 8
#: Frames per second a connection may send (burst RATE_BURST): trickle ICE is bursty but small.
RATE_PER_S = 50
RATE_BURST = 200

ConnId = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Sdp = Annotated[str, msgspec.Meta(max_length=MAX_FRAME_BYTES)]


class Signal(msgspec.Struct, frozen=True, tag_field="t"):
    """Base of every meeting-socket frame."""


class IceServer(msgspec.Struct, frozen=True, omit_defaults=True):
    """As RTCPeerConnection's ``iceServers`` entries take them (also aiortc's RTCIceServer)."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class Peer(msgspec.Struct, frozen=True):
    """One connection in the meeting: its id (what ``to`` names), its person, and its state."""

    id: str
    user: str
    name: str = ""
    muted: bool = False
    camera: bool = True
    screen: bool = False
    hand: bool = False


# --- client -> server ------------------------------------------------------------------------


class Join(Signal, tag="join", frozen=True):
    """Enter the meeting (starting it when nobody is in it)."""

    muted: bool = False
    camera: bool = True


class Leave(Signal, tag="leave", frozen=True):
    """Leave the meeting; the socket may stay open (to rejoin) or close."""


class Heartbeat(Signal, tag="heartbeat", frozen=True):
    """I am still here (a tab that crashed stops sending these)."""


class State(Signal, tag="state", frozen=True):
    """My microphone, camera, screen share and raised hand."""

    muted: bool = False
    camera: bool = True
    screen: bool = False
    hand: bool = False


# --- relayed to one connection (client sets ``to``; the server sets ``from``) -------------------


class Offer(Signal, tag="offer", frozen=True, rename={"from_": "from"}):
    to: ConnId
    sdp: Sdp
    from_: str = ""


class Answer(Signal, tag="answer", frozen=True, rename={"from_": "from"}):
    to: ConnId
    sdp: Sdp
    from_: str = ""


class Candidate(Signal, tag="candidate", frozen=True, rename={"from_": "from"}):
    """A trickled ICE candidate (``candidate`` empty: end of candidates)."""

    to: ConnId
    candidate: Annotated[str, msgspec.Meta(max_length=1024)]
    sdp_mid: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    sdp_mline_index: Annotated[int, msgspec.Meta(ge=0, le=1024)] | None = None
    from_: str = ""


# --- server -> client -----------------------------------------------------------------------


class Room(Signal, tag="room", frozen=True):
    """On connect: this connection's id and who is in the channel's meeting (none: no meeting)."""

    me: str
    meeting: str | None = None
    peers: list[Peer] = []


class Joined(Signal, tag="joined", frozen=True):
    """You are in: offer to each of ``peers`` (those already there), using ``ice_servers``."""

    me: str
    meeting: str
    peers: list[Peer]
    ice_servers: list[IceServer] = []
    heartbeat_ms: int = HEARTBEAT_MS
    #: True when this socket resumed the seat of one that dropped (``?resume=<id>``): keep your
    #: peer connections and restart ICE on those you offered; offer to nobody new.
    resumed: bool = False


class PeerJoined(Signal, tag="peer_joined", frozen=True):
    """Someone joined: expect their offer."""

    peer: Peer


class PeerLeft(Signal, tag="peer_left", frozen=True):
    """Someone left (``reason``: left, dropped, closed): close the connection to them."""

    id: str
    reason: str = "left"


class PeerState(Signal, tag="peer_state", frozen=True):
    peer: Peer


class Ended(Signal, tag="ended", frozen=True):
    """Sent to connections that were watching the meeting (``room``) when its last person left."""

    meeting: str


class Error(Signal, tag="error", frozen=True):
    """Your frame was refused; nothing of it was relayed. ``code`` as in PROTOCOL.md."""

    code: str
    detail: str


FromClient = Join | Leave | Heartbeat | State | Offer | Answer | Candidate
FromServer = Room | Joined | PeerJoined | PeerLeft | PeerState | Ended | Error | Offer | Answer | Candidate
Relayed = Offer | Answer | Candidate

client_decoder = msgspec.json.Decoder(FromClient)
server_decoder = msgspec.json.Decoder(FromServer)
encoder = msgspec.json.Encoder()
