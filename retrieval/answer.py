"""From ranked passages to an answer: support check, near-duplicates, best sentence, bold terms.

The question arrives understood (:class:`~retrieval.query.Query`): concepts with
their synonyms, weights that do not depend on the corpus, entities, and the
kind of answer asked for. A ranked passage *answers* the question when

1. it names every entity of the question (in any of the lexicon's forms, in
   the passage or its section heading): "Who is the CEO of Baidu?" is not
   answered by a passage that does not name Baidu, and "What is Tesla's
   market share in China?" by none at all;
2. it covers at least :data:`MIN_SUPPORT` of the weight of the question's
   other concepts (its *support*): a passage about Baidu's digital avatars
   does not answer "Who is the CEO of Baidu?";
3. when the question asks "how many", "how much" or "when", its best sentence
   holds a number or a time: "How much did Pony.ai raise in its IPO?" is not
   answered by the sentence saying Pony.ai filed for one; "which companies"
   wants a company's name in it.

Requests for instructions ("How do I reset my password?") are never answered.

The weights come from general English, not from the corpus, so the decision
does not drift as articles are added; it was calibrated on the dev half of
``tests/qa/questions.jsonl`` and checked on its held-out half, alone and
with 5,000 unrelated passages added (see the README, "Answer quality").

The best sentence of a passage is the one covering most question weight, a
sentence naming the question's entities and one holding the kind of answer
asked for counting extra.
"""

from __future__ import annotations

import re
import unicodedata
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
    "sentence_hit",
]

MIN_SUPPORT = 0.4
"""Smallest share of the weight of the question's non-entity concepts a passage must cover."""

MIN_SHARED = 2
"""A passage must say at least this many of the question's concepts (all, if it has fewer):
one word in common is a coincidence ("What is the speed of light?"), not an answer."""

ANCHOR_WEIGHT = 4.0
"""Words at least this rare in English anchor an answer without the lexicon's help."""

PASSAGE_CREDIT = 0.5
"""Share of a concept's weight counted when the passage says it but not the sentence shown."""

PATIENCE = 8
"""Candidates in a row that are no answer after which the rest are not read."""

DUPLICATE_JACCARD = 0.5
"""Passages whose word-trigram sets overlap at least this much are one story."""

ENTITY_BONUS = 2.0
"""Extra sentence weight for each question entity a sentence names."""
KIND_BONUS = 100.0
"""Extra sentence weight for holding the kind of answer asked for (a number, a time, a
company): more than any coverage, so such a sentence wins if it says part of the question."""

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    "forty|fifty|hundred|hundreds|thousand|thousands|million|millions|billion|billions|"
    "trillion|dozen|dozens|half|double|doubled|doubling|triple|tripled|twice|percent"
)
# A number of its own ("five", "$690,000", "80%", "2030"), not a digit inside a name ("ChR2").
_NUMBER = re.compile(
    rf"(?<![\w$€£¥])[$€£¥]?\d[\d,.]*(?![^\W\d_])|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE
)
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
    anchored: bool = True  # it says an entity, a lexicon term or a rare word of the question


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    query: Query
    hits: tuple[Hit, ...]  # supported, near-duplicates collapsed, best first
    weak: tuple[Hit, ...] = field(default=())  # ranked but not supported
    topic: str | None = None  # when abstaining: the nearest built-in topic, to suggest

    @property
    def abstained(self) -> bool:
        return not self.hits

    @property
    def closest(self) -> Hit | None:
        """When abstaining, the best-ranked weak candidate that shares an anchor with
        the question (shown as "the closest I found", never as an answer)."""
        return next((h for h in self.weak if h.anchored), None)

    @property
    def terms(self) -> frozenset[str]:
        return self.query.terms


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
    min_support: float = MIN_SUPPORT,
    limit: int = 10,
    patience: int | None = None,
    spans_of: Callable[[Candidate], Sequence[TokenSpan]] | None = None,
) -> Answer:
    """Turn ranked candidates (best first) into an answer.

    ``candidates`` is consumed lazily: iteration stops once ``limit`` hits are
    found, or after ``patience`` candidates in a row that are no answer.
    ``spans_of`` analyses a candidate's text (default: ``analyzer.spans``; the
    corpus passes a cache).
    """
    hits: list[Hit] = []
    weak: list[Hit] = []
    kept_shingles: list[frozenset[tuple[str, ...]]] = []
    concepts = query.concepts
    answerable = limit > 0 and concepts and not query.request
    misses = 0
    patience = PATIENCE if patience is None else patience
    # A passage that does not even spell every entity cannot name it: skip its analysis
    # (once two weak candidates are kept: a refusal quotes the closest one).
    needles = [c.needles for c in concepts if c.entity and c.needles]
    for candidate in candidates if answerable else ():
        if needles and len(weak) >= 2:
            written = (
                unicodedata.normalize(
                    "NFKC", f"{candidate.title}\n{candidate.heading or ''}\n{candidate.text}"
                )
                .casefold()
                .replace("’", "'")
            )
            if not all(any(n in written for n in forms) for forms in needles):
                misses += 1
                if misses >= patience:
                    break
                continue
        spans = spans_of(candidate) if spans_of is not None else analyzer.spans(candidate.text)
        shingles = _shingles([t for span in spans for t in span.terms])
        if any(_near_duplicate(shingles, other) for other in kept_shingles):
            continue
        kept_shingles.append(shingles)
        hit, entities_named = _hit(candidate, spans, query, analyzer)
        shared = len(concepts) - len(hit.missing)
        if (
            entities_named
            and shared >= min(MIN_SHARED, len(concepts))
            and hit.anchored
            and hit.support >= min_support
            and hit.answers_kind
        ):
            hits.append(hit)
            misses = 0
            if len(hits) >= limit:
                break  # the next candidates are never read
            continue
        if len(weak) < limit:
            weak.append(hit)
        misses += 1
        if misses >= patience:
            break  # lower-ranked passages say ever less of the question
    return Answer(query.text, query, tuple(hits), tuple(weak))


