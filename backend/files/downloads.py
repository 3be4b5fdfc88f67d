"""Serving a file's bytes safely: which range, which disposition, which headers.

Rule 1. Only someone who may read the file's channel gets its bytes or previews (access.py,
        ``may_read_file``); everyone else gets the 404 a missing file gets.
Rule 2. Uploaded bytes never run in TeamTalk's origin: every answer carries
        ``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy: sandbox;
        default-src 'none'``; only images (not SVG), PDF, audio, video and plain text are
        ``inline``, anything else (HTML, SVG, scripts, unknown types) is an ``attachment``
        served as ``application/octet-stream``.
Rule 3. The name in ``Content-Disposition`` is the sanitised display name (collections_files.
        display_name), as an ASCII fallback plus RFC 6266/5987 ``filename*``; never a path.
Rule 4. One byte range (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``) answers 206 with
        ``Content-Range``; a range that starts past the end answers 416 with
        ``Content-Range: bytes */size``; a header this parser does not understand (several
        ranges, other units) is ignored and the whole file is sent, as RFC 9110 allows.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import quote

from sync_protocol.collections_files import display_name

SANDBOX_CSP = "sandbox; default-src 'none'"
_INLINE_PREFIXES = ("image/", "audio/", "video/")
_INLINE_EXACT = frozenset({"application/pdf", "text/plain"})
_NEVER_INLINE = frozenset({"image/svg+xml"})
_RANGE = re.compile(r"\Abytes=(\d*)-(\d*)\Z")
_TYPE = re.compile(r"\A[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\Z")


class RangeNotSatisfiable(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"bytes */{size}")
        self.size = size


class Span(NamedTuple):
    start: int
    length: int
    partial: bool


def byte_range(header: str | None, size: int) -> Span:
    """Rule 4: the bytes to send for a Range header."""
    whole = Span(0, size, False)
    if not header:
        return whole
    found = _RANGE.match(header.strip().replace(" ", ""))
    if found is None or found.groups() == ("", ""):
        return whole
    first, last = found.groups()
    if first == "":  # a suffix: the last n bytes
        count = int(last)
        if count == 0:
            raise RangeNotSatisfiable(size)
        count = min(count, size)
        return Span(size - count, count, True)
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or (last != "" and int(last) < start):
        raise RangeNotSatisfiable(size)
    return Span(start, end - start + 1, True)


def served_type(declared: str) -> tuple[str, bool]:
    """The Content-Type to send and whether it may show inline (Rule 2)."""
    kind = declared.split(";", 1)[0].strip().lower()
    if not _TYPE.match(kind):
        return "application/octet-stream", False
    inline = kind not in _NEVER_INLINE and (kind.startswith(_INLINE_PREFIXES) or kind in _INLINE_EXACT)
    if not inline:
        return "application/octet-stream", False
    return kind, True  # Litestar adds "; charset=utf-8" to text types


def content_disposition(name: str, inline: bool, download: bool = False) -> str:
    """Rule 3; ``download`` forces an attachment (the Download button)."""
    shown = display_name(name)
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\%' else "_" for c in shown)
    kind = "inline" if inline and not download else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(shown, safe='')}"


def safety_headers() -> dict[str, str]:
    """Rule 2: on every answer that carries uploaded bytes or their previews."""
    return {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": SANDBOX_CSP,
        "Cross-Origin-Resource-Policy": "same-origin",
        "Cache-Control": "private, max-age=31536000, immutable",
    }
