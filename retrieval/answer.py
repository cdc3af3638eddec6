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
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from retrieval.analyze import Analyzer, TokenSpan
from retrieval.passages import split_sentences
from retrieval.query import (
    ANSWER_COUNT,
    ANSWER_MONEY,
    ANSWER_NAME,
    ANSWER_NEXT,
    ANSWER_NUMBER,
    ANSWER_SHARE,
    ANSWER_SOURCE,
    ANSWER_SPEED,
    ANSWER_TIME,
    ANSWER_TITLE,
    Concept,
    Query,
)

__all__ = [
    "DUPLICATE_JACCARD",
    "MIN_SUPPORT",
    "Answer",
    "Candidate",
    "Highlighted",
    "Hit",
    "answers_kind",
    "compose",
    "sentences",
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

RANK_WEIGHT = 0.2
"""Weight of the BM25 score (relative to the best hit's) beside support when ordering the
answering passages; calibrated on dev (0.1 to 0.3 give the same order there)."""

DUPLICATE_JACCARD = 0.5
"""Passages whose word-trigram sets overlap at least this much are one story."""

ENTITY_BONUS = 2.0
"""Extra sentence weight for each question entity a sentence names."""
LEAD_BONUS = 1.0
"""Extra sentence weight, when the question names entities and asks no kind of answer
("what's up with BYD?", "any news on BYD EVs?"),
for a sentence that opens with one of them: it tells what that entity did."""
LEAD_TOPICS = 1
"""...when it asks about at most this many other things ("any news on BYD EVs?")."""
LEAD_WEIGHT = 0.1
"""Extra ranking weight (beside support and :data:`RANK_WEIGHT`) for such a sentence."""
LEAD_TOKENS = 3
"""A sentence opens with an entity when it names it in its first this many words."""
KIND_BONUS = 100.0
"""Extra sentence weight for holding the kind of answer asked for (a number, a time, a
company): more than any coverage, so such a sentence wins if it says part of the question."""

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    "forty|fifty|hundred|hundreds|thousand|thousands|million|millions|billion|billions|"
    "trillion|dozen|dozens|half|double|doubled|doubling|triple|tripled|twice|percent"
)
_HAN = "\u4e00-\u9fff"
_ZH_DIGITS = "零〇一二两三四五六七八九"
# Chinese numbers: "四百公里", "三成", "五分钟", "400公里" (Han letters may follow digits).
_ZH_NUMBER = (
    rf"[{_ZH_DIGITS}]*[十百千万亿兆][{_ZH_DIGITS}十百千万亿兆]*"
    rf"|[{_ZH_DIGITS}](?=[个座辆台款家倍成年月天周分秒小公万亿兆元片])"
    rf"|(?<![^\W{_HAN}])\d[\d,.]*(?=[{_HAN}%])"
)
# A number of its own ("five", "$690,000", "80%", "2030"), not a digit inside a name ("ChR2").
_NUMBER = re.compile(
    rf"(?<![\w$€£¥])[$€£¥]?\d[\d,.]*(?![^\W\d_])|\b(?:{_NUMBER_WORDS})\b|{_ZH_NUMBER}",
    re.IGNORECASE,
)
# A number of things: not a sum of money ("$690,000"), a percentage or a year.
_COUNT = re.compile(
    r"(?<![\w$€£¥.,])(?!(?:19|20)\d\d\b)\d+(?:[,.]\d+)*(?![\d%])(?!\s*(?:percent|per\s+cent))"
    r"(?![^\W\d_])|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
    r"twenty|thirty|forty|fifty|hundreds?|thousands?|millions?|billions?|dozens?)\b",
    re.IGNORECASE,
)
# A sum of money: a currency sign or word, or a number with a scale ("$690,000",
# "2 billion yuan", "€5bn", "10亿元"); not "80%" or "five models".
_MONEY = re.compile(
    r"[$€£¥]\s?\d|\b(?:US|HK|RMB|CNY|USD)\$?\s?\d"
    r"|\d[\d,.]*\s*(?:million|billion|trillion|bn|mn)?\s*(?:yuan|dollars?|usd|rmb|euros?|pounds)\b"
    r"|\d[\d,.]*\s*(?:million|billion|trillion|bn)\b|\b(?:million|billion|trillion)\s+(?:yuan|dollars)\b"
    r"|\d[\d,.]*\s*[万亿兆]?\s*(?:元|美元|人民币)|[\d一二三四五六七八九十百千]+\s*[万亿兆]"
    r"|[一二两三四五六七八九十百千]+\s*(?:元|美元|港元|人民币)",
    re.IGNORECASE,
)
# How fast: a span of time ("in five minutes", "from years to months") or a rate ("400 km",
# "twice as fast", "per year"); not any number ("climbed 10% year-to-date").
_PACE = re.compile(
    r"\b(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?(?!-to-date)|decades?|overnight|"
    r"per|twice|doubl(?:e|ed|es|ing)|tripl(?:e|ed|es|ing)|faster|quicker)\b"
    r"|\d[\d,.]*\s*(?:km|kilomet(?:re|er)s?|miles?|mph|kph|times)\b|[秒分钟小时天周月年倍]",
    re.IGNORECASE,
)
_SHARE = re.compile(
    r"\d[\d,.]*\s*(?:%|percent\b|per\s+cent\b|percentage\s+points?\b)|\b(?:half|a\s+third|"
    r"two\s+thirds|a\s+quarter|three\s+quarters|majority|one\s+in\s+\w+)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(?:1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|"
    r"october|november|december|spring|summer|autumn|winter|ago|recently|yesterday|today|"
    r"tomorrow|weeks?|months?|decades?|year-to-date)\b"
    r"|\d{4}年|[\d一二三四五六七八九十]+月|[今去明前]年|[上下本]周|周[一二三四五六日]|星期|最近|近日",
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
    position: int | None = None  # the passage's place in its article (0: the first), if known


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
    leads: bool = False  # the question names entities and the sentence opens with one
    undated: int = 0  # the question's dating concepts ("this spring") the passage does not say


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
    text: str, kind: str | None, query: Query | None = None, present: AbstractSet[str] | None = None
) -> bool:
    """Whether ``text`` holds the kind of answer asked for (always, when none is)."""
    if kind in (ANSWER_NAME, ANSWER_SOURCE):
        return query is None or query.holds_name(present or set(), text)
    if kind == ANSWER_NUMBER:
        return _NUMBER.search(text) is not None
    if kind == ANSWER_COUNT:
        return _COUNT.search(text) is not None
    if kind == ANSWER_MONEY:
        return _MONEY.search(text) is not None
    if kind == ANSWER_SHARE:
        return _SHARE.search(text) is not None
    if kind == ANSWER_TIME:
        return _TIME.search(text) is not None
    if kind == ANSWER_SPEED:
        return _PACE.search(text) is not None
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
    terms_of: Callable[[str], frozenset[str]] | None = None,
    sentences_of: Callable[[Candidate, Sequence[TokenSpan]], Sentences] | None = None,
) -> Answer:
    """Turn ranked candidates (best first) into an answer.

    ``candidates`` is consumed lazily: iteration stops once ``limit`` hits are
    found, or after ``patience`` candidates in a row that are no answer.
    ``spans_of`` analyses a candidate's text (default: ``analyzer.spans``; the
    corpus passes a cache); ``terms_of`` gives the terms of a heading or title
    (default: analysed once per call: the passages of one article share them);
    ``sentences_of`` gives :func:`sentences` of a candidate (the corpus caches them).
    """
    if terms_of is None:
        terms_of = _TermsCache(analyzer)
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
        split = sentences_of(candidate, spans) if sentences_of else sentences(candidate, spans)
        shingles = split[2]
        if any(_near_duplicate(shingles, other) for other in kept_shingles):
            continue
        kept_shingles.append(shingles)
        hit, entities_named = _hit(candidate, spans, query, analyzer, terms_of, split)
        asked = len(concepts) - hit.undated
        shared = asked - len(hit.missing)
        if (
            entities_named
            and shared >= min(MIN_SHARED, asked)
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
    return Answer(query.text, query, _reranked(hits), tuple(weak))


def _reranked(hits: Sequence[Hit]) -> tuple[Hit, ...]:
    """The answering passages, best first: by support (how much of the question their
    shown sentence says) plus :data:`RANK_WEIGHT` times their BM25 score relative to
    the best one's. BM25 ranks whole passages by the question's words and their
    synonyms, so a long passage saying the words in different sentences can outrank
    the one whose sentence says the question; the ranking still breaks near ties."""
    top = max((h.candidate.score for h in hits), default=0.0)
    if top <= 0:
        return tuple(hits)
    order = sorted(
        range(len(hits)),
        key=lambda i: (
            -(
                hits[i].support
                + RANK_WEIGHT * hits[i].candidate.score / top
                + (LEAD_WEIGHT if hits[i].leads else 0.0)
            ),
            i,
        ),
    )
    return tuple(hits[i] for i in order)


class _TermsCache:
    """The terms of short texts (headings, titles), each analysed once."""

    def __init__(self, analyzer: Analyzer) -> None:
        self._analyzer = analyzer
        self._terms: dict[str, frozenset[str]] = {}

    def __call__(self, text: str) -> frozenset[str]:
        terms = self._terms.get(text)
        if terms is None:
            terms = frozenset(self._analyzer.terms(text))
            self._terms[text] = terms
        return terms


def _anchored(concepts: Sequence[Concept], said: Sequence[bool], shares: Sequence[float]) -> bool:
    """Whether the passage says at least one *anchor* of the question in full: an
    entity, a term of the domain lexicon, or a rare word. Common words alone ("the
    tallest building in the world", "the meaning of life") match something in any
    large corpus; that is a coincidence, not an answer. So are some of the words of
    a lexicon term ("video" and "models" of "AI video models")."""
    return any(
        ok
        and (c.entity or share >= 1.0)
        and (c.entity or c.label is not None or c.weight >= ANCHOR_WEIGHT)
        for c, ok, share in zip(concepts, said, shares, strict=True)
    )


def _hit(
    candidate: Candidate,
    passage_spans: Sequence[TokenSpan],
    query: Query,
    analyzer: Analyzer,
    terms_of: Callable[[str], frozenset[str]],
    split: Sentences,
) -> tuple[Hit, bool]:
    concepts = query.concepts
    heading_terms = terms_of(candidate.heading) if candidate.heading else frozenset()
    present = {t for span in passage_spans for t in span.terms}
    present |= heading_terms
    # How much of each concept the passage says (a longer concept can be half said).
    shares = [c.coverage(present) for c in concepts]
    # The article's title names what a passage is about: "The Shenzhen-based carmaker
    # said…" in an article titled "BYD unveils five new EVs" is about BYD.
    title_terms = terms_of(candidate.title)
    titled = present | title_terms
    said = [
        c.covered_by(titled) if c.entity else share >= 0.5
        for c, share in zip(concepts, shares, strict=True)
    ]
    entities_named = all(ok for c, ok in zip(concepts, said, strict=True) if c.entity)
    missing = tuple(
        c.surface for c, ok in zip(concepts, said, strict=True) if not ok and not c.optional
    )
    undated = sum(1 for c, ok in zip(concepts, said, strict=True) if not ok and c.optional)

    marked = {
        t
        for c, share in zip(concepts, shares, strict=True)
        if share
        for t in c.matched_terms(present)
    }
    matched = [span for span in passage_spans if not marked.isdisjoint(span.terms)]
    start, end, own, before, leads = _best_sentence(
        candidate, split, passage_spans, query, analyzer, heading_terms, title_terms
    )
    text = candidate.text[start:end]
    # The sentence is what the reply claims answers the question: what it says
    # counts in full, what only the rest of the passage or its section heading says
    # counts for PASSAGE_CREDIT (a heading names the section's topic, which each of
    # its sentences need not speak of: "From Plateau To Global Expansion" above
    # "China's dominance in the EV market is translating into international presence").
    total = got = 0.0
    for concept, share, ok in zip(concepts, shares, said, strict=True):
        if concept.entity or (concept.optional and not ok):
            continue
        total += concept.weight
        if share:
            got += concept.weight * max(concept.coverage(own), PASSAGE_CREDIT * share)
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
        Highlighted(candidate.heading, _marked(analyzer.spans(candidate.heading), marked))
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
        _holds_answer(text, query, own, heading_terms | title_terms | before, analyzer),
        _anchored(concepts, said, shares),
        leads,
        undated,
    )
    return hit, entities_named


