"""The ``articles`` and ``passages`` tables: stored text, deduplicated, written atomically."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import sqlite_utils

from storage.errors import DuplicateArticle

__all__ = [
    "NewArticle",
    "NewPassage",
    "StoredPassage",
    "add_article",
    "content_hash",
    "count_articles",
    "find_duplicate",
    "get_passages",
    "iter_passages",
    "passage_fingerprint",
    "passage_ids",
    "passages_without_sentences",
    "set_sentences",
    "source_passages",
]


Spans = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class NewPassage:
    text: str
    heading: str | None = None
    sentences: Spans | None = None  # (start, end) of each sentence in ``text``


@dataclass(frozen=True, slots=True)
class NewArticle:
    title: str
    body: str
    publisher: str | None = None
    published: str | None = None
    published_note: str | None = None
    url: str | None = None
    canonical_url: str | None = None


@dataclass(frozen=True, slots=True)
class StoredPassage:
    """A passage with what an answer shows about its article."""

    id: int
    article_id: int
    source_id: int
    position: int
    heading: str | None
    text: str
    added_at: str
    title: str
    publisher: str | None
    published: str | None
    published_note: str | None
    url: str | None
    sentences: Spans | None = None


_NON_WORD = re.compile(r"[\W_]+")


def content_hash(body: str) -> str:
    """Fingerprint of an article's words: case, punctuation and spacing do not count."""
    words = _NON_WORD.sub(" ", unicodedata.normalize("NFKC", body).casefold()).strip()
    return hashlib.sha256(words.encode("utf-8")).hexdigest()


def find_duplicate(
    db: sqlite_utils.Database, *, canonical_url: str | None, body_hash: str
) -> tuple[int, str, int] | None:
    """(id, title, source id) of a stored article with the same canonical URL or content."""
    rows = list(
        db.query(
            "SELECT id, title, source_id FROM articles WHERE content_hash = ?"
            " OR (canonical_url IS NOT NULL AND canonical_url = ?) LIMIT 1",
            [body_hash, canonical_url],
        )
    )
    if not rows:
        return None
    return int(rows[0]["id"]), str(rows[0]["title"]), int(rows[0]["source_id"])


def add_article(
    db: sqlite_utils.Database,
    *,
    source_id: int,
    article: NewArticle,
    passages: Sequence[NewPassage],
    now: datetime,
) -> tuple[int, list[int]]:
    """Store an article and its passages in one transaction.

    Returns (article id, passage ids in order). Raises :class:`DuplicateArticle`
    when the same canonical URL or content is stored already; nothing is written then.
    """
    body_hash = content_hash(article.body)
    with db.atomic():
        duplicate = find_duplicate(db, canonical_url=article.canonical_url, body_hash=body_hash)
        if duplicate is not None:
            raise DuplicateArticle(*duplicate)
        stamp = now.isoformat()
        cursor = db.execute(
            "INSERT INTO articles (source_id, url, canonical_url, content_hash, title,"
            " publisher, published, published_note, added_at, body)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                source_id,
                article.url,
                article.canonical_url,
                body_hash,
                article.title,
                article.publisher,
                article.published,
                article.published_note,
                stamp,
                article.body,
            ],
        )
        article_id = int(cursor.lastrowid or 0)
        ids: list[int] = []
        for position, passage in enumerate(passages):
            cursor = db.execute(
                "INSERT INTO passages (article_id, position, heading, text, added_at, sentences)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    article_id,
                    position,
                    passage.heading,
                    passage.text,
                    stamp,
                    _spans_json(passage.sentences),
                ],
            )
            ids.append(int(cursor.lastrowid or 0))
    return article_id, ids


_PASSAGE_SELECT = """
    SELECT p.id, p.article_id, a.source_id, p.position, p.heading, p.text, p.added_at,
           a.title, a.publisher, a.published, a.published_note,
           COALESCE(a.canonical_url, a.url) AS url, p.sentences
    FROM passages p JOIN articles a ON a.id = p.article_id
"""

