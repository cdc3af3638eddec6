"""Open the techbrief database: one SQLite file, WAL, foreign keys, named migrations.

Schema changes happen only here, as new functions registered on
:data:`MIGRATIONS` (never edit an applied one: add the next).

Safe to share between processes (the bot and a command an admin runs, or
several first starts at once): every transaction takes the write lock up
front (``BEGIN IMMEDIATE``: a transaction that reads, then writes, never
fails because another process wrote in between) and waits up to
:data:`BUSY_TIMEOUT` for it; migrations and first-run initialisation happen
together in one such transaction.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import sqlite_utils
from sqlite_utils.migrations import Migrations

from storage.errors import StorageError

__all__ = ["BUSY_TIMEOUT", "MIGRATIONS", "data_version", "open_database"]

MIGRATIONS = Migrations("techbrief")

BUSY_TIMEOUT = 30.0
"""Seconds a statement waits for another process's write lock before failing."""


@MIGRATIONS(name="0001_corpus")
def _corpus(db: sqlite_utils.Database) -> None:
    # AUTOINCREMENT: ids never come back after a delete, so passage ids grow
    # monotonically - the search index relies on it.
    _run(
        db,
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE sources (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL CHECK (kind IN ('seed', 'article', 'feed', 'text', 'file')),
            url TEXT UNIQUE,
            title TEXT NOT NULL,
            added_at TEXT NOT NULL
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
            url TEXT,
            canonical_url TEXT UNIQUE,
            content_hash TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            publisher TEXT,
            published TEXT,
            published_note TEXT,
            added_at TEXT NOT NULL,
            body TEXT NOT NULL
        );
        CREATE INDEX articles_source_id ON articles(source_id);
        CREATE TABLE passages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            heading TEXT,
            text TEXT NOT NULL,
            added_at TEXT NOT NULL,
            UNIQUE (article_id, position)
        );
        """,
    )


@MIGRATIONS(name="0002_passage_sentences")
def _passage_sentences(db: sqlite_utils.Database) -> None:
    # Sentence boundaries, found once at ingestion: JSON [[start, end], ...] offsets
    # into the text. NULL for passages stored before; the corpus fills them in.
    db.execute("ALTER TABLE passages ADD COLUMN sentences TEXT")


@MIGRATIONS(name="0003_source_feeds")
def _source_feeds(db: sqlite_utils.Database) -> None:
    # Every source remembers its last fetch and its last error (NULL once a fetch
    # succeeds); a feed also keeps what conditional GET and backoff need. Failed
    # fetches are logged (pruned to the latest few hundred) for /stats, and
    # questions are counted per UTC day.
    _run(
        db,
        """
        ALTER TABLE sources ADD COLUMN last_fetch TEXT;
        ALTER TABLE sources ADD COLUMN last_error TEXT;
        CREATE TABLE feeds (
            source_id INTEGER PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
            etag TEXT,
            last_modified TEXT,
            failures INTEGER NOT NULL DEFAULT 0,
            next_poll TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            notified INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE fetch_errors (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            source_id INTEGER,
            url TEXT,
            reason TEXT NOT NULL
        );
        CREATE TABLE question_counts (
            day TEXT PRIMARY KEY,
            questions INTEGER NOT NULL
        );
        CREATE INDEX articles_url ON articles(url);
        """,
    )


@MIGRATIONS(name="0004_subscriptions")
def _subscriptions(db: sqlite_utils.Database) -> None:
    # Digests (see storage.subscriptions and storage.deliveries). A watermark is a
    # passage id: ids grow monotonically, so "added after" is "id above".
    _run(
        db,
        """
        CREATE TABLE chat_settings (
            chat_id INTEGER PRIMARY KEY,
            timezone TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            chat_id INTEGER NOT NULL,
            topic TEXT NOT NULL,
            topic_key TEXT NOT NULL,
            local_time TEXT NOT NULL,
            timezone TEXT NOT NULL,
            created_at TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            paused_at TEXT,
            watermark INTEGER NOT NULL,
            watermark_at TEXT NOT NULL,
            UNIQUE (chat_id, topic_key)
        );
        CREATE INDEX subscriptions_active ON subscriptions(active, chat_id);
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription_id INTEGER REFERENCES subscriptions(id) ON DELETE SET NULL,
            chat_id INTEGER NOT NULL,
            topic TEXT NOT NULL,
            local_date TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('sent', 'empty', 'failed')),
            articles INTEGER NOT NULL,
            upto INTEGER NOT NULL,
            message_id INTEGER,
            delivered_at TEXT NOT NULL,
            UNIQUE (subscription_id, local_date)
        );
        CREATE INDEX deliveries_delivered_at ON deliveries(delivered_at);
        """,
    )


@MIGRATIONS(name="0005_subscription_next_due")
def _subscription_next_due(db: sqlite_utils.Database) -> None:
    # next_due_at (UTC) is never later than the subscription's next digest: the tick
    # reads only the rows at or past it (an index range), then the schedule decides.
    # Existing rows start at the epoch: due candidates at once, tidied by the first tick.
    _run(
        db,
        """
        ALTER TABLE subscriptions ADD COLUMN next_due_at TEXT NOT NULL
            DEFAULT '1970-01-01T00:00:00+00:00';
        CREATE INDEX subscriptions_due ON subscriptions(active, next_due_at)
        """,
    )


@MIGRATIONS(name="0006_feed_entry_failures")
def _feed_entry_failures(db: sqlite_utils.Database) -> None:
    # A feed entry whose page could not be made an article: how often in a row, why,
    # and whether it is given up (not fetched again, counted as skipped) so that a
    # dead link is not fetched and reported on every poll for ever.
    _run(
        db,
        """
        CREATE TABLE feed_entry_failures (
            source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
            url TEXT NOT NULL,
            failures INTEGER NOT NULL,
            reason TEXT NOT NULL,
            last_failed TEXT NOT NULL,
            given_up INTEGER NOT NULL DEFAULT 0 CHECK (given_up IN (0, 1)),
            PRIMARY KEY (source_id, url)
        )
        """,
    )


def _run(db: sqlite_utils.Database, script: str) -> None:
    """Run ``;``-separated DDL statements one by one.

    ``executescript`` would COMMIT first and break the migration's transaction.
    """
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


class _Database(sqlite_utils.Database):
    """sqlite-utils' Database whose outermost :meth:`atomic` is ``BEGIN IMMEDIATE``."""

    @contextlib.contextmanager
    def atomic(self) -> Iterator[sqlite_utils.Database]:
        if self.conn.in_transaction:
            with super().atomic():  # a savepoint
                yield self
            return
        # IMMEDIATE: take the write lock now (waiting for it), not at the first write,
        # where another process's commit since our first read would be SQLITE_BUSY at once.
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise


