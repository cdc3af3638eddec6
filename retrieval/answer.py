"""From ranked passages to an answer: support check, near-duplicates, best sentence, bold terms.

A question's *support* in a passage is the share of the question's weight that
the passage covers. Each word of the question weighs what its rarest term
weighs in the corpus (``log(1 + (N - df + 0.5) / (df + 0.5))``, so a word the
corpus never saw weighs most), and counts as covered when the passage (or its
section heading) holds one of its terms. A passage below
:data:`MIN_SUPPORT` is not an answer: "Who is the CEO of Pony.ai?" covers
"Pony.ai" but not "CEO", and the bot says it does not know rather than quote a
passage about Pony.ai's robotaxis. The threshold was calibrated on the
question set in ``tests/questions.py`` (see the README).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from retrieval.analyze import Analyzer, TokenSpan
from retrieval.passages import split_sentences

__all__ = [
    "DUPLICATE_JACCARD",
    "MIN_SUPPORT",
    "Answer",
    "Candidate",
    "Highlighted",
    "Hit",
    "QuestionWord",
    "compose",
    "question_words",
    "term_weight",
]

MIN_SUPPORT = 0.4
"""Smallest share of the question's weight a passage must cover to be an answer."""

DUPLICATE_JACCARD = 0.5
"""Passages whose word-trigram sets overlap at least this much are one story."""


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
    support: float


@dataclass(frozen=True, slots=True)
class QuestionWord:
    """One word of the question: its terms and the weight of its rarest term."""

    surface: str
    terms: frozenset[str]
    weight: float


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    words: tuple[QuestionWord, ...]
    hits: tuple[Hit, ...]  # supported, near-duplicates collapsed, best first
    weak: tuple[Hit, ...] = field(default=())  # ranked but below MIN_SUPPORT

    @property
    def abstained(self) -> bool:
        return not self.hits

    @property
    def terms(self) -> frozenset[str]:
        return frozenset(t for w in self.words for t in w.terms)


def term_weight(document_frequency: int, documents: int) -> float:
    """Positive idf used for support and sentence choice (0 < df <= N, or 0 if unseen)."""
    return math.log(1 + (documents - document_frequency + 0.5) / (document_frequency + 0.5))


def question_words(
    question: str, analyzer: Analyzer, weigh: Callable[[str], float]
) -> tuple[QuestionWord, ...]:
    """The question's words that carry terms, each weighed once (repeats merged)."""
    words: dict[frozenset[str], QuestionWord] = {}
    for span in analyzer.spans(question):
        terms = frozenset(span.terms)
        if terms not in words:
            weight = max(weigh(t) for t in terms)
            words[terms] = QuestionWord(question[span.start : span.end], terms, weight)
    return tuple(words.values())


def compose(
    question: str,
    candidates: Iterable[Candidate],
    analyzer: Analyzer,
    weigh: Callable[[str], float],
    *,
    min_support: float = MIN_SUPPORT,
    limit: int = 10,
) -> Answer:
    """Turn ranked candidates (best first) into an answer.

    ``candidates`` is consumed lazily: iteration stops once ``limit`` hits are found.

    ``weigh(term)`` gives a term's weight (see :func:`term_weight`).
    """
    words = question_words(question, analyzer, weigh)
    total = sum(w.weight for w in words)
    hits: list[Hit] = []
    weak: list[Hit] = []
    kept_shingles: list[frozenset[tuple[str, ...]]] = []
    for candidate in candidates if limit > 0 else ():
        spans = analyzer.spans(candidate.text)
        shingles = _shingles([t for span in spans for t in span.terms])
        if any(_near_duplicate(shingles, other) for other in kept_shingles):
            continue
        kept_shingles.append(shingles)
        hit = _hit(candidate, spans, words, total, analyzer)
        if hit.support >= min_support and hit.support > 0:
            hits.append(hit)
            if len(hits) >= limit:
                break  # the next candidates are never read
        elif len(weak) < limit:
            weak.append(hit)
    return Answer(question, words, tuple(hits), tuple(weak))


def _hit(
    candidate: Candidate,
    passage_spans: Sequence[TokenSpan],
    words: Sequence[QuestionWord],
    total: float,
    analyzer: Analyzer,
) -> Hit:
    terms = {t for w in words for t in w.terms}
    # The passage's tokens that match the question, each with the words it covers.
    matched = [
        (span, frozenset(i for i, w in enumerate(words) if w.terms.intersection(span.terms)))
        for span in passage_spans
        if terms.intersection(span.terms)
    ]
    heading_spans = analyzer.spans(candidate.heading) if candidate.heading else []
    covered_words = {i for _, covers in matched for i in covers}
    covered_words.update(
        i for span in heading_spans for i, w in enumerate(words) if w.terms.intersection(span.terms)
    )
    support = sum(words[i].weight for i in covered_words) / total if total > 0 else 0.0

    start, end = _best_sentence(candidate, matched, words)
    sentence = Highlighted(
        candidate.text[start:end],
        tuple(
            (span.start - start, span.end - start)
            for span, _ in matched
            if start <= span.start and span.end <= end
        ),
    )
    passage = Highlighted(candidate.text, tuple((span.start, span.end) for span, _ in matched))
    heading = (
        Highlighted(candidate.heading, _marked(heading_spans, terms)) if candidate.heading else None
    )
    return Hit(candidate, sentence, passage, heading, support)


def _best_sentence(
    candidate: Candidate,
    matched: Sequence[tuple[TokenSpan, frozenset[int]]],
    words: Sequence[QuestionWord],
) -> tuple[int, int]:
    """(start, end) of the sentence covering most question weight; the first wins ties,
    then more matched tokens win. The whole text when it has no sentences."""
    bounds = candidate.sentences
    if bounds is None:
        bounds = tuple((s.start, s.end) for s in split_sentences(candidate.text))
    best: tuple[float, int, int] | None = None
    for start, end in bounds:
        inside = [covers for span, covers in matched if start <= span.start and span.end <= end]
        weight = sum(words[i].weight for i in set().union(*inside))
        # Repeated matches break ties between sentences of equal coverage.
        score = weight + 1e-3 * sum(len(covers) for covers in inside)
        if best is None or score > best[0]:
            best = (score, start, end)
    return (0, len(candidate.text)) if best is None else (best[1], best[2])


def _marked(spans: Sequence[TokenSpan], terms: set[str]) -> tuple[tuple[int, int], ...]:
    return tuple((s.start, s.end) for s in spans if terms.intersection(s.terms))


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
