"""Read-only looks at a techbrief database, for ``techbrief doctor`` and ``backup``.

Nothing here writes: the database is opened with SQLite's ``mode=ro``, so these
run safely beside the bot (WAL lets them read while it writes), and a damaged
or outdated file is reported, never repaired or migrated.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import sqlite_utils

from storage.db import MIGRATIONS
from storage.errors import StorageError

__all__ = ["MigrationState", "integrity_problems", "migration_state", "open_read_only"]


def open_read_only(path: Path) -> sqlite_utils.Database:
    """The database at ``path``, read-only; :class:`StorageError` when missing or unreadable."""
    if not path.is_file():
        raise StorageError(f"no database at {path}")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 5000")
        # Reading the schema is the first access: a file that is no database fails here.
        conn.execute("SELECT COUNT(*) FROM sqlite_schema").fetchone()
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open database {path}: {exc}") from exc
    return sqlite_utils.Database(conn)


def integrity_problems(db: sqlite_utils.Database, *, quick: bool = False) -> list[str]:
    """What SQLite's ``integrity_check`` (or the faster ``quick_check``) finds; empty when sound.

    A database too damaged to be checked at all is one problem: SQLite's error.
    """
    pragma = "quick_check" if quick else "integrity_check"
    try:
        rows = [str(row[0]) for row in db.execute(f"PRAGMA {pragma}(100)").fetchall()]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    if rows == ["ok"]:
        return []
    # A row may hold several lines, the first naming the schema ("*** in database main ***").
    return [
        line.strip()
        for row in rows
        for line in row.splitlines()
        if line.strip() and not line.startswith("***")
    ]


@dataclass(frozen=True, slots=True)
class MigrationState:
    applied: list[str]
    pending: list[str]  # known to this version, not applied: the bot applies them on start
    unknown: list[str]  # applied by a newer techbrief

    @property
    def current(self) -> bool:
        return not self.pending and not self.unknown


def migration_state(db: sqlite_utils.Database) -> MigrationState:
    """Which of this version's migrations the database has, without applying any."""
    try:
        applied = [m.name for m in MIGRATIONS.applied(db)]
        pending = [m.name for m in MIGRATIONS.pending(db)]
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"cannot read the migrations: {exc}") from exc
    known = set(applied) | set(pending)
    known_here = {m.name for m in MIGRATIONS.pending(sqlite_utils.Database(memory=True))}
    return MigrationState(
        applied=applied,
        pending=pending,
        unknown=sorted(known - known_here),
    )
