"""What the Telegram handlers share, reached through a typed context.

:class:`Runtime` holds the settings, the corpus worker thread, the service and
the small in-memory state of the adapter. The composition root
(:mod:`bot.telegram.app`) builds one per :class:`TechBriefApplication`; handlers get it
as ``context.runtime`` from :class:`BriefContext` — no string keys in
``bot_data``, no module globals.

Threads: the :class:`~bot.core.corpus.Corpus` (SQLite connection and index) is used
only from the one thread of :attr:`Runtime.executor`; handlers hand work to it
with :meth:`Runtime.run` and the event loop never blocks on scoring or SQLite.
Adding sources waits on the network, so it runs on :attr:`Runtime.fetches`
(:meth:`Runtime.ingest`) and hops to the corpus thread only to read or store
(:meth:`Runtime.on_corpus`). Everything else here is touched only from the
event loop.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.config import Settings
from bot.core.service import TechBrief
from bot.telegram.redaction import Redactor

if TYPE_CHECKING:
    from bot.core.ingest import Ingestion

__all__ = [
    "AdminNotices",
    "BriefContext",
    "LastAnswers",
    "RecentQuestions",
    "Runtime",
    "TechBriefApplication",
    "TextDrafts",
    "TimePrompt",
    "TimePrompts",
]

P = ParamSpec("P")
T = TypeVar("T")


class RecentQuestions:
    """The questions behind recent answer cards, by :func:`~bot.telegram.callbacks.question_id`.

    "More" buttons carry only a question's id; this bounded map turns it back
    into the question. Forgetting is safe: a card whose question is gone falls
    back to the message it answers, or asks the reader to ask again.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._questions: OrderedDict[str, str] = OrderedDict()

    def remember(self, qid: str, question: str) -> None:
        self._questions[qid] = question
        self._questions.move_to_end(qid)
        while len(self._questions) > self.capacity:
            self._questions.popitem(last=False)

    def get(self, qid: str) -> str | None:
        question = self._questions.get(qid)
        if question is not None:
            self._questions.move_to_end(qid)
        return question

    def __len__(self) -> int:
        return len(self._questions)


class LastAnswers:
    """Per chat, the answer card shown last: its question's id and hit. "more" typed in
    the chat continues from there. Bounded like :class:`RecentQuestions`; forgetting (a
    restart, a chat long quiet) only makes "more" point to the "More" button instead.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._shown: OrderedDict[int, tuple[str, int]] = OrderedDict()

    def shown(self, chat_id: int, qid: str, index: int) -> None:
        self._shown[chat_id] = (qid, index)
        self._shown.move_to_end(chat_id)
        while len(self._shown) > self.capacity:
            self._shown.popitem(last=False)

    def get(self, chat_id: int) -> tuple[str, int] | None:
        return self._shown.get(chat_id)

    def __len__(self) -> int:
        return len(self._shown)


class AdminNotices:
    """At most one error notice per admin per ``interval``, so a failure storm is one message."""

    def __init__(self, interval: timedelta = timedelta(minutes=10)) -> None:
        self.interval = interval
        self._last: dict[int, datetime] = {}

    def due(self, admin: int, now: datetime) -> bool:
        """Whether ``admin`` may be told now; if so, counts this notice."""
        last = self._last.get(admin)
        if last is not None and now - last < self.interval:
            return False
        self._last[admin] = now
        return True


@dataclass
class _Draft:
    started: datetime
    text: str | None = None  # None: waiting for the text; else waiting for its title


class TextDrafts:
    """The /addtext conversations under way, by (chat, user); each expires after ``ttl``.

    Touched only from the event loop, and every step changes the state before it
    awaits anything, so two quick messages cannot both take the same step.
    """

    def __init__(self, ttl: timedelta = timedelta(minutes=10)) -> None:
        self.ttl = ttl
        self._drafts: dict[tuple[int, int], _Draft] = {}

    def start(self, key: tuple[int, int], now: datetime) -> None:
        self._drafts[key] = _Draft(now)

    def get(self, key: tuple[int, int], now: datetime) -> tuple[_Draft | None, bool]:
        """(the draft or None, whether one had expired: it is dropped then)."""
        draft = self._drafts.get(key)
        if draft is not None and now - draft.started > self.ttl:
            del self._drafts[key]
            return None, True
        return draft, False

    def set_text(self, key: tuple[int, int], text: str) -> None:
        self._drafts[key].text = text

    def pop(self, key: tuple[int, int]) -> _Draft | None:
        return self._drafts.pop(key, None)


@dataclass(frozen=True, slots=True)
class TimePrompt:
    subscription_id: int
    user_id: int  # who pressed "type HH:MM": only their plain message is read as the time
    asked: datetime
    card_message: int | None = None  # the /subscriptions card to show the new time on


class TimePrompts:
    """The "type HH:MM" prompts still awaiting a time, one per chat, each for ``ttl``.

    A time typed as a plain message (not a reply to the prompt) is understood
    while the chat's prompt is fresh. Touched only from the event loop.
    """

    def __init__(self, ttl: timedelta = timedelta(minutes=5)) -> None:
        self.ttl = ttl
        self._asked: dict[int, TimePrompt] = {}

    def ask(
        self,
        chat_id: int,
        subscription_id: int,
        user_id: int,
        now: datetime,
        card_message: int | None = None,
    ) -> None:
        self._asked[chat_id] = TimePrompt(subscription_id, user_id, now, card_message)

    def last(self, chat_id: int) -> TimePrompt | None:
        """The chat's last prompt, fresh or not (a reply to the prompt may come late)."""
        return self._asked.get(chat_id)

    def pending(self, chat_id: int, user_id: int | None, now: datetime) -> TimePrompt | None:
        """The chat's fresh prompt if ``user_id`` asked for it (an expired one is dropped)."""
        prompt = self._asked.get(chat_id)
        if prompt is not None and now - prompt.asked > self.ttl:
            del self._asked[chat_id]
            return None
        return prompt if prompt is not None and prompt.user_id == user_id else None

    def answered(self, chat_id: int) -> None:
        self._asked.pop(chat_id, None)


