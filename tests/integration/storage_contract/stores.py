"""The stores the suite runs on: how to open each for writing and read-only (the same data)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from backend.storage import open_readonly
from backend.storage.base import Storage
from backend.storage.sqlite import SqliteStorage


class Backend(NamedTuple):
    open: Callable[[Path], Storage]
    open_readonly: Callable[[Path], Storage]


STORES: dict[str, Backend] = {
    "sqlite": Backend(lambda d: SqliteStorage(d / "t.db"), lambda d: open_readonly(d / "t.db")),
}
