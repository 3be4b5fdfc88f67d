"""Chat at scale (issues 3 and 15): server search over 1,000,000 messages, and a new device's first
usable channel list with 200 channels and 1,000,000 messages on the server.

The data set (bench/search_corpus.py: English with a long tail of rare words, one message in seven
in Chinese, ten people, two years) is seeded once through the real push path into a cached data
directory (``TT_BENCH_DATA``, default ``/tmp/teamtalk-search-corpus-<messages>``); reruns reuse it.
The search index is then built (or found caught up) in-process: only when search.db is missing or
of another version does that take minutes.

Search is measured twice per query class (common word, rare word, phrase, CJK, mixed Chinese and
English, ``from:``/``in:``/``after:`` filters, no hit, two letters):

- on the index alone, in-process, with the planner (backend/search_plan.py) and with the
  trigram-only query of search.db version 2 on the same file, interleaved, so their ratio holds
  on a busy machine; both must return the same ids;
- end to end over HTTP (``GET /api/search``: parsing, rights, the snapshots of the hits) against
  a real server subprocess. Targets: p50 ≤ 10 ms, p99 ≤ 50 ms over all queries.

TT_BENCH_MESSAGES scales the message count (default 1,000,000); TT_BENCH_SEARCH_REPEAT the runs
of each query (default 10).
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec

from backend.app import Services, build_services
from backend.search_reader import Reader
from backend.settings import Settings
from bench import search_corpus
from bench.common import Device, Server, header, info, median, percentile, verdict
from sync_protocol import search_query
from sync_protocol.wire import SyncRequest

REPEAT = int(os.environ.get("TT_BENCH_SEARCH_REPEAT", "10"))
_TAIL = search_corpus.tail_words()
_YEAR_AGO = (datetime.now(UTC) - timedelta(days=365)).date().isoformat()
QUERIES: dict[str, list[str]] = {
    "common word": ["the", "deploy", "meeting", "thanks"],
    "rare word": [_TAIL[12000], _TAIL[25000], _TAIL[39000], "invoice contract"],
    "phrase": ['"release notes"', '"looks good"', '"on friday"', '"the build"'],
    "CJK": ["服务器", "数据库 性能", "候选人", "部署"],
    "mixed zh+en": ["部署 staging", "staging 失败", "服务器 deploy", "数据库 query"],
    "filters": ["in:#team-007 deploy", "from:@ada lunch", "in:#team-123 the", f"review after:{_YEAR_AGO}"],
    "no hit": ["xylophone", '"friday deploy tomorrow"', "不存在的词", f"{_TAIL[100]}zz"],
    "two letters": ["ok", "pr", "10", "no"],
}
OWNER = "owner@example.com"


def build_index(services: Services) -> float:
    """Seconds until the search index holds the whole log (0 when it already did)."""
    head = services.store.log_head()
    start = time.perf_counter()
    services.followers.start()  # the search indexer runs in the followers process
    if not services.search.wait(head, timeout_s=3600):
        raise RuntimeError("the search index did not catch up within an hour")
    return time.perf_counter() - start


def index_latency(services: Services) -> dict[str, dict[str, list[float]]]:
    """Per class: milliseconds of the planner's query ("plan"), of version 2's ("v2", which scanned:
    see Reader.search_trigrams_only) and of version 2's without its ESCAPE clause ("trigram")."""
    owner = services.store.account_by_email(OWNER)
    assert owner is not None
    reader = Reader(services.search.index)
    modes: dict[str, Callable[..., list[str]]] = {
        "plan": reader.search,
        "v2": reader.search_trigrams_only,
        "trigram": functools.partial(reader.search_trigrams_only, escape=False),
    }
    timings: dict[str, dict[str, list[float]]] = {kind: {mode: [] for mode in modes} for kind in QUERIES}
    mismatched = []
    try:
        for kind, queries in QUERIES.items():
            for q in queries:
                query = search_query.parse(q)
                channels = services.chat._channels_named(owner.id, query.channels)
                authors = services.chat._people_named(query.people)
                after = search_query.day_start_ms(query.after) + search_query.DAY_MS if query.after else None
                args = (query.needles, channels, authors, after, None, 50)
                answers: dict[str, list[str]] = {}
                for _ in range(REPEAT):
                    for mode, search in modes.items():
                        t0 = time.perf_counter()
                        answers[mode] = search(*args)
                        timings[kind][mode].append((time.perf_counter() - t0) * 1000)
                if not answers["plan"] == answers["v2"] == answers["trigram"]:
                    mismatched.append(q)
                plan = reader.plan(query.needles, channels, authors)
                info(f"  {kind:12s} {q!r:32} {len(answers['plan']):3d} hits  driver {plan.driver:8s} {plan.match[:60]}")
    finally:
        reader.close()
    if mismatched:
        raise RuntimeError(f"the planner and the trigram-only query disagree on {mismatched}")
    return timings


