"""What the Telegram handlers share, reached through a typed context.

:class:`Runtime` holds the settings, the corpus worker thread, the service and
the small in-memory state of the adapter. The composition root
(:mod:`bot.telegram.app`) builds one per :class:`TechBriefApplication`; handlers get it
as ``context.runtime`` from :class:`BriefContext` — no string keys in
``bot_data``, no module globals.

Threads: the :class:`~bot.core.corpus.Corpus` (SQLite connection and index) is used
only from the one thread of :attr:`Runtime.executor`; handlers hand work to it
with :meth:`Runtime.run` and the event loop never blocks on scoring or SQLite.
Everything else here is touched only from the event loop.
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.config import Settings
from bot.core.service import TechBrief
from bot.telegram.redaction import Redactor

__all__ = [
    "AdminNotices",
    "BriefContext",
    "RecentQuestions",
    "Runtime",
    "TechBriefApplication",
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
class Runtime:
    """The adapter's resources; ``service`` exists between ``post_init`` and ``post_shutdown``."""

    settings: Settings
    executor: ThreadPoolExecutor
    clock: Callable[[], datetime]
    questions: RecentQuestions = field(default_factory=RecentQuestions)
    notices: AdminNotices = field(default_factory=AdminNotices)
    redactor: Redactor = field(default_factory=Redactor)
    """Masks the settings' secrets in what the adapter sends (admin notices)."""
    opened: TechBrief | None = None

    @property
    def service(self) -> TechBrief:
        if self.opened is None:
            raise RuntimeError("the corpus is not open (post_init has not run)")
        return self.opened

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` on the corpus thread and wait for it without blocking the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))


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
