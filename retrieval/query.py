"""Query understanding: what a question asks, worked out before BM25 ranks anything.

A question becomes a :class:`Query`, a list of :class:`Concept` s, in four steps:

1. **Spelling**: a word the corpus never saw, that is not a common English
   word nor in the lexicon, is corrected against the corpus vocabulary
   ("modles" -> "models", "huawie" -> "huawei") with rapidfuzz's optimal
   string alignment distance (1 edit for short words, 2 for longer ones).
2. **Lexicon** (``retrieval/data/lexicon.txt``): the longest phrase of the
   question found in the lexicon becomes one concept with every form of its
   group: "electric car" also matches "EV", "go public" matches "IPO",
   比亚迪 matches "BYD".
3. **Frame words** ("how many", "tell me about", "want", "kind") are dropped:
   they carry no topic. "How many", "when", "which year" say what kind of
   answer is wanted (a number, a time), which the answer check uses.
4. Every other word is a concept of its own.

Each concept has a weight that does not depend on the corpus: its rarity in
general English (``log10`` of how much rarer it is than "the" in
symspellpy's English frequency list, capped at :data:`MAX_WEIGHT`; words
missing from that list get the cap). Idf would shift with every article
added; these weights do not, so neither does the support check built on them.

A concept is an *entity* when it names a company, person, organisation,
product or place from the lexicon, or looks like a name the lexicon does not
know (a capitalised word inside the question, a word with letters and digits
such as "SU7", or a word no English dictionary holds): a passage only answers
a question if it names the question's entities.
"""

from __future__ import annotations

import bisect
import importlib.resources
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from typing import Protocol

from rapidfuzz import distance, process

from retrieval.analyze import Analyzer, SurfaceToken, fold
from retrieval.stopwords import CHINESE as CHINESE_STOPWORDS
from retrieval.stopwords import ENGLISH as ENGLISH_STOPWORDS

__all__ = [
    "ANSWER_COUNT",
    "ANSWER_MONEY",
    "ANSWER_NAME",
    "ANSWER_NEXT",
    "ANSWER_NUMBER",
    "ANSWER_SHARE",
    "ANSWER_SOURCE",
    "ANSWER_SPEED",
    "ANSWER_TIME",
    "ANSWER_TITLE",
    "MAX_WEIGHT",
    "REQUEST",
    "Concept",
    "EnglishWords",
    "Form",
    "Lexicon",
    "LexiconError",
    "Query",
    "QueryParser",
    "Speller",
    "Vocabulary",
]

ANSWER_NUMBER = "number"
ANSWER_COUNT = "count"
"""A number of things ("how many"): not a sum of money nor a percentage."""
ANSWER_MONEY = "money"
"""A sum of money ("how much did Baidu spend", "what does a BYD Seal cost"): an amount
with a currency or a scale ("$690,000", "2 billion yuan"), not a percentage or a count."""
ANSWER_SHARE = "share"
"""A share ("what percentage"): a percentage or a fraction."""
ANSWER_TIME = "time"
ANSWER_TITLE = "title"
"""What something is called ("what is RAND's report called", "the name of Kuaishou's video
model"): the answer names it next to the word for it ("its report “Full Stack”")."""
ANSWER_SPEED = "speed"
"""How fast ("how quickly are ..."): a number ("400 km in five minutes") or a span of time
("from years to months")."""
ANSWER_NAME = "name"
ANSWER_SOURCE = "source"
"""Who said something: the answer names a person, company or organisation."""
ANSWER_NEXT = "next"
"""What followed an event ("what happened after X"): told in the sentence after the one
that names the event, when there is one."""
REQUEST = "request"
"""A frame asking for instructions or a service ("how do I ..."): no article answers it."""

