"""Files over HTTP: the tus endpoint for uploads, and downloads with ranges and previews
(PROTOCOL.md, "Files"). Thin: the rules live in backend/files/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, head, patch, post, route
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from backend.accounts import CurrentSession
from backend.errors import ERROR_RESPONSES, ApiError
from backend.files import downloads, previews, tus
from backend.files.blobstore import derived_key
from backend.files.downloads import RangeNotSatisfiable
from backend.files.search import FileResults, search_files
from backend.files.service import FileNotVisible, FileService
from backend.files.tus import TusError
from backend.files.uploads import OffsetConflict
from backend.http.context import now_ms, services
from backend.storage.files_base import Upload
from sync_protocol.wire import ErrorBody

UPLOADS = "/api/files/uploads"
TUS = {"Tus-Resumable": tus.VERSION}


def _error(description: str) -> ResponseSpec:
    return ResponseSpec(ErrorBody, description=description, generate_examples=False)


#: The tus answers besides the common errors (PROTOCOL.md, "Files").
TUS_RESPONSES = {
    **ERROR_RESPONSES,
    204: ResponseSpec(None, description="done: `Upload-Offset` says how far the upload is"),
    412: _error("`tus_version`: send `Tus-Resumable: 1.0.0`"),
    415: _error("a PATCH carries `Content-Type: application/offset+octet-stream`"),
    460: _error("`checksum_mismatch` (Upload-Checksum) or `digest_mismatch` (the whole file: nothing stored)"),
}
DOWNLOAD_RESPONSES = {
    **ERROR_RESPONSES,
    206: ResponseSpec(bytes, description="the range asked for", media_type="application/octet-stream"),
    416: _error("`range_not_satisfiable`: `Content-Range: bytes */<size>`"),
}


class PreviewInfo(msgspec.Struct):
    """What a device needs to show a file before and after its preview exists."""

    kind: str
    state: str
    width: int | None = None
    height: int | None = None
    sizes: list[str] = []


def _files(request: Request[Any, Any, State]) -> FileService:
    return services(request.app.state).files


def _tus_error(exc: TusError) -> Response[ErrorBody]:
    headers = dict(TUS)
    if isinstance(exc, OffsetConflict):
        headers["Upload-Offset"] = str(exc.offset)
    if exc.status == 412:
        headers["Tus-Version"] = tus.VERSION
    return Response(ErrorBody(error=exc.error, detail=exc.detail), status_code=exc.status, headers=headers)


def _location(upload: Upload) -> str:
    return f"{UPLOADS}/{upload.id}"


# --- tus (uploads.py has the rules) ----------------------------------------------------------


@route(UPLOADS, http_method=["OPTIONS"], include_in_schema=False)
async def tus_options(request: Request[Any, Any, State]) -> Response[None]:
    settings = services(request.app.state).settings
    return Response(
        None,
        status_code=204,
        headers={
            **TUS,
            "Tus-Version": tus.VERSION,
            "Tus-Extension": tus.EXTENSIONS,
            "Tus-Max-Size": str(settings.max_file_bytes),
            "Tus-Checksum-Algorithm": ",".join(tus.CHECKSUM_ALGORITHMS),
        },
    )


@post(UPLOADS, status_code=201, responses=TUS_RESPONSES)
async def tus_create(request: Request[Any, Any, State], current: NamedDependency[CurrentSession]) -> Response[Any]:
    """Create an upload (tus creation). Dedup: a stored sha256 answers complete at once."""
    try:
        tus.check_version(request.headers.get("tus-resumable"))
        if request.headers.get("upload-defer-length"):
            raise TusError(400, "bad_request", "Upload-Defer-Length is not supported: send Upload-Length")
        length = tus.parse_int("Upload-Length", request.headers.get("upload-length"))
        metadata = tus.parse_metadata(request.headers.get("upload-metadata"))
        upload = _files(request).uploads.create(current, length, metadata, now_ms())
    except TusError as exc:
        return _tus_error(exc)
    offset = upload.length if upload.done else 0
    headers = {**TUS, "Location": _location(upload), "Upload-Offset": str(offset)}
    return Response(b"", status_code=201, media_type="text/plain", headers=headers)


@head(f"{UPLOADS}/{{upload_id:str}}", responses=TUS_RESPONSES)
async def tus_head(
    request: Request[Any, Any, State], current: NamedDependency[CurrentSession], upload_id: FromPath[str]
) -> Response[None]:
    files = _files(request)
    try:
        upload = files.uploads.owned(upload_id, current, now_ms())
    except TusError as exc:
        return Response(None, status_code=exc.status, headers={**TUS, "Cache-Control": "no-store"})
    metadata = tus.encode_metadata({"filename": upload.name, "filetype": upload.type, "sha256": upload.digest})
    return Response(
        None,
        status_code=200,
        headers={
            **TUS,
            "Upload-Offset": str(files.uploads.offset(upload)),
            "Upload-Length": str(upload.length),
            "Upload-Metadata": metadata,
            "Cache-Control": "no-store",
        },
    )


@patch(f"{UPLOADS}/{{upload_id:str}}", request_max_body_size=None, responses=TUS_RESPONSES)
async def tus_patch(
    request: Request[Any, Any, State], current: NamedDependency[CurrentSession], upload_id: FromPath[str]
) -> Response[Any]:
    files = _files(request)
    try:
        tus.check_version(request.headers.get("tus-resumable"))
        if request.headers.get("content-type", "").split(";")[0].strip() != tus.OFFSET_TYPE:
            raise TusError(415, "bad_request", f"a PATCH carries Content-Type {tus.OFFSET_TYPE}")
        offset = tus.parse_int("Upload-Offset", request.headers.get("upload-offset"))
        upload = files.uploads.owned(upload_id, current, now_ms())
        body: AsyncIterator[bytes] = request.stream()
        end = await files.uploads.append(upload, offset, body, request.headers.get("upload-checksum"), now_ms())
    except TusError as exc:
        return _tus_error(exc)
    return Response(None, status_code=204, headers={**TUS, "Upload-Offset": str(end)})


@delete(f"{UPLOADS}/{{upload_id:str}}", status_code=200, responses=TUS_RESPONSES)
async def tus_terminate(
    request: Request[Any, Any, State], current: NamedDependency[CurrentSession], upload_id: FromPath[str]
) -> Response[Any]:
    files = _files(request)
    try:
        tus.check_version(request.headers.get("tus-resumable"))
        files.uploads.discard(files.uploads.owned(upload_id, current, now_ms()))
    except TusError as exc:
        return _tus_error(exc)
    return Response(None, status_code=204, headers=TUS)


# --- search by name (search.py; the rules: sync_protocol/file_query.py) ---------------------


@get("/api/files/search", responses=ERROR_RESPONSES)
async def search(
    request: Request[Any, Any, State],
    current: NamedDependency[CurrentSession],
    q: FromQuery[str],
    limit: FromQuery[int] = 50,
) -> FileResults:
    """Files whose name matches (``is:file`` may be in ``q`` or not); newest first."""
    return search_files(_files(request).store, current.user_id, q, limit)


# --- downloads and previews (downloads.py has the rules) -------------------------------------


def _visible(request: Request[Any, Any, State], user_id: str, file_id: str) -> Any:
    try:
        return _files(request).visible(user_id, file_id)
    except FileNotVisible:
        raise ApiError(404, "not_found", "there is no such file") from None


@get("/api/files/{file_id:str}", responses=DOWNLOAD_RESPONSES)
async def download(
    request: Request[Any, Any, State],
    current: NamedDependency[CurrentSession],
    file_id: FromPath[str],
    download: FromQuery[bool] = False,
) -> Response[Any]:
    """The file's bytes; one Range is honoured (206), a range past the end is 416."""
    fields = _visible(request, current.user_id, file_id)
    digest, size = str(fields["digest"]), int(fields["size"])
    media_type, inline = downloads.served_type(str(fields.get("type", "")))
    headers = {
        **downloads.safety_headers(),
        "Accept-Ranges": "bytes",
        "Content-Disposition": downloads.content_disposition(str(fields.get("name", "file")), inline, download),
        "ETag": f'"{digest}"',
    }
    try:
        span = downloads.byte_range(request.headers.get("range"), size)
    except RangeNotSatisfiable as exc:
        body = ErrorBody(error="range_not_satisfiable", detail=f"the file has {exc.size} bytes")
        headers["Content-Range"] = f"bytes */{exc.size}"
        return Response(body, status_code=416, media_type="application/json", headers=headers)
    if span.partial:
        headers["Content-Range"] = f"bytes {span.start}-{span.start + span.length - 1}/{size}"
    headers["Content-Length"] = str(span.length)
    blobs = _files(request).blobs
    return Stream(
        blobs.read(digest, span.start, span.length),
        status_code=206 if span.partial else 200,
        media_type=media_type,
        headers=headers,
    )


