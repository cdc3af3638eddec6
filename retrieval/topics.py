"""Topics: the built-in ones (a short name, a label, the curated words behind each) and
any topic understood the way questions are.

A topic, built-in or free text, goes through the query parser
(:class:`~retrieval.query.QueryParser`: the lexicon, Chinese segmentation; no spelling
correction, since a topic may name what no article holds yet) and becomes
:class:`TopicQuery`: *slots*, each one thing a passage on the topic says, with every
form the lexicon knows for it ("比亚迪" is BYD, "electric car" and "NEV" are EV).

A built-in topic's ``query`` holds its *anchors*: words that say the topic by
themselves (its name in any form, the companies and products it alone is about);
its companies and products share one slot, since a story names one or two of
them, not all. Its ``context`` holds words that count beside an anchor but never
alone: "battery" and "charging" are said of phones too. Every word of a free-text
topic is an anchor with a slot of its own. :mod:`retrieval.digest` scores passages
against the slots.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from retrieval.analyze import Analyzer
from retrieval.query import Concept, Form, QueryParser, Vocabulary

__all__ = [
    "TOPICS",
    "Slot",
    "Topic",
    "TopicMeanings",
    "TopicQuery",
    "find_topic",
    "nearest_topic",
    "understand_topic",
]


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    label: str
    query: str
    """Its anchors: words that say the topic by themselves (see the module docstring)."""
    example: str
    aliases: tuple[str, ...] = ()
    """Other names people use for it ("EVs", "electric cars"); its label is one too."""
    context: str = ""
    """Words that count beside an anchor, never alone ("battery", "charging")."""


TOPICS: tuple[Topic, ...] = (
    Topic(
        "ai",
        "AI models",
        "artificial intelligence AI generative AI LLM chatbot DeepSeek",
        "How did DeepSeek's free AI model change expectations?",
        ("ai model", "ai models", "artificial intelligence", "generative ai", "genai"),
        "model open-source",
    ),
    Topic(
        "ev",
        "electric vehicles",
        "electric vehicle EV BYD Nio Zeekr Li Auto Xpeng Leapmotor Tesla Onvo SU7 YU7",
        "How many new EV models did BYD unveil?",
        (
            "evs",
            "electric vehicle",
            "electric cars",
            "electric car",
            "nev",
            "nevs",
            "new energy vehicles",
        ),
        "carmaker automaker battery charging",
    ),
    Topic(
        "robotaxi",
        "robotaxis and autonomous driving",
        "robotaxi autonomous driving driverless self-driving Pony.ai WeRide Apollo Go",
        "Which driverless companies filed for Hong Kong IPOs?",
        (
            "robotaxis",
            "robo taxi",
            "robo taxis",
            "autonomous driving",
            "self driving",
            "driverless cars",
        ),
    ),
    Topic(
        "chips",
        "chips and semiconductors",
        "chip chips semiconductor chipmaker",
        "Did U.S. chip restrictions stop China's AI progress?",
        ("chip", "semiconductor", "semiconductors", "chipmakers"),
        "export controls restrictions Huawei hyperscaler",
    ),
    Topic(
        "policy",
        "industrial policy",
        "policy subsidies industrial policy Politburo State Council ministry self-reliance",
        "How does Beijing attract AI talent?",
        ("policies", "industrial policies"),
        "Beijing regulators",
    ),
    Topic(
        "ipo",
        "IPOs and listings",
        "IPO initial public offering listing",
        "Why is China fast-tracking tech IPOs?",
        ("ipos", "listing", "listings"),
        "Hong Kong securities regulator filing",
    ),
    Topic(
        "energy",
        "energy and infrastructure",
        "energy nuclear hydrogen power grid",
        "How does energy policy support China's AI ambitions?",
        (),
        "infrastructure",
    ),
)


def find_topic(name: str) -> Topic | None:
    """The built-in topic called ``name``, its label or one of its aliases, if any
    (case, hyphens and spacing aside: "EVs", "Electric vehicles", "self-driving")."""
    return _NAMES.get(_key(name))


def _key(name: str) -> str:
    return " ".join(name.casefold().replace("-", " ").split())


_NAMES: dict[str, Topic] = {
    _key(name): topic
    for topic in reversed(TOPICS)  # the first topic wins a name two would share
    for name in (topic.name, topic.label, *topic.aliases)
}


class TopicMeanings:
    """Finds the built-in topic a text names in other words the lexicon knows as one of
    its names: "电动汽车", "新能源车" and "e-cars" are the lexicon's EV, as "electric
    cars" is. The topics' names are read once (the lexicon does not change)."""

    def __init__(
        self, parser: QueryParser, vocabulary: Vocabulary, topics: Sequence[Topic] = TOPICS
    ) -> None:
        self._parser = parser
        self._by_groups: dict[tuple[int, ...], Topic] = {}
        for topic in topics:
            for name in (topic.name, topic.label, *topic.aliases):
                named = _topic_concepts(parser, vocabulary, name)
                if len(named) == 1 and not named[0].entity and named[0].groups:
                    self._by_groups.setdefault(named[0].groups, topic)

    def find(self, text: str, vocabulary: Vocabulary) -> Topic | None:
        """The topic ``text`` names: it is one concept, of the lexicon group (or groups)
        one of the topic's names is."""
        concepts = _topic_concepts(self._parser, vocabulary, text)
        if len(concepts) != 1 or concepts[0].entity:
            return None
        return self._by_groups.get(concepts[0].groups)


