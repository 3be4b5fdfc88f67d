"""How a search finds its candidates: which index answers each needle, and what drives the query.

The index (backend/search_store.py) keeps two full-text indexes over each message's lower-cased
text: a word index (FTS5 unicode61, diacritics removed) over the text with the characters of
scripts written without spaces blanked out, and a trigram index over the whole text. This
module decides, from estimates the store gives it, how to use them. It runs no SQL.

Rules:

Rule 1. Matching is what sync_protocol/search_query.py says (every needle a case-insensitive
        substring). An index only proposes candidates, never fewer than the matches; every
        needle is then verified on the candidates alone.
Rule 2. A needle's words (tokens of the blanked text) are whole words of any text holding it,
        except at its edges: a first token glued to what precedes it in the needle's text may end
        a longer word, a last one may begin one. So middle and bounded tokens match exactly, a
        glued last token as a prefix, and a glued first token (or a lone token glued on both
        sides) through the vocabulary: the words that end with it (or contain it), found with the
        trigram index over the vocabulary. Several tokens form a phrase (FTS5 ``+``).
Rule 3. A needle the word index cannot answer (written without spaces, as Chinese; or a lone
        token of one or two letters inside a word; or too common a fragment) uses the trigram
        index when it has three characters or more: its two rarest trigrams propose the
        candidates. Shorter needles are only verified.
Rule 4. Each needle's estimate is the number of messages its index proposes (vocabulary counts,
        trigram counts). The driver is whichever proposes fewest: the word query (every word
        needle, rarest first: FTS5 intersects in that order), the rarest trigram needle, a
        channel or author filter naming few, or the newest-first scan of everything. A needle
        whose word is in no message has no match: the search stops there.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Protocol

#: Scripts written without spaces between words (Han, kana, Thai, Lao, Khmer, Myanmar...): these
#: characters are blanked for the word index and left to the trigram index.
UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u2e80-\u2fdf\u3040-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003ffff]"
)
#: A fragment found in more vocabulary words than this is left to the trigram index.
MAX_EXPANSION = 64
#: A channel or author filter naming more than this many is not worth an index walk.
MAX_FILTER_KEYS = 32


def blank_unspaced(text: str) -> str:
    """The text the word index holds: unspaced scripts become spaces (so they separate words)."""
    return UNSPACED.sub(" ", text)


def glued(char: str) -> bool:
    """May ``char`` be part of a word? Anything but spaces, punctuation, symbols and controls
    (marks and format characters count as glued: erring that way only widens the candidates)."""
    category = unicodedata.category(char)
    return not (category[0] in "ZPS" or category == "Cc")


class Stats(Protocol):
    """What the planner asks the index (backend/search_store.py answers)."""

    def tokens(self, text: str) -> list[str]: ...
    def term_docs(self, term: str) -> int: ...
    def prefix_docs(self, prefix: str) -> int: ...
    def terms_with(self, fragment: str, suffix: bool) -> list[tuple[str, int]] | None: ...
    def trigram_docs(self, trigram: str) -> int: ...
    def key_docs(self, kind: str, keys: list[str]) -> int: ...
    def total(self) -> int: ...


@dataclass(frozen=True)
class NeedlePlan:
    needle: str
    index: str  # "words" | "trigram" | "none" (verified only)
    match: str = ""  # the FTS5 expression for that index
    estimate: int = 0


@dataclass(frozen=True)
class Plan:
    driver: str  # "words" | "trigram" | "channels" | "authors" | "scan" | "empty"
    match: str  # FTS5 expression when the driver is an index
    needles: list[NeedlePlan] = field(default_factory=list)
    estimate: int = 0

    def describe(self) -> dict[str, object]:
        """The choices, as the planner vectors state them (tests/unit/search_plan_vectors.json)."""
        return {"driver": self.driver, "match": self.match, "needles": {p.needle: p.index for p in self.needles}}


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _either(terms: list[str], rest: str) -> str:
    options = [f"{_quote(t)}{rest}" for t in terms]
    return options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")"


def word_plan(needle: str, stats: Stats) -> NeedlePlan | None:
    """Rule 2; None when the word index cannot answer this needle."""
    blanked = blank_unspaced(needle)
    tokens = stats.tokens(blanked)
    if not tokens:
        return None
    left, right = glued(blanked[0]), glued(blanked[-1])
    if right and len(tokens) > 1 and len(tokens[-1]) < 3:
        # A word start of one or two letters merges a large part of the vocabulary for little
        # gain: the phrase ends before it (verification still checks it).
        tokens, right = tokens[:-1], False
    last = len(tokens) - 1
    star = "*" if right else ""
    rest = "".join(f" + {_quote(t)}" for t in tokens[1:])
    estimates = [stats.prefix_docs(t) if i == last and right else stats.term_docs(t) for i, t in enumerate(tokens)]
    if not left:
        return NeedlePlan(needle, "words", _quote(tokens[0]) + rest + star, min(estimates))
    suffix = last > 0 or not right  # the first token ends a word; alone and glued on both sides, it is inside one
    found = stats.terms_with(tokens[0], suffix) if len(tokens[0]) >= 3 else None
    if found is not None:
        if not found:
            return NeedlePlan(needle, "words", _quote(tokens[0]), 0)
        estimates[0] = sum(n for _, n in found)
        return NeedlePlan(
            needle, "words", _either([t for t, _ in found], rest + (star if last else "")), min(estimates)
        )
    if last == 0:
        return None  # a short or too common fragment inside words: the trigram index's job
    # The glued first token cannot be looked up: the phrase of the others still narrows.
    tail = " + ".join(_quote(t) for t in tokens[1:]) + star
    return NeedlePlan(needle, "words", tail, min(estimates[1:]))


def trigram_plan(needle: str, stats: Stats) -> NeedlePlan | None:
    """Rule 3; None for needles under three characters."""
    if len(needle) < 3:
        return None
    counted = sorted((stats.trigram_docs(needle[i : i + 3]), needle[i : i + 3]) for i in range(len(needle) - 2))
    rarest = sorted({t for _, t in counted[:2]})
    return NeedlePlan(needle, "trigram", " AND ".join(_quote(t) for t in rarest), counted[0][0])


def plan(needles: list[str], channels: list[str], authors: list[str], stats: Stats) -> Plan:
    """Rule 4: one plan per needle, then the driver with the fewest candidates."""
    planned: list[NeedlePlan] = []
    for needle in dict.fromkeys(needles):  # a needle given twice is one condition
        by_words = word_plan(needle, stats)
        by_trigrams = trigram_plan(needle, stats) if by_words is None or UNSPACED.search(needle) else None
        options = [p for p in (by_words, by_trigrams) if p is not None]
        planned.append(min(options, key=lambda p: p.estimate) if options else NeedlePlan(needle, "none"))
    if any(p.index == "words" and p.estimate == 0 for p in planned):
        return Plan("empty", "", planned, 0)
    # (estimate, preference on a tie, driver, expression): the scan before a filter that names
    # everything, as an index walk over several keys must sort what it finds.
    drivers: list[tuple[int, int, str, str]] = [(stats.total(), 2, "scan", "")]
    words = sorted((p for p in planned if p.index == "words"), key=lambda p: p.estimate)
    if words:
        drivers.append((words[0].estimate, 0, "words", " AND ".join(p.match for p in words)))
    trigrams = sorted((p for p in planned if p.index == "trigram"), key=lambda p: p.estimate)
    if trigrams:
        drivers.append((trigrams[0].estimate, 1, "trigram", trigrams[0].match))
    for rank, (kind, keys) in enumerate((("channels", channels), ("authors", authors)), start=3):
        if 0 < len(keys) <= MAX_FILTER_KEYS:
            drivers.append((stats.key_docs(kind, keys), rank, kind, ""))
    estimate, _, driver, match = min(drivers)
    return Plan(driver, match, planned, estimate)


__all__ = ["MAX_EXPANSION", "NeedlePlan", "Plan", "Stats", "blank_unspaced", "glued", "plan"]
