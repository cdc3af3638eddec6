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
version, is rebuilt from the database. The index folder must be techbrief's
(see :func:`retrieval.index.store.claim`): anything else at its path stops
the corpus from opening, untouched.

Several processes may share one database, e.g. the bot and a command an
admin runs:

- an index commit that finds another process committed first
  (:class:`~retrieval.index.IndexStale`) writes nothing; the corpus reopens
  the index from disk and reconciles it with the database instead;
- before answering, a long-running process asks SQLite whether another
  connection committed since (``PRAGMA data_version``, no I/O) and, if so,
  reopens the index when another process committed a newer one and
  reconciles it with the database: an article another process added is
  answerable at once, without a restart.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import sqlite_utils

from retrieval.analyze import ANALYZER_VERSION, Analyzer, TokenSpan
from retrieval.answer import MIN_SUPPORT, Answer, Candidate, Sentences, compose, sentences
from retrieval.index import BM25Index, IndexCorrupt, IndexError_, IndexStale, SearchHit, store
from retrieval.passages import Passage, derive_title, sentence_spans, split_passages
from retrieval.query import QueryParser
from retrieval.topics import nearest_topic
from storage import articles, seed, sources
from storage.articles import NewArticle, NewPassage, StoredPassage
from storage.db import data_version, open_database
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

    def __init__(
        self,
        db: sqlite_utils.Database,
        analyzer: Analyzer,
        index: BM25Index,
        *,
        index_path: Path | None = None,
    ) -> None:
        self.db = db
        self.analyzer = analyzer
        self.index = index
        self.index_path = index_path
        """Where the index lives (``None``: in memory only)."""
        self.on_problem: Callable[[str], None] | None = None
        """Told (besides the log) when the index cannot be kept up to date while serving."""
        self._seen_version = data_version(db)
        # One lock object for every index this corpus opens on the folder: held across
        # a reload and the commit that follows it.
        self._lock = index.lock
        self._parser: QueryParser | None = None
        # Analysed text of recently answered passages: popular passages come back
        # question after question (passage ids are never reused, so entries stay right).
        self._spans: OrderedDict[int, list[TokenSpan]] = OrderedDict()
        self._sentences: OrderedDict[int, Sentences] = OrderedDict()
        # Terms of titles and headings: the passages of an article share them.
        self._short_terms: OrderedDict[str, frozenset[str]] = OrderedDict()
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
        Raises :class:`~storage.errors.StorageError` for an unusable database and
        :class:`~retrieval.index.IndexError_` for an index folder that is not
        techbrief's or cannot be written when it must be.
        """
        db = open_database(path, initialise=functools.partial(_seed, now=now))
        try:
            analyzer = Analyzer()
            directory: Path | None = None
            rebuilt: str | None = None
            if str(path) == ":memory:":
                index = BM25Index(meta={"analyzer": ANALYZER_VERSION})
            else:
                directory = index_path or Path(f"{path}.index")
                index, rebuilt = _open_index(directory, None)
            corpus = cls(db, analyzer, index, index_path=directory)
            corpus._record_sentences()
            corpus.reconcile()
        except BaseException:
            db.close()
            raise
        if rebuilt:
            log.warning("search index in %s rebuilt from the database (%s)", directory, rebuilt)
        return corpus

    def _record_sentences(self) -> None:
        """Find sentence boundaries of passages stored before they were recorded (once)."""
        while batch := articles.passages_without_sentences(self.db, limit=1000):
            articles.set_sentences(self.db, {p.id: sentence_spans(p.text) for p in batch})

    def reconcile(self) -> tuple[int, int]:
        """Bring the index in step with the database; returns (added, dropped)."""
        return self._write_index(self._reconcile)

    def _reconcile(self) -> tuple[int, int]:
        index = self.index
        drift = index_drift(self.db, index)
        if not drift and not index.unsaved:
            return 0, 0
        missing, extra = drift.missing, drift.extra
        last = index.last_key
        if missing.shape[0] and last is not None and missing[0] <= last:
            # Ids below the index's largest key cannot be appended: rebuild.
            log.warning("search index is out of order with the database; rebuilding it")
            index = _fresh_index(index.directory, self._lock)
            missing = np.asarray(articles.passage_ids(self.db), dtype=np.int64)
            extra = missing[:0]
        with index.bulk():
            if extra.shape[0]:
                index.remove(extra.tolist())
            if missing.shape[0]:
                wanted = set(missing.tolist())
                self._index(
                    index,
                    (
                        (p.id, Passage(p.text, p.heading))
                        for p in articles.iter_passages(self.db, after_id=int(missing[0]) - 1)
                        if p.id in wanted
                    ),
                )
        self.index = index
        if last is None and not extra.shape[0]:  # an empty index: built, not repaired
            log.info("search index built: %d passages", missing.shape[0])
        elif missing.shape[0] or extra.shape[0]:
            log.info(
                "search index repaired: %d passages added, %d dropped",
                missing.shape[0],
                extra.shape[0],
            )
        return int(missing.shape[0]), int(extra.shape[0])

    def _write_index(self, change: Callable[[], tuple[int, int]]) -> tuple[int, int]:
        """Apply ``change`` to the index (it commits); if another process committed
        first, reopen the index from disk and reconcile it with the database instead.

        The first try holds no lock while it works (analysing passages may take
        long); the retry holds the folder's lock from reopening to committing,
        so it cannot lose again.
        """
        try:
            return change()
        except IndexStale:
            if self._lock is None:  # only an index on disk can go stale
                raise
            log.info("search index changed by another process; reloading it")
        with self._lock.exclusive():
            self._reload()
            return self._reconcile()

    def _reload(self) -> None:
        """Replace the in-memory index with the one on disk (or a fresh one to rebuild)."""
        if self.index_path is None:
            return
        self.index, rebuilt = _open_index(self.index_path, self._lock)
        if rebuilt:
            log.warning("search index in %s is rebuilt (%s)", self.index_path, rebuilt)

    def follow(self) -> None:
        """Catch up with what other processes committed; cheap when nothing changed.

        Called before answering. If the index cannot be brought up to date
        (a full disk, say), the problem is logged and reported to
        :attr:`on_problem`, and the corpus goes on serving what it has.
        """
        if self.index_path is None:
            return
        version = data_version(self.db)
        if version == self._seen_version:
            return
        self._seen_version = version
        try:
            if not self.index.is_current():
                self._reload()
            self.reconcile()
        except (IndexError_, OSError) as exc:
            message = f"search index not brought up to date: {exc}"
            log.error("%s", message)
            if self.on_problem is not None:
                self.on_problem(message)

    def close(self) -> None:
        self.db.close()

    # -- writes -----------------------------------------------------------------

    def add_article(self, source_id: int, article: NewArticle, now: datetime) -> AddedArticle:
        """Split, store and index one article (raises DuplicateArticle if already stored).

        Stored first: if the index cannot be written then (raising
        :class:`~retrieval.index.IndexUnwritable`), the article is kept, this
        process answers from it, and the next start indexes it on disk.
        """
        article_id, title, stored = _store(self.db, source_id, article, now)
        # Indexed after the commit: the index only ever holds committed passages.
        self._write_index(self._catch_up)
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
        try:
            for article in batch:
                try:
                    article_id, title, passages = _store(self.db, source_id, article, now)
                except DuplicateArticle as exc:
                    results.append(exc)
                    continue
                results.append(AddedArticle(article_id, title, len(passages)))
        finally:
            if any(isinstance(r, AddedArticle) for r in results):
                self._write_index(self._catch_up)
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
            article_id, title, stored = _store(self.db, source_id, article, now)
        self._write_index(self._catch_up)
        return source_id, AddedArticle(article_id, title, len(stored))

    def _catch_up(self) -> tuple[int, int]:
        """Index every stored passage newer than the index's last key."""
        index = self.index
        with index.bulk():
            added = self._index(
                index,
                (
                    (p.id, Passage(p.text, p.heading))
                    for p in articles.iter_passages(self.db, after_id=index.last_key or 0)
                ),
            )
        return added, 0

    def remove_source(self, source_id: int) -> sources.Source | None:
        """Delete a source with its articles; its passages leave the index at once."""
        source = sources.get_source(self.db, source_id)
        if source is None:
            return None
        # Their tokens let the index correct document frequencies without a scan.
        gone = articles.source_passages(self.db, source_id)
        tokens = [self.analyzer.terms(Passage(p.text, p.heading).indexed_text) for p in gone]
        sources.delete_source(self.db, source_id)
        self._write_index(lambda: (0, self.index.remove([p.id for p in gone], tokens)))
        return source

    # -- reads ------------------------------------------------------------------

    def answer(self, question: str, k: int = 10) -> Answer:
        """Understand ``question``, rank passages for it with BM25 and compose the
        answer (up to ``k`` hits)."""
        self.follow()
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
            terms_of=self._text_terms,
            sentences_of=self._passage_sentences,
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

    def _passage_sentences(self, candidate: Candidate, spans: Sequence[TokenSpan]) -> Sentences:
        split = self._sentences.get(candidate.passage_id)
        if split is None:
            split = sentences(candidate, spans)
            self._sentences[candidate.passage_id] = split
            if len(self._sentences) > _SPANS_CACHED:
                self._sentences.popitem(last=False)
        else:
            self._sentences.move_to_end(candidate.passage_id)
        return split

    def _text_terms(self, text: str) -> frozenset[str]:
        terms = self._short_terms.get(text)
        if terms is None:
            terms = frozenset(self.analyzer.terms(text))
            self._short_terms[text] = terms
            if len(self._short_terms) > _SPANS_CACHED:
                self._short_terms.popitem(last=False)
        else:
            self._short_terms.move_to_end(text)
        return terms

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
        self.follow()
        return CorpusStats(
            sources=sources.count_sources(self.db),
            articles=articles.count_articles(self.db),
            passages=len(self.index),
            terms=self.index.vocabulary_size,
            index_bytes=_size_on_disk(self.index.directory),
            database_bytes=_database_bytes(self.db),
        )

    # -- internals ----------------------------------------------------------------

    def _index(self, index: BM25Index, passages: Iterable[tuple[int, Passage]]) -> int:
        """Add (passage id, passage) pairs, in id order, to ``index`` in batches; how many."""
        keys: list[int] = []
        docs: list[list[str]] = []
        added = 0
        for passage_id, passage in passages:
            keys.append(passage_id)
            docs.append(self.analyzer.terms(passage.indexed_text))
            if len(keys) >= _INDEX_BATCH:
                index.add(keys, docs)
                added += len(keys)
                keys, docs = [], []
        index.add(keys, docs)
        return added + len(keys)


