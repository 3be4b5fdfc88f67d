"""The search planner's choices (backend/search_plan.py) on vectors, over a real index file.

Each vector names a query and the plan expected for it over the vector file's messages: which
index answers each needle, what drives, and the FTS5 expression. Whatever the plan, the answer
must be exactly what offline search finds (sync_protocol/search_query.py: every needle a
case-insensitive substring), newest first: checked for every vector, and as a property over
needles cut at random from the messages (an index proposes candidates; it must never lose one).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.search_reader import Reader
from backend.search_store import Writer, open_index
from sync_protocol import merge
from sync_protocol.search_query import SearchQuery, parse, text_matches

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "search_plan_vectors.json").read_text())
DOCS: list[dict[str, str]] = VECTORS["docs"]
CHANNELS = sorted({d["channel"] for d in DOCS})


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reader]:
    path = tmp_path_factory.mktemp("search") / "search.db"
    index, writer = open_index(path), Writer()
    index.execute("BEGIN")
    for i, doc in enumerate(DOCS):
        writer.put(index, f"m{i:02d}", None, merge.apply(None, {**doc, "at": i}, f"{i:013d}:0000:dev"))
    writer.finish(index)
    index.execute("COMMIT")
    index.close()
    writer.close()
    opened = Reader(path)
    yield opened
    opened.close()


def offline(query: SearchQuery, channels: list[str], authors: list[str]) -> list[str]:
    """What a device finds searching the same messages: the rule the index must keep."""
    return [
        f"m{i:02d}"
        for i, doc in reversed(list(enumerate(DOCS)))
        if doc["channel"] in channels and (not authors or doc["author"] in authors) and text_matches(query, doc["text"])
    ]


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["comment"] for c in VECTORS["cases"]])
def test_search_plan_vector(reader: Reader, case: dict[str, Any]) -> None:
    query = parse(case["query"])
    channels, authors = case.get("channels", CHANNELS), case.get("authors", [])
    assert reader.plan(query.needles, channels, authors).describe() == case["plan"]
    assert reader.search(query.needles, channels, authors, None, None, 100) == offline(query, channels, authors)


def test_a_limit_keeps_the_newest(reader: Reader) -> None:
    assert reader.search(["deploy"], CHANNELS, [], None, None, 2) == offline(parse("deploy"), CHANNELS, [])[:2]


_texts = [d["text"] for d in DOCS]


@st.composite
def needles(draw: st.DrawFn) -> str:
    """A piece of a message (any length, any offsets), in any case, sometimes with a typo."""
    text = draw(st.sampled_from(_texts))
    start = draw(st.integers(0, len(text) - 1))
    piece = text[start : start + draw(st.integers(1, 14))].strip() or text.strip()
    if draw(st.booleans()):
        piece = piece.upper()
    if draw(st.integers(0, 5)) == 0:
        piece += draw(st.sampled_from(["x", "é", "部", " q"]))
    return piece


@settings(max_examples=300, deadline=None)
@given(st.lists(needles(), min_size=1, max_size=3))
def test_the_index_finds_what_offline_search_finds(reader: Reader, pieces: list[str]) -> None:
    query = SearchQuery(phrases=pieces)
    assert reader.search(query.needles, CHANNELS, [], None, None, 100) == offline(query, CHANNELS, [])
