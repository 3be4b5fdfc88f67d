"""Previews made from a file's bytes: image thumbnails (Pillow), a PDF's first page (pypdfium2),
and the first lines of text. Pure functions of a path; the worker (worker.py) runs them.

Rule 1. Thumbnails come in two sizes (SIZES, the longest side at most), as JPEG. EXIF orientation is
        applied first; the derived image is a new image saved without EXIF, so location and
        every other EXIF field stay in the original only.
Rule 2. A decompression bomb fails cleanly: an image over MAX_PIXELS is refused from its header,
        before any pixel is decoded (Pillow's own MAX_IMAGE_PIXELS guard stays on behind it), and
        a PDF page is rendered at the scale that fits the large size, whatever the page's size.
Rule 3. Text is never rendered: the first TEXT_LINES lines are served as ``text/plain``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageOps

SIZES = {"small": 320, "large": 1280}
MAX_PIXELS = 100_000_000
TEXT_LINES = 200
TEXT_BYTES = 256 * 1024
JPEG_QUALITY = 82
#: EXIF orientations that turn the picture by 90 degrees (width and height swap).
_TURNED = frozenset({5, 6, 7, 8})
_TEXT_TYPES = frozenset(
    {"application/json", "application/xml", "application/javascript", "application/x-yaml", "application/toml"}
)
_TEXT_SUFFIXES = frozenset(
    ".txt .md .markdown .csv .tsv .json .yaml .yml .toml .ini .cfg .log .py .js .ts .jsx .tsx .css .html .htm "
    ".xml .svg .sh .c .h .cpp .hpp .rs .go .java .kt .rb .php .sql .swift".split()
)

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Rule 2: Pillow refuses twice this as a bomb, warns above it


class PreviewFailed(Exception):
    """The file cannot be previewed (a bomb, a broken file): it stays downloadable."""


class Thumbnails(NamedTuple):
    width: int
    height: int
    images: dict[str, bytes]


def kind_of(declared_type: str, name: str) -> str:
    """``image``, ``pdf``, ``text`` or ``none`` (an icon, the size and Download)."""
    kind = declared_type.split(";", 1)[0].strip().lower()
    suffix = Path(name).suffix.lower()
    if kind in ("image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"):
        return "image"
    if kind == "application/pdf":
        return "pdf"
    if kind.startswith("text/") or kind in _TEXT_TYPES or suffix in _TEXT_SUFFIXES:
        return "text"
    return "none"


def image_thumbnails(path: Path) -> Thumbnails:
    try:
        with Image.open(path) as source:
            width, height = source.size
            if width * height > MAX_PIXELS:
                raise PreviewFailed(f"{width}x{height} pixels is more than {MAX_PIXELS}")
            orientation = source.getexif().get(0x0112, 1)
            # JPEG decodes at 1/2, 1/4 or 1/8 scale when asked, for a fraction of the cost: ask for
            # half the large size, so a 12 MP photo decodes as 1000 x 750 (its large thumbnail is
            # then 1000 px, not 1280: the price of the 300 ms budget; smaller photos keep more).
            source.draft("RGB", (SIZES["large"] // 2, SIZES["large"] // 2))
            upright = ImageOps.exif_transpose(source)
            if orientation in _TURNED:
                width, height = height, width
            return Thumbnails(width, height, _scaled(upright))
    except PreviewFailed:
        raise
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError) as exc:
        raise PreviewFailed(f"not a readable image: {exc}") from None


def pdf_thumbnails(path: Path) -> Thumbnails:
    import pypdfium2 as pdfium  # imported here: loading PDFium costs ~50 ms, only the worker needs it

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise PreviewFailed(f"not a readable PDF: {exc}") from None
    try:
        if len(document) == 0:
            raise PreviewFailed("the PDF has no pages")
        page = document[0]
        width, height = page.get_size()
        if width <= 0 or height <= 0:
            raise PreviewFailed("the first page has no size")
        scale = min(SIZES["large"] / max(width, height), 4.0)  # Rule 2: bounded whatever the page
        bitmap = page.render(scale=scale)
        image = bitmap.to_pil()
        return Thumbnails(round(width), round(height), _scaled(image))
    except pdfium.PdfiumError as exc:
        raise PreviewFailed(f"the first page does not render: {exc}") from None
    finally:
        document.close()


def first_lines(chunks: bytes) -> str:
    """Rule 3: at most TEXT_LINES lines of the first TEXT_BYTES bytes, as text."""
    text = chunks[:TEXT_BYTES].decode("utf-8", errors="replace")
    return "".join(text.splitlines(keepends=True)[:TEXT_LINES])


def _scaled(image: Image.Image) -> dict[str, bytes]:
    rgb = image.convert("RGB")  # a new image: nothing of the source's EXIF or ICC info comes along
    out: dict[str, bytes] = {}
    for name, side in sorted(SIZES.items(), key=lambda item: -item[1]):
        rgb.thumbnail((side, side), Image.Resampling.LANCZOS if side <= 400 else Image.Resampling.BILINEAR)
        buffer = io.BytesIO()
        rgb.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False)
        out[name] = buffer.getvalue()
    return out
