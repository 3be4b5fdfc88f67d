"""Schema checks on a pushed batch, before anything is applied.

A batch that breaks the schema is refused whole (400/409/413, naming the change and field), so
a malformed push never leaves half its effects behind. Rights are checked later, per change, by
access.py — a correct client can be refused a right (it was removed from a channel while
offline), but it never sends a malformed change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from backend.errors import ApiError
from backend.settings import Settings
from sync_protocol import hlc
from sync_protocol.collections import REGISTRY
from sync_protocol.registry import CollectionSpec, Registry
from sync_protocol.wire import Mutation

RECORD_ID = re.compile(r"[0-9A-Za-z:_-]{1,120}\Z")  # \Z, not $: "$" also matches before a final "\n"
_record_id = RECORD_ID.match


def _invalid(field: str, detail: str, error: str = "invalid_change") -> ApiError:
    return ApiError(400, error, f"{field}: {detail}", field=field)


class _Problem(Exception):
    """What is wrong with one change; the path to it is prefixed only when there is a problem
    (building a path string for every valid field was a tenth of the check)."""

    def __init__(self, where: str, detail: str, error: str = "invalid_change") -> None:
        super().__init__(detail)
        self.where, self.detail, self.error = where, detail, error

    def at(self, path: str) -> ApiError:
        return _invalid(path + self.where, self.detail, self.error)


class _ClockAhead(_Problem):
    def __init__(self, ahead_s: float, now_ms: int) -> None:
        super().__init__(".hlc", "")
        self.ahead_s, self.now_ms = ahead_s, now_ms

    def at(self, path: str) -> ApiError:
        field = path + self.where
        return ApiError(
            409,
            "clock_ahead",
            f"{field} is {self.ahead_s:.0f} s ahead of the server; correct the clock offset, re-stamp and retry",
            field=field,
            server_time=self.now_ms,
        )


def validate_push(
    mutations: Sequence[Mutation], device: str, now_ms: int, settings: Settings, registry: Registry = REGISTRY
) -> list[hlc.Hlc]:
    """Raise ApiError naming the first problem; otherwise the mutations' clocks, parsed."""
    if len(mutations) > settings.max_changes_per_push:
        raise ApiError(
            413,
            "too_large",
            f"a push may carry at most {settings.max_changes_per_push} changes; this one has {len(mutations)}",
            field="changes",
        )
    previous_mid = 0
    stamps: list[hlc.Hlc] = []
    latest = now_ms + settings.max_clock_skew_ms
    specs = registry.specs  # one mapping per push: ``Registry.get`` is a Python call per change
    for index, mutation in enumerate(mutations):
        try:
            stamps.append(_check(mutation, previous_mid, device, now_ms, latest, specs))
        except _Problem as problem:
            raise problem.at(f"changes[{index}]") from None
        previous_mid = mutation.mid
    return stamps


def _check(
    mutation: Mutation, previous_mid: int, device: str, now_ms: int, latest: int, specs: Mapping[str, CollectionSpec]
) -> hlc.Hlc:
    """One change (``latest``: the greatest clock ms the server accepts now). Runs for every change
    of a push: the common path is kept to plain comparisons (bench/push_instructions.py)."""
    if mutation.mid <= previous_mid:
        raise _Problem(".mid", "mutation counters must increase within a push")
    spec = specs.get(mutation.collection)
    if spec is None:
        known = ", ".join(sorted(specs))
        raise _Problem(".collection", f"unknown collection {mutation.collection!r} (known: {known})")
    if not _record_id(mutation.id):
        raise _Problem(".id", "ids are 1-120 characters of letters, digits, ':', '_' or '-'")
    stamp = _check_clock(mutation.hlc, device, now_ms, latest)
    fields = mutation.fields
    if not fields:
        raise _Problem(".fields", "a change must set at least one field")
    known_fields = spec.fields
    for name, value in fields.items():
        field = known_fields.get(name)
        if field is None:
            raise _Problem(f".fields.{name}", f"{mutation.collection} have no field {name!r}")
        if field.server:
            raise _Problem(f".fields.{name}", "set by the server from the session; do not send it", "forged_field")
        if value is None:
            if field.required:
                raise _Problem(f".fields.{name}", "may not be null")
            continue
        # bool is an int in Python; the wire keeps them apart.
        kind = type(value)
        if kind is not field.type:
            raise _Problem(f".fields.{name}", f"expected {field.type.__name__}, got {kind.__name__}")
        if isinstance(value, str):
            if field.limit is not None and len(value) > field.limit:
                raise _Problem(f".fields.{name}", f"{len(value)} characters; the limit is {field.limit}")
            if field.choices and value not in field.choices:
                raise _Problem(f".fields.{name}", f"must be one of {', '.join(field.choices)}")
        elif kind is int and isinstance(value, int):
            if value < 0 or (field.limit is not None and value > field.limit):
                raise _Problem(f".fields.{name}", f"out of range 0..{field.limit}")
    return stamp


def _check_clock(value: str, device: str, now_ms: int, latest: int) -> hlc.Hlc:
    try:
        stamp = hlc.parse(value)
    except ValueError as exc:
        raise _Problem(".hlc", str(exc)) from None
    if stamp.device != device:
        raise _Problem(".hlc", f"the clock names device {stamp.device!r} but this session is device {device!r}")
    if stamp.ms > latest:
        raise _ClockAhead((stamp.ms - now_ms) / 1000, now_ms)
    return stamp
