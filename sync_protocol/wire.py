"""The wire contract: every message that crosses the network, as msgspec Structs.

Evolution rules (an old tab is always out there):
- New fields get defaults; a field is never retyped; a tag is never reused.
- Wire Structs do not forbid unknown fields, so an older server or client ignores what it
  does not know.
- Every sync request carries ``v``; a server that cannot serve that version answers 426 with
  ``error = "update_required"``, which clients show as "a new version is available — reload".

Encodings: MessagePack (``application/msgpack``) for the app, JSON for people and tools. The
encoders and decoders are built once here; nothing else constructs its own.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import msgspec

PROTOCOL_VERSION = 1
#: Versions this code still serves; anything else is told to update.
SUPPORTED_VERSIONS = frozenset({1})

#: A field value. Floats are deliberately absent: their text differs between languages,
#: which would break the merge tie-break (see merge.py, Law 3).
Value = str | int | bool | None

#: The greatest integer every client holds exactly (JavaScript's Number.MAX_SAFE_INTEGER).
#: Counters, positions and cursors are bounded by it where they are decoded, so a hostile
#: 2^63 never reaches storage (PROTOCOL.md, "Numbers").
MAX_SAFE_INT = 2**53 - 1
SafeInt = Annotated[int, msgspec.Meta(ge=-MAX_SAFE_INT, le=MAX_SAFE_INT)]

MSGPACK = "application/msgpack"
JSON = "application/json"


# --- POST /api/sync -------------------------------------------------------------------------


class Mutation(msgspec.Struct, frozen=True):
    """One change a device pushes: set ``fields`` of record ``collection/id`` at clock ``hlc``.

    ``mid`` is the device's mutation counter, strictly increasing per device; with the device
    id (taken from the session) it forms the mutation id ``device:mid`` that makes pushes
    idempotent.
    """

    mid: SafeInt
    collection: str
    id: str
    fields: dict[str, Value]
    hlc: str


class SyncRequest(msgspec.Struct, frozen=True):
    """Push and pull in one round trip."""

    v: SafeInt
    changes: list[Mutation] = []
    #: Per scope, the greatest change-log ``seq`` this device holds. Scopes the device has not
    #: heard of are pulled from the start.
    cursors: dict[str, SafeInt] = {}
    #: Most changes the reply may carry (the server caps it at MAX_PAGE).
    limit: SafeInt = 1000
    #: When > 0, a scope without a cursor is bootstrapped as a snapshot holding only this many
    #: of the newest top-level messages (older ones via POST /api/history).
    recent: SafeInt = 0


class Change(msgspec.Struct, frozen=True):
    """One accepted change, as the change log holds it."""

    seq: int
    scope: str
    collection: str
    id: str
    hlc: str
    author: str
    fields: dict[str, Value]


class RecordSnapshot(msgspec.Struct, frozen=True):
    """A record's current state with each field's clock (snapshots, history pages)."""

    scope: str
    collection: str
    id: str
    fields: dict[str, Value]
    clocks: dict[str, str]


class Rejection(msgspec.Struct, frozen=True):
    """A pushed mutation the server refused; nothing of it was applied."""

    mid: int
    code: str
    reason: str


class SyncResponse(msgspec.Struct, frozen=True):
    v: int
    #: The server's wall clock in ms; devices keep ``server_time - local_time`` as their offset.
    server_time: int
    acks: list[int] = []
    rejections: list[Rejection] = []
    changes: list[Change] = []
    cursors: dict[str, int] = {}
    #: Every scope the user may see now. A device drops its copy of any scope not listed.
    scopes: list[str] = []
    #: True when a page limit was hit: sync again with the new cursors.
    more: bool = False
    #: Snapshot records of scopes bootstrapped with ``recent`` (merge them field by field).
    records: list[RecordSnapshot] = []


class ErrorBody(msgspec.Struct, frozen=True, omit_defaults=True):
    """The one error shape of every 4xx/5xx answer."""

    error: str
    detail: str
    field: str | None = None
    server_time: int | None = None


# --- GET /api/live (WebSocket) -----------------------------------------------------------------


class Live(msgspec.Struct, frozen=True, tag_field="t"):
    """Base of every live-channel frame, in either direction.

    Subclasses restate ``frozen=True``: msgspec inherits it anyway, but mypy's dataclass
    transform does not know that and would call them mutable."""


class Hello(Live, tag="hello", frozen=True):
    """Server → device on connect."""

    server_time: int
    user: str
    online: list[str] = []
    #: Of those online, the ones whose every device is idle.
    away: list[str] = []


class Changes(Live, tag="changes", frozen=True):
    """Server → device: new changes in one scope. ``prev`` is the scope's last seq before them,
    so a device whose cursor equals ``prev`` may advance it; otherwise it pulls."""

    scope: str
    prev: int
    changes: list[Change]


class Typing(Live, tag="typing", frozen=True):
    """Device → server (``user`` ignored) and server → devices: someone is typing in a scope."""

    scope: str
    user: str = ""


class Presence(Live, tag="presence", frozen=True):
    """Server → devices: a user is online, away or offline. Device → server: this device's
    person is away (idle) or back online (``user`` ignored; the server takes it from the session)."""

    status: Literal["online", "away", "offline"]
    user: str = ""


class Ping(Live, tag="ping", frozen=True):
    """Either direction; answered with Pong. Keeps idle connections through proxies."""


class Pong(Live, tag="pong", frozen=True):
    server_time: int = 0


LiveFrame = Hello | Changes | Typing | Presence | Ping | Pong

# --- codecs, built once ------------------------------------------------------------------------

T = TypeVar("T")

json_encoder = msgspec.json.Encoder()
msgpack_encoder = msgspec.msgpack.Encoder()

_decoders: dict[tuple[str, Any], Any] = {}


def decoder(kind: str, type_: type[T]) -> Any:
    """A cached msgspec decoder for ``type_`` (``kind`` is "json" or "msgpack")."""
    key = (kind, type_)
    if key not in _decoders:
        module = msgspec.json if kind == "json" else msgspec.msgpack
        _decoders[key] = module.Decoder(type_)
    return _decoders[key]


def decode(body: bytes, type_: type[T], content_type: str = JSON) -> T:
    """Decode a body by its content type; raises msgspec.DecodeError / ValidationError."""
    kind = "msgpack" if content_type.startswith(MSGPACK) else "json"
    result: T = decoder(kind, type_).decode(body)
    return result


def encode(value: Any, content_type: str = JSON) -> bytes:
    if content_type.startswith(MSGPACK):
        return msgpack_encoder.encode(value)
    return json_encoder.encode(value)


live_json_decoder = msgspec.json.Decoder(LiveFrame)
live_msgpack_decoder = msgspec.msgpack.Decoder(LiveFrame)
