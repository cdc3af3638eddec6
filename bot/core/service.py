"""The conversation core: what techbrief says, independent of Telegram or the terminal.

Both transports call :class:`TechBrief` (one per process, confined to one
thread together with its :class:`~bot.core.corpus.Corpus`) and render what it
returns with :mod:`bot.core.render`. :class:`Conversation` adds the per-chat state
a text transport needs ("more" pages through the last answer). :func:`small_talk`
and :func:`asks_for_more` recognise the few chat messages that are no question.
"""

from __future__ import annotations

import functools
import html
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from bot.core import texts
from bot.core.corpus import Corpus, CorpusStats, candidate
from retrieval.answer import Answer, Candidate, Hit
from retrieval.topics import TOPICS, Topic
from storage import activity
from storage.activity import FetchError
from storage.sources import Source

if TYPE_CHECKING:
    from bot.core.digests import Digests

__all__ = [
    "MAX_QUESTION_CHARS",
    "AnswerPage",
    "Conversation",
    "Refusal",
    "SmallTalk",
    "SourcesPage",
    "StatsReport",
    "TechBrief",
    "asks_for_more",
    "clean_text",
    "small_talk",
]

MAX_QUESTION_CHARS = 1000
HITS_PER_QUESTION = 10

_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|[@-_])")
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")
# Script and style elements go whole: their contents are code, not words of the question.
_CODE_ELEMENT = re.compile(r"<(script|style)\b[^<>]{0,200}>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Refusal:
    """The input cannot be answered as given; ``message`` says why, briefly.

    ``unsearchable``: the text has no words to search for (empty, or only common
    words, symbols or emoji), as opposed to a question refused for another reason.
    """

    message: str
    unsearchable: bool = False


@dataclass(frozen=True, slots=True)
class SmallTalk:
    """A greeting, thanks, an acknowledgement or a goodbye: not a question."""

    kind: Literal["greeting", "thanks", "acknowledgement", "farewell"]
    message: str  # the one-line reply


@dataclass(frozen=True, slots=True)
class AnswerPage:
    """Hit number ``index`` of an answer (or the abstention when there are none)."""

    answer: Answer
    index: int = 0

    @property
    def hit(self) -> Hit | None:
        hits = self.answer.hits
        return hits[self.index] if 0 <= self.index < len(hits) else None

    @property
    def has_more(self) -> bool:
        return self.index + 1 < len(self.answer.hits)


@dataclass(frozen=True, slots=True)
class SourcesPage:
    """Page ``page`` (0-based) of ``pages`` of the sources list."""

    sources: tuple[Source, ...]
    page: int
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class StatsReport:
    """What /stats shows: the corpus, today's questions, recent fetch errors."""

    corpus: CorpusStats
    feeds: int
    disabled_feeds: int
    questions_today: int
    recent_errors: tuple[FetchError, ...]


SOURCES_PER_PAGE = 10


def _utcnow() -> datetime:
    return datetime.now(UTC)


def clean_text(raw: str) -> str:
    """User text made safe to analyse: valid Unicode, no control characters or markup."""
    # Lone surrogates arrive from undecodable bytes (argv, stdin): make them U+FFFD.
    text = raw.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    text = _ANSI_ESCAPE.sub(" ", text)
    text = "".join(
        " " if unicodedata.category(c) in ("Cc", "Cs", "Co", "Zl", "Zp") else c for c in text
    )
    # Twice: markup escaped once ("&lt;b&gt;") is still markup once unescaped.
    for _ in range(2):
        text = html.unescape(_TAG.sub(" ", _CODE_ELEMENT.sub(" ", text)))
    text = text.replace("\ufffd", " ")
    return _SPACE.sub(" ", text).strip()


# Small talk: a short, documented set of whole messages (README, "What readers get"),
# compared after :func:`_phrase`. Anything longer or else is a question for the answerer:
# "thanks to what did BYD grow?" and "great wall motor" are questions.
_GREETINGS = frozenset(
    {"hello", "hi", "hey", "hiya", "hello there", "hi there", "hey there"}
    | {"good morning", "good afternoon", "good evening", "你好", "您好", "嗨", "哈喽"}
)
_THANKS = frozenset(
    {"thanks", "thank you", "thank u", "thanks a lot", "thanks so much", "thank you so much"}
    | {"many thanks", "thx", "ty", "cheers", "ok thanks", "ok thank you", "great thanks"}
    | {"谢谢", "谢谢你", "谢谢您", "多谢", "感谢", "好的谢谢"}
)
_ACKNOWLEDGEMENTS = frozenset(
    {"ok", "okay", "k", "kk", "cool", "nice", "great", "got it", "i see", "lol", "haha"}
    | {"hahaha", "lmao", "好", "好的", "哈哈", "哈哈哈", "明白了"}
)
_FAREWELLS = frozenset({"bye", "bye bye", "goodbye", "see you", "再见", "拜拜"})
_VOCATIVES = frozenset({"bot", "techbrief"})  # "thanks, bot" is thanks
_MORE_REQUESTS = frozenset(
    {"more", "next", "more results", "next result", "next one", "show more", "more please"}
    | {"更多", "下一个", "下一条"}
)
"""What typed alone asks for the next result of the last answer, as "More" does."""


def _phrase(raw: str) -> str:
    """A message as the phrase tables spell it: case folded, punctuation, symbols and
    emoji gone, one space between words, a trailing "bot"/"techbrief" dropped."""
    text = clean_text(raw).casefold()
    text = "".join(" " if unicodedata.category(c)[0] in "PSZ" else c for c in text)
    words = text.split()
    while len(words) > 1 and words[-1] in _VOCATIVES:
        words.pop()
    return " ".join(words)


def small_talk(raw: str) -> SmallTalk | None:
    """The reply to a message that is only a greeting, thanks, an acknowledgement
    ("ok", "lol") or a goodbye; ``None`` for anything else (a question)."""
    if len(raw) > 100:
        return None
    phrase = _phrase(raw)
    if phrase in _GREETINGS:
        return SmallTalk("greeting", texts.greeting(TOPICS[1].example))
    if phrase in _THANKS:
        return SmallTalk("thanks", texts.THANKS_REPLY)
    if phrase in _ACKNOWLEDGEMENTS:
        return SmallTalk("acknowledgement", texts.ACKNOWLEDGED)
    if phrase in _FAREWELLS:
        return SmallTalk("farewell", texts.FAREWELL)
    return None


def asks_for_more(raw: str) -> bool:
    """Whether a message only asks for the next result ("more", "next", "more results")."""
    return len(raw) <= 40 and _phrase(raw) in _MORE_REQUESTS


class TechBrief:
    """Questions, help and corpus facts, for any transport."""

    def __init__(
        self,
        corpus: Corpus,
        clock: Callable[[], datetime] = _utcnow,
        timezone: ZoneInfo | None = None,
    ) -> None:
        self.corpus = corpus
        self.clock = clock
        self.timezone = timezone or ZoneInfo("UTC")  # default for digests (TECHBRIEF_TZ)

    @functools.cached_property
    def digests(self) -> Digests:
        """Subscriptions and digests (``bot.core.digests``), on the same corpus."""
        # Imported here: bot.core.digests builds on this module (Refusal, clean_text).
        from bot.core.digests import Digests

        return Digests(self.corpus, self.timezone)

    @property
    def topics(self) -> tuple[Topic, ...]:
        return TOPICS

    def ask(
        self, raw_question: str, k: int = HITS_PER_QUESTION, *, count: bool = True
    ) -> Answer | Refusal:
        """Answer a question, or say why it cannot be asked that way.

        ``count``: one more question today for /stats (not for "More" pages).
        """
        question = clean_text(raw_question)
        example = TOPICS[1].example
        if not question:
            return Refusal(texts.empty_question(example), unsearchable=True)
        if len(question) > MAX_QUESTION_CHARS:
            return Refusal(texts.question_too_long(len(question), MAX_QUESTION_CHARS))
        if not self.corpus.analyzer.terms(question):
            return Refusal(texts.stopwords_only(example), unsearchable=True)
        if count:
            activity.count_question(self.corpus.db, self.clock())
        return self.corpus.answer(question, k=k)

    def page(self, raw_question: str, index: int) -> AnswerPage | Refusal:
        """Hit ``index`` of the answer to a question asked before (a "More" button).

        The answer is composed again: the same question over the same articles
        gives the same hits, so a transport needs to keep only the question.
        """
        result = self.ask(raw_question, count=False)
        if isinstance(result, Refusal):
            return result
        if not 0 <= index < len(result.hits):
            return Refusal(texts.NO_MORE_RESULTS)
        return AnswerPage(result, index)

    def source(self, passage_id: int) -> Candidate | None:
        """A stored passage with its article's details (a "Source" button), if still stored."""
        stored = self.corpus.passage(passage_id)
        if stored is None:
            return None
        return candidate(stored)

    def sources(self) -> list[Source]:
        return self.corpus.sources()

    def stats(self) -> CorpusStats:
        return self.corpus.stats()

    def sources_page(self, page: int, per_page: int = SOURCES_PER_PAGE) -> SourcesPage:
        """One page of the sources, oldest first (a page past the end is the last one)."""
        every = self.corpus.sources()
        pages = max(1, math.ceil(len(every) / per_page))
        page = min(max(page, 0), pages - 1)
        chosen = tuple(every[page * per_page : (page + 1) * per_page])
        return SourcesPage(chosen, page, pages, len(every))

    def remove_source(self, source_id: int) -> Source | None:
        """Delete a source, its articles and passages (out of the answers at once)."""
        return self.corpus.remove_source(source_id)

    def stats_report(self) -> StatsReport:
        feeds = [s for s in self.corpus.sources() if s.kind == "feed"]
        return StatsReport(
            corpus=self.corpus.stats(),
            feeds=len(feeds),
            disabled_feeds=sum(s.disabled for s in feeds),
            questions_today=activity.questions_on(self.corpus.db, self.clock()),
            recent_errors=tuple(activity.recent_errors(self.corpus.db, limit=3)),
        )


class Conversation:
    """One chat's state for text transports: the answer that "more" pages through."""

    def __init__(self, service: TechBrief) -> None:
        self.service = service
        self._last: AnswerPage | None = None

    def ask(self, question: str) -> AnswerPage | Refusal:
        result = self.service.ask(question)
        if isinstance(result, Refusal):
            return result
        self._last = AnswerPage(result)
        return self._last

    def more(self) -> AnswerPage | Refusal:
        if self._last is None:
            return Refusal(texts.ask_first())
        if not self._last.has_more:
            shown = len(self._last.answer.hits)
            return Refusal(texts.all_results_shown(shown) if shown else texts.NO_RESULTS)
        self._last = AnswerPage(self._last.answer, self._last.index + 1)
        return self._last