def _holds_answer(
    text: str, query: Query, present: frozenset[str], context: frozenset[str], analyzer: Analyzer
) -> bool:
    """Whether a sentence (holding the terms ``present``) holds the kind of answer asked
    for. A number or a time must be said of the question's entities: the sentence,
    its heading or its article's title names them ("How much does Huawei's parking
    feature cost?" is not answered by "BYD unveiled five new EV models" beside a
    sentence about Huawei). A count must count what was asked: "How many robotaxis
    ...?" is not answered by "five new EV models"."""
    if not answers_kind(text, query.expects, query, present):
        return False
    if query.expects == ANSWER_TITLE:
        return _names_it(text, query, analyzer)
    if query.expects not in _MEASURES:
        return True
    if query.expects == ANSWER_COUNT and query.counted and not _counts(text, query, analyzer):
        return False
    named = present | context
    if query.measured is not None and not query.measured.covered_by(named):
        return False  # "How many cars did BYD sell?" is not "BYD unveiled five new EV models"
    return all(c.covered_by(named) for c in query.entities)


TITLE_WINDOW = 2
"""A name names the thing asked about when it stands within this many words of the word
for it ("Kuaishou's Kling model", "the model, Kling,")."""
_QUOTE = re.compile(r"\s*[“\"‘«「]")
_QUOTED_BEFORE = re.compile(r"[”\"’»」]\s*$")


