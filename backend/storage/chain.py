"""The change log's hash chain: tamper evidence that survives redaction.

Rules:

Rule 1. Entry hash = SHA-256(previous entry's hash, "\\n", canonical JSON of the entry), where the
        entry is ``{seq, scope, collection, id, hlc, author, device, mid, received_at, fields}`` and
        ``fields`` maps each field name to the SHA-256 of its value's canonical JSON — not to the
        value itself.
Rule 2. Redacting a value (a deleted message's text, an expired body) removes the value and keeps
        its digest, so the chain still verifies and every value still present is still checked.
Rule 3. Canonical JSON: keys sorted, no spaces, UTF-8 (not ASCII-escaped).
The first entry's previous hash is GENESIS.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import msgspec

GENESIS = "0" * 64


_encode = msgspec.json.encode
_sha256 = hashlib.sha256
#: Values whose JSON has no keys to sort: their canonical form is their plain encoding.
_SCALARS = frozenset({str, int, bool, float, type(None)})
#: Digests of short strings (record ids, user ids, channel ids) already computed.
_memo: dict[str, str] = {}
#: ... and of integers: a push stamps all its changes with one ``at``.
_int_memo: dict[int, str] = {}
_MEMO_MAX_LEN = 64
_MEMO_SIZE = 4096


def canonical(value: Any) -> bytes:
    # Same bytes as json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False), ~5x faster.
    return _encode(value, order="sorted")


def value_digest(value: Any) -> str:
    return _sha256(_encode(value) if type(value) in _SCALARS else canonical(value)).hexdigest()


def field_digests(fields: Mapping[str, Any], redacted: Mapping[str, str] | None = None) -> dict[str, str]:
    """Digests of present values, plus the kept digests of redacted ones."""
    digests = {}
    for name, value in fields.items():
        kind = type(value)
        if kind is str and len(value) <= _MEMO_MAX_LEN:  # ids and scopes: the same few, over and over
            digest = _memo.get(value)
            if digest is None:
                if len(_memo) >= _MEMO_SIZE:
                    _memo.clear()
                digest = _memo[value] = _sha256(_encode(value)).hexdigest()
        elif kind is int:
            digest = _int_memo.get(value)
            if digest is None:
                if len(_int_memo) >= _MEMO_SIZE:
                    _int_memo.clear()
                digest = _int_memo[value] = _sha256(_encode(value)).hexdigest()
        else:
            digest = _sha256(_encode(value) if kind in _SCALARS else canonical(value)).hexdigest()
        digests[name] = digest
    if redacted:
        digests.update(redacted)
    return digests


class _Entry(msgspec.Struct):
    """Rule 1's entry, its keys declared in sorted order: encoded as declared (``deterministic``
    sorts only the ``fields`` digests), the bytes are Rule 3's canonical JSON of the entry, without
    sorting ten keys per entry (tests/unit/test_chain_format.py checks it against json.dumps)."""

    author: str
    collection: str
    device: str
    fields: dict[str, str]
    hlc: str
    id: str
    mid: int
    received_at: int
    scope: str
    seq: int


_entry_encode = msgspec.json.Encoder(order="deterministic").encode


def entry_hash(
    prev: str,
    seq: int,
    scope: str,
    collection: str,
    record_id: str,
    hlc: str,
    author: str,
    device: str,
    mid: int,
    received_at: int,
    digests: Mapping[str, str],
) -> str:
    fields = digests if type(digests) is dict else dict(digests)
    entry = _entry_encode(_Entry(author, collection, device, fields, hlc, record_id, mid, received_at, scope, seq))
    return _sha256(b"%s\n%s" % (prev.encode(), entry)).hexdigest()


class ChainRow(NamedTuple):
    """One change-log row as stored (the archive keeps the same columns)."""

    seq: int
    scope: str
    collection: str
    record_id: str
    hlc: str
    author: str
    device: str
    mid: int
    received_at: int
    fields: dict[str, Any]
    redacted: dict[str, str] | None
    hash: str


ROW_COLUMNS = "seq, scope, collection, record_id, hlc, author, device, mid, received_at, fields, redacted, hash"


_decode = msgspec.json.decode  # the columns are msgspec's own JSON: ~3x json.loads on the chain's follower


def row_from_sql(row: tuple[Any, ...]) -> ChainRow:
    """A ChainRow from ``SELECT {ROW_COLUMNS}`` (fields and redacted as JSON text)."""
    fields = _decode(row[9])
    redacted = _decode(row[10]) if row[10] else None
    seq, scope, collection, record_id, hlc, author, device, mid, received_at = row[:9]
    return ChainRow(seq, scope, collection, record_id, hlc, author, device, mid, received_at, fields, redacted, row[11])


def row_hash(prev: str, row: ChainRow) -> str:
    """Rule 1 for a row as stored: its fields' digests, with the kept digests of redacted values."""
    return entry_hash(
        prev,
        row.seq,
        row.scope,
        row.collection,
        row.record_id,
        row.hlc,
        row.author,
        row.device,
        row.mid,
        row.received_at,
        field_digests(row.fields, row.redacted),
    )


def first_mismatch(rows: Iterable[ChainRow], prev: str = GENESIS, expect_seq: int = 1) -> int | None:
    """Recompute the chain over rows in seq order; the seq of the first entry that does not match
    (a changed byte, a missing or reordered entry), or None when every entry matches."""
    for row in rows:
        if row.seq != expect_seq:
            return expect_seq
        digest = row_hash(prev, row)
        if digest != row.hash:
            return row.seq
        prev, expect_seq = row.hash, expect_seq + 1
    return None