# "Which (Chinese EV) makers ...", "what companies ...", "who's making ...": the answer
# names companies ("which kinds of firms ..." asks for a kind, not a name). The plain
# nouns and verbs of that frame ("which firms are making ...", "who makes ...") say
# nothing the name does not: they are frame words, not topics.
_LIGHT_VERBS = r"making|building|developing|producing|offering"
_WHICH_COMPANIES = re.compile(
    r"\b(?:which|what|(?P<ask>name))\s+(?:(?!(?:must|do|does|did|is|are|was|were|can|could|should|will|would|"
    r"has|have|had|kinds?|types?|sorts?|helps?|makes?|drives?|gives?|lets?|allows?|keeps?|"
    r"pushes|push|causes?|enables?|stops?|means?|happens?|happened|sets?|separates?)\b)[\w.'’-]+\s+){0,3}?(?P<noun>companies|firms|startups|"
    r"start-ups|makers|carmakers|automakers|chipmakers|brands|businesses|players|platforms|"
    r"investors|banks|groups|giants)\b"
    rf"(?:\s+(?:are|is)\s+(?P<verb>{_LIGHT_VERBS})\b|\s+(?P<verb4>make|build|develop|produce|offer)\b)?"
    r"|\bwho(?:'s|’s|\s+is|\s+are)\s+(?:(?P<verb2>" + _LIGHT_VERBS + r")|selling|launching|leading|"
    r"rolling\s+out)\b|\bwho\s+(?:(?P<verb3>makes|make|builds|build|develops|develop|produces|"
    r"produce|offers)|sells|is\s+behind|are\s+behind)\b|"
    r"哪(?:些|家|几家)[^，。？?]{0,4}?(?:公司|企业)|哪几家|哪家",
    re.IGNORECASE,
)
_GENERIC_COMPANIES = frozenset({"companies", "firms", "businesses", "players", "groups"})
# "Who said ...", "who warned ...": the answer names who (a person, company or institution).
_WHO_SAID = re.compile(
    r"\bwho\s+(?:has\s+|have\s+|had\s+)?(?:said|says|say|warned|warns|noted|notes|thinks|"
    r"believes|claimed|claims|argued|argues|reported|reports|wrote|writes|highlighted|"
    r"highlights|predicted|predicts|estimated|estimates|observed|commented|pointed\s+out|"
    r"analy[sz]ed|analy[sz]es|described|describes)\b|谁说"
    # "Which consultancy said ...", "which outlet reported ...": who, too.
    r"|\bwhich\s+(?:[\w.'’-]+\s+){1,3}?(?:said|says|warned|warns|noted|notes|thinks|"
    r"believes|claimed|claims|argued|argues|reported|reports|wrote|writes|highlighted|"
    r"highlights|predicted|predicts|estimated|estimates)\b",
    re.IGNORECASE,
)
# "What is RAND's report called?", "what are the new models named": "called" and "named"
# ask for a name; they are frame words there, not topics (unlike "Xi called Trump").
_NAME_OF = re.compile(
    r"\bwhat(?:'s|’s|s|\s+is|\s+was|\s+are|\s+were)\s+(?:the\s+)?(names?)\s+of\b",
    re.IGNORECASE,
)
# "Does Kuaishou's clip generator have a brand name?": what it is called, too.
_BRAND_NAME = re.compile(r"\b(brand|product|model|official)\s+(names?)\b", re.IGNORECASE)
_CALLED = re.compile(
    r"\bwhat(?:'s|’s|\s+is|\s+are|\s+was|\s+were)\b.*?\b(called|named|titled)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
# "What is the price of ...", "what's the yuan to dollar rate?": a quantity is asked for,
# so the answer holds a number (a few words may name whose quantity, when it ends the question).
_QUANTITY_NOUN = (
    r"(?:price|prices|cost|speed|size|height|length|weight|population|revenue|revenues|"
    r"valuation|value|worth|market share|share price|salary|salaries|budget|distance|age|"
    r"temperature|capacity|range|amount|total|yield|margin|rate|output|volume|count)"
)
_QUANTITY = re.compile(
    r"\b(?:what|what's|whats)\s+(?:is|are|was|were|'s)?\s*(?:the|its|their|a)?\s*"
    rf"(?:{_QUANTITY_NOUN}\b|(?:[\w.'’-]+\s+){{1,3}}?{_QUANTITY_NOUN}"
    r"(?=\s*(?:[?.!]|$|(?:of|for|in|on|at|now|today|did|does|do|is|are|was|were|has|have|will|"
    r"would|can)\b)))",
    re.IGNORECASE,
)
# "How much did X spend / raise / cost", "how much money", "what is the price of": money.
_MONEY_ASKED = re.compile(
    r"\bhow\s+much\s+(?:money\b|(?:did|does|do|will|would|is|was|are|were|has|have|had)\s+"
    r"(?:[\w.'’-]+\s+){1,4}?(?:cost|spend|spent|raise|raised|pay|paid|invest|invested|charge|"
    r"charged|earn|earned|worth|valued|sell\s+for|sold\s+for|get\s+paid)\b)"
    r"|\b(?:what|what's|whats)\s+(?:is|are|was|were)?\s*(?:the|its|their|a)?\s*"
    r"(?:[\w.'’-]+\s+){0,3}?(?:price|prices|cost|valuation|salary|salaries|budget|revenue|"
    r"revenues)\b"
    r"|\bhow\s+(?:big|large)\s+(?:is|was|are|were)\s+(?:[\w.'’-]+\s+){0,5}?(?P<sum>fund|funds|"
    r"investment|budget|funding|round|package|subsidy|subsidies)\b"
    r"|\bwhat\s+(?:did|does|do|will|would)\s+(?:[\w.'’-]+\s+){1,3}?(?:earn|raise|cost|charge|"
    r"make\s+in\s+(?:profit|revenue|sales))\b"
    r"|\bhow\s+(?:cheap|expensive|costly|pricey|pricy)\b|\bprice\s+(?:of|for|tag)\b"
    r"|多少钱|多少錢|价格|價格|售价|售價|价钱|價錢|定价|定價|金额|金額|花了多少|卖多少|賣多少",
    re.IGNORECASE,
)
# Words that only say "a price" when a sum of money is asked for ("how much does the L60
# cost", "what does Unitree charge for the Go2", "how cheap is Doubao", "小米YU7多少钱"):
# the sum the answer must hold says them; the sentence need not ("a starting price of …").
_PRICE_WORDS = frozenset(
    {
        "cost",
        "costs",
        "costing",
        "price",
        "prices",
        "priced",
        "pricing",
        "charge",
        "charges",
        "charging",
        "cheap",
        "cheaper",
        "expensive",
        "costly",
        "pricey",
        "pricy",
        "钱",
        "錢",
        "价格",
        "價格",
        "售价",
        "售價",
        "价钱",
        "價錢",
        "定价",
        "定價",
        "金额",
        "金額",
    }
)
# "How many cars did BYD sell", "how much did Baidu spend": the verb says what is measured.
_MEASURE_VERB = re.compile(
    r"\bhow\s+(?:many|much)\b[^?]*?\b(?:did|does|do|will|would|has|have|had)\s+"
    r"(?:[\w.'’-]+\s+){1,4}?(?P<verb>[a-z][\w-]*)"
    r"(?=\s+(?:in|on|at|for|to|per|last|this|next|from|with|by|over|during|since|a|an|the|"
    r"each|every)\b|\s*[?.!]*\s*$)",
    re.IGNORECASE,
)
# "How many (new EV) models did ...": what is counted, up to the verb or a preposition.
_HOW_MANY = re.compile(
    r"\bhow\s+many\s+((?:(?!(?:did|does|do|are|is|were|was|have|has|had|will|would|can|"
    r"could|should|in|on|of|at|for|to|per|from|with|by|and|or|than)\b)[\w.'’-]+\s*){1,4})",
    re.IGNORECASE,
)
_COMPOUND_SPLIT = re.compile(r"(?<=\w)[-/](?=\w)|(?<=\.)-(?=\w)")
# Words that date a question rather than ask about something: "this spring", "in April".
_DATING = re.compile(
    r"(?:(?:this|last|past|next)\s+)?(?:spring|summer|autumn|winter|january|february|"
    r"march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|"
    r"jun|jul|aug|sept?|oct|nov|dec|week|month|quarter|year|yr)|lately|recently|nowadays|"
    r"currently|these\s+days|right\s+now"
    r"|[一二三四五六七八九十]{1,2}月份?|\d{1,2}月份?|今年|去年|最近|近来|[春夏秋冬][天季]",
    re.IGNORECASE,
)
_BESIDES = re.compile(
    r"\b(?:besides|other\s+than|apart\s+from|aside\s+from|except(?:\s+for)?|excluding)\s+",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"(?<=[\s(“\"‘'])([A-Z][\w.’'-]*)")

MAX_WEIGHT = 5.0
"""Weight of the rarest words: names, jargon, words no English list holds."""
MIN_WEIGHT = 0.5
NUMBER_WEIGHT = 4.0
"""Weight of numbers ("2030", "$690,000"): specific, but not names."""
FOREIGN_WEIGHT = 3.0
"""Weight of Chinese words the lexicon cannot map to the (English) articles."""

COMMON_WORD_COUNT = 100_000
COMPOUND_PART_COUNT = 5_000_000
"""Each part of a closed compound ("toolset") is at least this frequent."""
"""Words at least this frequent in the English list are never "corrected"."""
RELATIVE_STEM = 5
"""Shortest stem whose relatives in the corpus count as the same word."""
RELATIVE_ENDINGS = ("i", "it", "er", "eri")
"""Endings by which Snowball stems of one word differ: "strategi" (strategy) and
"strateg" (strategic), "competit" (competition) and "compet" (compete); the doer and
the deed: "founder" and "found" (founded), "supplier" and "suppli" (supply),
"deliveri" (delivery) and "deliv" (deliver)."""
SPELLING_NAME_LIMIT = 5_000
"""Spelling candidates that are not English words (names, jargon): the most
frequent this many corpus terms, which bounds the work per misspelled word."""

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff]")
_HAN_RUN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff]+)")
_HAS_DIGIT = re.compile(r"\d")

Alternatives = frozenset[str]
Form = tuple[Alternatives, ...]
"""One way to say a concept: per word, the terms any of which stands for it."""


class LexiconError(ValueError):
    """The lexicon file is malformed; the message names the line."""


class Vocabulary(Protocol):
    """What the corpus knows: how many passages hold a term, and all its terms."""

    def __len__(self) -> int: ...

    @property
    def vocabulary_size(self) -> int: ...

    def document_frequency(self, term: str) -> int: ...

    def vocabulary(self) -> list[tuple[str, int]]: ...