def sentence_hit(query: Query, candidate: Candidate, analyzer: Analyzer) -> Hit:
    """``candidate`` as a hit for ``query`` with no answer decision: its best
    sentence and the query's words marked (digests show new articles this way)."""
    hit, _ = _hit(candidate, analyzer.spans(candidate.text), query, analyzer)
    return hit


def _anchored(concepts: Sequence[Concept], missing: Sequence[str]) -> bool:
    """Whether the passage says at least one *anchor* of the question: an entity, a
    term of the domain lexicon, or a rare word. Common words alone ("the tallest
    building in the world", "the meaning of life") match something in any large
    corpus; that is a coincidence, not an answer."""
    absent = set(missing)
    return any(
        c.surface not in absent and (c.entity or c.label is not None or c.weight >= ANCHOR_WEIGHT)
        for c in concepts
    )


def _hit(
    candidate: Candidate, passage_spans: Sequence[TokenSpan], query: Query, analyzer: Analyzer
) -> tuple[Hit, bool]:
    concepts = query.concepts
    heading_spans = analyzer.spans(candidate.heading) if candidate.heading else []
    present = {t for span in passage_spans for t in span.terms}
    present.update(t for span in heading_spans for t in span.terms)
    # How much of each concept the passage says (a longer concept can be half said).
    shares = [c.coverage(present) for c in concepts]
    # The article's title names what a passage is about: "The Shenzhen-based carmaker
    # said…" in an article titled "BYD unveils five new EVs" is about BYD.
    titled = present | {t for span in analyzer.spans(candidate.title) for t in span.terms}
    said = [
        c.covered_by(titled) if c.entity else share >= 0.5
        for c, share in zip(concepts, shares, strict=True)
    ]
    entities_named = all(ok for c, ok in zip(concepts, said, strict=True) if c.entity)
    missing = tuple(c.surface for c, ok in zip(concepts, said, strict=True) if not ok)

    marked = {
        t
        for c, share in zip(concepts, shares, strict=True)
        if share
        for t in c.matched_terms(present)
    }
    matched = [span for span in passage_spans if not marked.isdisjoint(span.terms)]
    start, end = _best_sentence(candidate, passage_spans, query)
    text = candidate.text[start:end]
    # The sentence is what the reply claims answers the question: what it (or the
    # heading above it) says counts in full, what only the rest of the passage
    # says counts for PASSAGE_CREDIT.
    in_sentence = {t for s in passage_spans if start <= s.start and s.end <= end for t in s.terms}
    in_sentence.update(t for span in heading_spans for t in span.terms)
    total = got = 0.0
    for concept, share in zip(concepts, shares, strict=True):
        if concept.entity:
            continue
        total += concept.weight
        if share:
            got += concept.weight * max(concept.coverage(in_sentence), PASSAGE_CREDIT * share)
    support = got / total if total > 0 else 1.0
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
        _anchored(concepts, missing),
    )
    return hit, entities_named


def _best_sentence(
    candidate: Candidate, passage_spans: Sequence[TokenSpan], query: Query
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
            if concept.entity:
                if concept.covered_by(present):
                    score += concept.weight + ENTITY_BONUS
            else:
                score += concept.weight * concept.coverage(present)
        if (
            score > 0
            and query.expects
            and answers_kind(candidate.text[start:end], query.expects, query, present)
        ):
            # The kind of answer asked for outweighs coverage: "How many models did BYD
            # unveil?" is answered by the sentence with the number, if one says any of it.
            score += KIND_BONUS
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
