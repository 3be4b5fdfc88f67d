"""`teamtalk archive …`: export, verify, serve (registered by backend/cli.py, which adds retention).

Exit status: 0 done (verify: everything matches), 1 the request failed (verify: a mismatch),
2 usage. Messages a person can act on are one line on stderr.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

DEFAULT_DATA = Path("data")
DATABASE = "teamtalk.db"


class ProgressBar:
    """A one-line progress bar on stderr: ``exporting  writing messages  [#####.....]  52%``."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self._last = 0.0
        self._phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if phase == self._phase and done < total and now - self._last < 0.1:
            return
        self._phase, self._last = phase, now
        share = done / total if total else 1.0
        bar = "#" * int(share * 30)
        self.stream.write(f"\r\x1b[Kexporting  {phase:<26} [{bar:<30}] {share:4.0%}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def parse_when(text: str, end: bool = False) -> int:
    """YYYY-MM-DD (a UTC day: --until includes it) or an ISO 8601 time (UTC unless it says) -> ms."""
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
            return int(((day + timedelta(days=1)) if end else day).timestamp() * 1000)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _fail(message: str, code: int = 1) -> int:
    print(f"teamtalk: {message}", file=sys.stderr)
    return code


def _database(data: Path) -> Path | None:
    path = data / DATABASE
    return path if path.is_file() else None


def _export(args: argparse.Namespace) -> int:
    from backend.archive import export, formats, model

    database = _database(args.data)
    if database is None:
        return _fail(f"no TeamTalk data in {args.data} (pass --data DIR)")
    flt = model.Filter(
        since_ms=args.since,
        until_ms=args.until,
        channel=args.channel,
    )
    bar = ProgressBar(sys.stderr, args.progress or sys.stderr.isatty())
    started = time.monotonic()
    try:
        if args.format == "sqlite":
            summary = export.export_sqlite(database, args.out, flt, bar, force=args.force)
            what = f"{summary.counts['messages']} messages, {summary.counts['changes']} change log entries"
            if args.with_files:
                from backend.archive.files import copy_files, files_dir

                copied = copy_files(args.out, args.data)
                what += f", {copied.copied} files ({copied.bytes} bytes) in {files_dir(args.out)}"
                what += f", {copied.missing} no longer stored" if copied.missing else ""
        else:
            if args.out.exists() and not args.force:
                raise export.ArchiveExists(f"{args.out} exists; pass --force to replace it")
            summary, written = formats.export_format(args.format, database, args.out, flt, bar)
            what = (
                f"{written} message events"
                if args.format == "csv"
                else f"{written} files, {summary.counts['messages']} messages"
            )
    except (export.ArchiveExists, model.UnknownChannel, FileNotFoundError) as exc:
        return _fail(str(exc))
    finally:
        bar.close()
    print(
        f"wrote {args.out} ({args.format}): {what}; head seq {summary.info['head_seq']} "
        f"hash {summary.info['head_hash']} in {time.monotonic() - started:.1f}s"
    )
    return 0


def _verify(args: argparse.Namespace) -> int:
    from backend.archive import verify

    if args.live == (args.archive is not None):
        return _fail("name an archive, or pass --live to check the server's own store", 2)
    try:
        if args.live:
            database = _database(args.data)
            if database is None:
                return _fail(f"no TeamTalk data in {args.data} (pass --data DIR)")
            verdict = verify.verify_live(database)
        else:
            verdict = verify.verify_archive(args.archive)
    except (FileNotFoundError, ValueError) as exc:
        return _fail(str(exc))
    print(verify.report(verdict), file=sys.stdout if verdict.ok else sys.stderr)
    return 0 if verdict.ok else 1


def _serve(args: argparse.Namespace) -> int:
    from backend.archive import serve

    database = _database(args.data)
    if database is None:
        return _fail(f"no TeamTalk data in {args.data}: sign-in needs the live database (pass --data DIR)")
    if not args.archive.is_file():
        return _fail(f"no archive at {args.archive}")
    return serve.serve(args.archive, database, args.host, args.port)


def register(commands: Any) -> Any:
    """Add `archive` and its subcommands to the `teamtalk` parser's subcommands; returns them, for
    `archive retention`, which backend/cli.py adds (retention is no part of the archive)."""
    archive = commands.add_parser("archive", help="auditor archives: export, verify, serve; retention")
    actions = archive.add_subparsers(dest="action", required=True, metavar="ACTION")

    def data(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data directory (default ./data)")

    export = actions.add_parser("export", help="write a consistent, immutable archive (or a compliance export)")
    export.add_argument("out", type=Path, metavar="OUT", help="OUT.db (sqlite), OUT.csv, or a folder / .zip (slack)")
    data(export)
    export.add_argument("--since", type=parse_when, metavar="DATE", help="messages from this UTC day or ISO time on")
    export.add_argument(
        "--until",
        type=lambda text: parse_when(text, end=True),
        metavar="DATE",
        help="messages up to this UTC day (included) or ISO time (excluded)",
    )
    export.add_argument("--channel", help="one channel, by name or id")
    export.add_argument("--format", choices=["sqlite", "csv", "slack"], default="sqlite")
    export.add_argument("--progress", action="store_true", help="show a progress bar even when stderr is not a TTY")
    export.add_argument("--force", action="store_true", help="replace OUT if it exists")
    export.add_argument("--with-files", action="store_true", help="copy the files' bytes to OUT.files/ (sqlite)")
    export.set_defaults(run=_export)

    check = actions.add_parser("verify", help="recompute the hash chain; exit 0 only when every entry matches")
    check.add_argument("archive", type=Path, nargs="?", metavar="ARCHIVE")
    check.add_argument("--live", action="store_true", help="check the server's own store instead of an archive")
    data(check)
    check.set_defaults(run=_verify)

    serve = actions.add_parser("serve", help="open an archive in Datasette for auditors and admins")
    serve.add_argument("archive", type=Path, metavar="ARCHIVE")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8001, help="port (default 8001)")
    data(serve)
    serve.set_defaults(run=_serve)
    return actions
