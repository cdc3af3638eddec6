from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from storage import articles, seed, sources
from storage.articles import NewArticle, NewPassage, content_hash
from storage.db import MIGRATIONS, open_database
from storage.errors import DuplicateArticle, StorageError
from tests.conftest import NOW


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    opened = open_database(tmp_path / "t.db")
    yield opened
    opened.close()


def _article(body: str = "BYD unveiled five new EV models.", **kw: str) -> NewArticle:
    return NewArticle(title=kw.pop("title", "BYD"), body=body, **kw)


def test_new_database_is_wal_with_foreign_keys_and_migrations(tmp_path: Path) -> None:
    db = open_database(tmp_path / "sub" / "t.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    applied = {m.name for m in MIGRATIONS.applied(db)}
    assert applied == {
        "0001_corpus",
        "0002_passage_sentences",
        "0003_source_feeds",
        "0004_subscriptions",
        "0005_subscription_next_due",
        "0006_feed_entry_failures",
    }
    assert {"sources", "articles", "passages", "meta"} <= set(db.table_names())
    assert {"subscriptions", "deliveries", "chat_settings"} <= set(db.table_names())
    db.close()
    again = open_database(tmp_path / "sub" / "t.db")  # re-applying is a no-op
    assert len(MIGRATIONS.applied(again)) == len(applied)
    again.close()


def test_unusable_database_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "not.db"
    bad.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StorageError, match="not a database"):
        open_database(bad)


def test_article_and_passages_are_stored_together(db: sqlite_utils.Database) -> None:
    with db.atomic():
        source_id = sources.add_source(db, kind="text", title="pasted", now=NOW)
    article_id, ids = articles.add_article(
        db,
        source_id=source_id,
        article=_article(publisher="CNBC"),
        passages=[NewPassage("one", "Heading"), NewPassage("two")],
        now=NOW,
    )
    stored = articles.get_passages(db, ids)
    assert [stored[i].text for i in ids] == ["one", "two"]
    assert stored[ids[0]].heading == "Heading"
    assert stored[ids[0]].publisher == "CNBC"
    assert stored[ids[0]].article_id == article_id
    assert sources.get_source(db, source_id).passages == 2  # type: ignore[union-attr]


def test_duplicates_by_content_or_canonical_url_are_refused(db: sqlite_utils.Database) -> None:
    with db.atomic():
        source_id = sources.add_source(db, kind="text", title="pasted", now=NOW)
    first, _ = articles.add_article(
        db,
        source_id=source_id,
        article=_article(canonical_url="https://example.com/a"),
        passages=[NewPassage("p")],
        now=NOW,
    )
    # Same words, different case, punctuation and spacing: the same content.
    with pytest.raises(DuplicateArticle) as caught:
        articles.add_article(
            db,
            source_id=source_id,
            article=_article("byd UNVEILED  five new ev models!!"),
            passages=[NewPassage("p")],
            now=NOW,
        )
    assert caught.value.article_id == first
    with pytest.raises(DuplicateArticle):
        articles.add_article(
            db,
            source_id=source_id,
            article=_article("Different text entirely.", canonical_url="https://example.com/a"),
            passages=[NewPassage("p")],
            now=NOW,
        )
    assert articles.count_articles(db) == 1


def test_failed_ingestion_leaves_no_half_stored_article(db: sqlite_utils.Database) -> None:
    with db.atomic():
        source_id = sources.add_source(db, kind="text", title="pasted", now=NOW)
    with pytest.raises(sqlite3.IntegrityError):
        articles.add_article(
            db,
            source_id=source_id,
            article=_article(),
            passages=[NewPassage("ok"), NewPassage(None)],  # type: ignore[arg-type]
            now=NOW,
        )
    assert articles.count_articles(db) == 0
    assert articles.passage_ids(db) == []


def test_deleting_a_source_cascades_and_reports_passages(db: sqlite_utils.Database) -> None:
    with db.atomic():
        keep = sources.add_source(db, kind="text", title="keep", now=NOW)
        drop = sources.add_source(db, kind="text", title="drop", now=NOW)
    articles.add_article(
        db, source_id=keep, article=_article("kept"), passages=[NewPassage("k")], now=NOW
    )
    _, gone = articles.add_article(
        db,
        source_id=drop,
        article=_article("dropped"),
        passages=[NewPassage("d1"), NewPassage("d2")],
        now=NOW,
    )
    assert sources.delete_source(db, drop) == gone
    assert [s.title for s in sources.list_sources(db)] == ["keep"]
    assert articles.get_passages(db, gone) == {}
    assert len(articles.passage_ids(db)) == 1


def test_passage_ids_never_come_back_after_a_delete(db: sqlite_utils.Database) -> None:
    with db.atomic():
        source_id = sources.add_source(db, kind="text", title="t", now=NOW)
    _, first = articles.add_article(
        db, source_id=source_id, article=_article("a"), passages=[NewPassage("a")], now=NOW
    )
    sources.delete_source(db, source_id)
    with db.atomic():
        source_id = sources.add_source(db, kind="text", title="t", now=NOW)
    _, second = articles.add_article(
        db, source_id=source_id, article=_article("b"), passages=[NewPassage("b")], now=NOW
    )
    assert second[0] > first[0]


def test_content_hash_ignores_case_spacing_and_punctuation() -> None:
    assert content_hash("BYD, unveiled!") == content_hash("byd unveiled")
    assert content_hash("BYD unveiled") != content_hash("BYD revealed")


def test_seed_articles_ship_with_metadata() -> None:
    shipped = seed.read_seed_articles()
    assert [s.article.publisher for s in shipped] == ["CNBC", "WebProNews"]
    cnbc, webpro = (s.article for s in shipped)
    assert cnbc.title.startswith("China's New Tech Surge")
    assert not cnbc.body.startswith("China’s New Tech Surge")  # title line removed
    assert not cnbc.body.rstrip().endswith("Source: CNBC")  # credit line removed
    assert webpro.title == ""
    assert not webpro.body.rstrip().endswith("iEntry Publication")
    assert cnbc.published == "2025-04"
    assert "approximate" in (cnbc.published_note or "")


def test_passages_read_by_id_equal_passages_read_in_order(db: sqlite_utils.Database) -> None:
    """get_passages (rows packed as JSON) and iter_passages (plain rows) agree on every field."""
    texts = [
        'Quotes " and \\ backslashes, tabs\tand\nnewlines',
        "中文 text, emoji 🚗, RTL \u202e and zero-width \u200b characters",
        "A plain passage about $690,000 robotaxis and 80% cost cuts.",
    ]
    with db.atomic():
        source_id = sources.add_source(db, kind="text", title="pasted", now=NOW)
    _, ids = articles.add_article(
        db,
        source_id=source_id,
        article=NewArticle(
            title='Title with "quotes"', body="\n\n".join(texts), url="https://x.example/a?b=1&c=2"
        ),
        passages=[
            NewPassage(texts[0], heading="Heading ä", sentences=((0, 10), (11, 20))),
            NewPassage(texts[1]),
            NewPassage(texts[2], sentences=()),
        ],
        now=NOW,
    )
    in_order = {p.id: p for p in articles.iter_passages(db)}
    by_id = articles.get_passages(db, [*reversed(ids), 999_999])
    assert set(by_id) == set(ids)
    assert by_id == in_order
    assert by_id[ids[0]].sentences == ((0, 10), (11, 20))
    assert by_id[ids[1]].heading is None
    assert by_id[ids[1]].sentences is None
    assert by_id[ids[2]].text == texts[2]
    assert by_id[ids[0]].publisher is None
