"""Positions of cards on a board and items in a checklist: fractional indexes.

A port of the ``fractional-indexing`` algorithm (rocicorp, David Greenspan; npm
``fractional-indexing`` 4.0, default digits), so a key minted offline in Python and one minted in
the browser sort the same. The browser uses the npm package itself (frontend/src/lib/positions.js);
both pass ``vectors/positions.json``. The PyPI port (0.1.3) follows an older release that throws
where 4.0 swaps reversed bounds, so this module ports 4.0 rather than depend on it.

Rules:

Rule 1. A key is an "integer part" (a head letter that says its length, then base-62 digits) and
        a fraction with no trailing ``0``; keys compare as plain strings (code points).
Rule 2. Moving an item writes one new key, between its new neighbours, into that item only:
        other items never move, so concurrent moves on two offline devices never reshuffle.
Rule 3. Two devices inserting at the same place offline mint the same key; order sorts by
        ``(position, record id)``, so equal keys are broken the same way everywhere.

Pure: stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
INT_DIGITS = DIGITS[10:]  # the heads: A-Z (long negative integers) then a-z
_INDEX = {c: i for i, c in enumerate(DIGITS)}
_INT_INDEX = {c: i for i, c in enumerate(INT_DIGITS)}
_SMALLEST = INT_DIGITS[0] + DIGITS[0] * (len(INT_DIGITS) // 2)
#: Longest key a client may store (a field limit): ~100 moves into the same gap before it is hit.
MAX_KEY = 200


class PositionError(ValueError):
    """A key that the algorithm never produces, or bounds it cannot fit a key between."""


def _midpoint(a: str, b: str | None) -> str:
    zero = DIGITS[0]
    if b is not None and a >= b:
        raise PositionError(f"{a} >= {b}")
    if a[-1:] == zero or (b and b[-1:] == zero):
        raise PositionError("trailing zero")
    if b:
        n = 0
        while (a[n] if n < len(a) else zero) == b[n]:
            n += 1
        if n > 0:
            return b[:n] + _midpoint(a[n:], b[n:])
    digit_a = _INDEX[a[0]] if a else 0
    digit_b = _INDEX[b[0]] if b else len(DIGITS)  # b is never "" here: keys have no empty tail
    if digit_b - digit_a > 1:
        return DIGITS[(digit_a + digit_b + 1) // 2]  # JS Math.round(0.5 * x): halves round up
    if b and len(b) > 1:
        return b[:1]
    return DIGITS[digit_a] + _midpoint(a[1:], None)


def _integer_length(head: str) -> int:
    i = _INT_INDEX.get(head)
    if i is None:
        raise PositionError(f"invalid order key head: {head}")
    half = len(INT_DIGITS) // 2
    return half - i + 1 if i < half else i - half + 2


def _integer_part(key: str) -> str:
    length = _integer_length(key[0])
    if length > len(key):
        raise PositionError(f"invalid order key: {key}")
    return key[:length]


def validate(key: str) -> None:
    if not key or key == _SMALLEST:
        raise PositionError(f"invalid order key: {key!r}")
    if any(c not in _INDEX for c in key):
        raise PositionError(f"invalid order key: {key!r}")
    integer = _integer_part(key)
    if key[len(integer) :][-1:] == DIGITS[0]:
        raise PositionError(f"invalid order key: {key}")


def _step_integer(x: str, up: bool) -> str | None:
    """The next (``up``) or previous integer part, or None past the last one."""
    if len(x) != _integer_length(x[0]):
        raise PositionError(f"invalid integer part of order key: {x}")
    edge, wrap = (DIGITS[-1], DIGITS[0]) if up else (DIGITS[0], DIGITS[-1])
    trailing = ""
    for i in range(len(x) - 1, 0, -1):
        if x[i] == edge:
            trailing = wrap + trailing
        else:
            return x[0] + x[1:i] + DIGITS[_INDEX[x[i]] + (1 if up else -1)] + trailing
    head_index = _INT_INDEX[x[0]] + (1 if up else -1)
    if not 0 <= head_index < len(INT_DIGITS):
        return None
    head = INT_DIGITS[head_index]
    delta = _integer_length(head) - _integer_length(x[0])
    return head + (trailing + wrap if delta > 0 else trailing[1:] if delta < 0 else trailing)


def key_between(a: str | None, b: str | None) -> str:
    """``generateKeyBetween``: a key after ``a`` and before ``b`` (None: an open end)."""
    for key in (a, b):
        if key is not None:
            validate(key)
    if a is not None and b is not None and a > b:
        a, b = b, a
    if a is None:
        if b is None:
            return INT_DIGITS[len(INT_DIGITS) // 2] + DIGITS[0]
        ib = _integer_part(b)
        fb = b[len(ib) :]
        if ib == _SMALLEST:
            return ib + _midpoint("", fb)
        if ib < b:
            return ib
        res = _step_integer(ib, up=False)
        if res is None:
            raise PositionError("cannot decrement any more")
        return res
    if b is None:
        ia = _integer_part(a)
        stepped = _step_integer(ia, up=True)
        return ia + _midpoint(a[len(ia) :], None) if stepped is None else stepped
    ia, ib = _integer_part(a), _integer_part(b)
    fa, fb = a[len(ia) :], b[len(ib) :]
    if ia == ib:
        return ia + _midpoint(fa, fb)
    stepped = _step_integer(ia, up=True)
    if stepped is None:
        raise PositionError("cannot increment any more")
    return stepped if stepped < b else ia + _midpoint(fa, None)


def keys_between(a: str | None, b: str | None, n: int) -> list[str]:
    """``generateNKeysBetween``: ``n`` ascending keys between ``a`` and ``b``."""
    if n <= 0:
        return []
    if n == 1:
        return [key_between(a, b)]
    if b is None:
        keys = [key_between(a, None)]
        for _ in range(n - 1):
            keys.append(key_between(keys[-1], None))
        return keys
    if a is None:
        keys = [key_between(None, b)]
        for _ in range(n - 1):
            keys.append(key_between(None, keys[-1]))
        return keys[::-1]
    mid = n // 2
    c = key_between(a, b)
    return [*keys_between(a, c, mid), c, *keys_between(c, b, n - mid - 1)]


def ordered(items: Iterable[tuple[str, Mapping[str, object]]], field: str = "position") -> list[str]:
    """Record ids in display order: by position, then by id (Rule 3). A record with no valid
    position sorts last (by id), so a bad key from an old client never hides a card."""

    def sort_key(item: tuple[str, Mapping[str, object]]) -> tuple[int, str, str]:
        value = item[1].get(field)
        return (0, value, item[0]) if isinstance(value, str) and value else (1, "", item[0])

    return [record_id for record_id, _ in sorted(items, key=sort_key)]


def key_at(ids: list[str], positions: Mapping[str, str | None], index: int) -> str:
    """The key for an item dropped at ``index`` of ``ids`` (display order, without it): between
    its new neighbours; after a run of equal keys when they leave no room (Rule 2, one change).
    The JS twin is ``keyAt`` in frontend/src/lib/positions.js."""
    before = positions.get(ids[index - 1]) if index > 0 else None
    following = index
    while before is not None and following < len(ids) and (positions.get(ids[following]) or "~") <= before:
        following += 1
    after = positions.get(ids[following]) if following < len(ids) else None
    return key_between(before, after)


__all__ = ["MAX_KEY", "PositionError", "key_at", "key_between", "keys_between", "ordered", "validate"]
