"""Open an archive in Datasette: immutable, read-only, for auditors and admins only.

The metadata comes from ``datasette_metadata.yml`` at the repository root: its ``databases:
archive:`` block (descriptions and canned queries) is re-keyed to the archive's database name
(Datasette names a database after its file), and the sign-in plugin
(``backend/archive/datasette_auth.py``) is told where the live TeamTalk database is.
"""

from __future__ import annotations

import copy
import importlib
from pathlib import Path
from typing import Any

import yaml

from backend.settings import Settings

METADATA = Path(__file__).resolve().parents[2] / "datasette_metadata.yml"
TEMPLATE_DATABASE = "archive"


def metadata_for(archive: Path, live_database: Path, source: Path = METADATA) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    metadata = copy.deepcopy(loaded)
    databases = metadata.get("databases") or {}
    if TEMPLATE_DATABASE in databases:
        databases[archive.stem] = databases.pop(TEMPLATE_DATABASE)
    metadata["databases"] = databases
    plugins = metadata.setdefault("plugins", {})
    plugins["teamtalk-auth"] = {"database": str(live_database.resolve()), "session_days": Settings().session_days}
    return metadata


def build(archive: Path, live_database: Path) -> Any:
    """The Datasette instance (tests and ``serve`` use it)."""
    from datasette.app import Datasette
    from datasette.plugins import pm

    from backend.archive import datasette_auth

    # Gotcha: with `rich` installed (Litestar needs it) Datasette prints tracebacks with rich
    # outside an except block, which turns some 404s into 500s and dumps locals to the log.
    # (Imported only after datasette.plugins: importing it first breaks its own registration.)
    vars(importlib.import_module("datasette.handle_exception"))["rich"] = None
    if not pm.is_registered(datasette_auth):
        pm.register(datasette_auth, name=datasette_auth.PLUGIN)
    return Datasette(
        immutables=[str(archive)],
        metadata=metadata_for(archive, live_database),
        settings={"default_page_size": 100, "sql_time_limit_ms": 5000, "allow_csv_stream": True},
    )


def serve(archive: Path, live_database: Path, host: str, port: int) -> int:
    import sys

    import uvicorn

    ds = build(archive, live_database)
    print(
        f"Archive {archive} on http://{host}:{port}/  (sign in to TeamTalk as an auditor or admin first)",
        file=sys.stderr,
    )
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning")
    return 0