def _topic_concepts(parser: QueryParser, vocabulary: Vocabulary, text: str) -> list[Concept]:
    query = parser.parse(text, vocabulary, correct=False)
    return [c for c in query.concepts if not c.optional]


@dataclass(frozen=True, slots=True)
class Slot:
    """One thing a passage on the topic says: a concept, or (``companies``) any of a
    built-in topic's companies and products."""

    surface: str  # as the topic writes it
    forms: tuple[Form, ...]  # per word, the terms any of which says it (whole words)
    anchor: bool  # says the topic by itself (else context: counts only beside an anchor)
    companies: bool = False


@dataclass(frozen=True, slots=True)
class TopicQuery:
    """A topic understood: its slots (anchors first)."""

    text: str
    slots: tuple[Slot, ...]
    terms: frozenset[str] = field(init=False)  # every term of every form

    def __post_init__(self) -> None:
        terms = frozenset(t for s in self.slots for form in s.forms for alt in form for t in alt)
        object.__setattr__(self, "terms", terms)


def understand_topic(
    parser: QueryParser,
    vocabulary: Vocabulary,
    query: str,
    *,
    context: str = "",
    curated: bool = False,
) -> TopicQuery:
    """``query`` (a built-in topic's anchors when ``curated``, else free text) and the
    ``context`` words as slots. Concepts of one lexicon group are one slot ("electric
    vehicle" and "EV"); a curated topic's entities share one (its companies)."""
    anchors = _merged(_topic_concepts(parser, vocabulary, query))
    named = {c.groups for c in anchors if c.groups}
    slots: list[Slot] = []
    if curated:
        entities = [c for c in anchors if c.entity]
        if entities:
            forms = tuple(dict.fromkeys(f for c in entities for f in c.passage_forms))
            surface = ", ".join(c.surface for c in entities)
            slots.append(Slot(surface, forms, anchor=True, companies=True))
        anchors = [c for c in anchors if not c.entity]
    slots.extend(Slot(c.surface, c.passage_forms, anchor=True) for c in anchors)
    if context:
        supporting = _merged(_topic_concepts(parser, vocabulary, context))
        slots.extend(
            Slot(c.surface, c.passage_forms, anchor=False)
            for c in supporting
            if not c.groups or c.groups not in named
        )
    return TopicQuery(query, tuple(s for s in slots if s.forms))


def _merged(concepts: Iterable[Concept]) -> list[Concept]:
    """One concept per lexicon group (the first as written), with every passage form."""
    out: dict[object, Concept] = {}
    for concept in concepts:
        key: object = concept.groups or concept.surface.casefold()
        kept = out.get(key)
        if kept is None:
            out[key] = concept
        elif concept.passage_forms != kept.passage_forms:
            forms = tuple(dict.fromkeys((*kept.passage_forms, *concept.passage_forms)))
            out[key] = replace(kept, passage_forms=forms)
    return list(out.values())


def nearest_topic(
    analyzer: Analyzer,
    question_terms: Iterable[str],
    passage_terms: Iterable[str] = (),
    topics: Sequence[Topic] = TOPICS,
) -> Topic:
    """The topic whose curated words (anchors and context) share most terms with the
    question's (with their synonyms), else with the closest passage's; the first topic
    when none shares any. It picks the example a refusal suggests."""
    for terms in (set(question_terms), set(passage_terms)):
        scored = [
            (len(terms.intersection(analyzer.terms(f"{t.query} {t.context}"))), t) for t in topics
        ]
        best = max(scored, key=lambda item: item[0])  # the first of equals
        if best[0]:
            return best[1]
    return topics[0]