# The rows of _PASSAGE_SELECT, whose columns are named as StoredPassage's fields,
# as one JSON array of arrays (see get_passages).
_PACKED_SELECT = (
    "SELECT json_group_array(json_array("  # noqa: S608 - constants only
    + ", ".join(f.name for f in fields(StoredPassage))
    + f")) FROM ({_PASSAGE_SELECT} {{where}})"
)


def _spans_json(spans: Spans | None) -> str | None:
    return None if spans is None else json.dumps([list(span) for span in spans])


def _spans(raw: str | None) -> Spans | None:
    if raw is None:
        return None
    try:
        return tuple((int(a), int(b)) for a, b in json.loads(raw))
    except (ValueError, TypeError):
        return None  # unreadable: treated as not yet computed


def _stored(row: tuple[Any, ...]) -> StoredPassage:
    """A row of :data:`_PASSAGE_SELECT` (plain tuple: its columns are StoredPassage's fields)."""
    (id_, article_id, source_id, position, heading, text, added_at) = row[:7]
    (title, publisher, published, published_note, url, sentences) = row[7:]
    return StoredPassage(
        id_,
        article_id,
        source_id,
        position,
        heading,
        text,
        added_at,
        title,
        publisher,
        published,
        published_note,
        url,
        _spans(sentences),
    )


def get_passages(db: sqlite_utils.Database, ids: Sequence[int]) -> dict[int, StoredPassage]:
    """Passages by id (missing ids are simply absent from the result).

    The rows come back packed in one JSON array, one SQLite step per 500 ids:
    Python's sqlite3 releases the interpreter lock around every step, and under
    load (the Telegram bot's event loop busy in the other thread) taking it back
    once per row cost more than the query. Answers read passages this way.
    """
    out: dict[int, StoredPassage] = {}
    unique = sorted(set(ids))
    for i in range(0, len(unique), 500):
        chunk = unique[i : i + 500]
        marks = ", ".join("?" * len(chunk))
        where = f"WHERE p.id IN ({marks})"  # "?" placeholders only
        (packed,) = db.execute(_PACKED_SELECT.format(where=where), chunk).fetchone()
        for row in json.loads(packed):
            out[row[0]] = _stored(tuple(row))
    return out


def iter_passages(db: sqlite_utils.Database, after_id: int = 0) -> Iterator[StoredPassage]:
    """Every passage with an id above ``after_id``, in id order."""
    for row in db.execute(f"{_PASSAGE_SELECT} WHERE p.id > ? ORDER BY p.id", [after_id]):
        yield _stored(row)


def passage_ids(db: sqlite_utils.Database) -> list[int]:
    return [int(row["id"]) for row in db.query("SELECT id FROM passages ORDER BY id")]


def passage_fingerprint(db: sqlite_utils.Database) -> tuple[int, int, int]:
    """(count, largest id, sum of ids) of all passages: equal sets agree on all three."""
    row = next(
        db.query(
            "SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS top, COALESCE(SUM(id), 0) AS total"
            " FROM passages"
        )
    )
    return int(row["n"]), int(row["top"]), int(row["total"])


def source_passages(db: sqlite_utils.Database, source_id: int) -> list[StoredPassage]:
    """Every passage of a source's articles, in id order."""
    return [
        _stored(row)
        for row in db.execute(f"{_PASSAGE_SELECT} WHERE a.source_id = ? ORDER BY p.id", [source_id])
    ]


def passages_without_sentences(db: sqlite_utils.Database, limit: int) -> list[StoredPassage]:
    """Passages stored before sentence boundaries were recorded (at most ``limit``)."""
    return [
        _stored(row)
        for row in db.execute(
            f"{_PASSAGE_SELECT} WHERE p.sentences IS NULL ORDER BY p.id LIMIT ?",
            [limit],
        )
    ]


def set_sentences(db: sqlite_utils.Database, spans_by_id: dict[int, Spans]) -> None:
    with db.atomic():
        for passage_id, spans in spans_by_id.items():
            db.execute(
                "UPDATE passages SET sentences = ? WHERE id = ?",
                [_spans_json(spans), passage_id],
            )


def count_articles(db: sqlite_utils.Database) -> int:
    return int(next(db.query("SELECT COUNT(*) AS n FROM articles"))["n"])
