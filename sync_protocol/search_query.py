"""The search query syntax, shared by server search and offline search on a device.

Rules (vectors: vectors/search_query.json; JS twin: frontend/src/lib/search-query.js):

Rule 1. Whitespace separates tokens; a double-quoted run is one phrase token (an unclosed quote
        runs to the end).
Rule 2. ``in:`` names a channel (a leading ``#`` is dropped) or, as ``in:@person``, the direct and
        group messages with that person (the ``@`` is kept); ``from:`` names a person (a leading
        ``@`` is dropped); ``before:``/``after:`` a UTC day ``YYYY-MM-DD``. A filter with an empty
        or invalid value is an ordinary word.
Rule 3. Text matches when every word and every phrase occurs in it, case-insensitively, as a
        substring — so the same rule works for languages written without spaces (Chinese).
Rule 4. ``before:D`` keeps messages sent before day D began; ``after:D`` keeps those sent after
        day D ended (both in UTC).
Rule 5. A person is named, case-insensitively, by their id, email, the email's part before ``@``,
        full name, first name, or name without spaces.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

import msgspec

_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # [0-9] as in search-query.js: \d is any Unicode digit
DAY_MS = 86_400_000


class SearchQuery(msgspec.Struct, frozen=True):
    words: list[str] = []
    phrases: list[str] = []
    channels: list[str] = []
    people: list[str] = []
    before: str | None = None
    after: str | None = None

    @property
    def needles(self) -> list[str]:
        """Everything that must occur in the text, lower-cased."""
        return [n.lower() for n in (*self.words, *self.phrases)]


def take_filters(query: str, take: Callable[[str, str], bool]) -> str:
    """The query without the ``key:value`` tokens ``take(key, value)`` keeps (key lower-cased,
    value as typed; a phrase is never a filter), whitespace collapsed: how the file and task
    filters are split off before the rest goes to ``parse``, on the same tokens (Rule 1)."""
    rest: list[str] = []
    cursor = 0
    for match in _TOKEN.finditer(query):
        token = match.group(2)
        if token is None:
            continue
        key, _, value = token.partition(":")
        if take(key.lower(), value):
            rest.append(query[cursor : match.start()])
            cursor = match.end()
    rest.append(query[cursor:])
    return " ".join(" ".join(rest).split())


def _valid_day(value: str) -> bool:
    if not _DAY.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def parse(query: str) -> SearchQuery:
    words: list[str] = []
    phrases: list[str] = []
    channels: list[str] = []
    people: list[str] = []
    before: str | None = None
    after: str | None = None
    for match in _TOKEN.finditer(query):
        phrase, token = match.group(1), match.group(2)
        if phrase is not None:
            if phrase.strip():
                phrases.append(phrase.strip())
            continue
        key, _, value = token.partition(":")
        key = key.lower()
        if key == "in" and value.lstrip("#"):
            channels.append(value.lstrip("#"))
        elif key == "from" and value.lstrip("@"):
            people.append(value.lstrip("@"))
        elif key == "before" and _valid_day(value):
            before = value
        elif key == "after" and _valid_day(value):
            after = value
        else:
            words.append(token)
    return SearchQuery(words, phrases, channels, people, before, after)


def text_matches(query: SearchQuery, text: str) -> bool:
    lowered = text.lower()
    return all(needle in lowered for needle in query.needles)


def person_named(value: str, user_id: str, name: str, email: str) -> bool:
    """Rule 5: does ``value`` (from ``from:`` or ``in:@``) name this person?"""
    wanted = value.lower()
    name, email = name.lower(), email.lower()
    parts = name.split()
    names = {user_id.lower(), email, email.split("@")[0], name, parts[0] if parts else "", "".join(parts)}
    return bool(wanted) and wanted in names


def day_start_ms(day: str) -> int:
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC)
    return int(start.timestamp() * 1000)


def time_matches(query: SearchQuery, at_ms: int) -> bool:
    if query.before is not None and at_ms >= day_start_ms(query.before):
        return False
    return not (query.after is not None and at_ms < day_start_ms(query.after) + DAY_MS)


__all__ = ["SearchQuery", "day_start_ms", "parse", "person_named", "text_matches", "time_matches"]
