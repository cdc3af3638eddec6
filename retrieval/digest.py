"""A topic's digest: which new passages match it, grouped by article, best first.

Pure: no SQLite, clock or Telegram. The caller scores the passages added
since the subscriber's watermark with the index (BM25, the same analysis and
scores as answers) and hands them in as :class:`~retrieval.answer.Candidate`.

Relevance. A raw BM25 score grows with the number and rarity of the query's
terms, so one threshold cannot serve a ten-word curated topic and a one-word
free-text topic alike. A passage's *relevance* is its score divided by the
topic's ceiling, the score a passage would get if every query term's
frequency were unbounded: ``sum over query terms of idf(t) * (k1 + 1)``.
It lies in [0, 1) and depends on the corpus only through idf, in the
numerator and the denominator alike. A passage is in a topic's digest when its
relevance reaches :data:`MIN_RELEVANCE`, calibrated on the labelled passages
of ``tests/digest_calibration.py`` (see the README).

Grouping. Passages are grouped by article (an article's best passage speaks
for it); an article is a near-duplicate of a better one when one of its
matching passages shares at least :data:`~retrieval.answer.DUPLICATE_JACCARD`
of its word trigrams with one of the better article's (the same story from
two outlets), or when their titles are the same words: it is collapsed into
it. At most :data:`MAX_ARTICLES` articles, each with its best sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from retrieval.analyze import Analyzer
from retrieval.answer import DUPLICATE_JACCARD, Candidate, Highlighted, sentence_hit
from retrieval.query import Query

__all__ = [
    "MAX_ARTICLES",
    "MIN_RELEVANCE",
    "Digest",
    "DigestArticle",
    "relevance",
    "select_digest",
    "topic_ceiling",
]

MIN_RELEVANCE = 0.06
"""Smallest share of the topic's ceiling score a passage needs to be in a digest."""

MAX_ARTICLES = 5
"""A digest lists at most this many articles."""


@dataclass(frozen=True, slots=True)
class DigestArticle:
    """One article of a digest: its best matching passage and that passage's best sentence."""

    candidate: Candidate  # the article's best passage (title, publisher, link, ...)
    sentence: Highlighted  # topic terms marked
    relevance: float
    passages: int  # of this article that matched
    duplicates: int = 0  # near-duplicate stories collapsed into this one


@dataclass(frozen=True, slots=True)
class Digest:
    """What a digest says: the articles to show (best first) and how many matched in all."""

    articles: tuple[DigestArticle, ...]
    matched: int  # distinct stories that matched (before the cap)
    passages: int  # new passages that matched
    upto: int  # the watermark once this digest is delivered

    @property
    def empty(self) -> bool:
        return not self.articles


def topic_ceiling(terms: Sequence[str], idf: Callable[[str], float], k1: float) -> float:
    """The BM25 score no passage reaches for ``terms``: every term at unbounded frequency."""
    return sum(max(idf(t), 0.0) * (k1 + 1) for t in terms)


def relevance(score: float, ceiling: float) -> float:
    """A BM25 score as a share of the topic's :func:`topic_ceiling` (0 when it has none)."""
    return score / ceiling if ceiling > 0 else 0.0


def select_digest(
    query: Query,
    candidates: Iterable[Candidate],
    analyzer: Analyzer,
    *,
    ceiling: float,
    upto: int,
    min_relevance: float = MIN_RELEVANCE,
    limit: int = MAX_ARTICLES,
) -> Digest:
    """The digest of ``query`` over new passages (``candidates``, scored by the index).

    ``query`` is the topic understood as a question (its best sentence is chosen
    as for answers); ``upto`` is the largest passage id considered (the next watermark).
    """
    relevant = sorted(
        (c for c in candidates if relevance(c.score, ceiling) >= min_relevance),
        key=lambda c: (-c.score, c.passage_id),
    )
    by_article: dict[int, list[Candidate]] = {}
    for c in relevant:
        by_article.setdefault(c.article_id, []).append(c)
    kept: list[tuple[list[Candidate], list[frozenset[tuple[str, ...]]], frozenset[str]]] = []
    duplicates: list[int] = []
    for group in by_article.values():  # best article first (dicts keep insertion order)
        shingles = [_shingles(analyzer.terms(c.text)) for c in group]
        title = frozenset(analyzer.terms(group[0].title))
        twin = next(
            (
                i
                for i, (_, other, other_title) in enumerate(kept)
                if (title and title == other_title)
                or any(_near_duplicate(a, b) for a in shingles for b in other)
            ),
            None,
        )
        if twin is None:
            kept.append((group, shingles, title))
            duplicates.append(0)
        else:
            duplicates[twin] += 1
    shown = []
    for (group, _, _), collapsed in list(zip(kept, duplicates, strict=True))[: max(limit, 0)]:
        best = group[0]
        hit = sentence_hit(query, best, analyzer)
        shown.append(
            DigestArticle(
                candidate=best,
                sentence=hit.sentence,
                relevance=relevance(best.score, ceiling),
                passages=len(group),
                duplicates=collapsed,
            )
        )
    return Digest(tuple(shown), matched=len(kept), passages=len(relevant), upto=upto)


def _shingles(terms: Sequence[str]) -> frozenset[tuple[str, ...]]:
    if len(terms) < 3:
        return frozenset({tuple(terms)})
    return frozenset(zip(terms, terms[1:], terms[2:], strict=False))


def _near_duplicate(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> bool:
    if not a or not b:
        return False
    common = len(a & b)
    return common >= DUPLICATE_JACCARD * (len(a) + len(b) - common)