async def http_latency(base_url: str) -> dict[str, list[float]]:
    device = await Device(base_url).sign_in(OWNER)
    timings: dict[str, list[float]] = {kind: [] for kind in QUERIES}
    try:
        for _ in range(REPEAT):
            for kind, queries in QUERIES.items():
                for q in queries:
                    t0 = time.perf_counter()
                    reply = await device.http.get("/api/search", params={"q": q, "limit": 50})
                    timings[kind].append((time.perf_counter() - t0) * 1000)
                    if reply.status_code != 200:
                        raise RuntimeError(f"search {q!r}: {reply.status_code} {reply.text}")
    finally:
        await device.close()
    return timings


async def first_channel_list(base_url: str, email: str) -> tuple[float, float, int, int]:
    """Sign in as a new device; time from the first sync request to a reply holding the channel list,
    and to the end of the whole recent-first bootstrap."""
    device = await Device(base_url, gzip=True).sign_in(email)
    try:
        t0 = time.perf_counter()
        reply = await device.sync_httpx(msgspec.msgpack.encode(SyncRequest(v=1, cursors={}, limit=5000, recent=50)))
        first = time.perf_counter() - t0
        decoded = device.check(reply.status_code, reply.content)
        channels = sum(1 for c in decoded.changes if c.collection == "channels")
        replies, more = 1, decoded.more
        while more:
            body = msgspec.msgpack.encode(SyncRequest(v=1, cursors=device.cursors, limit=5000, recent=50))
            reply = await device.sync_httpx(body)
            decoded = device.check(reply.status_code, reply.content)
            replies, more = replies + 1, decoded.more
        return first, time.perf_counter() - t0, channels, replies
    finally:
        await device.close()


def _row(label: str, values: list[float], suffix: str = "") -> None:
    info(
        f"{label:26s} p50 {median(values):7.2f}  p95 {percentile(values, 95):7.2f}  "
        f"p99 {percentile(values, 99):7.2f} ms{suffix}"
    )


async def run() -> None:
    header(f"Chat at scale: {search_corpus.CHANNELS} channels, {search_corpus.MESSAGES:,} messages (search)")
    seeded = search_corpus.ensure()
    info(f"data set {search_corpus.DATA} ({seeded['messages']:,} messages; delete it to seed afresh)")
    services = build_services(Settings(data_dir=search_corpus.DATA / "db"))
    try:
        built = build_index(services)
        info(f"search index: {f'built in {built:.0f} s' if built > 1 else 'already caught up'}")
        size = sum(f.stat().st_size for f in (search_corpus.DATA / "db").glob("search.db*"))
        info(f"search.db: {size / 1e6:,.0f} MB")
        header("search on the index in-process: the planner against the trigram-only query of version 2, same file")
        index = index_latency(services)
    finally:
        services.close()
    labels = {"plan": "planner", "v2": "v2 as it was", "trigram": "trigram index"}
    for kind, modes in index.items():
        for mode, label in labels.items():
            ratio = median(modes[mode]) / max(median(modes["plan"]), 1e-6)
            _row(f"{kind} ({label})", modes[mode], f"   p50 {ratio:,.1f}× the planner's" if mode != "plan" else "")
    for mode, label in labels.items():
        _row(f"all ({label})", [t for m in index.values() for t in m[mode]])
    server = Server("scale", data=search_corpus.DATA)
    try:
        server.start(timeout_s=120)
        header("search over HTTP (GET /api/search, limit 50), end to end")
        timings = await http_latency(server.base_url)
        for kind, values in timings.items():
            _row(kind, values)
        every = [t for values in timings.values() for t in values]
        _row(f"all {len(every)} queries", every)
        verdict("search p50 over all queries (HTTP)", median(every), 10.0, "ms", higher_is_better=False)
        verdict("search p99 over all queries (HTTP)", percentile(every, 99), 50.0, "ms", higher_is_better=False)
        first, whole, channels, replies = await first_channel_list(server.base_url, OWNER)
        info(f"first reply carried {channels} channels; recent-first bootstrap finished in {replies} replies")
        verdict("new device: usable channel list (first reply)", first, 1.0, "s", higher_is_better=False)
        info(f"whole recent-first bootstrap (50 newest messages of each channel): {whole:.2f} s")
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(run())