@dataclass(frozen=True, slots=True)
class Concept:
    """One thing the question asks about, with every way of saying it."""

    surface: str  # as the question wrote it
    start: int
    end: int
    forms: tuple[Form, ...]  # the question's own words first
    search: tuple[str, ...]  # the terms BM25 searches for it
    weight: float
    entity: bool = False
    label: str | None = None  # the lexicon's name for it, if any
    corrected_from: str | None = None  # the word as typed, when spelling changed it
    foreign: bool = False  # Chinese the lexicon cannot map and no article holds
    # When the question is dated ("this spring", "in April", "lately"): a passage saying
    # the time counts it, one not saying it is not held against (articles date themselves).
    optional: bool = False
    # Entities: text that names it holds one of these (case folded), a cheap first check.
    needles: tuple[str, ...] = ()
    # The forms by which a passage says it for sure (digest topics): each word as a whole
    # (a compound only by its joined term: "self-driving" is not "self", "e-car" not
    # "car"), without one-word forms whose stem another lexicon group's word shares
    # ("electric" and "electricity" are both "electr" in a passage).
    passage_forms: tuple[Form, ...] = ()
    groups: tuple[int, ...] = ()  # the lexicon groups it stands for
    # Derived from ``forms`` (coverage is checked for every sentence of every candidate):
    terms: frozenset[str] = field(init=False)  # every term of every form (for highlighting)
    _single: frozenset[str] = field(init=False)  # the terms of one-word forms
    _multi: tuple[Form, ...] = field(init=False)  # the forms of several words

    def __post_init__(self) -> None:
        terms = frozenset(t for form in self.forms for alt in form for t in alt)
        single = frozenset(t for form in self.forms if len(form) == 1 for t in form[0])
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "_single", single)
        object.__setattr__(self, "_multi", tuple(f for f in self.forms if len(f) > 1))

    def covered_by(self, present: set[str] | frozenset[str]) -> bool:
        """Whether text holding the terms ``present`` says this concept in one of its forms."""
        if not self._single.isdisjoint(present):
            return True
        return any(all(not alt.isdisjoint(present) for alt in form) for form in self._multi)

    def coverage(self, present: set[str] | frozenset[str]) -> float:
        """How much of this concept text holding ``present`` says: 1 for a whole form,
        else the largest share of the words of one of its longer forms ("EVs" says
        half of "EV makers"), 0 for nothing."""
        if not self._single.isdisjoint(present):
            return 1.0
        best = 0.0
        for form in self._multi:
            share = sum(not alt.isdisjoint(present) for alt in form) / len(form)
            if share > best:
                best = share
                if best == 1.0:
                    break
        return best

    def matched_terms(self, present: set[str] | frozenset[str]) -> set[str]:
        """The terms of ``present`` that say this concept: one-word forms, and the
        words of a longer form only when all of it is there ("new" counts for
        "new energy vehicle", not on its own)."""
        out = set(self._single.intersection(present))
        if self.forms and len(self.forms[0]) > 1:  # the question's own words, even some
            out.update(t for alt in self.forms[0] for t in alt if t in present)
        for form in self._multi:
            if all(not alt.isdisjoint(present) for alt in form):
                out.update(t for alt in form for t in alt if t in present)
        return out


class NameIndex:
    """Finds company names in a sentence: the lexicon's companies, and capitalised
    words that are neither lexicon words nor common English ones (a company the
    lexicon does not know)."""

    def __init__(
        self,
        entities: Sequence[tuple[str, Form]],
        known: Callable[[str], bool],
    ) -> None:
        self._by_term: dict[str, list[tuple[str, Form]]] = {}
        for label, form in entities:
            for term in form[0]:
                self._by_term.setdefault(term, []).append((label, form))
        self._known = known

    def holds_name(self, present: AbstractSet[str], text: str, exclude: frozenset[str]) -> bool:
        """Whether ``text`` (holding the terms ``present``) names an entity other
        than those in ``exclude`` (labels and terms of the question's own)."""
        for term in present:
            for label, form in self._by_term.get(term, ()):
                if label not in exclude and all(not a.isdisjoint(present) for a in form):
                    return True
        for match in _CAPITALISED.finditer(text):
            word = fold(match.group(1)).strip(".-")
            if word and word not in exclude and not self._known(word):
                return True
        return False


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    concepts: tuple[Concept, ...]
    expects: str | None = None  # the kind of answer asked for (ANSWER_*), if any
    frame: tuple[str, ...] = ()  # frame words and phrases found, as written
    corrections: tuple[tuple[str, str], ...] = ()  # (as typed, corrected)
    names: NameIndex | None = None  # for ANSWER_NAME
    request: bool = False  # asks for instructions or a service, not about the news
    counted: frozenset[str] = frozenset()  # "how many robotaxis ...": the terms of what is counted
    measured: Concept | None = None  # "how many cars did BYD sell": the verb, what is measured
    titled: frozenset[str] = frozenset()  # "what is RAND's report called": terms of "report"
    terms: frozenset[str] = field(init=False)  # every term of every concept
    entities: tuple[Concept, ...] = field(init=False)  # the concepts naming an entity
    topics: int = field(init=False)  # how many required concepts are not entities
    given: frozenset[str] = field(init=False)  # names the question gives (not an answer)

    def __post_init__(self) -> None:
        concepts = self.concepts
        entities = tuple(c for c in concepts if c.entity)
        object.__setattr__(self, "terms", frozenset(t for c in concepts for t in c.terms))
        object.__setattr__(self, "entities", entities)
        object.__setattr__(
            self, "topics", sum(1 for c in concepts if not c.entity and not c.optional)
        )
        given = {x for c in entities for x in (fold(c.label or c.surface), *c.terms)}
        object.__setattr__(self, "given", frozenset(given | {fold(c.surface) for c in concepts}))

    def holds_name(self, present: AbstractSet[str], text: str) -> bool:
        """Whether a sentence names a company or person the question does not."""
        if self.names is None:
            return True
        return self.names.holds_name(present, text, self.given)

    @property
    def search_terms(self) -> list[str]:
        """The BM25 query: the question's own words twice, their synonyms once (BM25
        weighs a repeated query term by its count, as rank-bm25 does)."""
        return [term for concept in self.concepts for term in concept.search]

    @property
    def untranslated(self) -> tuple[str, ...]:
        """Chinese words of the question that the lexicon could not map."""
        return tuple(c.surface for c in self.concepts if c.foreign)


# -- the lexicon ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LexiconGroup:
    kind: str  # "entity", "synonym" or "broader"
    forms: tuple[str, ...]  # the forms a question may use
    matches: tuple[str, ...]  # the forms a passage may use (forms + narrower terms)
    company: bool = False  # an entity of the [companies] section

    @property
    def label(self) -> str:
        return self.forms[0]


@dataclass(frozen=True, slots=True)
class Lexicon:
    groups: tuple[LexiconGroup, ...]
    frames: dict[str, str | None] = field(default_factory=dict)  # phrase -> answer kind

    @classmethod
    def load(cls) -> Lexicon:
        """The lexicon shipped with techbrief (``retrieval/data/lexicon.txt``)."""
        text = (importlib.resources.files("retrieval") / "data" / "lexicon.txt").read_text(
            encoding="utf-8"
        )
        return cls.parse(text)

    @classmethod
    def parse(cls, text: str) -> Lexicon:
        groups: list[LexiconGroup] = []
        frames: dict[str, str | None] = {}
        section = None
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1].strip()
                if section not in _SECTIONS:
                    raise LexiconError(f"line {number}: unknown section [{section}]")
                continue
            if section is None:
                raise LexiconError(f"line {number}: text before the first [section]")
            if section == "frame":
                phrase, _, kind = (p.strip() for p in line.partition("="))
                if kind not in ("", *_FRAME_KINDS):
                    raise LexiconError(f"line {number}: unknown answer kind {kind!r}")
                frames[phrase] = kind or None
                continue
            if section == "broader":
                general, arrow, specific = line.partition(">")
                if not arrow:
                    raise LexiconError(f"line {number}: expected 'general > specific | ...'")
                forms = _forms(general)
                narrower = _forms(specific)
                if not forms or not narrower:
                    raise LexiconError(f"line {number}: empty side of '>'")
                groups.append(LexiconGroup("broader", forms, forms + narrower))
                continue
            forms = _forms(line)
            entity = section in _ENTITY_SECTIONS
            if len(forms) < (1 if entity else 2):
                raise LexiconError(f"line {number}: a group needs more forms")
            groups.append(
                LexiconGroup(
                    "entity" if entity else "synonym", forms, forms, section == "companies"
                )
            )
        return cls(tuple(groups), frames)


_ENTITY_SECTIONS = ("companies", "organisations", "people")
_FRAME_KINDS = (
    ANSWER_NUMBER,
    ANSWER_COUNT,
    ANSWER_SHARE,
    ANSWER_TIME,
    ANSWER_SPEED,
    ANSWER_NEXT,
    REQUEST,
)
# When a question says several: the most specific kind of answer is the one checked.
_KIND_ORDER = (
    ANSWER_SHARE,
    ANSWER_COUNT,
    ANSWER_MONEY,
    ANSWER_NUMBER,
    ANSWER_TIME,
    ANSWER_SPEED,
    ANSWER_TITLE,
    ANSWER_SOURCE,
    ANSWER_NAME,
    ANSWER_NEXT,
)
_MEASURE_KINDS = (ANSWER_COUNT, ANSWER_NUMBER)
_SECTIONS = (*_ENTITY_SECTIONS, "synonyms", "broader", "frame")


