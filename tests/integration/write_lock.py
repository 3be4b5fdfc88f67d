"""Whether a database file's write lock is free: what a server write would meet at that moment."""

from __future__ import annotations

import sqlite3


def can_write(path: str) -> bool:
    """Whether another connection (the server's, say) gets the write lock at once: no busy wait."""
    db = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("COMMIT")
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        db.close()
