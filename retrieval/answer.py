"""From ranked passages to an answer: support check, near-duplicates, best sentence, bold terms.

The question arrives understood (:class:`~retrieval.query.Query`): concepts with
their synonyms, frame words dropped. A question's *support* in a passage is the
share of the question's weight that the passage covers: each concept weighs
what ``weigh`` says (the corpus's idf of its rarest term, a word the corpus
never saw weighing most), and counts as covered when the passage (or its
section heading) says it in one of its forms. A passage below
:data:`MIN_SUPPORT` is not an answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from retrieval.analyze import Analyzer, TokenSpan
from retrieval.passages import split_sentences
from retrieval.query import ANSWER_NAME, ANSWER_NUMBER, ANSWER_TIME, Concept, Query

__all__ = [
    "DUPLICATE_JACCARD",
    "MIN_SUPPORT",
    "Answer",
    "Candidate",
    "Highlighted",
    "Hit",
    "answers_kind",
    "compose",
    "term_weight",
]

MIN_SUPPORT = 0.4
"""Smallest share of the question's weight a passage must cover to be an answer."""

DUPLICATE_JACCARD = 0.5
"""Passages whose word-trigram sets overlap at least this much are one story."""


_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    "forty|fifty|hundred|hundreds|thousand|thousands|million|millions|billion|billions|"
    "trillion|dozen|dozens|half|double|doubled|doubling|triple|tripled|twice|percent"
)
_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
_TIME = re.compile(
    r"\b(?:1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|"
    r"october|november|december|spring|summer|autumn|winter|ago|recently|yesterday|today|"
    r"tomorrow|weeks?|months?|decades?|year-to-date)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A passage the index ranked, with what an answer shows about its article."""

    passage_id: int
    score: float
    text: str
    heading: str | None
    title: str
    publisher: str | None = None
    published: str | None = None
    url: str | None = None
    article_id: int = 0
    published_note: str | None = None
    sentences: tuple[tuple[int, int], ...] | None = None  # found at ingestion, if known


@dataclass(frozen=True, slots=True)
class Highlighted:
    """Text and the character ranges to emphasise in it."""

    text: str
    spans: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    candidate: Candidate
    sentence: Highlighted
    passage: Highlighted
    heading: Highlighted | None
    support: float  # share of the non-entity concept weight the passage covers
    missing: tuple[str, ...] = ()  # the question's concepts it does not cover, as written
    answers_kind: bool = True  # the sentence holds the kind of answer asked for


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    query: Query
    hits: tuple[Hit, ...]  # supported, near-duplicates collapsed, best first
    weak: tuple[Hit, ...] = field(default=())  # ranked but not supported

    @property
    def abstained(self) -> bool:
        return not self.hits

    @property
    def terms(self) -> frozenset[str]:
        return self.query.terms


def term_weight(document_frequency: int, documents: int) -> float:
    """Positive idf used for support and sentence choice (0 < df <= N, or 0 if unseen)."""
    return math.log(1 + (documents - document_frequency + 0.5) / (document_frequency + 0.5))


def answers_kind(
    text: str, kind: str | None, query: Query | None = None, present: set[str] | None = None
) -> bool:
    """Whether ``text`` holds the kind of answer asked for (always, when none is)."""
    if kind == ANSWER_NAME:
        return query is None or query.holds_name(present or set(), text)
    if kind == ANSWER_NUMBER:
        return _NUMBER.search(text) is not None
    if kind == ANSWER_TIME:
        return _TIME.search(text) is not None
    return True


def compose(
    query: Query,
    candidates: Iterable[Candidate],
    analyzer: Analyzer,
    *,
    weigh: Callable[[Concept], float],
    min_support: float = MIN_SUPPORT,
    limit: int = 10,
) -> Answer:
    """Turn ranked candidates (best first) into an answer.

    ``candidates`` is consumed lazily: iteration stops once ``limit`` hits are found.
    """
    hits: list[Hit] = []
    weak: list[Hit] = []
    kept_shingles: list[frozenset[tuple[str, ...]]] = []
    concepts = query.concepts
    answerable = limit > 0 and concepts
    for candidate in candidates if answerable else ():
        spans = analyzer.spans(candidate.text)
        shingles = _shingles([t for span in spans for t in span.terms])
        if any(_near_duplicate(shingles, other) for other in kept_shingles):
            continue
        kept_shingles.append(shingles)
        hit, _ = _hit(candidate, spans, query, analyzer, weigh)
        if hit.support >= min_support and hit.support > 0:
            hits.append(hit)
            if len(hits) >= limit:
                break  # the next candidates are never read
        elif len(weak) < limit:
            weak.append(hit)
    return Answer(query.text, query, tuple(hits), tuple(weak))


def _hit(
    candidate: Candidate,
    passage_spans: Sequence[TokenSpan],
    query: Query,
    analyzer: Analyzer,
    weigh: Callable[[Concept], float],
) -> tuple[Hit, bool]:
    concepts = query.concepts
    heading_spans = analyzer.spans(candidate.heading) if candidate.heading else []
    present = {t for span in passage_spans for t in span.terms}
    present.update(t for span in heading_spans for t in span.terms)
    covered = [c.covered_by(present) for c in concepts]
    entities_named = all(ok for c, ok in zip(concepts, covered, strict=True) if c.entity)
    total = sum(weigh(c) for c in concepts)
    got = sum(weigh(c) for c, ok in zip(concepts, covered, strict=True) if ok)
    support = got / total if total > 0 else 1.0
    missing = tuple(c.surface for c, ok in zip(concepts, covered, strict=True) if not ok)

    marked = {
        t for c, ok in zip(concepts, covered, strict=True) if ok for t in c.matched_terms(present)
    }
    matched = [span for span in passage_spans if not marked.isdisjoint(span.terms)]
    start, end = _best_sentence(candidate, passage_spans, query, weigh)
    text = candidate.text[start:end]
    sentence = Highlighted(
        text,
        tuple(
            (span.start - start, span.end - start)
            for span in matched
            if start <= span.start and span.end <= end
        ),
    )
    passage = Highlighted(candidate.text, tuple((span.start, span.end) for span in matched))
    heading = (
        Highlighted(candidate.heading, _marked(heading_spans, marked))
        if candidate.heading
        else None
    )
    hit = Hit(
        candidate,
        sentence,
        passage,
        heading,
        support,
        missing,
        answers_kind(
            text,
            query.expects,
            query,
            {t for s in passage_spans if start <= s.start and s.end <= end for t in s.terms},
        ),
    )
    return hit, entities_named


def _best_sentence(
    candidate: Candidate,
    passage_spans: Sequence[TokenSpan],
    query: Query,
    weigh: Callable[[Concept], float],
) -> tuple[int, int]:
    """(start, end) of the sentence covering most question weight; naming the
    question's entities and holding the kind of answer asked for count extra.
    The first wins ties, then more matched tokens win. The whole text when it
    has no sentences."""
    bounds = candidate.sentences
    if bounds is None:
        bounds = tuple((s.start, s.end) for s in split_sentences(candidate.text))
    all_terms = query.terms
    best: tuple[float, int, int] | None = None
    for start, end in bounds:
        inside = [s for s in passage_spans if start <= s.start and s.end <= end]
        present = {t for s in inside for t in s.terms}
        score = 0.0
        for concept in query.concepts:
            if concept.covered_by(present):
                score += weigh(concept)
        # Repeated matches break ties between sentences of equal coverage.
        score += 1e-3 * sum(1 for s in inside if not all_terms.isdisjoint(s.terms))
        if best is None or score > best[0]:
            best = (score, start, end)
    return (0, len(candidate.text)) if best is None else (best[1], best[2])


def _marked(spans: Sequence[TokenSpan], terms: set[str]) -> tuple[tuple[int, int], ...]:
    return tuple((s.start, s.end) for s in spans if not terms.isdisjoint(s.terms))


def _shingles(terms: Sequence[str]) -> frozenset[tuple[str, ...]]:
    if len(terms) < 3:
        return frozenset({tuple(terms)})
    return frozenset(zip(terms, terms[1:], terms[2:], strict=False))


def _near_duplicate(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> bool:
    """Whether the Jaccard similarity of ``a`` and ``b`` reaches :data:`DUPLICATE_JACCARD`."""
    if not a or not b:
        return False
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    if len(small) < DUPLICATE_JACCARD * len(large):
        return False  # Jaccard <= |small| / |large|: no need to intersect
    common = len(small & large)
    return common >= DUPLICATE_JACCARD * (len(a) + len(b) - common)