def _forms(text: str) -> tuple[str, ...]:
    return tuple(f.strip() for f in text.split("|") if f.strip())


# -- English word frequencies -------------------------------------------------------------


class EnglishWords:
    """General English word frequencies (symspellpy's list: 82,765 words with counts
    from the Google Books n-grams): which words are English, and how rare each is."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self._top = max(counts.values(), default=1)

    @classmethod
    def load(cls) -> EnglishWords:
        path = importlib.resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
        counts: dict[str, int] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            word, _, count = line.partition(" ")
            if count.strip().isdigit():
                counts[word] = int(count)
        return cls(counts)

    def weight(self, word: str) -> float:
        """``log10`` of how much rarer ``word`` is than the commonest English word,
        between :data:`MIN_WEIGHT` and :data:`MAX_WEIGHT` (unknown words weigh most)."""
        count = self.counts.get(word)
        if not count:
            return MAX_WEIGHT
        return min(MAX_WEIGHT, max(MIN_WEIGHT, math.log10(self._top / count)))

    def common(self, word: str) -> bool:
        return self.counts.get(word, 0) >= COMMON_WORD_COUNT

    def __contains__(self, word: object) -> bool:
        return word in self.counts


# -- spelling -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Candidate:
    surface: str  # what replaces the misspelled word
    english: int  # its count in the English word list (0: a name or jargon)
    df: int  # passages of the corpus holding it (0: a stopword or frame word)


class Speller:
    """Corrects words the corpus does not know against the words it does.

    Candidates: common English words whose terms the corpus holds ("digital" for
    "digtal": the corpus holds its stem), the corpus's own terms that are not
    English words (names: "huawei", "iqiyi"), at most
    :data:`SPELLING_NAME_LIMIT` of them, the lexicon's one-word forms, and
    stopwords and frame words ("hwo" -> "how", which then drops out). rapidfuzz
    computes the distances.

    Among candidates as near, the one keeping the first letter wins, then the
    likelier slip of the fingers (two letters swapped, then one left out, one
    wrong, one too many: "fild" is "filed" rather than "find"), then the
    commoner English word, then the commoner word of the corpus. Frequencies in
    general English rather than in the corpus: a corpus of medical abstracts
    must not turn "digtal" into "distal".
    """

    def __init__(
        self,
        vocabulary: Sequence[tuple[str, int]],
        english: EnglishWords,
        english_keys: dict[str, str],
        function_words: Iterable[str],
        lexicon_words: Iterable[str] = (),
        english_terms: frozenset[str] | None = None,
    ) -> None:
        frequency = dict(vocabulary)
        candidates: dict[str, _Candidate] = {}
        for word in function_words:
            candidates[word] = _Candidate(word, english.counts.get(word, 0), 0)
        for word in lexicon_words:
            key = english_keys.get(word, word)
            candidates.setdefault(
                word, _Candidate(word, english.counts.get(word, 0), frequency.get(key, 0))
            )
        if english_terms is None:
            english_terms = frozenset(english_keys.values())
        for word, key in english_keys.items():
            df = frequency.get(key, 0)
            if df and word not in candidates:
                candidates[word] = _Candidate(word, english.counts.get(word, 0), df)
        names = [(t, df) for t, df in vocabulary if t not in english_terms and t.isalpha()]
        names.sort(key=lambda item: -item[1])
        for term, df in names[:SPELLING_NAME_LIMIT]:
            candidates.setdefault(term, _Candidate(term, 0, df))
        self._stems = sorted(t for t in frequency if t.isalpha())
        self._by_length: dict[int, list[_Candidate]] = {}
        for word, candidate in candidates.items():
            self._by_length.setdefault(len(word), []).append(candidate)
        self._words = {n: [c.surface for c in cs] for n, cs in self._by_length.items()}

    def relatives(self, stem: str) -> tuple[str, ...]:
        """Terms of the corpus that the Snowball stemmer keeps apart from ``stem`` though
        they are the same word: they differ by one of :data:`RELATIVE_ENDINGS`
        ("compet"/"competit": compete, competition; "strateg"/"strategi": strategic,
        strategy; "commerc"/"commerci"). Stems shorter than :data:`RELATIVE_STEM`
        are left alone."""
        if len(stem) < RELATIVE_STEM or not stem.isalpha():
            return ()
        out = [stem + ending for ending in RELATIVE_ENDINGS if self._has(stem + ending)]
        # Shorter forms need one letter more: "priorit" is not "prior".
        out.extend(
            stem[: -len(ending)]
            for ending in RELATIVE_ENDINGS
            if stem.endswith(ending)
            and len(stem) - len(ending) > RELATIVE_STEM
            and self._has(stem[: -len(ending)])
        )
        return tuple(dict.fromkeys(out))

    def _has(self, term: str) -> bool:
        at = bisect.bisect_left(self._stems, term)
        return at < len(self._stems) and self._stems[at] == term

    def correct(self, word: str) -> str | None:
        """The best correction of ``word`` (lower case), or None."""
        if len(word) < 3:
            return None
        limit = 1 if len(word) < 7 else 2
        best: tuple[int, int, int, int, int, str] | None = None
        for length in range(len(word) - limit, len(word) + limit + 1):
            choices = self._words.get(length)
            if not choices:
                continue
            found = process.extract(
                word, choices, scorer=distance.OSA.distance, score_cutoff=limit, limit=None
            )
            for choice, dist, index in found:
                candidate = self._by_length[length][index]
                rank = (
                    int(dist),
                    int(choice[0] != word[0]),
                    _slip(word, choice) if dist == 1 else 0,
                    -candidate.english,
                    -candidate.df,
                    choice,
                )
                if best is None or rank < best:
                    best = rank
        if best is None or best[0] == 0:
            return None
        if len(word) <= 3 and best[1]:
            return None  # a 3-letter word corrected at its first letter is a guess
        return best[5]


def _slip(typed: str, meant: str) -> int:
    """How likely a one-edit slip is: swapped letters 0, a letter left out 1,
    a wrong letter 2, a letter too many 3."""
    if len(meant) > len(typed):
        return 1
    if len(meant) < len(typed):
        return 3
    return 0 if distance.Levenshtein.distance(typed, meant) == 2 else 2


# -- the parser ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: str  # "frame" or "group"
    groups: tuple[int, ...] = ()  # the lexicon groups holding this form
    answer: str | None = None  # frame: the answer kind it asks for


@dataclass(slots=True)
class _Token:
    start: int
    end: int
    key: str
    terms: tuple[str, ...]
    surface: str
    corrected_from: str | None = None


class QueryParser:
    """Questions -> :class:`Query`, with the lexicon, English frequencies and a speller.

    Not thread-safe (it caches the speller for the vocabulary it last saw):
    confine it to the corpus's thread, like the corpus.
    """

    def __init__(
        self,
        analyzer: Analyzer,
        lexicon: Lexicon | None = None,
        english: EnglishWords | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.lexicon = lexicon if lexicon is not None else Lexicon.load()
        self.english = english if english is not None else EnglishWords.load()
        self._latin: dict[tuple[str, ...], _Entry] = {}
        # One-word group forms as written, by their key: "electricity" is the energy
        # group's, though its stem is that of "electric" (the EV group's).
        self._latin_words: dict[str, list[tuple[str, int]]] = {}
        self._han: dict[str, _Entry] = {}
        self._group_forms: list[tuple[Form, ...]] = []
        self._group_passage_forms: list[tuple[Form, ...]] = []  # see Concept.passage_forms
        self._group_search: list[tuple[str, ...]] = []
        self._group_weight: list[float] = []
        self._lexicon_words: set[str] = set()
        self._common_stems: frozenset[str] | None = None
        # Names of several words, as written (folded), by their analyzed keys; and
        # the keys by (length, position, word) of each of their words.
        self._name_words: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._names_by_word: dict[tuple[int, int, str], list[tuple[str, ...]]] = {}
        self._name_keys: set[str] = set()  # every key of those names
        self._compile()
        self._longest = max((len(k) for k in self._latin), default=1)
        self._longest_han = max((len(k) for k in self._han), default=1)
        self._names = NameIndex(
            [
                (fold(group.label), form)
                for group, forms in zip(self.lexicon.groups, self._group_forms, strict=True)
                if group.company
                for form in forms
            ],
            self._known_word,
        )
        self._sources = NameIndex(
            [
                (fold(group.label), form)
                for group, forms in zip(self.lexicon.groups, self._group_forms, strict=True)
                if group.kind == "entity"
                for form in forms
            ],
            self._known_word,
        )
        self._speller: Speller | None = None
        self._speller_version: tuple[int, int] | None = None
        self._english_keys: dict[str, str] | None = None
        self._english_terms: frozenset[str] | None = None

    # -- compiling the lexicon -------------------------------------------------------------

    def _compile(self) -> None:
        for phrase, answer in self.lexicon.frames.items():
            entry = _Entry("frame", (), answer)
            if _HAN.search(phrase):
                self._han.setdefault(phrase, entry)
            else:
                keys = tuple(t.key for t in self._tokens(phrase))
                if keys:
                    self._latin.setdefault(keys, entry)
                    self._lexicon_words.update(keys)
        for index, group in enumerate(self.lexicon.groups):
            entity = group.kind == "entity"
            forms: list[Form] = []
            search: list[str] = []
            weights: list[float] = []
            for text in group.matches:
                if _HAN.search(text):
                    form = self._han_form(text, entity)
                    if form:
                        forms.append(form)
                    continue
                every = self._tokens(text)
                tokens = [t for t in every if t.terms]
                if not tokens:
                    continue
                # Passages index no stopwords: there "this year" can only be "year".
                forms.append(tuple(_alternatives(t, entity) for t in tokens))
                if entity and text == group.label:
                    search.extend(t.key for t in tokens)  # "hang seng index", not "hsi"
                elif not entity and len(every) == 1:  # one word, not "show off" -> "show"
                    search.extend(sorted(_alternatives(tokens[0], False)))
                if text in group.forms and all(self._english_word(t.surface) for t in tokens):
                    weights.append(max(self._word_weight(t.surface) for t in tokens))
            for text in group.forms:
                if _HAN.search(text):
                    self._han[text] = _joined(self._han.get(text), index)
                    continue
                tokens = self._tokens(text)
                keys = tuple(t.key for t in tokens)
                if keys:
                    # A frame phrase of the same words wins: it was listed as one on purpose.
                    self._latin[keys] = _joined(self._latin.get(keys), index)
                    if len(tokens) == 1:
                        self._latin_words.setdefault(keys[0], []).append((fold(text), index))
                    self._lexicon_words.update(keys)
                    if entity and len(keys) > 1 and keys not in self._name_words:
                        words = tuple(fold(t.surface) for t in tokens)
                        self._name_words[keys] = words
                        self._name_keys.update(keys)
                        for n, word in enumerate(words):
                            place = (len(words), n, word)
                            self._names_by_word.setdefault(place, []).append(keys)
            self._group_forms.append(tuple(dict.fromkeys(forms)))
            self._group_search.append(tuple(dict.fromkeys(search)))
            # Jargon weighs what the plainest way to say it does: "EV" what
            # "electric car" does, not what an unknown word would.
            self._group_weight.append(MAX_WEIGHT if entity else min(weights, default=MAX_WEIGHT))
        # Once every group's words are known: the forms that say a group in a passage.
        for index, group in enumerate(self.lexicon.groups):
            exact: list[Form] = []
            for text in group.matches:
                if _HAN.search(text):
                    form = self._han_form(text, strict=True)
                else:
                    form = tuple(frozenset({t.key}) for t in self._tokens(text) if t.terms)
                    if len(form) == 1 and self._ambiguous(text, index):
                        continue
                if form:
                    exact.append(form)
            self._group_passage_forms.append(tuple(dict.fromkeys(exact)))

    def _ambiguous(self, word: str, group: int) -> bool:
        """Whether a one-word form of ``group`` shares its stem with another group's word
        that is no inflection of it ("electric" with "electricity"): a passage's term
        cannot tell them apart."""
        tokens = [t for t in self._tokens(word) if t.terms]
        if len(tokens) != 1:
            return False
        written = fold(word)
        return any(
            other != group and not _inflection(written, w)
            for w, other in self._latin_words.get(tokens[0].key, ())
        )

    def _han_form(self, text: str, entity: bool = False, *, strict: bool = False) -> Form:
        """A form holding Chinese: each run of Chinese characters stands for itself
        (the analyzer's segmenter yields a whole dictionary word too, so a passage
        in Chinese holding it matches; segmenting here would load the segmenter's
        dictionary at start-up); Latin words as usual ("智谱ai": 智谱 and "ai"), or
        (``strict``) as whole words."""
        out: list[Alternatives] = []
        for part in _HAN_RUN.split(text):
            if not part.strip():
                continue
            if _HAN.match(part):
                out.append(frozenset({part}))
                continue
            for token in self._tokens(part):
                if token.terms:
                    out.append(frozenset({token.key}) if strict else _alternatives(token, entity))
        return tuple(out)

    def _english_word(self, surface: str) -> bool:
        parts = _parts(fold(surface))
        return bool(parts) and all(p in self.english for p in parts)

    def _word_weight(self, surface: str) -> float:
        """A word's rarity in English; a compound weighs its rarest part ("self-driving"
        what "driving" does); single letters ("a.i.") say nothing about rarity."""
        word = fold(surface)
        if _HAS_DIGIT.search(word):
            return NUMBER_WEIGHT
        if word not in self.english and self._compound(word):
            return max(  # "toolset" weighs what "tool" or "set" does
                min(self.english.weight(word[:i]), self.english.weight(word[i:]))
                for i in range(3, len(word) - 2)
                if self.english.counts.get(word[:i], 0) >= COMPOUND_PART_COUNT
                and self.english.counts.get(word[i:], 0) >= COMPOUND_PART_COUNT
            )
        return max((self.english.weight(p) for p in _parts(word)), default=MAX_WEIGHT)

    def _concept_weight(self, tokens: Sequence[_Token], groups: Sequence[int]) -> float:
        """The question's own words weigh their English rarity; jargon the English
        list does not hold ("EV", "IPOs") weighs what its lexicon group does."""
        words = [t for t in tokens if t.terms]
        if groups and not all(self._english_word(t.surface) for t in words):
            return min(self._group_weight[g] for g in groups)
        return max((self._word_weight(t.surface) for t in words), default=MAX_WEIGHT)

    def _tokens(self, text: str) -> list[_Token]:
        out = []
        for token in self.analyzer.tokens(text):
            if token.han:
                continue
            surface = text[token.start : token.end]
            key = token.terms[-1] if token.terms else fold(surface)
            out.append(_Token(token.start, token.end, key, token.terms, surface))
        return out

    # -- parsing -----------------------------------------------------------------------------

    def parse(self, question: str, vocabulary: Vocabulary, *, correct: bool = True) -> Query:
        """What ``question`` asks, against the corpus ``vocabulary`` (for spelling).

        ``correct=False`` leaves words the corpus does not know as they are: a digest
        topic names what the corpus may not hold yet ("Unitree" is no slip of "united").
        """
        concepts: list[Concept] = []
        frame: list[str] = []
        corrections: list[tuple[str, str]] = []
        expects: list[str] = []
        tokens = self.analyzer.tokens(question)
        latin_run: list[_Token] = []
        title_case = _mostly_capitalised(question, tokens)
        called = _CALLED.search(question)
        framed = set(range(called.start(1), called.end(1))) if called else set()
        name_of = _NAME_OF.search(question)
        if name_of:
            framed.update(range(name_of.start(1), name_of.end(1)))
        brand_name = _BRAND_NAME.search(question)
        if brand_name:
            framed.update(range(brand_name.start(1), brand_name.end(2)))
        which = _WHICH_COMPANIES.search(question)
        if which:
            noun = which.group("noun")
            if noun and fold(noun) in _GENERIC_COMPANIES:
                framed.update(range(which.start("noun"), which.end("noun")))
            for verb in ("ask", "verb", "verb2", "verb3", "verb4"):
                if which.group(verb):
                    framed.update(range(which.start(verb), which.end(verb)))

        def flush() -> None:
            run = [t for t in latin_run if t.start not in framed]
            if len(run) < len(latin_run):
                frame.extend(question[t.start : t.end] for t in latin_run if t.start in framed)
            self._latin_concepts(
                question,
                run,
                vocabulary,
                title_case,
                concepts,
                frame,
                expects,
                corrections,
                correct,
            )
            latin_run.clear()

        for token in tokens:
            if token.han:
                flush()
                self._han_concepts(question, token, vocabulary, concepts, frame, expects)
                continue
            surface = question[token.start : token.end]
            key = token.terms[-1] if token.terms else fold(surface)
            latin_run.append(_Token(token.start, token.end, key, token.terms, surface))
        flush()
        # The frame patterns also read the question as corrected ("wich startups").
        asked = (question, _corrected(question, corrections)) if corrections else (question,)
        # The question as typed was read above; the corrected one only when it differs.
        corrected = asked[1:]
        if which or any(_WHICH_COMPANIES.search(text) for text in corrected):
            expects.append(ANSWER_NAME)
        if any(_WHO_SAID.search(text) for text in asked):
            expects.append(ANSWER_SOURCE)
        if any(_QUANTITY.search(text) for text in asked):
            expects.append(ANSWER_NUMBER)
        money = _MONEY_ASKED.search(question)
        if money or any(_MONEY_ASKED.search(text) for text in corrected):
            expects.append(ANSWER_MONEY)
        if called or name_of or brand_name:
            expects.append(ANSWER_TITLE)
        request = REQUEST in expects
        answer = next((kind for kind in _KIND_ORDER if kind in expects), None)
        names = {
            ANSWER_NAME: self._names,
            ANSWER_TITLE: self._names,
            ANSWER_SOURCE: self._sources,
        }.get(answer or "")
        concepts = [
            replace(c, optional=True)
            if not c.entity and _DATING.fullmatch(question[c.start : c.end])
            else c
            for c in concepts
        ]
        if answer == ANSWER_MONEY:
            priced = [
                c for c in concepts if not c.entity and fold(c.surface).strip() in _PRICE_WORDS
            ]
            if len(priced) < len(concepts):
                concepts = [c for c in concepts if c not in priced]
        # "Besides BYD, name Chinese car brands ...": BYD is what the answer leaves out.
        for besides in _BESIDES.finditer(question):
            concepts = [
                replace(c, entity=False, optional=True) if c.start == besides.end() else c
                for c in concepts
            ]
        counted: frozenset[str] = frozenset()
        many = _HOW_MANY.search(question) if answer == ANSWER_COUNT else None
        if many:
            counted = frozenset(
                t
                for c in concepts
                if not c.entity and c.start < many.end(1) and c.end > many.start(1)
                for t in c.terms
            )
        measured = None
        measure = _MEASURE_VERB.search(question) if answer in _MEASURE_KINDS else None
        at = -1
        if measure:
            at = measure.start("verb")
        elif answer == ANSWER_MONEY and money and money.group("sum"):
            at = money.start("sum")  # "how big is the state AI fund": a sum said of a fund
        if at >= 0:
            measured = next(
                (c for c in concepts if not c.entity and c.start <= at < c.end),
                None,
            )
        titled: frozenset[str] = frozenset()
        if answer == ANSWER_TITLE:
            # The word for what is named: the last topic before "called", or after "name of".
            before = (
                called.start(1) if called else brand_name.start() if brand_name else len(question)
            )
            after = name_of.end() if name_of else 0
            head = [c for c in concepts if not c.entity and after <= c.start and c.end <= before]
            titled = head[-1].terms if head else frozenset()
        return Query(
            question,
            tuple(concepts),
            answer,
            tuple(frame),
            tuple(corrections),
            names,
            request,
            counted,
            measured,
            titled,
        )

    def _latin_concepts(
        self,
        question: str,
        run: list[_Token],
        vocabulary: Vocabulary,
        title_case: bool,
        concepts: list[Concept],
        frame: list[str],
        expects: list[str],
        corrections: list[tuple[str, str]],
        correct: bool = True,
    ) -> None:
        for token in run:
            if correct and token.terms and self._misspelled(token, vocabulary):
                fixed = self._spell(vocabulary).correct(fold(token.surface))
                if fixed is not None:
                    terms = tuple(self.analyzer.terms(fixed))
                    corrections.append((token.surface, fixed))
                    token.corrected_from = token.surface
                    token.key = terms[-1] if terms else fixed
                    token.terms = terms
                    token.surface = fixed
        i = 0
        while i < len(run):
            entry, length = self._longest_match(run, i)
            corrections.extend(
                (t.corrected_from, t.surface)
                for t in run[i : i + length]
                if t.corrected_from and (t.corrected_from, t.surface) not in corrections
            )
            if entry is not None:
                start, end = run[i].start, run[i + length - 1].end
                if entry.kind == "frame":
                    frame.append(question[start:end])
                    if entry.answer:
                        expects.append(entry.answer)
                else:
                    concepts.append(self._group_concept(question, run[i : i + length], entry))
                i += length
                continue
            token = run[i]
            i += 1
            parts = self._compound_parts(token)
            if parts:  # "EU-China": the EU and China, as the lexicon knows them
                for part in parts:
                    entry, _ = self._longest_match([part], 0)
                    assert entry is not None
                    concepts.append(self._group_concept(question, [part], entry))
                continue
            if token.terms:
                concept = self._plain_concept(question, token, title_case, i == 1)
                if not concept.entity:
                    concept = self._with_relatives(concept, token, vocabulary)
                concepts.append(concept)

    def _longest_match(self, run: Sequence[_Token], i: int) -> tuple[_Entry | None, int]:
        for length in range(min(self._longest, len(run) - i), 0, -1):
            keys = tuple(t.key for t in run[i : i + length])
            entry = self._latin.get(keys)
            if entry is not None and length == 1 and entry.kind != "frame":
                entry = self._word_entry(run[i], entry)
            if entry is not None:
                # A phrase must not start or end on a bare stopword of the question
                # unless the lexicon spelled it that way (it did: the keys match).
                return entry, length
            if (
                length > 1
                # All words but the slip are the name's own.
                and sum(t.key in self._name_keys for t in run[i : i + length]) >= length - 1
                and (fixed := self._misspelled_name(run[i : i + length]))
            ):
                return self._latin[fixed], length
        return None, 0

    def _misspelled_name(self, tokens: Sequence[_Token]) -> tuple[str, ...] | None:
        """The keys of the lexicon name of several words that ``tokens`` spell with one
        slip in one word of four letters or more ("goldman sacks" for Goldman Sachs):
        the speller leaves such words alone when they are English words themselves.
        The slipped token is corrected in place."""
        written = [fold(t.surface) for t in tokens]
        names = {
            keys
            for n, word in enumerate(written)
            for keys in self._names_by_word.get((len(written), n, word), ())
        }
        for keys in sorted(names):
            words = self._name_words[keys]
            slips = [n for n, word in enumerate(words) if word != written[n]]
            if len(slips) != 1:
                continue
            n = slips[0]
            typed, meant = written[n], words[n]
            if (
                len(meant) >= 4
                and typed[:1] == meant[:1]
                and distance.OSA.distance(typed, meant, score_cutoff=1) <= 1
            ):
                token = tokens[n]
                token.corrected_from = token.surface
                token.surface, token.key = meant, keys[n]
                token.terms = (keys[n],)
                return keys
        return None

    def _group_concept(self, question: str, tokens: Sequence[_Token], entry: _Entry) -> Concept:
        entity = any(self.lexicon.groups[g].kind == "entity" for g in entry.groups)
        own = tuple(_alternatives(t, entity) for t in tokens if t.terms)
        start, end = tokens[0].start, tokens[-1].end
        return self._lexicon_concept(
            question[start:end],
            start,
            end,
            own,
            entry.groups,
            entity,
            weight=MAX_WEIGHT if entity else self._concept_weight(tokens, entry.groups),
            corrected=next((t.corrected_from for t in tokens if t.corrected_from), None),
        )

    def _lexicon_concept(
        self,
        surface: str,
        start: int,
        end: int,
        own: Form,
        groups: Sequence[int],
        entity: bool,
        *,
        weight: float,
        corrected: str | None = None,
    ) -> Concept:
        """A concept the lexicon knows: the question's own words, then every form of
        its groups. BM25 searches the own words twice, the other forms once."""
        forms = [own] if own else []
        own_terms = [t for alternatives in own for t in sorted(alternatives)]
        search = own_terms * 2
        seen = set(own_terms)
        for g in groups:
            forms.extend(self._group_forms[g])
            search.extend(t for t in self._group_search[g] if t not in seen)
            seen.update(self._group_search[g])
        needles: tuple[str, ...] = ()
        if entity:
            written = [surface] + [f for g in groups for f in self.lexicon.groups[g].matches]
            needles = tuple(dict.fromkeys(_needle(w) for w in written if _needle(w)))
        return Concept(
            surface=surface,
            start=start,
            end=end,
            forms=tuple(dict.fromkeys(forms)),
            search=tuple(search),
            weight=weight,
            entity=entity,
            label=self.lexicon.groups[groups[0]].label,
            corrected_from=corrected,
            needles=needles,
            passage_forms=tuple(
                dict.fromkeys(f for g in groups for f in self._group_passage_forms[g])
            ),
            groups=tuple(groups),
        )

    def _word_entry(self, token: _Token, entry: _Entry) -> _Entry:
        """The groups of a one-word form: when the lexicon lists the word as written,
        only the groups listing it or an inflection of it ("worry" for "worries"),
        not those listing another word of the same stem ("electric" for
        "electricity")."""
        listed = self._latin_words.get(token.key, [])
        word = fold(token.surface)
        if not any(w == word for w, _ in listed):
            return entry
        groups = tuple(dict.fromkeys(g for w, g in listed if _inflection(w, word)))
        return _Entry("group", groups) if groups else entry

    def _compound_parts(self, token: _Token) -> list[_Token]:
        """The words of a hyphenated compound the lexicon does not know as a whole
        when it knows each of them as a topic ("EU-China", "US-China"); else none."""
        if len(token.terms) < 2 or not _COMPOUND_SPLIT.search(token.surface):
            return []
        spaced = _COMPOUND_SPLIT.sub(" ", token.surface)
        parts = [
            _Token(token.start + t.start, token.start + t.end, t.key, t.terms, t.surface)
            for t in self._tokens(spaced)
        ]
        if len(parts) < 2 or not all(p.terms for p in parts):
            return []
        for part in parts:
            entry, _ = self._longest_match([part], 0)
            if entry is None or entry.kind == "frame":
                return []
        return parts

    def _plain_concept(
        self, question: str, token: _Token, title_case: bool, first: bool
    ) -> Concept:
        surface = question[token.start : token.end]
        entity = self._looks_like_name(surface, token, title_case, first)
        alternatives = _alternatives(token, entity)
        return Concept(
            surface=surface,
            start=token.start,
            end=token.end,
            forms=((alternatives,),),
            search=tuple(sorted(_alternatives(token, False))) * 2,
            weight=self._concept_weight([token], ()),
            entity=entity,
            corrected_from=token.corrected_from,
            needles=tuple(dict.fromkeys(n for n in (_needle(surface), token.key) if n))
            if entity
            else (),
            passage_forms=((frozenset({token.key}),),),
        )

    def _with_relatives(self, concept: Concept, token: _Token, vocabulary: Vocabulary) -> Concept:
        """``concept`` also said by the corpus's relatives of its word ("compete" by
        "competition"): the stemmer keeps some derived words apart."""
        relatives = self._spell(vocabulary).relatives(token.key)
        if not relatives:
            return concept
        return replace(
            concept,
            forms=(*concept.forms, (frozenset(relatives),)),
            search=(*concept.search, *relatives),
            passage_forms=(*concept.passage_forms, (frozenset(relatives),)),
        )

    def _looks_like_name(self, surface: str, token: _Token, title_case: bool, first: bool) -> bool:
        """A name the lexicon does not know: it must then be in the passage."""
        if token.corrected_from is not None:
            return False
        word = fold(surface)
        if _HAS_DIGIT.search(word):
            return True  # "SU7", "H20", "2030", "$690,000": the answer must say it
        if len(re.split(r"[-/.]", word)) > 1:
            return False  # "EU-China", "Sino-European": compounds of known words
        if word not in self.english and word not in self._lexicon_words:
            # "xpeng" is a name; "toolset" (two words), "useing" (a slip on "use") and
            # "deliverys" (a common word's stem: "deliveries") are not.
            return (
                not self._compound(word)
                and not self.english.common(token.key)
                and token.key not in self._stems_of_common_words()
            )
        capitalised = surface[:1].isupper() and not surface.isupper()
        return capitalised and not first and not title_case

    def _stems_of_common_words(self) -> frozenset[str]:
        if self._common_stems is None:
            self._common_stems = frozenset(
                term
                for word, count in self.english.counts.items()
                if count >= COMMON_WORD_COUNT and word.isalpha()
                for term in self.analyzer.terms(word)[-1:]
            )
        return self._common_stems

    def _known_word(self, word: str) -> bool:
        """A lexicon word or a common English one: not, by itself, a name."""
        if word in self._lexicon_words or word in ENGLISH_STOPWORDS or self.english.common(word):
            return True
        terms = self.analyzer.terms(word)
        return bool(terms) and terms[-1] in self._lexicon_words

    def _compound(self, word: str) -> bool:
        """Two very common English words written as one ("toolset", "livestreaming");
        not a slip such as "stabel" ("sta" and "bel" are in the list, but rare)."""
        counts = self.english.counts
        return any(
            counts.get(word[:i], 0) >= COMPOUND_PART_COUNT
            and counts.get(word[i:], 0) >= COMPOUND_PART_COUNT
            for i in range(3, len(word) - 2)
            if max(i, len(word) - i) >= 4  # not two scraps: "mod" + "les"
        )

    def _han_concepts(
        self,
        question: str,
        token: SurfaceToken,
        vocabulary: Vocabulary,
        concepts: list[Concept],
        frame: list[str],
        expects: list[str],
    ) -> None:
        """Chinese: lexicon and frame forms found in Simplified script (台積電 is
        台积电), longest first; each word of what is left that the corpus holds is a
        concept of its own, weighed by its rarity in the segmenter's dictionary (良率
        weighs more than 市场); the words it does not hold (Chinese asked of English
        articles) are kept together as one untranslated concept."""
        text = self.analyzer.simplified(question[token.start : token.end])
        pending_start: int | None = None
        i = 0

        def foreign(
            start: int,
            end: int,
            words: tuple[str, ...],
            weight: float,
            unknown: bool,
            whole: str | None = None,
        ) -> Concept:
            at, to = token.start + start, token.start + end
            # The segmenter also yields the parts of a long word: a passage says the whole.
            said = frozenset({whole}) if whole in words else frozenset(words)
            return Concept(
                surface=question[at:to],
                start=at,
                end=to,
                forms=((frozenset(words),),),
                search=words,
                weight=weight,
                foreign=unknown,
                passage_forms=((said,),),
            )

        def held(words: Sequence[str]) -> bool:
            return any(vocabulary.document_frequency(w) for w in words)

        # Chinese articles are stored when some word of the question is in one: then a
        # word none holds is looked for in its parts ("厂良率": 良率), and a single
        # character none holds (卖 where the article says 卖出) is no concept.
        chinese = held(self.analyzer.terms(text))

        def leftover(start: int, end: int) -> None:
            found = [
                (s, e, word, tuple(self.analyzer.terms(word)))
                for s, e, word in self.analyzer.words(text[start:end])
                if word not in CHINESE_STOPWORDS  # function words (的, 了, 是)
            ]
            unknown: list[tuple[int, int, tuple[str, ...]]] = []
            for s, e, word, words in found:
                if not words:
                    continue
                if held(words):
                    weight = self.analyzer.word_weight(word)
                    concepts.append(foreign(start + s, start + e, words, weight, False, word))
                    continue
                parts = self._held_parts(word, held) if chinese else []
                for ps, pe, part in parts:
                    terms = tuple(self.analyzer.terms(part))
                    at = start + s + ps
                    weight = self.analyzer.word_weight(part)
                    concepts.append(foreign(at, at + pe - ps, terms, weight, False, part))
                if not parts and not (chinese and len(word) == 1):
                    unknown.append((start + s, start + e, words))
            if unknown:
                words = tuple(w for _, _, ws in unknown for w in ws)
                at, to = unknown[0][0], unknown[-1][1]
                concepts.append(foreign(at, to, words, FOREIGN_WEIGHT, True))

        while i < len(text):
            match = None
            for length in range(min(self._longest_han, len(text) - i), 0, -1):
                entry = self._han.get(text[i : i + length])
                if entry is not None:
                    match = (entry, length)
                    break
            if match is None:
                if pending_start is None:
                    pending_start = i
                i += 1
                continue
            if pending_start is not None:
                leftover(pending_start, i)
                pending_start = None
            entry, length = match
            start, end = token.start + i, token.start + i + length
            if entry.kind == "frame":
                frame.append(question[start:end])
                if entry.answer:
                    expects.append(entry.answer)
            else:
                entity = any(self.lexicon.groups[g].kind == "entity" for g in entry.groups)
                own = frozenset(self.analyzer.terms(question[start:end]))
                concepts.append(
                    self._lexicon_concept(
                        question[start:end],
                        start,
                        end,
                        (own,) if own else (),
                        entry.groups,
                        entity,
                        weight=(
                            MAX_WEIGHT
                            if entity
                            else min(self._group_weight[g] for g in entry.groups)
                        ),
                    )
                )
            i += length
        if pending_start is not None:
            leftover(pending_start, len(text))

    def _held_parts(
        self, word: str, held: Callable[[Sequence[str]], bool]
    ) -> list[tuple[int, int, str]]:
        """The longest parts of two characters or more of a Chinese word that some
        article holds, left to right: (start, end, part)."""
        out: list[tuple[int, int, str]] = []
        i = 0
        while i < len(word) - 1:
            for j in range(len(word), i + 1, -1):
                if held(self.analyzer.terms(word[i:j])):
                    out.append((i, j, word[i:j]))
                    i = j
                    break
            else:
                i += 1
        return out

    def warm(self, vocabulary: Vocabulary) -> None:
        """Do now the work the first questions would otherwise wait for: the English
        word keys, the speller for ``vocabulary`` and the stems of common words (~0.4 s)."""
        self._spell(vocabulary)
        self._stems_of_common_words()

    # -- spelling ------------------------------------------------------------------------------

    def _misspelled(self, token: _Token, vocabulary: Vocabulary) -> bool:
        word = fold(token.surface)
        if not word.isalpha() or len(word) < 3 or token.surface.isupper():
            return False  # "NBA", "CSRC": acronyms are names, not slips
        if word in self._lexicon_words or token.key in self._lexicon_words:
            return False
        if self.english.common(word) or self._compound(word):
            return False
        return all(vocabulary.document_frequency(t) == 0 for t in token.terms)

    def _spell(self, vocabulary: Vocabulary) -> Speller:
        version = (len(vocabulary), vocabulary.vocabulary_size)
        if self._speller is None or version != self._speller_version:
            self._speller = Speller(
                vocabulary.vocabulary(),
                self.english,
                self._english_key_map(),
                [*ENGLISH_STOPWORDS, *(w for w in self.lexicon.frames if w.isalpha())],
                self._single_words(),
                self._english_terms,
            )
            self._speller_version = version
        return self._speller

    def _single_words(self) -> list[str]:
        """The lexicon's one-word English forms, as written ("huawei", "expand")."""
        words = {
            fold(form)
            for group in self.lexicon.groups
            for form in group.forms
            if form.isascii() and form.replace("-", "").isalpha()
        }
        return sorted(words)

    def _english_key_map(self) -> dict[str, str]:
        if self._english_keys is None:
            words = [
                w
                for w, count in self.english.counts.items()
                if count >= COMMON_WORD_COUNT
                and w.isalpha()
                and len(w) > 2
                and w not in ENGLISH_STOPWORDS
            ]
            # One call into the stemmer for all: what the analyzer does to a plain word.
            self._english_keys = dict(zip(words, self.analyzer.stem_words(words), strict=True))
            self._english_terms = frozenset(self._english_keys.values())
        return self._english_keys


