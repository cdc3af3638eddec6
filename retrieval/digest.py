"""A topic's digest: which new passages are on it, grouped by article, best first.

Pure: no SQLite, clock or Telegram. The topic arrives understood
(:class:`~retrieval.topics.TopicQuery`: slots with the lexicon's forms); the caller
reads from the index how much of each new passage every term of the topic is
(:meth:`~retrieval.index.BM25Index.saturations_after`) and hands in the passages
that say the topic at all as :class:`~retrieval.answer.Candidate` s.

Relevance. BM25 scores a term ``idf * (k1 + 1) * tf / (tf + norm)``; the last
factor, its *saturation*, says how much of the passage the term is (length
normalised, below 1). A slot's saturation is that of its best form in the passage
(a form of several words: its weakest word's), its weight the idf of its
commonest form. A passage's *relevance* is the weighted mean of its slots'
saturations: its BM25 score for the topic's concepts over the score they would
reach at unbounded frequency, each concept counted once however many words the
lexicon has for it. It depends on the corpus only through idf, in the numerator and
the denominator alike; a slot the corpus never says counts in neither. A passage
that says no anchor has none: battery and charging alone are no EV story. A
passage is on the topic when its relevance reaches :data:`MIN_RELEVANCE`,
calibrated on the labelled passages of ``tests/digest_calibration.py`` (see the
README).

Articles. Passages are grouped by article; an article is in the digest when one of
its passages is on the topic. Articles whose title or first sentence says the
topic come first (they are about it, not only mentioning it), then by their best
passage's relevance. An article is a near-duplicate of a better one when one of its
matching passages shares at least :data:`~retrieval.answer.DUPLICATE_JACCARD` of
its word trigrams with one of the better article's (the same story from two
outlets), or when their titles are the same words: it is collapsed into it. At
most :data:`MAX_ARTICLES` articles.

The sentence shown. The article's first sentence when it says the topic (a news
lead tells what happened); otherwise, of the sentences of its passages that say
the topic, the one whose slots weigh most, then one that opens with an anchor
("BYD unveiled …" before "firms like Nio, Zeekr, and BYD …"), then the earliest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from retrieval.analyze import Analyzer
from retrieval.answer import DUPLICATE_JACCARD, LEAD_TOKENS, Candidate, Highlighted, sentences
from retrieval.query import Form
from retrieval.topics import TopicQuery

__all__ = [
    "MAX_ARTICLES",
    "MIN_RELEVANCE",
    "Digest",
    "DigestArticle",
    "TopicScorer",
    "select_digest",
]

MIN_RELEVANCE = 0.04
"""Smallest relevance (see the module docstring) a passage needs to be in a digest."""

MAX_ARTICLES = 5
"""A digest lists at most this many articles."""


@dataclass(frozen=True, slots=True)
class DigestArticle:
    """One article of a digest: its best matching passage and the sentence shown."""

    candidate: Candidate  # the article's best passage (title, publisher, link, ...)
    sentence: Highlighted  # topic words marked
    relevance: float
    passages: int  # of this article that matched
    duplicates: int = 0  # near-duplicate stories collapsed into this one
    about: bool = False  # its title or first sentence says the topic


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


class TopicScorer:
    """A topic against the corpus as it is now: each slot's weight (idf), the relevance
    of passages, what a text says of the topic."""

    def __init__(self, topic: TopicQuery, idf: Callable[[str], float]) -> None:
        self.topic = topic
        self.weights = tuple(_slot_weight(slot.forms, idf) for slot in topic.slots)
        self._total = sum(self.weights)

    @property
    def terms(self) -> frozenset[str]:
        return self.topic.terms

    def relevance(self, saturation: Mapping[str, float]) -> float:
        """The relevance of a passage whose terms have these saturations (0: no anchor)."""
        if self._total <= 0:
            return 0.0
        said = [_saturation(slot.forms, saturation) for slot in self.topic.slots]
        if not any(s > 0 and slot.anchor for s, slot in zip(said, self.topic.slots, strict=True)):
            return 0.0
        return sum(w * s for w, s in zip(self.weights, said, strict=True)) / self._total

    def relevances(self, saturations: Mapping[str, Mapping[int, float]]) -> dict[int, float]:
        """By passage key, the relevance of every passage saying an anchor, from the
        index's saturations by term (:meth:`~retrieval.index.BM25Index.saturations_after`)."""
        by_key: dict[int, dict[str, float]] = {}
        for term, found in saturations.items():
            for key, value in found.items():
                by_key.setdefault(key, {})[term] = value
        scored = {key: self.relevance(values) for key, values in by_key.items()}
        return {key: value for key, value in scored.items() if value > 0}

    def said(self, present: AbstractSet[str]) -> tuple[bool, ...]:
        """Which slots text holding the terms ``present`` says (some form in full)."""
        return tuple(any(_holds(form, present) for form in s.forms) for s in self.topic.slots)

    def says_topic(self, present: AbstractSet[str]) -> bool:
        """Whether such text says an anchor."""
        said = self.said(present)
        return any(ok and s.anchor for ok, s in zip(said, self.topic.slots, strict=True))

    def marked(self, present: AbstractSet[str]) -> set[str]:
        """The terms of ``present`` belonging to a form said in full (to highlight)."""
        return {
            t
            for slot in self.topic.slots
            for form in slot.forms
            if _holds(form, present)
            for alternatives in form
            for t in alternatives & present
        }


def _holds(form: Form, present: AbstractSet[str]) -> bool:
    return bool(form) and all(not alternatives.isdisjoint(present) for alternatives in form)


