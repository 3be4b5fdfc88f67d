"""Benchmark 9: Web Push delivery with 1,000 subscribed devices, and sync while the queue drains.

51 accounts (an owner and 50 listeners) in CHANNELS (60) public channels; 1,000 push subscriptions, 20 per
listener, to a local receiver (bench.push_receiver, its own process) that answers 201 at once.
The subscriptions are written straight into the store through ``Storage`` (1,000 real sign-ins
would cost ~200 s of argon2), and the server is restarted on them, as after a deploy: it starts
its followers process, whose sender pre-keys them in idle time (backend/push/keyer.py); the
benchmark waits until that process is quiet and reports the CPU it spent. The server runs with
``--push-test-mode`` (loopback endpoints).

The owner posts one ``@channel`` message in each channel in turn, DRAIN_S apart (each notifies
all 1,000 devices; different channels are different conversations, so nothing coalesces).
Latency = arrival of the encrypted, VAPID-signed push at the receiver minus the start of the
POST that sent the message (CLOCK_MONOTONIC in both processes). Targets: p50 ≤ 50 ms, p99 ≤
500 ms over all 60,000 pushes. Meanwhile another device syncs in a loop: its round-trip p99 while
pushes drain must stay within 1.5x of its p99 when idle. Every other sync of that loop is an
empty push and pull (the figure "9 sync p99 ..."); the others each carry one change, the device's
read cursor ("9 writing sync p99 ..."), since 2026-12-05 late: an empty sync never takes SQLite's
write lock, so it could not see the push producer holding teamtalk.db's lock for ~42 ms per
message (issue 10); a writing one waits for it in SQLite's busy handler, on the server's event loop.

Which syncs are "while pushes drain" (``classify``): those that overlap a message's drain, from
the owner's POST returning (the message accepted: its pushes exist from then) to its last push
at the receiver. A sync that overlaps the owner's POST itself is filed apart, as "posting": it
waits for the message's own durable commit, which runs on the server's event loop whether or
not anyone is subscribed (storage/group_commit.py), so it says nothing about the push queue.
Until 2026-12-05 syncs were filed by the phase they started in, so "draining" began before the
POST; that figure is still printed (``by start``) for comparison.

The ratio's statistics (since 2026-12-05 evening). A nearest-rank p99 over n syncs is the
slowest one for n <= 100, the second slowest above that, the third near 200: which order
statistic it is, and so its expected value and spread over a heavy tail, depend on n. With the
10 ms probe the remote model had ~55 syncs while draining (its p99 the single slowest) against
~225 idle ones (the third slowest), and its ratio moved with one or two syncs: three full runs on
the quiet box gave 3.01, 0.97 and 2.17x. So:
- the prober pauses 2 ms between syncs, not 10, and since 2026-12-06 there are 60 messages, not
  30: ~120 syncs of each kind (empty, writing) while draining per model, so a p99 is the second
  slowest, not the slowest;
- the idle baseline is the syncs before the first message and those wholly inside the quiet
  stretches between drains (from when the followers process has finished pre-keying again,
  ``quiet_from``, to the next POST), so load that drifts through the run falls on both sides;
- both p99s are taken over the same count n, the smaller side's (report.percentile_at: the
  larger side's p99 is the median over draws of n of its syncs), so that the two are the same
  statistic.
The target (1.5x) is unchanged; the old figure (each p99 over its own count, idle only before
the first message) is printed beside it.

The receiver stands for a push service, which in production runs on its own machines: the
server's box pays for sending a push, never for parsing it. Here it shares the two cores with
the server, the followers process and the benchmark itself, and once the followers process ran
under SCHED_IDLE (followers/worker.py) it was the largest of our own processes in a slow sync's
way (a scheduler trace of the syncs, bench/push_sched.py: 0.1-0.16 ms of CPU wait per sync on
average, up to 1-3 ms on single syncs). So the receiver takes two models, message by message
(REMOTE on even messages, LOCAL on odd ones), and each model's syncs are filed apart:
- REMOTE (the verdict): the receiver under SCHED_IDLE, so it runs only on CPU time nothing
  else wants: what a remote service costs the box is then the followers' own work. It still
  answers at once when a core is free, so the push latency figures hold for both halves.
- LOCAL: the receiver as any process, as until 2026-12-05 pm; its ratio is printed beside the
  verdict, with the ratio over all drains.
Switching the receiver back from SCHED_IDLE needs root (CAP_SYS_NICE), as on the bench box;
without it every message is LOCAL and the verdict says so.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.push.rules import topic
from backend.storage.base import PushSubscription
from backend.storage.sqlite import SqliteStorage
from bench.common import ROOT, Device, Failed, Server, cpu_meter, header, info, percentile, verdict, workspace
from bench.push_probe import (
    BETWEEN,
    DRAINING,
    IDLE,
    POSTING,
    QUIET,
    Probe,
    classify,
    followers_now,
    prober,
    quiet_from,
)
from bench.report import percentile_at
from sync_protocol.collections import member_id

LISTENERS = 50
PER_LISTENER = 20
#: Sixty messages, thirty with each model of the receiver (REMOTE, LOCAL), so that "while
#: draining" holds ~120 syncs of each kind (empty, writing) for each model: its p99 is then
#: the second slowest. With drains of 30-130 ms, five messages gave 17-20 syncs (2026-12-05) and
#: thirty gave 50-90: a p99 that was the single slowest sync, so one outlier decided a run's
#: verdict (issue 10's twelfth pass: 1 and 2 of 6 runs at 1.8-3.8x beside medians of 0.86-0.90x).
CHANNELS = 60
#: Between messages: the drain (0.05-0.15 s), the followers' pre-keying again (~0.5 s), then a
#: quiet stretch for the idle baseline. 2 s until 2026-12-06, with thirty messages.
DRAIN_S = 1.5
IDLE_S = 3.0
QUIET_S = 0.5
TARGET_P50_MS = 50.0
TARGET_P99_MS = 500.0
TARGET_SYNC_RATIO = 1.5


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def seed_subscriptions(database: Path, listeners: list[Device], port: int) -> None:
    raw = (serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    store = SqliteStorage(database)
    try:
        with store.transaction():
            for i, device in enumerate(listeners):
                for j in range(PER_LISTENER):
                    key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(*raw)
                    sub_id = f"bench{i:03d}x{j:02d}"
                    store.add_push_subscription(
                        PushSubscription(
                            sub_id,
                            device.user_id,
                            f"{device.device_id}-{j}",
                            f"http://127.0.0.1:{port}/p/{sub_id}",
                            _b64u(key),
                            _b64u(bytes(16)),
                            "en",
                            0,
                        )
                    )
    finally:
        store.close()


#: How the receiver stands for a push service (module doc): "remote" under SCHED_IDLE, so that
#: it runs only on CPU time the server and the followers leave, as a push service on its own
#: machines costs the server's box nothing; "local" as any process (the figure before).
REMOTE, LOCAL = "remote", "local"


class Receiver:
    def __init__(self, proc: asyncio.subprocess.Process, port: int) -> None:
        self.proc, self.port = proc, port
        #: Switching a process back from SCHED_IDLE needs CAP_SYS_NICE (root, as on the bench
        #: box): without it every message has the receiver "local", and the run says so.
        self.can_idle = os.geteuid() == 0 and hasattr(os, "SCHED_IDLE")

    def model(self, model: str) -> None:
        """Put every thread of the receiver under ``model``'s CPU policy."""
        if not self.can_idle:
            return
        policy = os.SCHED_IDLE if model == REMOTE else os.SCHED_OTHER
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
                os.sched_setscheduler(int(task.name), policy, os.sched_param(0))

    @classmethod
    async def start(cls) -> Receiver:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.push_receiver",
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=64 << 20,
        )
        assert proc.stdout is not None
        return cls(proc, int(await proc.stdout.readline()))

    async def dump(self) -> list[tuple[int, str]]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(b'{"cmd": "dump"}\n')
        await self.proc.stdin.drain()
        return [tuple(a) for a in json.loads(await self.proc.stdout.readline())["arrivals"]]  # type: ignore[misc]

    async def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b'{"cmd": "quit"}\n')
        await self.proc.stdin.drain()
        await asyncio.wait_for(self.proc.wait(), 10)


