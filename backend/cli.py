"""The `teamtalk` command: serve the app, add people, archives for auditors (backend/archive/commands.py).

Errors a person can fix are printed as one line on stderr with exit status 2 (usage) or 1
(the request failed); tracebacks are for bugs only.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import msgspec

from backend.archive import commands as archive_commands
from backend.settings import Settings

DEFAULT_DATA = Path("data")


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from backend.app import create_app

    settings = Settings(data_dir=args.data, host=args.host, port=args.port, push_test_mode=args.push_test_mode)
    if args.push_contact:
        settings = msgspec.structs.replace(settings, push_contact=args.push_contact)
    if args.ice_server or args.turn_secret_file:
        secret = args.turn_secret_file.read_text().strip() if args.turn_secret_file else ""
        settings = msgspec.structs.replace(settings, ice_urls=tuple(args.ice_server), turn_secret=secret)
    if args.meeting_drop_ms:
        settings = msgspec.structs.replace(settings, meeting_drop_ms=args.meeting_drop_ms)
    if args.frontend_dir is not None:
        settings = msgspec.structs.replace(settings, frontend_dir=args.frontend_dir)
    app = create_app(settings)
    # What start-up made (modules, the app, its routes: ~70,000 objects) lives as long as the
    # process: out of the collector's sight, its full passes no longer walk it. A push's garbage
    # is freed by reference counting; with the default threshold (700) the collector still ran
    # every few changes and found nothing: ~1.3 us per pushed change (bench 2, one device).
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    print(f"TeamTalk on http://{args.host}:{args.port}  (data: {args.data.resolve()})", file=sys.stderr)
    try:
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            ws_max_size=1 << 20,
            ws_ping_interval=30,
            ws_ping_timeout=30,
        )
    finally:
        app.state["services"].close()
    return 0


def _user_add(args: argparse.Namespace) -> int:
    from backend.accounts import now_ms
    from backend.app import build_services
    from backend.errors import ApiError

    if not args.password_stdin:
        print("teamtalk: pass the password on standard input with --password-stdin", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    found = build_services(Settings(data_dir=args.data))
    try:
        first = found.accounts.needs_owner()
        account = found.accounts.create_account(
            args.name, args.email, password, "admin" if args.admin else "member", now_ms()
        )
    except ApiError as exc:
        print(f"teamtalk: {exc.body.detail}", file=sys.stderr)
        return 1
    finally:
        found.close()
    what = "created the workspace; owner" if first else account.role
    print(f"added {account.name} <{account.email}> ({what}), id {account.id}")
    return 0


def _retention(args: argparse.Namespace) -> int:
    from backend import retention
    from backend.app import build_services

    settings = Settings(data_dir=args.data)
    if not settings.database.is_file():
        print(f"teamtalk: no TeamTalk data in {args.data} (pass --data DIR)", file=sys.stderr)
        return 1
    found = build_services(settings)
    try:
        count = retention.expire(found.store, found.sync, int(time.time() * 1000))
    finally:
        found.close()
    print(f"expired {count} message bodies")
    return 0


def _push_keys(args: argparse.Namespace) -> int:
    from backend.push import keys
    from backend.storage.sqlite import SqliteStorage

    settings = Settings(data_dir=args.data)
    if args.rotate:
        made = keys.rotate(args.data)
        # Subscriptions were made for the old key: push services refuse them now (keys.py, Rule 2).
        if settings.database.is_file():
            store = SqliteStorage(settings.database)
            try:
                with store.transaction():
                    store.clear_push_subscriptions()
            finally:
                store.close()
        print("rotated the VAPID keys; every device must turn notifications on again", file=sys.stderr)
    else:
        made = keys.load_or_create(args.data)
    print(made.public_key)
    print(f"private key: {keys.key_path(args.data).resolve()} (back it up with the database)", file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="teamtalk", description="TeamTalk: an offline-first team workspace.")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data directory (default ./data)")
    serve.add_argument(
        "--frontend-dir", type=Path, default=None, help="serve the web app from here (default: frontend/dist)"
    )
    serve.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    serve.add_argument(
        "--push-contact",
        default=None,
        help="the contact push services see in VAPID (mailto: or https: URL of the admin)",
    )
    serve.add_argument(
        "--ice-server",
        action="append",
        default=[],
        metavar="URL",
        help="a STUN or TURN URL for meetings (repeatable), e.g. stun:turn.example.org:3478 turn:turn.example.org:3478",
    )
    serve.add_argument(
        "--turn-secret-file",
        type=Path,
        help="file holding the secret shared with the TURN server (coturn static-auth-secret)",
    )
    serve.add_argument("--meeting-drop-ms", type=int, default=0, help=argparse.SUPPRESS)  # tests: faster heartbeat
    serve.add_argument("--push-test-mode", action="store_true", help=argparse.SUPPRESS)  # tests: local push service
    serve.set_defaults(run=_serve)

    user = commands.add_parser("user", help="manage people").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="add a person (the first one added creates the workspace)")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--admin", action="store_true", help="make them an admin")
    add.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data directory (default ./data)")
    add.set_defaults(run=_user_add)

    push = commands.add_parser("push", help="Web Push").add_subparsers(dest="action", required=True)
    push_keys = push.add_parser("keys", help="print the VAPID public key (made on first use)")
    push_keys.add_argument("--rotate", action="store_true", help="make new keys (every subscription is dropped)")
    push_keys.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data directory (default ./data)")
    push_keys.set_defaults(run=_push_keys)

    archive = archive_commands.register(commands)
    # Listed with the archive's commands (auditors run it before an export), but retention is no
    # part of the archive: the two meet only through Storage.
    expire = archive.add_parser("retention", help="remove expired message bodies now (the server does it hourly)")
    expire.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data directory (default ./data)")
    expire.set_defaults(run=_retention)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
