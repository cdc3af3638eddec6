"""The conversation core: what techbrief says, independent of Telegram or the terminal.

Both transports call :class:`TechBrief` (one per process, confined to one
thread together with its :class:`~bot.core.corpus.Corpus`) and render what it
returns with :mod:`bot.core.render`. :class:`Conversation` adds the per-chat state
a text transport needs ("more" pages through the last answer).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

from bot.core import texts
from bot.core.corpus import Corpus, CorpusStats, candidate
from retrieval.answer import Answer, Candidate, Hit
from retrieval.topics import TOPICS, Topic
from storage.sources import Source

__all__ = [
    "MAX_QUESTION_CHARS",
    "AnswerPage",
    "Conversation",
    "Refusal",
    "TechBrief",
    "clean_text",
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
    """The input cannot be answered as given; ``message`` says why, briefly."""

    message: str


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


class TechBrief:
    """Questions, help and corpus facts, for any transport."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus

    @property
    def topics(self) -> tuple[Topic, ...]:
        return TOPICS

    def ask(self, raw_question: str, k: int = HITS_PER_QUESTION) -> Answer | Refusal:
        """Answer a question, or say why it cannot be asked that way."""
        question = clean_text(raw_question)
        example = TOPICS[1].example
        if not question:
            return Refusal(texts.empty_question(example))
        if len(question) > MAX_QUESTION_CHARS:
            return Refusal(texts.question_too_long(len(question), MAX_QUESTION_CHARS))
        if not self.corpus.analyzer.terms(question):
            return Refusal(texts.stopwords_only(example))
        return self.corpus.answer(question, k=k)

    def page(self, raw_question: str, index: int) -> AnswerPage | Refusal:
        """Hit ``index`` of the answer to a question asked before (a "More" button).

        The answer is composed again: the same question over the same articles
        gives the same hits, so a transport needs to keep only the question.
        """
        result = self.ask(raw_question)
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