def _names_it(text: str, query: Query, analyzer: Analyzer) -> bool:
    """Whether ``text`` names what the question asks the name of: a quoted title right
    after the word for it, or a name (one the question does not give) beside it.
    "Kuaishou and Alibaba are rolling out video generation models" names no model."""
    if not query.titled or query.names is None:
        return True  # "what is it called?": nothing to look beside
    spans = analyzer.spans(text)
    for i, span in enumerate(spans):
        if query.titled.isdisjoint(span.terms):
            continue
        if _QUOTE.match(text, span.end) or _QUOTED_BEFORE.search(text, 0, span.start):
            return True  # its report “Full Stack”, the “The China Connection” newsletter
        lo, hi = max(0, i - TITLE_WINDOW), min(len(spans), i + TITLE_WINDOW + 1)
        near = [s for s in spans[lo:hi] if query.titled.isdisjoint(s.terms)]
        if near and query.holds_name(
            {t for s in near for t in s.terms},
            " " + " ".join(text[s.start : s.end] for s in near),
        ):
            return True
    return False


COUNTED_WORDS = 4
"""A count counts the thing named within this many words after it ("five new EV models")."""


GENERIC_UNITS = frozenset({"unit", "piec", "item", "set"})
"""Stems of words that count whatever the sentence named before them: "a maker of
service robots … had shipped 100,000 units"."""