def open_database(
    path: Path | str, *, initialise: Callable[[sqlite_utils.Database], None] | None = None
) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path``; apply pending migrations.

    An existing file is first looked at read-only, and refused (:class:`StorageError`)
    before anything in it changes when it is not a SQLite database, belongs to
    another application, or comes from a newer techbrief. Then pending
    migrations and ``initialise`` (the first-run setup, e.g. loading the seed
    articles; it must check itself whether it already ran) run in one
    ``BEGIN IMMEDIATE`` transaction, so concurrent first starts set the
    database up exactly once.

    ``":memory:"`` gives a private in-memory database. The connection may be
    used from another thread than the one that opened it, but from one thread
    at a time: callers confine it to a single worker.
    """
    if str(path) == ":memory:":
        conn = sqlite3.connect(":memory:", check_same_thread=False)
    else:
        file = Path(path)
        _inspect(file)
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(file, timeout=BUSY_TIMEOUT, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open database {file}: {exc}") from exc
    db = _Database(conn)
    try:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        if str(path) != ":memory:":
            db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        with db.atomic():
            _check_schema(conn, str(path))
            MIGRATIONS.apply(db)
            if initialise is not None:
                initialise(db)
    except sqlite3.Error as exc:
        conn.close()
        raise StorageError(f"cannot use database {path}: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return db


def _inspect(file: Path) -> None:
    """Refuse, without writing anything, a file techbrief must not open read-write."""
    try:
        if not file.exists() or file.stat().st_size == 0:
            return  # a new database
    except OSError as exc:
        raise StorageError(f"cannot open database {file}: {exc}") from exc
    try:
        conn = sqlite3.connect(
            f"file:{quote(str(file.resolve()))}?mode=ro", uri=True, timeout=BUSY_TIMEOUT
        )
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open database {file}: {exc}") from exc
    try:
        _check_schema(conn, str(file))
    except sqlite3.Error as exc:
        raise StorageError(f"cannot use database {file}: {exc}") from exc
    finally:
        conn.close()


def _check_schema(conn: sqlite3.Connection, name: str) -> None:
    """Raise :class:`StorageError` for another application's or a newer techbrief's database."""
    tables = {
        str(row[0])
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    if not tables:
        return  # empty: ours to set up
    applied: set[str] = set()
    if Migrations.migrations_table in tables:
        applied = {
            str(row[0])
            for row in conn.execute(
                f'SELECT name FROM "{Migrations.migrations_table}" WHERE migration_set = ?',  # noqa: S608 - a constant name
                [MIGRATIONS.name],
            )
        }
    if not applied:
        raise StorageError(
            f"{name} is not a techbrief database (it holds other tables); "
            "techbrief leaves it unchanged: choose another file"
        )
    # Every migration this version knows is pending on an empty database.
    known = {m.name for m in MIGRATIONS.pending(sqlite_utils.Database(memory=True))}
    unknown = sorted(applied - known)
    if unknown:
        raise StorageError(
            f"database {name} is from a newer techbrief (unknown migrations: "
            f"{', '.join(unknown)}); upgrade techbrief to use it"
        )


def data_version(db: sqlite_utils.Database) -> int:
    """A number that changes whenever another connection commits to the database.

    Cheap (no I/O): a long-running process asks before each answer whether
    another process changed the articles.
    """
    return int(db.execute("PRAGMA data_version").fetchone()[0])
