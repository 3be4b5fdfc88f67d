"""The log's hash chain is a format archives are verified against (storage/chain.py, Rules 1-3):
the fast encoding must give the bytes of the rule as written, checked here against a plain
``json.dumps``/``hashlib`` reading of it."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from backend.storage import chain

_text = st.text(max_size=40)  # any code points: escapes, non-ASCII, astral
_values = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53), _text)


def _reference_hash(prev: str, entry: dict[str, Any], fields: dict[str, Any]) -> str:
    def canonical(value: Any) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    digests = {name: hashlib.sha256(canonical(value)).hexdigest() for name, value in fields.items()}
    return hashlib.sha256(prev.encode() + b"\n" + canonical({**entry, "fields": digests})).hexdigest()


@given(
    prev=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    seq=st.integers(1, 2**53),
    strings=st.lists(_text, min_size=6, max_size=6),
    mid=st.integers(0, 2**53),
    received_at=st.integers(0, 2**53),
    fields=st.dictionaries(_text, _values, max_size=6),
)
def test_entry_hash_is_rule_1_over_rule_3_canonical_json(
    prev: str, seq: int, strings: list[str], mid: int, received_at: int, fields: dict[str, Any]
) -> None:
    scope, collection, record_id, hlc, author, device = strings
    entry = {
        "seq": seq,
        "scope": scope,
        "collection": collection,
        "id": record_id,
        "hlc": hlc,
        "author": author,
        "device": device,
        "mid": mid,
        "received_at": received_at,
    }
    found = chain.entry_hash(
        prev, seq, scope, collection, record_id, hlc, author, device, mid, received_at, chain.field_digests(fields)
    )
    assert found == _reference_hash(prev, entry, fields)