def _fetch_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="techbrief-fetch")


@dataclass
class Runtime:
    """The adapter's resources; ``service`` exists between ``post_init`` and ``post_shutdown``."""

    settings: Settings
    executor: ThreadPoolExecutor
    clock: Callable[[], datetime]
    questions: RecentQuestions = field(default_factory=RecentQuestions)
    last_answers: LastAnswers = field(default_factory=LastAnswers)
    notices: AdminNotices = field(default_factory=AdminNotices)
    redactor: Redactor = field(default_factory=Redactor)
    """Masks the settings' secrets in what the adapter sends (admin notices)."""
    opened: TechBrief | None = None
    fetches: ThreadPoolExecutor = field(default_factory=_fetch_pool)
    ingestion: Ingestion | None = None
    drafts: TextDrafts = field(default_factory=TextDrafts)
    time_prompts: TimePrompts = field(default_factory=TimePrompts)
    segmenter: threading.Thread | None = None  # loading the Chinese segmenter at start

    @property
    def service(self) -> TechBrief:
        if self.opened is None:
            raise RuntimeError("the corpus is not open (post_init has not run)")
        return self.opened

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` on the corpus thread and wait for it without blocking the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    def on_corpus(self, fn: Callable[[], T], /) -> T:
        """Run ``fn`` on the corpus thread and wait (from a fetch thread, never the loop)."""
        return self.executor.submit(fn).result()

    async def ingest(self, fn: Callable[[Ingestion], T], /) -> T:
        """Run ``fn`` with the :class:`Ingestion` on a fetch thread, without blocking the loop."""
        ingestion = self.ingestion
        if ingestion is None:
            raise RuntimeError("sources are not open (post_init has not run)")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.fetches, fn, ingestion)


class BriefContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context of techbrief's handlers: PTB's, plus :attr:`runtime`."""

    @property
    def runtime(self) -> Runtime:
        application = self.application
        if not isinstance(application, TechBriefApplication):
            raise TypeError("techbrief handlers run only in a TechBriefApplication")
        return application.runtime


class TechBriefApplication(
    Application[
        ExtBot[None],
        BriefContext,
        dict[Any, Any],
        dict[Any, Any],
        dict[Any, Any],
        JobQueue[BriefContext],
    ]
):
    """PTB's Application carrying techbrief's :class:`Runtime` (built by ``bot.telegram.app``)."""

    __slots__ = ("runtime",)

    def __init__(self, *, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runtime = runtime
