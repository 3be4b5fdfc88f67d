"""The ``files`` collection: a file shared in a channel, one record per file (or per version).

The record holds what a person sees (name, size, type), the SHA-256 ``digest`` that names the
bytes in the server's blob store (backend/files/blobstore.py), and what it belongs to. The bytes
never travel through sync: they go up over tus and come down over plain HTTP (PROTOCOL.md,
"Files"). A record may be created only once its bytes are stored (the ``file_stored`` check).

Attachments: a file names the message it belongs to (``message``), so messages are untouched
and a message with three files is four records. The message goes out after its files are
stored; a device shows a message's files by looking up ``files`` whose ``message`` is its id.

Versions: a new version is a new record whose ``version_of`` names the first version's id; the
earlier versions stay listed and downloadable.
"""

from __future__ import annotations

import re
import unicodedata

from sync_protocol.registry import CollectionSpec, Field, Rights, ScopeRule

MAX_FILE_NAME = 255
#: ``digest`` is lowercase hex SHA-256.
DIGEST = re.compile(r"\A[0-9a-f]{64}\Z")

_REF = Field(str, 120, immutable=True)

FILES = CollectionSpec(
    "files",
    {
        "channel": Field(str, 80, immutable=True, required=True),
        "name": Field(str, MAX_FILE_NAME, required=True),
        "size": Field(int, 2**53 - 1, immutable=True, required=True),
        "type": Field(str, 255, immutable=True, required=True),
        "digest": Field(str, 64, immutable=True, required=True),
        "message": _REF,
        "version_of": _REF,
        #: An image's pixel size, when the device knows it: placeholders keep the aspect ratio.
        "width": Field(int, 1_000_000, immutable=True),
        "height": Field(int, 1_000_000, immutable=True),
        "deleted": Field(bool, only=(True,)),
        "uploader": Field(str, server=True),
        "at": Field(int, server=True),
    },
    ScopeRule("field", field="channel", prefix="c:"),
    rights=Rights(
        create="file_sharer",
        fields={
            "channel": "fixed",
            "size": "fixed",
            "type": "fixed",
            "digest": "fixed",
            "message": "fixed",
            "version_of": "fixed",
            "width": "fixed",
            "height": "fixed",
            "name": "file_renamer",
        },
        delete="file_deleter",
    ),
    on_create="file_uploader",
    checks=("file_stored",),
    derived_tables=("file_refs",),
)

FILE_COLLECTIONS = (FILES,)

#: Control characters (Cc), format characters (Cf: bidi overrides and isolates, zero-width
#: joiners) and line or paragraph separators never reach a displayed name.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def display_name(name: str) -> str:
    """A file name as people see it: display data only, never a path. Control characters and
    bidirectional overrides are removed (``evil\\u202egnp.exe`` must not read as ``exe.png``),
    path separators become ``_``, and an empty result is ``file``. Shared vectors:
    vectors/file_names.json (the PWA applies the same rule)."""
    kept = "".join(c for c in name if unicodedata.category(c) not in _HIDDEN_CATEGORIES)
    kept = kept.replace("/", "_").replace("\\", "_").strip()
    if kept in ("", ".", ".."):
        return "file"
    return kept[:MAX_FILE_NAME]
