"""Benchmark 5: the server's resident memory (VmRSS from /proc/<pid>/status).

Measured by bench.live_fanout on its server, at the moments the target is about: idle (a fresh
server, then with the accounts made but no live connection), and with the 1,000 live WebSocket
connections open, before and after they received the ~150 pushes of benchmark 4. VmHWM is the
peak RSS over the process's life. Target: ≤ 150 MB with the 1,000 connections.
"""

from __future__ import annotations

from bench.common import Server, info, verdict

TARGET_MB = 150.0


class MemoryLog:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.points: list[tuple[str, float]] = []

    def mark(self, label: str) -> float:
        rss = self.server.rss_mb()
        self.points.append((label, rss))
        return rss

    def report(self, connections: int) -> None:
        by_label = dict(self.points)
        info(
            "RSS: "
            + "; ".join(f"{label} {mb:.0f} MB" for label, mb in self.points)
            + f"; peak (VmHWM) {self.server.hwm_mb():.0f} MB"
        )
        idle = by_label.get("idle, accounts made")
        loaded = max(mb for label, mb in self.points if "connections" in label)
        verdict("5 server RSS idle", idle or 0.0, TARGET_MB, "MB", higher_is_better=False)
        verdict(f"5 server RSS with {connections:,} live connections", loaded, TARGET_MB, "MB", higher_is_better=False)
        if idle is not None:
            info(f"≈ {(loaded - idle) * 1024 / connections:.0f} KB per live connection")