def restart(server: Server) -> float:
    """Restart the server on its data; wait until its followers process has pre-keyed the
    subscriptions (its CPU is still and none of its threads runnable for QUIET_S: under load a
    starved SCHED_IDLE process is still without being done); return the CPU seconds that took."""
    assert server.proc is not None
    server.proc.terminate()
    server.proc.wait(10)
    server.start()
    used, last, still_since = 0.0, -1.0, time.monotonic()
    deadline = time.monotonic() + 120
    while time.monotonic() - still_since < QUIET_S:
        if time.monotonic() > deadline:
            raise Failed("the followers process did not go quiet within 120 s of the restart")
        time.sleep(0.05)
        used = server.children_cpu()
        if used - last > 0.005 or followers_now(server)[1]:
            last, still_since = used, time.monotonic()
    return used


async def setup(server: Server, receiver: Receiver, channels: int) -> tuple[list[Device], list[str], float]:
    """Start the server with the owner, the prober and the listeners in ``channels`` public
    channels, seed the subscriptions and restart on them (module doc): the devices (owner,
    prober, listeners), the channels, and the CPU ms per subscription of the restart's pre-keying."""
    server.start()
    devices = await workspace(server.base_url, LISTENERS + 2)
    owner, probe, listeners = devices[0], devices[1], devices[2:]
    names = [f"01BENCHPUSH{i:02d}" for i in range(channels)]
    changes = []
    for channel in names:
        changes.append(owner.mutation("channels", channel, {"name": channel.lower(), "kind": "public"}))
        changes += [
            owner.mutation("members", member_id(channel, d.user_id), {"channel": channel, "user": d.user_id})
            for d in devices
        ]
    for at in range(0, len(changes), 500):  # a push carries at most 500 changes
        owner.check(*await owner.post_sync(owner.body(changes[at : at + 500])))
    await probe.pull_all()
    seed_subscriptions(server.data / "db" / "teamtalk.db", listeners, receiver.port)
    return devices, names, restart(server) / (LISTENERS * PER_LISTENER) * 1e3


