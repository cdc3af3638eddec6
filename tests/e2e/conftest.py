"""Fixtures: the Bot API test server, a seeded database file, the running bot."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import AIORateLimiter

from bot.core.corpus import Corpus
from bot.telegram.app import build_application
from bot.telegram.runtime import TechBriefApplication
from storage import sources
from storage.articles import NewArticle
from tests.conftest import NOW
from tests.e2e.botapi import BotApiServer, Sent
from tests.e2e.harness import running, settings_for, wait_for

Errors = Callable[[], list[logging.LogRecord]]

ADMIN = 4242
READER = 1001


@pytest.fixture(autouse=True)
def _restore_process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # build_application installs token redaction and opts in to PTB_TIMEDELTA process-wide;
    # start each test without them (so that it must) and undo them afterwards.
    monkeypatch.setenv("PTB_TIMEDELTA", "false")
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


@pytest.fixture
def api() -> Iterator[BotApiServer]:
    with BotApiServer() as server:
        yield server


XIAOMI_URL = "https://example.com/news/xiaomi-su7?src=tg&lang=en"
XIAOMI = NewArticle(
    title="Xiaomi's SU7 <Max> & the R&D race",
    body=(
        "Xiaomi said its SU7 electric sedan, priced below <$30,000> at launch, drew 88,898 "
        "firm orders within a day & beat the Model 3 on range, a result the company credits "
        "to heavy R&D spending at its Beijing campus and its own battery pack design.\n\n"
        "Analysts mocked the hype in a note titled \"<script>alert('su7')</script>\", "
        "comparing the Xiaomi launch queue to AT&T's iPhone lines of 2007 and asking whether "
        "the sedan's margins would survive a price war with BYD & other Chinese carmakers."
    ),
    publisher="Example <News> & Co",
    published="2025-04-02",
    url=XIAOMI_URL,
)
"""An article with a link, and markup-like text that must reach users escaped."""


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed articles plus :data:`XIAOMI`, made once and copied for each test."""
    path = tmp_path_factory.mktemp("seeded") / "techbrief.db"
    corpus = Corpus.open(path, NOW)
    try:
        with corpus.db.atomic():
            source = sources.add_source(
                corpus.db, kind="article", title="Example News", now=NOW, url=XIAOMI_URL
            )
        corpus.add_article(source, XIAOMI, NOW)
    finally:
        corpus.close()
    return path


@pytest.fixture
def db_path(tmp_path: Path, seeded_template: Path) -> Path:
    path = tmp_path / "techbrief.db"
    shutil.copyfile(seeded_template, path)
    index = seeded_template.with_name(seeded_template.name + ".index")
    if index.is_dir():
        shutil.copytree(index, path.with_name(path.name + ".index"))
    return path


@dataclass
class Harness:
    """The running bot and the server it talks to, with the moves tests make."""

    api: BotApiServer
    app: TechBriefApplication

    async def say(self, user_id: int, text: str, **kwargs: Any) -> list[Sent]:
        """A private message; returns the bot's reply messages."""
        message = self.api.private_message(user_id, text, **kwargs)
        return await self.replies(user_id, message["message_id"])

    async def replies(self, chat_id: int, message_id: int, within: float = 10) -> list[Sent]:
        """The messages the bot sent in answer to ``message_id`` (the first quotes it)."""
        first = await wait_for(
            lambda: next((s for s in self.api.sent(chat_id) if s.reply_to == message_id), None),
            within,
            f"a reply to message {message_id} in chat {chat_id}",
        )
        return [s for s in self.api.sent(chat_id) if s.message_id >= first.message_id]

    async def new_messages(self, chat_id: int, known: int) -> list[Sent]:
        """The bot's messages in a chat after the first ``known`` (waits for at least one)."""
        await wait_for(lambda: self.api.sent(chat_id)[known:], what=f"a message in {chat_id}")
        await self.idle()
        return self.api.sent(chat_id)[known:]

    async def press(self, sent: Sent, data: str) -> dict[str, Any]:
        """Press a button; returns the ``answerCallbackQuery`` parameters."""
        query_id = self.api.press(sent, data)
        return await wait_for(
            lambda: self.api.callback_answer(query_id), what=f"an answer to callback {data!r}"
        )

    async def idle(self) -> None:
        """Wait until every injected update was fetched and handled (error handler included)."""
        # The server drops an update once a later getUpdates confirms it: by then it is queued.
        await wait_for(lambda: self.api.pending_updates == 0 or None, what="updates confirmed")
        for _ in range(3):  # an update between the queue and its handler is in neither
            await wait_for(lambda: self._quiet() or None, what="handlers finished")
            await asyncio.sleep(0.02)

    def _quiet(self) -> bool:
        return (
            self.app.update_queue.empty()
            and self.app.update_processor.current_concurrent_updates == 0
        )


@pytest.fixture
def unlimited() -> AIORateLimiter:
    """The rate limiter without Telegram's 30/s ceiling, for tests that send hundreds."""
    return AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=3)


@pytest.fixture
async def bot(api: BotApiServer, db_path: Path) -> AsyncIterator[Harness]:
    application = build_application(settings_for(api, db_path, admins=frozenset({ADMIN})))
    async with running(application):
        yield Harness(api, application)


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> Errors:
    """The ERROR records logged so far (the error handler logs every failure at ERROR)."""
    caplog.set_level(logging.INFO)
    return lambda: [r for r in caplog.records if r.levelno >= logging.ERROR]
