"""The corpus: stored articles (SQLite) and the BM25 index over their passages.

One object owns the database connection, the analyzer and the index. It is
not thread-safe: the Telegram adapter confines it to one worker thread, the
console uses it directly.

The database is the truth; the index, persisted beside it (``<db>.index/``),
is a cache kept in step: every write goes to SQLite first (committed), then to
the index. If the process dies between the two, the next :meth:`Corpus.open`
notices (passage count, largest id and id sum differ) and repairs the index:
passages missing from it are added, passages gone from the database are
dropped. An index that cannot be read, or that was built by another analyzer
version, is rebuilt from the database.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import sqlite_utils

from retrieval.analyze import ANALYZER_VERSION, Analyzer, TokenSpan
from retrieval.answer import MIN_SUPPORT, Answer, Candidate, compose
from retrieval.index import BM25Index, IndexCorrupt, SearchHit
from retrieval.passages import Passage, derive_title, sentence_spans, split_passages
from retrieval.query import QueryParser
from retrieval.topics import nearest_topic
from storage import articles, seed, sources
from storage.articles import NewArticle, NewPassage, StoredPassage
from storage.db import open_database
from storage.errors import DuplicateArticle

__all__ = [
    "AddedArticle",
    "Corpus",
    "CorpusStats",
    "IndexDrift",
    "IndexUnusable",
    "candidate",
    "index_drift",
    "read_index",
]

log = logging.getLogger(__name__)

_INDEX_BATCH = 5_000
_SPANS_CACHED = 2_000  # passages whose analysis is kept (about 10 MB)


@dataclass(frozen=True, slots=True)
class AddedArticle:
    article_id: int
    title: str
    passages: int


@dataclass(frozen=True, slots=True)
class CorpusStats:
    sources: int
    articles: int
    passages: int
    terms: int
    index_bytes: int = 0  # the index's files on disk
    database_bytes: int = 0


class Corpus:
    """Articles, passages and their index, kept in step."""

    def __init__(self, db: sqlite_utils.Database, analyzer: Analyzer, index: BM25Index) -> None:
        self.db = db
        self.analyzer = analyzer
        self.index = index
        self._parser: QueryParser | None = None
        # Analysed text of recently answered passages: popular passages come back
        # question after question (passage ids are never reused, so entries stay right).
        self._spans: OrderedDict[int, list[TokenSpan]] = OrderedDict()
        self.min_support = MIN_SUPPORT  # the evaluation varies it to report the trade-off

    @property
    def parser(self) -> QueryParser:
        """Query understanding (lexicon, English word list, speller), loaded on first use."""
        if self._parser is None:
            self._parser = QueryParser(self.analyzer)
        return self._parser

    @classmethod
    def open(cls, path: Path | str, now: datetime, *, index_path: Path | None = None) -> Corpus:
        """Open the database (seeding a new one) and its index, repairing the index if needed.

        The index lives at ``index_path`` (default: beside the database, ``<db>.index``);
        an in-memory database (``":memory:"``) gets an in-memory index.
        """
        db = open_database(path)
        analyzer = Analyzer()
        if str(path) == ":memory:":
            index = BM25Index(meta={"analyzer": ANALYZER_VERSION})
        else:
            index = _open_index(index_path or Path(f"{path}.index"))
        corpus = cls(db, analyzer, index)
        corpus._seed(now)
        corpus._record_sentences()
        corpus.reconcile()
        return corpus

    def _record_sentences(self) -> None:
        """Find sentence boundaries of passages stored before they were recorded (once)."""
        while batch := articles.passages_without_sentences(self.db, limit=1000):
            articles.set_sentences(self.db, {p.id: sentence_spans(p.text) for p in batch})

    def reconcile(self) -> tuple[int, int]:
        """Bring the index in step with the database; returns (added, dropped)."""
        drift = index_drift(self.db, self.index)
        if not drift:
            return 0, 0
        missing, extra, keys = drift.missing, drift.extra, self.index.keys()
        if extra.shape[0]:
            self.index.remove(extra.tolist())
        if missing.shape[0] and keys.shape[0] and missing[0] <= keys.max():
            # Ids below the index's largest key cannot be appended: rebuild.
            log.warning("search index is out of order with the database; rebuilding it")
            self.index = _fresh_index(self.index.directory)
            missing = np.asarray(articles.passage_ids(self.db), dtype=np.int64)
        if missing.shape[0]:
            first = int(missing[0]) - 1
            wanted = set(missing.tolist())
            with self.index.bulk():
                self._index(
                    (p.id, Passage(p.text, p.heading))
                    for p in articles.iter_passages(self.db, after_id=first)
                    if p.id in wanted
                )
        if missing.shape[0] or extra.shape[0]:
            log.info(
                "search index repaired: %d passages added, %d dropped",
                missing.shape[0],
                extra.shape[0],
            )
        return int(missing.shape[0]), int(extra.shape[0])

    def close(self) -> None:
        self.db.close()

    # -- writes -----------------------------------------------------------------

    def _seed(self, now: datetime) -> None:
        """Load the shipped articles into a database that never had them.

        Only once: an operator who removes the seed source does not get it back.
        """
        if seed.seeded_at(self.db) is not None:
            return
        with self.db.atomic():
            source_id = sources.add_source(
                self.db, kind="seed", title="Seed articles shipped with techbrief", now=now
            )
            for item in seed.read_seed_articles():
                with contextlib.suppress(DuplicateArticle):
                    self._store(source_id, item.article, now)
            seed.mark_seeded(self.db, now)

    def add_article(self, source_id: int, article: NewArticle, now: datetime) -> AddedArticle:
        """Split, store and index one article (raises DuplicateArticle if already stored)."""
        article_id, title, stored = self._store(source_id, article, now)
        # Indexed after the commit: the index only ever holds committed passages.
        self._index(stored)
        return AddedArticle(article_id, title, len(stored))

    def add_articles(
        self, source_id: int, batch: Sequence[NewArticle], now: datetime
    ) -> list[AddedArticle | DuplicateArticle]:
        """Store each article in its own transaction, then index them all at once.

        One result per article, in order: what was added, or the DuplicateArticle
        that kept it out. An error other than a duplicate stops the batch; what
        was stored before it is indexed first.
        """
        results: list[AddedArticle | DuplicateArticle] = []
        stored: list[tuple[int, Passage]] = []
        try:
            for article in batch:
                try:
                    article_id, title, passages = self._store(source_id, article, now)
                except DuplicateArticle as exc:
                    results.append(exc)
                    continue
                stored.extend(passages)
                results.append(AddedArticle(article_id, title, len(passages)))
        finally:
            self._index(stored)
        return results

    def add_source_article(
        self, *, kind: str, source_title: str, url: str | None, article: NewArticle, now: datetime
    ) -> tuple[int, AddedArticle]:
        """A new source holding one article, in one transaction, then indexed.

        Raises DuplicateArticle (and stores nothing, not even the source) when
        the article is stored already.
        """
        with self.db.atomic():
            source_id = sources.add_source(
                self.db, kind=kind, title=source_title, now=now, url=url, fetched=url is not None
            )
            article_id, title, stored = self._store(source_id, article, now)
        self._index(stored)
        return source_id, AddedArticle(article_id, title, len(stored))

    def remove_source(self, source_id: int) -> sources.Source | None:
        """Delete a source with its articles; its passages leave the index at once."""
        source = sources.get_source(self.db, source_id)
        if source is None:
            return None
        # Their tokens let the index correct document frequencies without a scan.
        gone = articles.source_passages(self.db, source_id)
        tokens = [self.analyzer.terms(Passage(p.text, p.heading).indexed_text) for p in gone]
        sources.delete_source(self.db, source_id)
        self.index.remove([p.id for p in gone], tokens)
        return source

    # -- reads ------------------------------------------------------------------

    def answer(self, question: str, k: int = 10) -> Answer:
        """Understand ``question``, rank passages for it with BM25 and compose the
        answer (up to ``k`` hits)."""
        query = self.parser.parse(question, self.index)
        # Over-fetch: near-duplicates collapse and weak passages drop out.
        ranked = self.index.search(query.search_terms, k=max(3 * k, 30))
        answer = compose(
            query,
            self._candidates(ranked, batch=k + 2),
            self.analyzer,
            min_support=self.min_support,
            limit=k,
            spans_of=self._passage_spans,
        )
        if answer.abstained:
            hit = answer.closest
            closest = self.analyzer.terms(hit.candidate.text) if hit is not None else []
            topic = nearest_topic(self.analyzer, answer.terms, closest)
            answer = replace(answer, topic=topic.name)
        return answer

    def _passage_spans(self, candidate: Candidate) -> list[TokenSpan]:
        spans = self._spans.get(candidate.passage_id)
        if spans is None:
            spans = self.analyzer.spans(candidate.text)
            self._spans[candidate.passage_id] = spans
            if len(self._spans) > _SPANS_CACHED:
                self._spans.popitem(last=False)
        else:
            self._spans.move_to_end(candidate.passage_id)
        return spans

    def _candidates(self, ranked: Sequence[SearchHit], batch: int) -> Iterator[Candidate]:
        """Ranked hits as candidates, read from SQLite a batch at a time: composition
        stops once it has its hits, and the rest are never read."""
        for i in range(0, len(ranked), batch):
            chunk = ranked[i : i + batch]
            stored = articles.get_passages(self.db, [hit.key for hit in chunk])
            for hit in chunk:
                if hit.key in stored:
                    yield candidate(stored[hit.key], hit.score)

    def passage(self, passage_id: int) -> StoredPassage | None:
        return articles.get_passages(self.db, [passage_id]).get(passage_id)

    def sources(self) -> list[sources.Source]:
        return sources.list_sources(self.db)

    def stats(self) -> CorpusStats:
        return CorpusStats(
            sources=sources.count_sources(self.db),
            articles=articles.count_articles(self.db),
            passages=len(self.index),
            terms=self.index.vocabulary_size,
            index_bytes=_size_on_disk(self.index.directory),
            database_bytes=_database_bytes(self.db),
        )

    # -- internals ----------------------------------------------------------------

    def _store(
        self, source_id: int, article: NewArticle, now: datetime
    ) -> tuple[int, str, list[tuple[int, Passage]]]:
        passages = split_passages(article.body)
        title = article.title.strip() or derive_title(article.body)
        stored = NewArticle(
            title=title,
            body=article.body,
            publisher=article.publisher,
            published=article.published,
            published_note=article.published_note,
            url=article.url,
            canonical_url=article.canonical_url,
        )
        article_id, ids = articles.add_article(
            self.db,
            source_id=source_id,
            article=stored,
            passages=[NewPassage(p.text, p.heading, sentence_spans(p.text)) for p in passages],
            now=now,
        )
        return article_id, title, list(zip(ids, passages, strict=True))

    def _index(self, passages: Iterable[tuple[int, Passage]]) -> None:
        """Add (passage id, passage) pairs, in id order, to the index in batches."""
        keys: list[int] = []
        docs: list[list[str]] = []
        for passage_id, passage in passages:
            keys.append(passage_id)
            docs.append(self.analyzer.terms(passage.indexed_text))
            if len(keys) >= _INDEX_BATCH:
                self.index.add(keys, docs)
                keys, docs = [], []
        self.index.add(keys, docs)


@dataclass(frozen=True, slots=True)
class IndexDrift:
    """How the index differs from the database: passage ids it lacks, and ids it has extra."""

    missing: npt.NDArray[np.int64]
    extra: npt.NDArray[np.int64]

    def __bool__(self) -> bool:
        return bool(self.missing.shape[0] or self.extra.shape[0])


def index_drift(db: sqlite_utils.Database, index: BM25Index) -> IndexDrift:
    """Compare the index's passages with the database's (reads only).

    Passage count, largest id and id sum settle the common case in one query;
    only when they differ are the id lists compared.
    """
    stored = articles.passage_fingerprint(db)
    keys = index.keys()
    indexed = (int(keys.shape[0]), int(keys.max()) if keys.shape[0] else 0, int(keys.sum()))
    if stored == indexed:
        empty = np.zeros(0, dtype=np.int64)
        return IndexDrift(empty, empty)
    ids = np.asarray(articles.passage_ids(db), dtype=np.int64)
    return IndexDrift(
        missing=np.setdiff1d(ids, keys, assume_unique=True),
        extra=np.setdiff1d(keys, ids, assume_unique=True),
    )


class IndexUnusable(Exception):
    """The persisted index cannot serve as it is (the corpus rebuilds it); says why."""


def read_index(directory: Path, *, read_only: bool = False) -> BM25Index:
    """The index persisted in ``directory``, usable by this analyzer; else :class:`IndexUnusable`.

    ``read_only`` opens it without touching a file, beside a running bot.
    """
    if not (directory / "manifest.json").exists():
        raise IndexUnusable(f"missing ({directory})")
    try:
        index = BM25Index.open(directory, read_only=read_only)
    except IndexCorrupt as exc:
        raise IndexUnusable(f"unreadable ({exc})") from exc
    if index.meta.get("analyzer") != ANALYZER_VERSION:
        raise IndexUnusable("built by another analyzer version")
    return index


def _size_on_disk(directory: Path | None) -> int:
    if directory is None or not directory.is_dir():
        return 0
    total = 0
    for path in directory.rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file():
                total += path.stat().st_size
    return total


def _database_bytes(db: sqlite_utils.Database) -> int:
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    size = db.execute("PRAGMA page_size").fetchone()[0]
    return int(pages) * int(size)


def _open_index(directory: Path) -> BM25Index:
    """The persisted index, or a new empty one when it is missing, unreadable or stale."""
    try:
        return read_index(directory)
    except IndexUnusable as exc:
        if (directory / "manifest.json").exists():  # a missing one is simply built
            log.warning("search index %s; rebuilding it from the database", exc)
    return _fresh_index(directory)


def _fresh_index(directory: Path | None) -> BM25Index:
    if directory is None:
        return BM25Index(meta={"analyzer": ANALYZER_VERSION})
    shutil.rmtree(directory, ignore_errors=True)
    return BM25Index(directory=directory, meta={"analyzer": ANALYZER_VERSION})


def candidate(stored: StoredPassage, score: float = 0.0) -> Candidate:
    """A stored passage as an answer candidate (with ``score`` from the index)."""
    return Candidate(
        passage_id=stored.id,
        score=score,
        text=stored.text,
        heading=stored.heading,
        title=stored.title,
        publisher=stored.publisher,
        published=stored.published,
        url=stored.url,
        article_id=stored.article_id,
        published_note=stored.published_note,
        sentences=stored.sentences,
    )
