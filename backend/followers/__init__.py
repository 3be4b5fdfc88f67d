"""Feed followers off the live path, in a process of their own: the search indexer, the push
producer and sender, and the hash chain (``python -m backend.followers``), supervised by the server.

Rule 1. The followers process reads committed changes from the SQLite log itself, on its own
        read-only connection (``log_feed.py``): it is a durable follower across processes
        (feed.py, Rules 4 and 6). Each follower keeps its position with its effects (the search
        index in ``search.db``, the push producer in ``push.db`` with its queue), so a kill -9 of
        the process costs a restart, never a change indexed or notified twice or not at all.
Rule 2. The server tells it only what is cheap to say, one JSON line each on its stdin
        (``ToFollowers``): the log's new head after a commit that holds a change they act on
        (a collection in push/producer.py's FOLLOWED; coalesced: the latest head, not one line
        per commit), the devices that have the app open and visible (sender.py, Rule 3), that
        a search is waiting, and that push rows were queued by a timer (calendar reminders).
        Any other commit's head (a read cursor, a reaction: nothing to push or index) goes
        with the next line, or after supervisor.HEAD_EVERY_S: one line per such commit woke
        the followers' threads and two of the server's for nothing, ~0.1 ms of followers CPU
        per read cursor (issue 10, bench/push_ab.py). Without a line it still reads the log
        every POLL_S: a lost wake-up costs latency, not changes.
        Its first line is always the visible devices, and it reads the log only after it.
Rule 3. It answers on its stdout with its followers' positions (``Progress``) whenever they move.
        A search waits on the indexer's reported position reaching the head that existed when
        it was asked (search_index.py, Rule 2), then reads ``search.db`` itself, read-only.
Rule 4. The server supervises it (``supervisor.py``): started with the first message (or at
        start when work is waiting), restarted with backoff when it dies, stopped with the
        server; it exits by itself when its stdin closes (the server is gone). Its lag (the
        log's head minus each follower's position) is logged when it grows and shown to admins
        at ``GET /api/admin/followers``.
Rule 5. Nothing on the sync path waits for it. A sync reply and the live frames stay in the
        server; the followers' CPU (full-text indexing, encryption of pushes, the hash chain's
        digests: sqlite_chain.py) runs on the other core, without the server's GIL. Whoever needs
        the chain's head before the followers have hashed it extends the rest itself
        (sqlite_chain.py, Rule 2).
"""

from __future__ import annotations

import msgspec

from backend.settings import Settings


class Head(msgspec.Struct, tag="head", frozen=True):
    """The log holds changes up to ``seq`` (committed)."""

    seq: int


class Visible(msgspec.Struct, tag="visible", frozen=True):
    """The devices that now have the app open and showing: pushes to them are held back."""

    devices: list[str]


class Urgent(msgspec.Struct, tag="urgent", frozen=True):
    """A search is waiting for the index: index now, without the coalescing pause."""


class Queued(msgspec.Struct, tag="queued", frozen=True):
    """Push rows were queued outside the log (a calendar reminder fell due): send them now."""


ToFollowers = Head | Visible | Urgent | Queued


class Progress(msgspec.Struct, frozen=True):
    """The followers' positions: the last seq each has taken effect for (-1: not started)."""

    search: int = -1
    push: int = -1
    chain: int = -1


encode = msgspec.json.Encoder().encode
decode_to_followers = msgspec.json.Decoder(ToFollowers).decode
decode_progress = msgspec.json.Decoder(Progress).decode


def settings_json(settings: Settings) -> str:
    """The server's settings for the followers process (its one argument)."""
    return msgspec.json.encode(msgspec.to_builtins(settings, enc_hook=str)).decode()


def settings_from_json(text: str) -> Settings:
    return msgspec.json.decode(text, type=Settings, dec_hook=lambda kind, value: kind(value))
