"""Online backup of the database through SQLite's backup API.

Safe while the bot runs and writes: the source is opened read-only and copied
in one step, inside one read transaction, so the copy is a consistent snapshot
(every article whole, or absent) and, in WAL mode, the writer is never blocked.
The copy is written beside the target under a temporary name, checked, synced
and renamed into place, so ``PATH`` is never a half-written file.

The search index is not copied: it is a cache that the next open rebuilds from
the database.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlite_utils

from storage.errors import StorageError
from storage.health import integrity_problems, open_read_only

__all__ = ["Backup", "backup_database"]


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path
    bytes: int
    pages: int


def backup_database(source: Path, target: Path, now: datetime) -> Backup:
    """Copy the database at ``source`` to ``target`` (a file, or a directory to put
    ``techbrief-<UTC time>.db`` in), replacing an older backup of that name.

    Raises :class:`StorageError` with a one-line reason: no source, a target that
    is the live database or cannot be written, or a copy that fails its check.
    """
    if target.is_dir():
        target = target / f"techbrief-{now.strftime('%Y%m%dT%H%M%SZ')}.db"
    if target.exists() and source.exists() and os.path.samefile(target, source):
        raise StorageError(f"{target} is the database itself; choose another path")
    for live in (Path(f"{source}-wal"), Path(f"{source}-shm")):
        if target.resolve() == live.resolve():
            raise StorageError(f"{target} belongs to the live database; choose another path")
    db = open_read_only(source)
    try:
        fd, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
    except OSError as exc:
        db.close()
        raise StorageError(f"cannot write a backup in {target.parent}: {exc}") from exc
    os.close(fd)
    try:
        copy = sqlite3.connect(temporary)
        try:
            # pages=-1: one step, one read transaction: a consistent snapshot that a
            # concurrent writer can neither restart nor tear.
            db.conn.backup(copy, pages=-1)
            # One self-contained file (the live database is in WAL mode).
            copy.execute("PRAGMA journal_mode = DELETE")
            problems = integrity_problems(sqlite_utils.Database(copy), quick=True)
            pages = int(copy.execute("PRAGMA page_count").fetchone()[0])
        finally:
            copy.close()
        if problems:
            raise StorageError(f"the copy fails its check: {problems[0]}")
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, target)
        _sync_directory(target.parent)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"backup to {target} failed: {exc}") from exc
    finally:
        db.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return Backup(path=target, bytes=target.stat().st_size, pages=pages)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
