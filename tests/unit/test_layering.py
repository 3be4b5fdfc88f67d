"""One direction of imports: sync_protocol is pure (stdlib + msgspec) and never reaches for the
server, the web framework or the database. backend/ imports sync_protocol, never the reverse.

Checked twice: statically over the source (catches an import in a branch that never runs here)
and by importing every module in a fresh interpreter (catches what the source hides, such as an
import through a third module).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import sync_protocol

FORBIDDEN = ("backend", "litestar", "sqlite3", "_sqlite3")
PACKAGE = Path(sync_protocol.__file__).resolve().parent
SOURCES = sorted(PACKAGE.rglob("*.py"))


def is_forbidden(module: str) -> bool:
    return any(module == root or module.startswith(f"{root}.") for root in FORBIDDEN)


def package_of(path: Path) -> str:
    return ".".join(("sync_protocol", *path.relative_to(PACKAGE).parent.parts))


def imported_modules(source: str, package: str) -> list[str]:
    """Every module a source names in an import statement or an import_module call."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.append(".".join([*base, *([node.module] if node.module else [])]))
            else:
                found.append(node.module or "")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(node.args[0].value)
    return found


def test_the_sources_are_found() -> None:
    assert {path.name for path in SOURCES} >= {"__init__.py", "wire.py", "merge.py", "hlc.py", "replica.py"}


def test_no_source_file_imports_the_server_the_framework_or_the_database() -> None:
    offenders = {
        f"{path.relative_to(PACKAGE)}: {module}"
        for path in SOURCES
        for module in imported_modules(path.read_text(encoding="utf-8"), package_of(path))
        if is_forbidden(module)
    }
    assert not offenders, f"sync_protocol must stay pure, but imports {sorted(offenders)}"


def test_the_static_check_sees_every_kind_of_import() -> None:
    """Guard the guard: the checker must notice each way a forbidden import can be written."""
    source = (
        "import sqlite3\nfrom litestar import Litestar\nimport backend.storage as s\n"
        "from ..backend import app\nfrom . import merge\nimport importlib\n"
        "def later():\n    importlib.import_module('sqlite3')\n"
    )
    modules = imported_modules(source, "sync_protocol")
    assert "sync_protocol" in modules
    assert [m for m in modules if is_forbidden(m)] == [
        "sqlite3",
        "litestar",
        "backend.storage",
        "backend",
        "sqlite3",
    ]


def test_importing_every_module_loads_no_server_framework_or_database() -> None:
    modules = [
        "sync_protocol",
        *(f"sync_protocol.{path.stem}" for path in SOURCES if path.stem != "__init__"),
    ]
    program = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
        timeout=60,
    )
    loaded = json.loads(result.stdout)
    assert "sync_protocol.merge" in loaded
    assert [module for module in loaded if is_forbidden(module)] == []