def _counts(text: str, query: Query, analyzer: Analyzer) -> bool:
    for match in _COUNT.finditer(text):
        after = analyzer.terms(
            " ".join(text[match.end() : match.end() + 80].split()[:COUNTED_WORDS])
        )
        if not query.counted.isdisjoint(after):
            return True
        if (
            after
            and after[0] in GENERIC_UNITS
            and not query.counted.isdisjoint(analyzer.terms(text[: match.start()]))
        ):
            return True
    return False


_MEASURES = (ANSWER_NUMBER, ANSWER_COUNT, ANSWER_MONEY, ANSWER_SHARE, ANSWER_TIME, ANSWER_SPEED)


def _best_sentence(
    candidate: Candidate,
    split: Sentences,
    passage_spans: Sequence[TokenSpan],
    query: Query,
    analyzer: Analyzer,
    heading: frozenset[str] = frozenset(),
    title: frozenset[str] = frozenset(),
) -> tuple[int, int, frozenset[str], frozenset[str], bool]:
    """(start, end) of the sentence covering most question weight, its terms, the
    terms of the sentence before it and whether it opens with an entity of a question
    naming entities and asking no kind of answer; naming the question's entities and
    holding the kind of answer asked for count extra. What the section heading says
    counts for every sentence under it, so it does not decide between them. The first
    wins ties, then more matched tokens win. The whole text when it has no sentences."""
    bounds, terms, _ = split
    all_terms = query.terms
    best: tuple[float, int, bool] | None = None
    before: frozenset[str] = frozenset()
    entities = query.entities
    # "What's up with BYD?", "any news on BYD EVs?": about the company, little else.
    subjects = bool(entities) and not query.expects and query.topics <= LEAD_TOPICS
    for at, ((start, end), (own, matches)) in enumerate(zip(bounds, terms, strict=True)):
        present = own | heading if heading else own
        # "The carmaker said five ..." speaks of the company the sentence before named.
        context = heading | title | before
        before = own
        score = 0.0
        for concept in query.concepts:
            if concept.entity:
                if concept.covered_by(present):
                    score += concept.weight + ENTITY_BONUS
                elif concept.covered_by(title):
                    # "The company said R2 was trained on Huawei chips", in an article
                    # titled "DeepSeek releases R2 reasoning model": about DeepSeek.
                    score += concept.weight
            else:
                score += concept.weight * concept.coverage(present)
        if (
            score > 0
            and query.expects
            and _holds_answer(candidate.text[start:end], query, own, context, analyzer)
        ):
            # The kind of answer asked for outweighs coverage: "How many models did BYD
            # unveil?" is answered by the sentence with the number, if one says any of it.
            score += KIND_BONUS
        # "What's up with BYD?": "BYD unveiled ..." tells it, "firms like Nio and BYD" less.
        leads = subjects and any(
            c.covered_by(frozenset(t for terms in matches[:LEAD_TOKENS] for t in terms))
            for c in entities
        )
        if leads:
            score += LEAD_BONUS
        # Repeated matches break ties between sentences of equal coverage.
        score += 1e-3 * sum(1 for terms in matches if not all_terms.isdisjoint(terms))
        if best is None or score > best[0]:
            best = (score, at, leads)
    if best is None:
        return (
            0,
            len(candidate.text),
            frozenset(t for s in passage_spans for t in s.terms),
            before,
            False,
        )
    at = best[1]
    if query.expects == ANSWER_NEXT and best[0] > 0 and at + 1 < len(bounds):
        at += 1  # "What happened after DeepSeek's release?": what the next sentence tells.
    start, end = bounds[at]
    return (start, end, terms[at][0], terms[at - 1][0] if at else frozenset(), best[2])


SentenceTerms = tuple[frozenset[str], list[tuple[str, ...]]]
Sentences = tuple[Sequence[tuple[int, int]], list[SentenceTerms], frozenset[tuple[str, ...]]]
"""A passage's sentences: their (start, end) and, for each, its terms and its tokens'
terms; and the passage's word trigrams (to find near-duplicates)."""


def sentences(candidate: Candidate, spans: Sequence[TokenSpan]) -> Sentences:
    """The sentences of ``candidate`` (found at ingestion, or split now) with the terms
    of the tokens ``spans`` inside each (both are in text order: one pass), and the
    word trigrams of ``spans``."""
    bounds = candidate.sentences
    if bounds is None:
        bounds = tuple((s.start, s.end) for s in split_sentences(candidate.text))
    out: list[SentenceTerms] = []
    i = 0
    for start, end in bounds:
        while i < len(spans) and spans[i].start < start:
            i += 1
        tokens = []
        j = i
        while j < len(spans) and spans[j].end <= end:
            tokens.append(tuple(spans[j].terms))
            j += 1
        i = j
        out.append((frozenset(t for terms in tokens for t in terms), tokens))
    return bounds, out, _shingles([t for span in spans for t in span.terms])


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
