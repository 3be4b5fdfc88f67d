"""The one place where request bodies become Structs (PROTOCOL.md, "Errors": ``bad_request``).

Every endpoint that takes a body decodes it here, so every way bytes can fail to decode is
caught once and answered the same way: 400 ``bad_request`` whose detail names the path
(msgspec's ``- at `$.changes[0].mid```). Bytes no honest client sends must never reach
the server's 500 path:

- invalid UTF-8 (JSON must be UTF-8 as a whole, even in keys the Struct ignores);
- nesting deep enough to exhaust the recursion limit (msgspec raises RecursionError);
- integers too large for storage (the wire Structs bound them with ``msgspec.Meta``);
- wrong types, unknown tags, truncated input.

A wrong value type inside a change's ``fields`` is the schema's business, not the decoder's:
it is answered as ``invalid_change`` with ``field`` (``changes[2].fields.text``), the same
answer validation.py gives for a wrong type that decodes.

Live-channel frames decode here too (:func:`decode_frame`), with the same care.

Litestar's own body decoding (``JSONBody``) turned invalid UTF-8 and deep nesting into 500s,
so the JSON endpoints use :class:`WireBody` as their DTO: Litestar hands it the raw bytes,
and the OpenAPI document still describes the Struct.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any, TypeVar

import msgspec
from litestar.dto import AbstractDTO, DTOFieldDefinition
from litestar.typing import FieldDefinition

from backend.errors import ApiError
from sync_protocol.wire import JSON, MSGPACK, LiveFrame, decode, live_json_decoder, live_msgpack_decoder

T = TypeVar("T")

#: ``$.changes[3].fields`` (msgspec names dict values ``[...]``, so the key is found separately).
_IN_FIELDS = re.compile(r"- at `\$\.changes\[(\d+)\]\.fields(?:\[\.\.\.\])?`\Z")

_WIRE_VALUE = (str, int, bool, type(None))


def decode_body(body: bytes, type_: type[T], content_type: str) -> T:
    """Decode ``body`` as ``type_`` by its content type, or raise ApiError 400 naming the path."""
    msgpack = content_type.startswith(MSGPACK)
    if not msgpack:
        _require_utf8(body)
    try:
        return decode(body, type_, content_type)
    except msgspec.ValidationError as exc:
        detail = str(exc) if "- at `" in str(exc) else f"{exc} - at `$`"  # msgspec omits the root's path
        raise _field_problem(body, content_type, detail) or _bad(detail) from None
    except msgspec.DecodeError as exc:  # malformed bytes: msgspec names the byte, not a path
        raise _bad(f"{exc} - at `$`") from None
    except RecursionError:
        raise _bad("the body is nested too deeply - at `$`") from None
    except UnicodeDecodeError:
        # Only MessagePack gets here (JSON was checked whole): a str that is not UTF-8.
        raise _bad("a string is not valid UTF-8 - at `$`") from None
    except (ValueError, OverflowError) as exc:  # anything else msgspec may raise while decoding
        raise _bad(f"{exc} - at `$`") from None


def decode_frame(raw: bytes, msgpack: bool) -> LiveFrame | None:
    """A live-channel frame, or None for anything that does not decode: an unknown frame from a
    newer client is ignored (the evolution rules), and so are bytes no client sends (invalid
    UTF-8, nesting deep enough to raise RecursionError), which must not end the connection."""
    try:
        frame: LiveFrame = (live_msgpack_decoder if msgpack else live_json_decoder).decode(raw)
    except (msgspec.DecodeError, RecursionError, ValueError, OverflowError):
        return None
    return frame


def _bad(detail: str) -> ApiError:
    return ApiError(400, "bad_request", detail)


def _require_utf8(body: bytes) -> None:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad(f"the body is not valid UTF-8 (byte {exc.start}) - at `$`") from None


def _field_problem(body: bytes, content_type: str, detail: str) -> ApiError | None:
    """``invalid_change`` naming the field, when the failure lies in a change's ``fields``."""
    found = _IN_FIELDS.search(detail)
    if found is None:
        return None
    index = int(found.group(1))
    path = f"changes[{index}].fields"
    try:
        fields = decode(body, dict[str, Any], content_type)["changes"][index]["fields"]
    except (msgspec.DecodeError, RecursionError, ValueError, OverflowError, LookupError, TypeError):
        fields = None
    if isinstance(fields, dict):
        for name, value in fields.items():
            if not isinstance(name, str):
                return ApiError(400, "invalid_change", f"{path}: field names are strings", field=path)
            if not isinstance(value, _WIRE_VALUE):
                field = f"{path}.{name}"
                kind = msgspec.json.encode(type(value).__name__).decode()
                return ApiError(
                    400,
                    "invalid_change",
                    f"{field}: a value is a string, integer, boolean or null, not {kind}",
                    field=field,
                )
    return ApiError(400, "invalid_change", f"{path}: {detail}", field=path)


class WireBody(AbstractDTO[T]):
    """A data DTO that decodes the raw body with :func:`decode_body` (JSON endpoints).

    Use as ``@post(..., dto=WireBody[SignInIn], return_dto=None)`` with ``data: SignInIn``.
    It only decodes: encoding answers stays with Litestar's msgspec encoder.
    """

    def decode_bytes(self, value: bytes) -> Any:
        return decode_body(value, self.model_type, JSON)  # these endpoints speak JSON only

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        return msgspec.convert(value, self.model_type)

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        """Nothing to generate: the Struct itself is the transfer model."""

    @classmethod
    def create_openapi_schema(cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any) -> Any:
        return schema_creator.for_field_definition(FieldDefinition.from_annotation(cls.model_type))

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False