@get("/api/files/{file_id:str}/preview", responses=ERROR_RESPONSES)
async def preview_info(
    request: Request[Any, Any, State], current: NamedDependency[CurrentSession], file_id: FromPath[str]
) -> PreviewInfo:
    fields = _visible(request, current.user_id, file_id)
    made = _files(request).store.preview(str(fields["digest"]))
    kind = previews.kind_of(str(fields.get("type", "")), str(fields.get("name", "")))
    if made is None:
        width, height = fields.get("width"), fields.get("height")
        return PreviewInfo(
            kind,
            "waiting" if kind != "none" else "none",
            width if isinstance(width, int) else None,
            height if isinstance(height, int) else None,
        )
    sizes = sorted(previews.SIZES) if made.state == "ready" and made.kind in ("image", "pdf") else []
    return PreviewInfo(made.kind, made.state, made.width, made.height, sizes)


@get("/api/files/{file_id:str}/thumb/{size:str}", responses=ERROR_RESPONSES)
async def thumbnail(
    request: Request[Any, Any, State],
    current: NamedDependency[CurrentSession],
    file_id: FromPath[str],
    size: FromPath[str],
) -> Response[Any]:
    """A JPEG thumbnail (``small`` or ``large``) once the worker made it; 404 ``no_preview`` until then."""
    fields = _visible(request, current.user_id, file_id)
    if size not in previews.SIZES:
        raise ApiError(404, "not_found", f"thumbnail sizes are {', '.join(sorted(previews.SIZES))}")
    key = derived_key(str(fields["digest"]), size)
    blobs = _files(request).blobs
    if not blobs.has(key):
        raise ApiError(404, "no_preview", "there is no thumbnail (yet): see /preview")
    headers = {**downloads.safety_headers(), "Content-Disposition": "inline"}
    return Stream(blobs.read(key), media_type="image/jpeg", headers=headers)


@get("/api/files/{file_id:str}/text", responses=ERROR_RESPONSES)
async def text_preview(
    request: Request[Any, Any, State], current: NamedDependency[CurrentSession], file_id: FromPath[str]
) -> Response[str]:
    """The first 200 lines of a text file, as text/plain (never HTML)."""
    fields = _visible(request, current.user_id, file_id)
    if previews.kind_of(str(fields.get("type", "")), str(fields.get("name", ""))) != "text":
        raise ApiError(404, "no_preview", "this file is not text")
    head_bytes = b"".join(_files(request).blobs.read(str(fields["digest"]), 0, previews.TEXT_BYTES))
    headers = {**downloads.safety_headers(), "Content-Disposition": "inline"}
    return Response(
        previews.first_lines(head_bytes), media_type="text/plain; charset=utf-8", headers=headers, status_code=200
    )


ROUTES = [
    tus_options,
    tus_create,
    tus_head,
    tus_patch,
    tus_terminate,
    search,
    download,
    preview_info,
    thumbnail,
    text_preview,
]
