"""The search planner's choices (backend/search_plan.py) on vectors, over a real index file.

Each vector names a query and the plan expected for it over the vector file's messages: which
index answers each needle, what drives, and the FTS5 expression. Whatever the plan, the answer
must be exactly what offline search finds (sync_protocol/search_query.py: every needle a
case-insensitive substring), newest first: checked for every vector, and as a property over
needles cut at random from the messages (an index proposes candidates; it must never lose one).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend import search_plan
from backend.search_reader import Reader
from backend.search_store import Writer, indexed, open_index
from sync_protocol import merge
from sync_protocol.merge import RecordState
from sync_protocol.search_query import SearchQuery, parse, text_matches

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "search_plan_vectors.json").read_text())
DOCS: list[dict[str, str]] = VECTORS["docs"]
CHANNELS = sorted({d["channel"] for d in DOCS})
_state_decoder = msgspec.json.Decoder(RecordState)


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
def test_search_plan_vector(reader: Reader, case: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    if "direct" in case:  # how many candidates a driver may have before Rule 5 intersects
        monkeypatch.setattr(search_plan, "DIRECT", case["direct"])
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


def test_edits_and_deletions_leave_both_indexes(tmp_path: Path) -> None:
    """The old words of an edited message propose it no more (word index and trigram index alike);
    a deleted message leaves both. Word counts only grow (search_store Rule 3)."""
    path = tmp_path / "search.db"
    index, writer = open_index(path), Writer()
    reader = Reader(path)

    def put(record_id: str, fields: dict[str, Any], hlc: str) -> None:
        row = indexed(index, record_id)
        state = merge.apply(_state_decoder.decode(row[2]) if row else None, fields, hlc)
        index.execute("BEGIN")
        writer.put(index, record_id, (row[0], row[1]) if row else None, state)
        writer.finish(index)
        index.execute("COMMIT")

    def found(needle: str) -> list[str]:
        """What a search finds, after checking what each index proposes: verification would hide a
        stale entry from the answer, so the indexes themselves are asked."""
        answer = reader.search([needle], ["c"], [], None, None, 10)
        fts = "docs_fts" if len(needle) >= 3 and not needle.isascii() else "docs_words"
        rowids = [r[0] for r in reader.db.execute(f"SELECT rowid FROM {fts} WHERE {fts} MATCH ?", (f'"{needle}"',))]
        ids = [
            r[0]
            for r in reader.db.execute(f"SELECT id FROM docs WHERE rowid IN ({','.join('?' * len(rowids))})", rowids)
        ]
        assert sorted(ids) == sorted(answer)
        return answer

    try:
        put("m1", {"channel": "c", "author": "a", "at": 1, "text": "Kettle 服务器 boils"}, "0000000000001:0000:dev")
        put("m2", {"channel": "c", "author": "a", "at": 2, "text": "kettle again"}, "0000000000002:0000:dev")
        assert found("kettle") == ["m2", "m1"] and found("服务器") == ["m1"]
        put("m1", {"text": "Teapot 数据库"}, "0000000000003:0000:dev")
        assert found("kettle") == ["m2"] and found("服务器") == [] and found("teapot") == ["m1"]
        assert found("数据库") == ["m1"]
        put("m2", {"deleted": True}, "0000000000004:0000:dev")
        assert found("kettle") == [] and found("again") == []
        assert reader.term_docs("kettle") == 2  # an estimate: never less than the truth
    finally:
        reader.close()
        writer.close()
        index.close()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=8).filter(str.strip), min_size=1, max_size=2))
def test_any_text_is_a_needle(reader: Reader, pieces: list[str]) -> None:
    """Quotes, FTS5 operators, NUL, symbols: a needle never reaches FTS5 as syntax."""
    query = SearchQuery(words=[p.strip() for p in pieces])
    assert reader.search(query.needles, CHANNELS, [], None, None, 100) == offline(query, CHANNELS, [])


FULL_TEXT = ("docs_fts", "docs_words", "terms_fts")


def test_an_index_of_another_version_is_rebuilt_empty(tmp_path: Path) -> None:
    """Derived data (search_store Rule 1): a file of another version loses every table, virtual
    ones and their shadows alike, and the indexer starts again from position 0."""
    path = tmp_path / "search.db"
    index, writer = open_index(path), Writer()

    def holding_deploy(db: sqlite3.Connection, fts: str) -> int:
        return int(db.execute(f"SELECT count(*) FROM {fts} WHERE {fts} MATCH 'deploy'").fetchone()[0])

    index.execute("BEGIN")
    writer.put(index, "m1", None, merge.apply(None, {**DOCS[0], "at": 1}, "0000000000001:0000:dev"))
    writer.finish(index)
    index.execute("INSERT INTO meta (key, value) VALUES ('seq', 7)")
    index.execute("COMMIT")
    assert [holding_deploy(index, fts) for fts in FULL_TEXT] == [1, 1, 1]
    index.execute("PRAGMA user_version = 2")
    index.close()
    reopened = open_index(path)
    try:
        for table in ("docs", "states", "terms", "counts", "meta"):
            assert reopened.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
        assert [holding_deploy(reopened, fts) for fts in FULL_TEXT] == [0, 0, 0]
    finally:
        reopened.close()
        writer.close()


def test_a_batch_of_new_messages_and_an_edit_index_as_one_by_one_would(tmp_path: Path) -> None:
    """The writer keeps a batch's new messages back and writes them a table at a time at
    ``finish``: they take the rowids one insert each would have given them (past the greatest,
    in put order: newest first stays first-seen order), and an edit in the same batch still
    replaces its message's old words."""
    path = tmp_path / "search.db"
    index, writer = open_index(path), Writer()
    reader = Reader(path)
    first = merge.apply(None, {"channel": "c", "author": "a", "at": 1, "text": "kettle one"}, "0000000000001:0000:dev")
    try:
        index.execute("BEGIN")
        writer.put(index, "m1", None, first)
        writer.finish(index)
        index.execute("COMMIT")
        row = indexed(index, "m1")
        assert row is not None
        edited = merge.apply(_state_decoder.decode(row[2]), {"text": "teapot one"}, "0000000000005:0000:dev")
        index.execute("BEGIN")
        for n, record_id in enumerate(["m2", "m3", "m4"], start=2):
            fields = {"channel": "c", "author": "b", "at": n, "text": f"kettle {record_id}"}
            writer.put(index, record_id, None, merge.apply(None, fields, f"000000000000{n}:0000:dev"))
        writer.put(index, "m1", (row[0], row[1]), edited)
        writer.finish(index)
        index.execute("COMMIT")
        rowids = dict(index.execute("SELECT id, rowid FROM docs").fetchall())
        assert [rowids[m] for m in ("m1", "m2", "m3", "m4")] == [1, 2, 3, 4]
        assert reader.search(["kettle"], ["c"], [], None, None, 10) == ["m4", "m3", "m2"]
        assert reader.search(["teapot"], ["c"], [], None, None, 10) == ["m1"]
        counts = dict(index.execute("SELECT key, docs FROM counts WHERE kind = 'authors'").fetchall())
        assert counts == {"a": 1, "b": 3}
        assert index.execute("SELECT docs FROM terms WHERE term = 'kettle'").fetchone()[0] == 4
    finally:
        reader.close()
        index.close()
        writer.close()
