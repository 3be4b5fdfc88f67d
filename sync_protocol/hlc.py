"""Hybrid logical clocks, encoded as strings whose byte order is the clock order.

Rules this module keeps:

Rule 1. An HLC is ``(wall ms, counter, device)``. The encoding ``MMMMMMMMMMMMM-CCCCC-device``
        (13-digit zero-padded ms, 5-digit zero-padded counter) sorts lexicographically exactly as
        the tuple sorts, so every language can compare clocks as plain strings.
Rule 2. A clock never goes backwards: ``tick`` returns a value greater than every value this
        clock has issued or observed.
Rule 3. Only ASCII: digits are ``[0-9]`` and a device id is 1-32 of ``[0-9A-Za-z_]``, and the
        whole string must match (no trailing newline), so the string order *is* the clock order
        and JS (frontend/src/sync/hlc.js) accepts exactly the same clocks.
Rule 4. Time is passed in. The caller gives the device's *corrected* wall time (device clock plus
        the offset learned from the server), so a phone whose clock is days off still stamps
        sensible times.
"""

from __future__ import annotations

import re
from typing import NamedTuple

MAX_COUNTER = 99_999
_DEVICE = r"[0-9A-Za-z_]{1,32}"
# fullmatch, not match + "$": "$" also matches before a trailing newline, and "\d" would accept
# non-ASCII digits; either would let a string that is not a clock compare as one.
_PATTERN = re.compile(rf"([0-9]{{13}})-([0-9]{{5}})-({_DEVICE})")
_DEVICE_PATTERN = re.compile(_DEVICE)


class Hlc(NamedTuple):
    ms: int
    counter: int
    device: str

    def encode(self) -> str:
        return f"{self.ms:013d}-{self.counter:05d}-{self.device}"


#: A NamedTuple's own constructor is a Python frame; a push parses every change's clock.
_new = tuple.__new__


def parse(value: str) -> Hlc:
    """Decode an encoded HLC; raises ValueError naming the problem."""
    match = _PATTERN.fullmatch(value)
    if match is None:
        raise ValueError(f"not a hybrid logical clock: {value[:60]!r}")
    ms, counter, device = match.groups()
    return _new(Hlc, (int(ms), int(counter), device))


def is_valid(value: str) -> bool:
    return _PATTERN.fullmatch(value) is not None


class Clock:
    """One device's HLC. Sans-I/O: callers pass the wall time in milliseconds."""

    def __init__(self, device: str, last: str | None = None) -> None:
        if _DEVICE_PATTERN.fullmatch(device) is None:
            raise ValueError(f"a device id in a clock is 1-32 of [0-9A-Za-z_], not {device[:60]!r}")
        self.device = device
        self._ms, self._counter = 0, 0
        if last is not None:
            parsed = parse(last)
            self._ms, self._counter = parsed.ms, parsed.counter

    @property
    def last(self) -> str:
        return Hlc(self._ms, self._counter, self.device).encode()

    def tick(self, wall_ms: int) -> str:
        """Stamp a local event."""
        if wall_ms > self._ms:
            self._ms, self._counter = wall_ms, 0
        else:
            self._bump()
        return self.last

    def observe(self, remote: str, wall_ms: int) -> None:
        """Fold in a clock seen on a received change, so later ticks order after it."""
        self.observe_hlc(parse(remote), wall_ms)

    def observe_hlc(self, other: Hlc, wall_ms: int) -> None:
        """``observe`` for a clock already parsed."""
        top = max(self._ms, other.ms, wall_ms)
        if top == self._ms and top == other.ms:
            self._counter = max(self._counter, other.counter)
            self._bump()
        elif top == self._ms:
            self._bump()
        elif top == other.ms:
            self._ms, self._counter = top, other.counter
            self._bump()
        else:
            self._ms, self._counter = top, 0

    def _bump(self) -> None:
        if self._counter >= MAX_COUNTER:
            # A hundred thousand events in one millisecond: borrow the next millisecond instead of
            # overflowing the fixed-width counter (order is still strictly increasing).
            self._ms, self._counter = self._ms + 1, 0
        else:
            self._counter += 1
