"""Built-in topics: a short name, a label for people, and the curated query behind it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from retrieval.analyze import Analyzer

__all__ = ["TOPICS", "Topic", "find_topic", "nearest_topic"]


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    label: str
    query: str
    example: str
    aliases: tuple[str, ...] = ()
    """Other names people use for it ("EVs", "electric cars"); its label is one too."""


TOPICS: tuple[Topic, ...] = (
    Topic(
        "ai",
        "AI models",
        "artificial intelligence AI model generative open-source DeepSeek chatbot LLM",
        "How did DeepSeek's free AI model change expectations?",
        ("ai model", "ai models", "artificial intelligence", "generative ai", "genai"),
    ),
    Topic(
        "ev",
        "electric vehicles",
        "electric vehicle EV BYD Nio Zeekr carmaker automaker battery charging",
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
    ),
    Topic(
        "robotaxi",
        "robotaxis and autonomous driving",
        "robotaxi autonomous driving driverless self-driving Pony.ai WeRide",
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
        "chip chips semiconductor export controls restrictions Huawei hyperscaler",
        "Did U.S. chip restrictions stop China's AI progress?",
        ("chip", "semiconductor", "semiconductors", "chipmakers"),
    ),
    Topic(
        "policy",
        "industrial policy",
        "policy Beijing subsidies industrial policy regulators Politburo self-reliance",
        "How does Beijing attract AI talent?",
        ("policies", "industrial policies"),
    ),
    Topic(
        "ipo",
        "IPOs and listings",
        "IPO initial public offering listing Hong Kong securities regulator filing",
        "Why is China fast-tracking tech IPOs?",
        ("ipos", "listing", "listings"),
    ),
    Topic(
        "energy",
        "energy and infrastructure",
        "energy infrastructure nuclear hydrogen power grid",
        "How does energy policy support China's AI ambitions?",
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


def nearest_topic(
    analyzer: Analyzer,
    question_terms: Iterable[str],
    passage_terms: Iterable[str] = (),
    topics: Sequence[Topic] = TOPICS,
) -> Topic:
    """The topic whose curated query shares most terms with the question's (with
    their synonyms), else with the closest passage's; the first topic when none
    shares any. It picks the example a refusal suggests."""
    for terms in (set(question_terms), set(passage_terms)):
        scored = [(len(terms.intersection(analyzer.terms(t.query))), t) for t in topics]
        best = max(scored, key=lambda item: item[0])  # the first of equals
        if best[0]:
            return best[1]
    return topics[0]