def _seed(db: sqlite_utils.Database, *, now: datetime) -> None:
    """Load the shipped articles into a database that never had them.

    Runs inside the transaction that opens the database (see
    :func:`storage.db.open_database`), so concurrent first starts seed once.
    Only once: an operator who removes the seed source does not get it back.
    """
    if seed.seeded_at(db) is not None:
        return
    source_id = sources.add_source(
        db, kind="seed", title="Seed articles shipped with techbrief", now=now
    )
    for item in seed.read_seed_articles():
        with contextlib.suppress(DuplicateArticle):
            _store(db, source_id, item.article, now)
    seed.mark_seeded(db, now)


def _store(
    db: sqlite_utils.Database, source_id: int, article: NewArticle, now: datetime
) -> tuple[int, str, list[tuple[int, Passage]]]:
    passages = split_passages(article.body)
    title = article.title.strip() or derive_title(article.body)
    stored = replace(article, title=title)
    article_id, ids = articles.add_article(
        db,
        source_id=source_id,
        article=stored,
        passages=[NewPassage(p.text, p.heading, sentence_spans(p.text)) for p in passages],
        now=now,
    )
    return article_id, title, list(zip(ids, passages, strict=True))


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


def read_index(
    directory: Path, *, read_only: bool = False, lock: store.IndexLock | None = None
) -> BM25Index:
    """The index persisted in ``directory``, usable by this analyzer; else :class:`IndexUnusable`.

    ``read_only`` opens it without touching a file, beside a running bot.
    """
    if not (directory / store.MANIFEST).exists():
        raise IndexUnusable(f"missing ({directory})")
    try:
        index = BM25Index.open(directory, read_only=read_only, lock=lock)
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


def _open_index(directory: Path, lock: store.IndexLock | None) -> tuple[BM25Index, str | None]:
    """The persisted index; or a new empty one that will replace it, with the reason,
    when it is unreadable or stale (``None`` when there simply was none).

    The folder must be techbrief's: anything else raises
    :class:`~retrieval.index.IndexForeign` and is left alone.
    """
    store.claim(directory)
    try:
        return read_index(directory, lock=lock), None
    except IndexUnusable as exc:
        reason = str(exc) if (directory / store.MANIFEST).exists() else None
    return _fresh_index(directory, lock), reason


def _fresh_index(directory: Path | None, lock: store.IndexLock | None) -> BM25Index:
    """A new empty index; persisted, it replaces what the folder holds at its first commit."""
    if directory is None:
        return BM25Index(meta={"analyzer": ANALYZER_VERSION})
    meta = {"analyzer": ANALYZER_VERSION}
    return BM25Index(directory=directory, meta=meta, replace=True, lock=lock)


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
        position=stored.position,
    )