def _saturation(forms: Sequence[Form], saturation: Mapping[str, float]) -> float:
    best = 0.0
    for form in forms:
        words = [max((saturation.get(t, 0.0) for t in alt), default=0.0) for alt in form]
        if words and min(words) > best:
            best = min(words)
    return best


def _slot_weight(forms: Sequence[Form], idf: Callable[[str], float]) -> float:
    """The idf of a slot's commonest form the corpus holds (a form of several words is as
    rare as its rarest word); 0 when the corpus holds none."""
    weights = []
    for form in forms:
        words = [min((w for t in alt if (w := idf(t)) > 0), default=0.0) for alt in form]
        if words and all(w > 0 for w in words):
            weights.append(max(words))
    return min(weights, default=0.0)


@dataclass(frozen=True, slots=True)
class _Sentence:
    start: int
    end: int
    said: tuple[bool, ...]
    weight: float
    on_topic: bool
    opens: bool  # an anchor among its first words
    marked: frozenset[str]


def select_digest(
    scorer: TopicScorer,
    candidates: Iterable[Candidate],
    analyzer: Analyzer,
    *,
    upto: int,
    min_relevance: float = MIN_RELEVANCE,
    limit: int = MAX_ARTICLES,
) -> Digest:
    """The digest of a topic over new passages: ``candidates`` are those saying it at all,
    each with its relevance as ``score``; ``upto`` is the largest passage id considered
    (the next watermark)."""
    by_article: dict[int, list[Candidate]] = {}
    for c in sorted(candidates, key=lambda c: c.passage_id):  # article order
        by_article.setdefault(c.article_id, []).append(c)
    found = []
    for group in by_article.values():
        members = [c for c in group if c.score >= min_relevance]
        if not members:
            continue
        best = min(members, key=lambda c: (-c.score, c.passage_id))
        title = frozenset(analyzer.terms(best.title))
        lead, shown = _shown_sentence(scorer, group, analyzer)
        about = scorer.says_topic(title) or lead
        found.append((about, best, members, title, shown))
    found.sort(key=lambda f: (not f[0], -f[1].score, f[1].passage_id))
    kept: list[tuple[int, list[frozenset[tuple[str, ...]]], frozenset[str]]] = []
    duplicates: list[int] = []
    for number, (_, _, members, title, _) in enumerate(found):
        shingles = [_shingles(analyzer.terms(c.text)) for c in members]
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
            kept.append((number, shingles, title))
            duplicates.append(0)
        else:
            duplicates[twin] += 1
    shown_articles = []
    for (number, _, _), collapsed in list(zip(kept, duplicates, strict=True))[: max(limit, 0)]:
        about, best, members, _, sentence = found[number]
        shown_articles.append(
            DigestArticle(
                candidate=best,
                sentence=sentence,
                relevance=best.score,
                passages=len(members),
                duplicates=collapsed,
                about=about,
            )
        )
    matched = sum(len(f[2]) for f in found)
    return Digest(tuple(shown_articles), matched=len(kept), passages=matched, upto=upto)


def _shown_sentence(
    scorer: TopicScorer, group: Sequence[Candidate], analyzer: Analyzer
) -> tuple[bool, Highlighted]:
    """Whether the article's first sentence says the topic, and the sentence to show,
    among the article's passages ``group`` (in article order)."""
    best: tuple[tuple[bool, float, bool], _Sentence, Candidate] | None = None
    for candidate in group:
        for number, sentence in enumerate(_sentences(scorer, candidate, analyzer)):
            if candidate.position == 0 and number == 0 and sentence.on_topic:
                return True, _highlight(candidate, sentence, analyzer)
            # A passage may say the topic only in its section heading: then the sentence
            # saying most of it, though no anchor.
            rank = (sentence.on_topic, sentence.weight, sentence.opens)
            if best is None or rank > best[0]:  # the earliest of equals
                best = (rank, sentence, candidate)
    if best is None:  # no sentence at all (an empty passage): its whole text
        return False, Highlighted(group[0].text)
    return False, _highlight(best[2], best[1], analyzer)


def _sentences(scorer: TopicScorer, candidate: Candidate, analyzer: Analyzer) -> list[_Sentence]:
    spans = analyzer.spans(candidate.text)
    bounds, terms, _ = sentences(candidate, spans)
    anchors = [slot.anchor for slot in scorer.topic.slots]
    out = []
    for (start, end), (own, tokens) in zip(bounds, terms, strict=True):
        said = scorer.said(own)
        first = frozenset(t for token in tokens[:LEAD_TOKENS] for t in token)
        opens = any(ok and anchor for ok, anchor in zip(scorer.said(first), anchors, strict=True))
        out.append(
            _Sentence(
                start,
                end,
                said,
                sum(w for w, ok in zip(scorer.weights, said, strict=True) if ok),
                any(ok and anchor for ok, anchor in zip(said, anchors, strict=True)),
                opens,
                frozenset(scorer.marked(own)),
            )
        )
    return out


def _highlight(candidate: Candidate, sentence: _Sentence, analyzer: Analyzer) -> Highlighted:
    text = candidate.text[sentence.start : sentence.end]
    spans = tuple(
        (span.start, span.end)
        for span in analyzer.spans(text)
        if not sentence.marked.isdisjoint(span.terms)
    )
    return Highlighted(text, spans)


def _shingles(terms: Sequence[str]) -> frozenset[tuple[str, ...]]:
    if len(terms) < 3:
        return frozenset({tuple(terms)})
    return frozenset(zip(terms, terms[1:], terms[2:], strict=False))


def _near_duplicate(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> bool:
    if not a or not b:
        return False
    common = len(a & b)
    return common >= DUPLICATE_JACCARD * (len(a) + len(b) - common)
