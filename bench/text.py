"""Realistic chat text for the benchmarks: Zipf-distributed English words, 60-100 characters
(it compresses like real chat, which matters for bytes-on-the-wire figures)."""

from __future__ import annotations

import itertools
import random

WORDS = (
    "the a to and of in is it you that for on we this be with are have i not can just so do at but "
    "will was if my get me all what our up about out there they one it's from need think know should "
    "now time like yes no ok thanks great sure maybe today tomorrow yesterday morning afternoon week "
    "meeting call standup sync review release deploy build test tests branch merge main fix bug issue "
    "ticket customer client server database query index cache latency page screen button login "
    "design draft doc docs notes slides budget plan roadmap sprint backlog estimate deadline launch "
    "team folks everyone anyone someone please could would let's check look looks good lgtm ship "
    "working done blocked waiting update updated pushed pr comments feedback question answer idea "
    "lunch coffee office remote home travel flight weekend holiday back later soon quick small big "
    "new old first last next before after again still already almost only really pretty very "
    "staging production prod dev local logs error errors crash slow fast memory cpu disk network "
    "invoice contract proposal sales marketing support onboarding hiring interview candidate "
    "monday tuesday wednesday thursday friday 10 11 2pm 3pm 4pm 30min 5 minutes hour hours"
).split()
_NAMES = "Ada Grace Linus Margaret Ken Barbara Dennis Frances Alan Radia Tim Hedy Guido Anita".split()
_ENDS = (".", ".", ".", "!", "?", "", " :)", " 👍")


class TextMaker:
    """Chat-like English, 60-100 characters, Zipf-distributed words (realistic for gzip)."""

    def __init__(self, seed: int = 7) -> None:
        self.random = random.Random(seed)
        self.weights = [1 / (rank + 1) ** 0.9 for rank in range(len(WORDS))]

    def __call__(self) -> str:
        r = self.random
        target = r.randint(60, 100)
        parts: list[str] = []
        if r.random() < 0.2:
            parts.append(f"@{r.choice(_NAMES)}")
        length = sum(len(p) + 1 for p in parts)
        while length < target - 6:
            word = r.choices(WORDS, self.weights)[0]
            if r.random() < 0.04:
                word = f"#{r.randint(100, 9999)}"
            parts.append(word)
            length += len(word) + 1
        text = " ".join(parts)
        text = text[0].upper() + text[1:] + r.choice(_ENDS)
        while len(text) < 60:
            text += " " + r.choice(WORDS)
        return text[:100]


class FastText(TextMaker):
    """TextMaker's vocabulary and Zipf weights, drawing all words of a message in one call
    (seeding a million messages must not be bound by the text generator)."""

    def __init__(self, seed: int = 7) -> None:
        super().__init__(seed)
        self.cumulative = list(itertools.accumulate(self.weights))

    def __call__(self) -> str:
        r = self.random
        words = r.choices(WORDS, cum_weights=self.cumulative, k=r.randint(11, 17))
        text = " ".join(words)
        return (text[0].upper() + text[1:] + r.choice(".!?"))[:100]