def _needle(written: str) -> str:
    """How a name is written, for a substring check of case-folded text: NFKC, case
    folded, without a trailing possessive ("Tesla's" -> "tesla")."""
    text = unicodedata.normalize("NFKC", written).casefold().replace("’", "'")
    return text[:-2] if text.endswith("'s") else text.rstrip("'")


def _corrected(question: str, corrections: Sequence[tuple[str, str]]) -> str:
    """``question`` with its misspelled words replaced by their corrections."""
    for typed, fixed in corrections:
        question = re.sub(rf"(?<!\w){re.escape(typed)}(?!\w)", fixed, question)
    return question


_INFLECTIONS: tuple[tuple[str, str], ...] = (
    ("ies", "y"),
    ("ied", "y"),
    ("ing", ""),
    ("ing", "e"),
    ("es", ""),
    ("s", ""),
    ("ed", ""),
    ("ed", "e"),
    ("'s", ""),
)


def _inflection(a: str, b: str) -> bool:
    """Whether two words are inflections of one word ("worry", "worries", "worried"),
    not derived words ("electric", "electricity"; "research", "researcher")."""
    return not _bases(a).isdisjoint(_bases(b))


def _bases(word: str) -> set[str]:
    out = {word}
    for ending, base in _INFLECTIONS:
        if word.endswith(ending) and len(word) - len(ending) >= 2:
            out.add(word[: -len(ending)] + base)
    return out


def _joined(entry: _Entry | None, group: int) -> _Entry:
    if entry is None:
        return _Entry("group", (group,))
    if entry.kind == "frame" or group in entry.groups:
        return entry
    return _Entry("group", (*entry.groups, group))


def _alternatives(token: _Token, strict: bool) -> Alternatives:
    """The terms that stand for a token: for a name, only its whole form ("pony.ai",
    not "ai"); otherwise any of its terms, single letters aside ("ecommerc", "commerc")."""
    if strict or not token.terms:
        return frozenset({token.key})
    useful = [t for t in token.terms if len(t) > 1] or list(token.terms)
    return frozenset(useful)


def _parts(word: str) -> list[str]:
    return [p for p in re.split(r"[-/.]", word) if len(p) > 1]


def _mostly_capitalised(question: str, tokens: Sequence[SurfaceToken]) -> bool:
    """Title Case Questions Capitalise Everything: then capitals say nothing."""
    words = [question[t.start : t.end] for t in tokens[1:] if not t.han]
    words = [w for w in words if w[:1].isalpha() and not w.isupper()]
    if len(words) < 3:
        return False
    return sum(w[:1].isupper() for w in words) * 2 >= len(words)
