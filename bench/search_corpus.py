"""A million realistic chat messages for the search benchmark, generated once into a cached data
directory (issue 15).

Realistic for search means a long tail: the common words of bench/text.py, then ~40,000
made-up words (names of projects, customers, places) whose Zipf weights continue theirs, so a
word picked from the tail occurs in a handful of messages out of a million, as rare words do in
real history. One message in seven is Chinese (no spaces, with an English word now and then:
"staging 部署失败了"). Ten people post into 200 channels over two years, so ``from:``, ``in:``
and ``before:``/``after:`` have something to select.

The data set is seeded through the real push path (SyncService.push, as bench/server_scale.py
always did) into ``TT_BENCH_DATA`` (default ``/tmp/teamtalk-search-corpus-<messages>``) and
marked complete by a ``seeded.json`` there; a later run reuses it and only the derived search
index is rebuilt when its version changed. Delete the directory to seed afresh.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from pathlib import Path

from backend.accounts import CurrentSession
from backend.app import build_services
from backend.settings import Settings
from backend.storage.base import DeviceSession
from backend.tokens import ulid
from bench.common import PASSWORD, info
from bench.text import WORDS
from sync_protocol.collections import member_id
from sync_protocol.hlc import Clock
from sync_protocol.wire import Mutation, SyncRequest

MESSAGES = int(os.environ.get("TT_BENCH_MESSAGES", "1000000"))
DATA = Path(os.environ.get("TT_BENCH_DATA", f"/tmp/teamtalk-search-corpus-{MESSAGES}"))
CHANNELS = 200
PEOPLE = ("Owner", "Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Alan")
TAIL = 40_000
CHINESE_SHARE = 1 / 7
PUSH = 500
#: The history spans two years, ending now.
SPAN_MS = 2 * 365 * 86_400_000

_SYLLABLES = "ka ri to men sa lo vek dra nu tis pel gor an ex li mo quo ber zan fi tu rho sel dan ov".split()
CHINESE = (
    "我们 今天 明天 昨天 部署 发布 测试 服务器 数据库 问题 修复 会议 客户 合同 项目 需求 设计 文档 代码 "
    "审查 上线 回滚 版本 性能 延迟 错误 日志 监控 报警 网络 内存 缓存 索引 查询 用户 登录 页面 按钮 "
    "周一 周二 周三 周四 周五 下午 上午 晚上 一下 已经 还是 可以 需要 应该 没有 什么 怎么 为什么 "
    "谢谢 好的 收到 没问题 辛苦了 请 看看 确认 一起 讨论 安排 计划 预算 销售 市场 支持 招聘 面试 "
    "候选人 出差 航班 假期 午饭 咖啡 办公室 远程 团队 大家 负责 进度 风险 方案 报告 总结 邮件 电话"
).split()
_CHINESE_ENDS = ("。", "。", "！", "？", "", "～")


def tail_words(count: int = TAIL, seed: int = 5) -> list[str]:
    """Made-up words of 2-4 syllables, distinct and not among WORDS."""
    rng = random.Random(seed)
    seen = set(WORDS)
    out: list[str] = []
    while len(out) < count:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out


class CorpusText:
    """English over WORDS + a long tail (one falling curve), and one message in seven in Chinese."""

    def __init__(self, seed: int = 11) -> None:
        self.random = random.Random(seed)
        self.words = list(WORDS) + tail_words()
        # The tail continues the curve at a fifth of its height: about one English word in seven is
        # from it, and its last words occur a few times in a million messages.
        weights = [(1 if rank < len(WORDS) else 0.2) / (rank + 1) for rank in range(len(self.words))]
        self.cumulative = list(itertools.accumulate(weights))
        self.chinese = list(itertools.accumulate(1 / (rank + 1) ** 0.8 for rank in range(len(CHINESE))))

    def __call__(self) -> str:
        r = self.random
        if r.random() < CHINESE_SHARE:
            words = r.choices(CHINESE, cum_weights=self.chinese, k=r.randint(5, 14))
            if r.random() < 0.3:
                words.insert(r.randrange(len(words)), f" {r.choice(WORDS[:120])} ")
            if r.random() < 0.4:
                words.insert(r.randrange(1, len(words)), "，")
            return ("".join(words) + r.choice(_CHINESE_ENDS)).strip()
        words = r.choices(self.words, cum_weights=self.cumulative, k=r.randint(9, 16))
        for i in range(1, len(words)):
            if r.random() < 0.06:
                words[i - 1] += r.choice(",.:;")  # punctuation between words, as people type it
        text = " ".join(words)
        return (text[0].upper() + text[1:] + r.choice(".!?"))[:120]


def ensure(data: Path = DATA, messages: int = MESSAGES) -> dict[str, object]:
    """The seeded data directory (``data/db``), seeding it first if it is not complete."""
    marker = data / "seeded.json"
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    if data.exists():
        raise RuntimeError(f"{data} exists but is not a complete corpus (no seeded.json): delete it")
    data.mkdir(parents=True)
    services = build_services(Settings(data_dir=data / "db"))
    # Seeding is not what is measured: the index is built after, in one go, by the benchmark.
    services.search.close()
    start_ms = int(time.time() * 1000) - SPAN_MS
    actors: list[tuple[CurrentSession, Clock]] = []
    for i, name in enumerate(PEOPLE):
        account = services.accounts.create_account(name, f"{name.lower()}@example.com", PASSWORD, None, start_ms)
        device = f"seed{i:04d}"
        with services.store.transaction():
            services.store.add_session(DeviceSession(device, account.id, "seed", start_ms, start_ms), f"tok-{device}")
        actors.append((CurrentSession(account.id, device, account.role), Clock(device)))
    mids = itertools.count(1)

    def push(who: int, stamp: int, changes: list[tuple[str, str, dict[str, str | int | bool | None]]]) -> None:
        actor, clock = actors[who]
        muts = [Mutation(next(mids), c, i, f, clock.tick(stamp)) for c, i, f in changes]
        services.sync.push(actor, SyncRequest(v=1, changes=muts), stamp)

    channels = [ulid() for _ in range(CHANNELS)]
    for chunk in range(0, CHANNELS, 20):
        batch: list[tuple[str, str, dict[str, str | int | bool | None]]] = []
        for i, channel in enumerate(channels[chunk : chunk + 20], start=chunk):
            batch.append(("channels", channel, {"name": f"team-{i:03d}", "kind": "public"}))
            for actor, _ in actors:
                batch.append(
                    ("members", member_id(channel, actor.user_id), {"channel": channel, "user": actor.user_id})
                )
        push(0, start_ms, batch)
    text = CorpusText()
    rng = random.Random(3)
    began, sent = time.perf_counter(), 0
    while sent < messages:
        size = min(PUSH, messages - sent)
        stamp = start_ms + SPAN_MS * sent // messages
        push(
            rng.randrange(len(PEOPLE)),
            stamp,
            [("messages", ulid(), {"channel": rng.choice(channels), "text": text()}) for _ in range(size)],
        )
        sent += size
        if sent % 100_000 == 0:
            info(f"seeded {sent:,} messages ({sent / (time.perf_counter() - began):,.0f}/s in-process)")
    # The hash chain as a running server's followers keep it (backend/followers/chainer.py): up to
    # the log's head, so no benchmark run begins by hashing a million entries beside its server.
    services.store.head_hash()
    services.close()
    seeded = {"messages": messages, "channels": CHANNELS, "people": len(PEOPLE), "seconds": time.perf_counter() - began}
    marker.write_text(json.dumps(seeded))
    return seeded


if __name__ == "__main__":
    print(ensure())
