"""All SQL against the live schema lives in backend/storage/ (the Storage seam a PostgreSQL store
implements). Outside it, Python neither names a live table in SQL nor opens SQLite, except where
ALLOWED says why. And the jobs around the store (retention, the archive) meet only through it:
they do not import each other.

The live tables are read from the storage package's own CREATE TABLE statements, so a table
added there is guarded here at once. Scanned: every Python file of the server, the client and
the benchmarks. Not scanned: tests/, which tamper with the live file on purpose (corruption,
migrations) and read it to check what the store wrote.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STORAGE = ROOT / "backend" / "storage"
SCANNED = ("backend", "sync_protocol", "teamtalk_client", "bench")
EVERY_TABLE = frozenset({"*"})

#: path -> (live table names its SQL may mention, why). Every entry may also import sqlite3 /
#: sqlite_utils. Names shared with the archive's own schema are allowed only in archive code.
ALLOWED: dict[str, tuple[frozenset[str], str]] = {
    "backend/search_index.py": (
        frozenset(),
        "its own derived search.db (sqlite3); it reads the log only through the feed and Storage",
    ),
    "backend/search_store.py": (frozenset(), "writes the derived search.db (search_index.py feeds it)"),
    "backend/search_reader.py": (frozenset(), "reads the derived search.db"),
    "backend/archive/export.py": (
        frozenset({"changes", "memberships"}),
        "the exported archive file's own tables of those names, written with sqlite-utils; "
        "the live store is read only through Storage.snapshot()",
    ),
    "backend/archive/schema.py": (
        frozenset({"changes", "memberships"}),
        "the exported archive file's own tables and views (export.py creates them with sqlite-utils)",
    ),
    "backend/archive/calendar.py": (
        frozenset(),
        "the exported archive file's own calendar tables (events, rsvps, event_occurrences), with sqlite-utils",
    ),
    "backend/archive/formats.py": (
        frozenset({"memberships"}),
        "reads the scratch archive export.py wrote (the archive's own memberships table)",
    ),
    "backend/archive/verify.py": (
        frozenset({"changes"}),
        "verify_archive reads an archive file's own change log; verify_live goes through Storage.snapshot()",
    ),
    "backend/archive/files.py": (
        frozenset(),
        "reads the exported archive's own files table (which digests to copy); the bytes come from the BlobStore",
    ),
    "bench/commit_probe.py": (frozenset(), "measures raw SQLite commits on a scratch file with tables of its own"),
}

_DATABASE_MODULES = ("sqlite3", "_sqlite3", "sqlite_utils", "apsw")
_TABLE_AFTER = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE(?:\s+IF\s+(?:NOT\s+)?EXISTS)?)\s+"
    r"(?:(?:main|temp)\.)?[\[\"`]?(\w+)",
    re.IGNORECASE,
)
_SQL_WORD = re.compile(
    r"\b(?:SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|REPLACE|WHERE|JOIN|VALUES)\b", re.IGNORECASE
)


def live_tables() -> set[str]:
    found: set[str] = set()
    for path in STORAGE.glob("*.py"):
        found |= set(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", path.read_text(encoding="utf-8")))
    return found


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string nodes that are docstrings (prose, which may say "from the changes")."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of every string literal; an f-string's text with ``{}`` for what it fills in."""
    skip = _docstrings(tree)
    parts_of_fstrings = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}" for v in node.values
            )
            found.append((node.lineno, text))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and id(node) not in parts_of_fstrings
        ):
            found.append((node.lineno, node.value))
    return found


def live_sql(source: str, tables: set[str]) -> list[tuple[int, str]]:
    """(line, table) for each string that is SQL naming a live table."""
    hits: list[tuple[int, str]] = []
    for line, text in _strings(ast.parse(source)):
        if not _SQL_WORD.search(text):
            continue
        hits += [(line, name) for name in _TABLE_AFTER.findall(text) if name in tables]
    return hits


def imports(source: str) -> list[str]:
    """Modules named by import statements (absolute ones: the project uses no relative imports)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            found += [f"{node.module}.{a.name}" if node.module == "backend" else node.module or "" for a in node.names]
    return found


def database_imports(source: str) -> list[str]:
    return [n for n in imports(source) if n.split(".")[0] in _DATABASE_MODULES]


def _sources() -> list[Path]:
    return sorted(
        p
        for top in SCANNED
        for p in (ROOT / top).rglob("*.py")
        if STORAGE not in p.parents and ".venv" not in p.parts and "node_modules" not in p.parts
    )


def test_the_live_schema_and_the_sources_are_found() -> None:
    assert live_tables() >= {"records", "changes", "accounts", "sessions", "memberships", "settings"}
    names = {p.relative_to(ROOT).as_posix() for p in _sources()}
    assert {"backend/retention.py", "backend/archive/export.py", "teamtalk_client/client.py"} <= names
    assert not any(name.startswith("backend/storage/") for name in names)
    assert set(ALLOWED) <= names, "an allowance for a file that is gone: remove it"


def test_no_sql_against_the_live_schema_outside_storage() -> None:
    tables = live_tables()
    offenders: list[str] = []
    for path in _sources():
        name = path.relative_to(ROOT).as_posix()
        allowed = ALLOWED.get(name, (frozenset(), ""))[0]
        if allowed == EVERY_TABLE:
            continue
        source = path.read_text(encoding="utf-8")
        offenders += [
            f"{name}:{line}: SQL names the live table {table!r}"
            for line, table in live_sql(source, tables)
            if table not in allowed
        ]
        if name not in ALLOWED:
            offenders += [f"{name}: imports {module}" for module in database_imports(source)]
    assert not offenders, "SQL against the live store belongs behind Storage (backend/storage/):\n" + "\n".join(
        offenders
    )


def test_the_scanner_sees_sql_however_it_is_written() -> None:
    """Guard the guard: each way live SQL can be written is found; prose and other schemas are not."""
    source = '''
"""Module prose: we read SELECT seq FROM changes here, in a docstring."""
import sqlite3
from sqlite_utils import Database
A = "SELECT seq FROM changes WHERE scope = ?"
B = f"select id from {where} join records r ON r.id = x"
C = ("INSERT INTO sessions (id) "
     "VALUES (?)")
D = "UPDATE [accounts] SET name = ?"
E = "CREATE TABLE IF NOT EXISTS settings (key TEXT)"
F = "SELECT id FROM people"            # the archive's own table
G = "no data in records from the log"  # prose, not SQL
def f():
    """SELECT * FROM invites, in a docstring."""
'''
    tables = {"changes", "records", "sessions", "accounts", "settings", "invites"}
    assert [table for _, table in live_sql(source, tables)] == [
        "changes",
        "records",
        "sessions",
        "accounts",
        "settings",
    ]
    assert database_imports(source) == ["sqlite3", "sqlite_utils"]


def test_retention_and_the_archive_do_not_import_each_other() -> None:
    def reaches(path: Path, target: str) -> list[str]:
        return [m for m in imports(path.read_text(encoding="utf-8")) if m == target or m.startswith(f"{target}.")]

    archive = sorted((ROOT / "backend" / "archive").glob("*.py"))
    assert archive and reaches(ROOT / "backend" / "retention.py", "backend.archive") == []
    assert [f"{p.name}: {m}" for p in archive for m in reaches(p, "backend.retention")] == []
    assert imports("from backend import retention\nfrom backend.archive.model import x\n") == [
        "backend.retention",
        "backend.archive.model",
    ]
