"""Open the techbrief database: one SQLite file, WAL, foreign keys, named migrations.

Schema changes happen only here, as new functions registered on
:data:`MIGRATIONS` (never edit an applied one: add the next).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from storage.errors import StorageError

__all__ = ["MIGRATIONS", "open_database"]

MIGRATIONS = Migrations("techbrief")


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


def _run(db: sqlite_utils.Database, script: str) -> None:
    """Run ``;``-separated DDL statements one by one.

    ``executescript`` would COMMIT first and break the migration's transaction.
    """
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def open_database(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path`` and apply pending migrations.

    ``":memory:"`` gives a private in-memory database. The connection may be
    used from another thread than the one that opened it, but from one thread
    at a time: callers confine it to a single worker.
    """
    if str(path) == ":memory:":
        conn = sqlite3.connect(":memory:", check_same_thread=False)
    else:
        file = Path(path)
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(file, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open database {file}: {exc}") from exc
    db = sqlite_utils.Database(conn)
    try:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("PRAGMA synchronous = NORMAL")
        MIGRATIONS.apply(db)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StorageError(f"cannot use database {path}: {exc}") from exc
    return db
