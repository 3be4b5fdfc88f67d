"""How a search finds its candidates: which index answers each needle, and what drives the query.

The index (backend/search_store.py) keeps two full-text indexes over each message's lower-cased
text: a word index (FTS5 unicode61, diacritics removed) over the words of scripts written with
spaces and the overlapping character pairs of those written without (Chinese, Japanese, Thai...),
and a trigram index over the whole text. This module decides, from estimates the store gives it,
how to use them. It runs no SQL.

Rules:

Rule 1. Matching is what sync_protocol/search_query.py says (every needle a case-insensitive
        substring). An index only proposes candidates, never fewer than the matches; every
        needle is then verified on the candidates alone.
Rule 2. A needle's words (tokens of ``words_text``) are whole words of any text holding it,
        except at its edges: a first token glued to what precedes it in the needle may end a
        longer word, a last one may begin one. So middle and bounded tokens match exactly, a
        glued last token as a prefix, and a glued first token (or a lone token glued on both
        sides) through the vocabulary: the words that end with it (or contain it), found with the
        trigram index over the vocabulary. Several tokens form a phrase (FTS5 ``+``). Pairs of
        an unspaced script are exact wherever they are: "部署" is a word of every text holding it,
        "服务器" the phrase "服务 + 务器". The pair-less 1-character Chinese needle is glued.
Rule 3. A needle the word index cannot answer (a lone token of one or two letters inside a word,
        too common a fragment, symbols) uses the trigram index when it has three characters or
        more: its two rarest trigrams propose the candidates. It may also answer a needle the
        word index can, when its estimate is lower. Shorter needles are only verified.
Rule 4. Each needle's estimate is the number of messages its index proposes (vocabulary counts,
        trigram counts). The driver is whichever proposes fewest: the word query (every word
        needle, rarest first: FTS5 intersects in that order), the rarest trigram needle, a
        channel or author filter naming few, or the newest-first scan of everything. A needle
        whose word (or trigram) is in no message has no match: the search stops there.
Rule 5. A driver with many candidates (a filter's too), beside a needle in another index with
        not too many: both proposals are read whole and intersected before any candidate is
        verified.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Protocol

#: Scripts written without spaces between words (Han, kana, Thai, Lao, Khmer, Myanmar...): the
#: word index holds their runs as overlapping pairs of characters (Rule 2).
_UNSPACED_CHARS = (
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u2e80-\u2fdf\u3040-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003ffff"
)
UNSPACED = re.compile(f"[{_UNSPACED_CHARS}]")
_RUN = re.compile(f"[{_UNSPACED_CHARS}]+")
#: A fragment found in more vocabulary words than this is left to the trigram index.
MAX_EXPANSION = 64
#: A channel or author filter naming more than this many is not worth an index walk.
MAX_FILTER_KEYS = 32
#: Rule 5: a driver proposing more candidates than DIRECT is intersected with another index's
#: proposals when that index proposes at most SECONDARY (each costs ~0.5 µs to read whole; a
#: candidate verified on its row costs ~5 µs).
DIRECT = 2_000
SECONDARY = 40_000


def words_text(text: str, needle: bool = False) -> str:
    """The text the word index holds (Rule 2): each run of an unspaced script becomes its
    overlapping pairs of characters ("今天部署" → "今天 天部 部署"), a lone character itself, set
    apart by spaces. For a ``needle``, a lone character at either end stays glued to that end: in
    a text it may begin or end a longer run, so its word there is a pair."""

    def pairs(match: re.Match[str]) -> str:
        run = match.group()
        if len(run) > 1:
            return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "
        left = " " if not needle or match.start() > 0 else ""
        return left + run + (" " if not needle or match.end() < len(match.string) else "")

    return _RUN.sub(pairs, text)


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
    also: tuple[str, str] | None = None  # (index, FTS5 expression) whose proposals to intersect with

    def describe(self) -> dict[str, object]:
        """The choices, as the planner vectors state them (tests/unit/search_plan_vectors.json)."""
        described: dict[str, object] = {
            "driver": self.driver,
            "match": self.match,
            "needles": {p.needle: p.index for p in self.needles},
        }
        if self.also is not None:
            described["also"] = list(self.also)
        return described


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _either(terms: list[str], rest: str) -> str:
    options = [f"{_quote(t)}{rest}" for t in terms]
    return options[0] if len(options) == 1 else "(" + " OR ".join(options) + ")"


def word_plan(needle: str, stats: Stats) -> NeedlePlan | None:
    """Rule 2; None when the word index cannot answer this needle."""
    blanked = words_text(needle, needle=True)
    tokens = stats.tokens(blanked)
    if not tokens:
        return None
    left, right = glued(blanked[0]), glued(blanked[-1])
    if right and len(tokens) > 1 and len(tokens[-1]) < 3:
        # A word start of one or two letters merges a large part of the vocabulary for little
        # gain: the phrase ends before it (verification still checks it).
        tokens, right = tokens[:-1], False
    last = len(tokens) - 1
    if right and last == 0 and len(tokens[0]) < 3:
        return None  # a lone word start of one or two letters: as above, and nothing else narrows
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
    """Rule 3; None for needles under three characters, and for control characters (FTS5 does not
    count a trigram holding NUL as the text holds it: its zero would wrongly end the search)."""
    if len(needle) < 3 or any(unicodedata.category(c) in ("Cc", "Cs") for c in needle):
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
    if any(p.index != "none" and p.estimate == 0 for p in planned):
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
    also: tuple[str, str] | None = None
    if driver != "scan" and estimate > DIRECT:
        # Rule 5: another index's proposals, if few enough to read whole, to intersect with.
        others = [(p.estimate, "trigram", p.match) for p in trigrams if p.match != match]
        if words and driver != "words":
            others.append((words[0].estimate, "words", " AND ".join(p.match for p in words)))
        fewest = min(others, default=None)
        if fewest is not None and fewest[0] <= SECONDARY:
            also = (fewest[1], fewest[2])
    return Plan(driver, match, planned, estimate, also)


__all__ = ["MAX_EXPANSION", "NeedlePlan", "Plan", "Stats", "glued", "plan", "words_text"]