async def notify(owner: Device, receiver: Receiver, channel: str, subs: int) -> tuple[int, int, list[int]]:
    """The owner posts an ``@channel`` message in ``channel``; wait for its ``subs`` pushes: when
    the POST started and returned, and when each push arrived (ns)."""
    text = {"channel": channel, "text": "@channel the crane is here", "mentions": "channel"}
    mutation = owner.mutation("messages", f"01BENCHMSG{channel[-2:]}", text)
    body = owner.body([mutation], limit=10)
    start = time.perf_counter_ns()
    owner.check(*await owner.post_sync(body))
    accepted = time.perf_counter_ns()
    want, deadline = topic(f"c:{channel}"), time.monotonic() + 60
    seen: list[int] = []
    while len(seen) < subs:
        if time.monotonic() > deadline:
            raise Failed(f"{len(seen)} of {subs} pushes arrived in 60 s")
        await asyncio.sleep(0.05)
        seen += [ns for ns, t in await receiver.dump() if t == want]
    return start, accepted, seen


async def run() -> None:
    subs = LISTENERS * PER_LISTENER
    header(
        f"9. Web Push: message accepted -> encrypted push at the receiver, {subs:,} subscribed devices; "
        "sync while the queue drains"
    )
    receiver = await Receiver.start()
    server = Server("push")
    server.options = ["--push-test-mode"]
    try:
        devices, channels, prekey_ms = await setup(server, receiver, CHANNELS)
        owner, probe = devices[0], devices[1]
        phase: list[str] = [IDLE]
        probes: list[Probe] = []
        writes: list[Probe] = []  # the prober's writing syncs (module doc)
        posts: list[tuple[int, int]] = []
        drains: list[tuple[int, int]] = []
        quiet: list[tuple[int, int]] = []
        stop = asyncio.Event()
        # TT_BENCH_PROBE_WRITES=0: empty syncs only, as until 2026-12-05 late (issue 10's clue).
        probe_writes = writes if os.environ.get("TT_BENCH_PROBE_WRITES", "1") != "0" else None
        probing = asyncio.create_task(prober(probe, phase, probes, stop, probe_writes, channels[0]))
        await asyncio.sleep(IDLE_S)
        latencies: list[float] = []
        drain_s: list[float] = []
        # The receiver's model alternates message by message (module doc): even messages "remote".
        models = [REMOTE if i % 2 == 0 and receiver.can_idle else LOCAL for i in range(len(channels))]
        with cpu_meter(server) as used:
            for channel, model in zip(channels, models, strict=True):
                receiver.model(model)
                phase[0] = DRAINING
                start, accepted, seen = await notify(owner, receiver, channel, subs)
                posts.append((start, accepted))
                phase[0] = BETWEEN
                drains.append((posts[-1][1], max(seen)))
                latencies += [(ns - start) / 1e6 for ns in seen]
                drain_s.append((max(seen) - start) / 1e9)
                until = time.monotonic() + max(0.0, DRAIN_S - drain_s[-1])
                since = await quiet_from(server, until)
                await asyncio.sleep(max(0.0, until - time.monotonic()))
                if since is not None:
                    quiet.append((since, time.perf_counter_ns()))
        receiver.model(LOCAL)
        stop.set()
        await probing
        for q, target in ((50, TARGET_P50_MS), (99, TARGET_P99_MS)):
            verdict(f"9 push p{q}, {subs:,} devices", percentile(latencies, q), target, "ms", higher_is_better=False)
        rtts = classify(probes, posts, drains, quiet)
        idle, busy, between = (percentile(rtts[p], 99) for p in (IDLE, DRAINING, BETWEEN))
        by_model = {}
        for model in (REMOTE, LOCAL):
            # The other model's drains are filed apart (as posts), so that each has only its own.
            mine = [d for d, m in zip(drains, models, strict=True) if m == model]
            others = [d for d, m in zip(drains, models, strict=True) if m != model]
            by_model[model] = classify(probes, posts + others, mine)[DRAINING]
        # The idle baseline: before the first message and the quiet stretches between drains; both
        # p99s over the same count (module doc, report.percentile_at).
        resting = rtts[IDLE] + rtts[QUIET]

        def ratio(draining: list[float]) -> tuple[float, int]:
            n = min(len(draining), len(resting))
            return percentile_at(draining, 99, n) / percentile_at(resting, 99, n), n

        headline = REMOTE if by_model[REMOTE] else LOCAL
        figure, n = ratio(by_model[headline])
        verdict(
            f"9 sync p99 while pushes drain / idle (receiver {headline})",
            figure,
            TARGET_SYNC_RATIO,
            "x",
            higher_is_better=False,
        )
        info(
            f"both p99s over {n} syncs ({len(by_model[headline])} while draining, {len(resting)} idle: "
            f"{len(rtts[IDLE])} before the first message, {len(rtts[QUIET])} quiet between drains): "
            f"{percentile_at(by_model[headline], 99, n):.2f} / {percentile_at(resting, 99, n):.2f} ms; "
            f"receiver local (a core's priority like the server's, its half of the drains) "
            f"{ratio(by_model[LOCAL])[0]:.2f}x ({len(by_model[LOCAL])} syncs), "
            f"all drains {ratio(rtts[DRAINING])[0]:.2f}x"
        )
        info(
            "as before 2026-12-05 evening (each p99 over its own count, idle = before the first message only): "
            f"remote {percentile(by_model[REMOTE], 99) / idle:.2f}x, "
            f"local {percentile(by_model[LOCAL], 99) / idle:.2f}x, all drains {busy / idle:.2f}x"
        )
        by_start = {p: [(end - start) / 1e6 for q, start, end in probes if q == p] for p in (IDLE, DRAINING)}
        info(
            f"syncs overlapping the owner's POST: p99 {percentile(rtts[POSTING], 99):.1f} ms ({len(rtts[POSTING])} "
            f"syncs); filed by the phase they started in (before 2026-12-05), draining / idle p99 "
            f"{percentile(by_start[DRAINING], 99) / percentile(by_start[IDLE], 99):.2f}x"
        )
        firsts = [min(latencies[i * subs : (i + 1) * subs]) for i in range(len(channels))]
        info(
            f"{len(latencies):,} pushes: first of a message after p50 {percentile(firsts, 50):.0f} ms; a message's "
            f"last push after {min(drain_s):.2f}-{max(drain_s):.2f} s; server CPU "
            f"{used['server_cpu'] / len(latencies) * 1e3:.2f} ms per push (its syncs included), followers process "
            f"(producer and sender) {used['followers_cpu'] / len(latencies) * 1e3:.2f} ms per push; "
            f"its start and pre-keying after the restart {prekey_ms:.2f} ms CPU per subscription"
        )
        info(
            f"sync round trip p99: idle {idle:.1f} ms ({len(rtts[IDLE])} syncs), while draining {busy:.1f} ms "
            f"({len(rtts[DRAINING])} syncs), between drains {between:.1f} ms ({len(rtts[BETWEEN])} syncs), quiet "
            f"between drains {percentile(rtts[QUIET], 99):.1f} ms ({len(rtts[QUIET])} syncs); p50 "
            + " / ".join(f"{percentile(rtts[p], 50):.1f}" for p in (IDLE, DRAINING, BETWEEN, QUIET))
            + " ms"
        )
        if writes:  # none with TT_BENCH_PROBE_WRITES=0
            written = classify(writes, posts, drains, quiet)
            resting_w = written[IDLE] + written[QUIET]
            by_model_w = {
                model: classify(
                    writes,
                    posts + [d for d, m in zip(drains, models, strict=True) if m != model],
                    [d for d, m in zip(drains, models, strict=True) if m == model],
                )[DRAINING]
                for model in (REMOTE, LOCAL)
            }

            def ratio_w(draining: list[float]) -> tuple[float, int]:
                n = min(len(draining), len(resting_w))
                return percentile_at(draining, 99, n) / percentile_at(resting_w, 99, n), n

            figure_w, n_w = ratio_w(by_model_w[headline])
            verdict(
                f"9 writing sync p99 while pushes drain / idle (receiver {headline})",
                figure_w,
                TARGET_SYNC_RATIO,
                "x",
                higher_is_better=False,
            )
            info(
                f"writing syncs (one read-cursor change each, every other probe): both p99s over {n_w} syncs "
                f"({len(by_model_w[headline])} while draining, {len(resting_w)} idle): "
                f"{percentile_at(by_model_w[headline], 99, n_w):.2f} / {percentile_at(resting_w, 99, n_w):.2f} ms; "
                f"receiver local {ratio_w(by_model_w[LOCAL])[0]:.2f}x ({len(by_model_w[LOCAL])} syncs), "
                f"all drains {ratio_w(written[DRAINING])[0]:.2f}x; p50 idle / draining "
                f"{percentile(resting_w, 50):.1f} / {percentile(written[DRAINING], 50):.1f} ms"
            )
        out = os.environ.get("TT_BENCH_AB_OUT")
        if out:  # for a scheduler trace (push_sched.py, push_syscalls.py): who was where, per model
            followers = next(
                int(c) for t in Path(f"/proc/{server.pid}/task").iterdir() for c in (t / "children").read_text().split()
            )
            pids = {"server": server.pid, "followers": followers, "receiver": receiver.proc.pid, "bench": os.getpid()}
            spans = {
                model: [(p, d) for p, d, m in zip(posts, drains, models, strict=True) if m == model]
                for model in (REMOTE, LOCAL)
            }
            Path(out).write_text(json.dumps({"pids": pids, "spans": spans, "probes": probes}))
        for device in devices:
            await device.close()
    finally:
        server.stop()
        await receiver.stop()


if __name__ == "__main__":
    asyncio.run(run())
