"""One error shape for every failure (wire.ErrorBody), and the mapping from exceptions to it.

"The peer sent bad data" is a 4xx with a named problem; "we broke" is a 500 that is logged
and says nothing about internals.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec

from sync_protocol.wire import ErrorBody

log = logging.getLogger("teamtalk")

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "signed_out",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    426: "update_required",
    429: "rate_limited",
}


#: The error answers every API operation may give, for the OpenAPI document (one shape for all).
ERROR_RESPONSES = {
    status: ResponseSpec(
        ErrorBody, description=f"`{code}` and the other codes of PROTOCOL.md's Errors table", generate_examples=False
    )
    for status, code in _CODES_BY_STATUS.items()
}


class ApiError(Exception):
    """A failure to report to the client as ``{"error", "detail", "field"?}``."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        field: str | None = None,
        server_time: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.body = ErrorBody(error=error, detail=detail, field=field, server_time=server_time)


def error_response(status: int, body: ErrorBody) -> Response[ErrorBody]:
    return Response(body, status_code=status, media_type="application/json")


def handle_api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[ErrorBody]:
    return error_response(exc.status, exc.body)


def handle_http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    status = exc.status_code
    detail = str(exc.detail)
    code = _CODES_BY_STATUS.get(status, "error")
    if status == 403 and "csrf" in detail.lower():
        code, detail = "csrf", "missing or wrong x-csrftoken header; read it from the csrftoken cookie"
    if status == 413:
        detail = "request body too large"
    field = None
    if status == 400 and isinstance(extra := getattr(exc, "extra", None), list):
        # Litestar's own checks (query and path parameters) list what failed in ``extra``: name it.
        named = [e for e in extra if isinstance(e, dict) and e.get("key")]
        if named:
            field = str(named[0]["key"])
            detail += ": " + "; ".join(_named(e) for e in named)
    return error_response(status, ErrorBody(error=code, detail=detail, field=field))


def _named(entry: dict[str, Any]) -> str:
    source = entry.get("source")
    return f"{entry['key']} ({getattr(source, 'value', source)}) {entry.get('message', '')}".strip()


def handle_unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, ErrorBody(error="internal", detail="the server failed; the error was logged"))


EXCEPTION_HANDLERS = {
    ApiError: handle_api_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
