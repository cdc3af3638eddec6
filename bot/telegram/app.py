"""The composition root of the Telegram bot: one place builds and runs the Application.

:func:`build_application` wires, in order: token redaction in logs (before
anything can log a Bot API URL), the :class:`~bot.telegram.runtime.Runtime` with its one
corpus thread, PTB's builder (base URLs, defaults, rate limiter, concurrent
updates, typed context, lifecycle hooks), then the handlers and the feed
polling job (``bot.telegram.jobs.feeds``).

:func:`running` is the lifecycle, in ``Application.run_polling``'s order:
initialise (``getMe``), ``post_init`` (open the database and load the index on
the corpus thread, then register the command menus: default scope for everyone,
chat scope with the admin commands for each admin), start long polling, start
handling; on exit stop polling, stop handling, shut down, ``post_shutdown``
(stop adding sources between feed batches and wait for the fetch threads, then
close the database and stop the corpus thread). It runs in the caller's event loop, so
the end-to-end tests and the load benchmark run exactly this code.
:func:`run_telegram` runs it until SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    ContextTypes,
    Defaults,
)

from bot.config import ConfigError, Settings
from bot.core.corpus import Corpus
from bot.core.ingest import build_ingestion
from bot.core.service import TechBrief
from bot.logs import configure_logging
from bot.telegram.handlers import ADMIN_COMMANDS, PUBLIC_COMMANDS, register
from bot.telegram.handlers.errors import notify_admins
from bot.telegram.jobs.digests import DigestJob, schedule_digests, stop_digests
from bot.telegram.jobs.feeds import schedule_feed_polling
from bot.telegram.redaction import Redactor, install_redaction, register_settings
from bot.telegram.runtime import BriefContext, Runtime, TechBriefApplication

__all__ = [
    "ALLOWED_UPDATES",
    "BOT_API_CONNECTIONS",
    "CONCURRENT_UPDATES",
    "POOL_TIMEOUT",
    "BotUnavailable",
    "build_application",
    "file_url",
    "open_corpus",
    "run_telegram",
    "running",
    "telegram_rate_limiter",
]

log = logging.getLogger(__name__)

ALLOWED_UPDATES: Sequence[str] = ("message", "callback_query", "inline_query")
"""The update kinds the handlers use; Telegram sends no others."""

LONG_POLL = timedelta(seconds=10)
"""How long one getUpdates waits for an update before asking again."""

BOT_API_CONNECTIONS = 8
"""HTTP connections to the Bot API for requests other than getUpdates."""

CONCURRENT_UPDATES = 4 * BOT_API_CONNECTIONS
"""Updates handled at once; the rest wait their turn in PTB's queue (waiting is not a
failure). A handler makes its Bot API requests one after another, so at most this
many requests compete for the connections."""

REQUEST_TIMEOUT = 5.0
"""Seconds to connect, to send a request and to read its answer (each; PTB's defaults)."""

POOL_TIMEOUT = -(-CONCURRENT_UPDATES // BOT_API_CONNECTIONS) * 3 * REQUEST_TIMEOUT
"""Seconds a request may wait for a free connection: long enough for every request
that can be ahead of it to run into its own timeouts (60 s). With PTB's default of
1 s a burst of questions got "Pool timeout" and apologies instead of answers, although
nothing had failed; now a request waiting for a connection fails only when the Bot
API itself does."""

RETRIES_AFTER_429 = 3
"""How often one request is retried after Telegram answers 429 (waiting its ``retry_after``)."""


class BotUnavailable(Exception):
    """The bot cannot start: the Bot API refused the token, could not be reached, or
    refused a start-up request. The message is one line naming the cause."""


def telegram_rate_limiter() -> AIORateLimiter:
    """Telegram's published limits (30 messages/s overall, 20/min per group), retrying 429s."""
    return AIORateLimiter(max_retries=RETRIES_AFTER_429)


def file_url(api_url: str) -> str:
    """The file download URL of a Bot API server: ``…/bot`` -> ``…/file/bot``."""
    base, _, last = api_url.rstrip("/").rpartition("/")
    return f"{base}/file/{last}"


def open_corpus(settings: Settings, now: datetime) -> Corpus:
    """The one place the adapter opens the corpus (on the corpus thread), ready to
    answer: query understanding (lexicon, word list) is loaded now, not on the
    first question."""
    corpus = Corpus.open(settings.db_path, now, index_path=settings.index_path)
    corpus.parser.warm(corpus.index)
    return corpus


def _utcnow() -> datetime:
    return datetime.now(UTC)


def build_application(
    settings: Settings,
    *,
    rate_limiter: BaseRateLimiter[Any] | None = None,
    clock: Callable[[], datetime] = _utcnow,
    digests: DigestJob | None = None,
) -> TechBriefApplication:
    """The bot, ready to run; nothing is opened or sent until it is initialised.

    ``rate_limiter`` defaults to :func:`telegram_rate_limiter`; a load test of
    the bot itself passes one without Telegram's limits. ``digests`` sets the
    digest tick (its interval, pacing and sleep; tests tick faster).
    """
    if not settings.token:
        raise ConfigError("TELEGRAM_BOT_TOKEN: not set")
    # First: PTB logs its base URL (which holds the token) as soon as the bot exists.
    # The token, and the webhook secret (PTB logs every Bot API call's parameters at
    # DEBUG, setWebhook's secret_token too).
    redactor = install_redaction(register_settings(Redactor(), settings))
    # Opt in to PTB 23's time periods as timedelta (techbrief reads none as int):
    # without it PTB's own RetryAfter warns of the deprecation on every 429.
    if os.environ.get("PTB_TIMEDELTA", "").strip().lower() not in ("1", "true"):
        os.environ["PTB_TIMEDELTA"] = "1"
    runtime = Runtime(
        settings=settings,
        # One thread owns the SQLite connection and the index (see bot.telegram.runtime).
        executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="techbrief-corpus"),
        clock=clock,
        redactor=redactor,
    )
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .application_class(TechBriefApplication, kwargs={"runtime": runtime})
        .context_types(ContextTypes(context=BriefContext))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=settings.timezone,
                # An answer links its article; one preview per card would drown the chat.
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(rate_limiter or telegram_rate_limiter())
        # A few keep-alive connections serve many answers a second; PTB's default
        # pool of 256 makes httpcore probe every idle connection on each request.
        .connection_pool_size(BOT_API_CONNECTIONS)
        .pool_timeout(POOL_TIMEOUT)
        .connect_timeout(REQUEST_TIMEOUT)
        .read_timeout(REQUEST_TIMEOUT)
        .write_timeout(REQUEST_TIMEOUT)
        # Updates are handled concurrently, a bounded number at a time (see
        # CONCURRENT_UPDATES); the corpus thread serialises the search.
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if settings.api_url:
        builder = builder.base_url(settings.api_url).base_file_url(file_url(settings.api_url))
    application = builder.build()
    if not isinstance(application, TechBriefApplication):
        raise TypeError("ApplicationBuilder did not build a TechBriefApplication")
    register(application)
    # Jobs after handlers; the JobQueue starts with the application, after post_init.
    schedule_feed_polling(application)
    schedule_digests(application, digests)
    return application


def _runtime(application: Application[Any, Any, Any, Any, Any, Any]) -> Runtime:
    if not isinstance(application, TechBriefApplication):
        raise TypeError("expected a TechBriefApplication")
    return application.runtime


async def _post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    runtime = _runtime(application)
    corpus = await runtime.run(open_corpus, runtime.settings, runtime.clock())
    runtime.opened = TechBrief(corpus, clock=runtime.clock, timezone=runtime.settings.timezone)
    # Sources are fetched on the fetch threads and stored through the corpus thread.
    runtime.ingestion = build_ingestion(
        runtime.settings, corpus, clock=runtime.clock, on_corpus=runtime.on_corpus
    )
    loop = asyncio.get_running_loop()

    def corpus_problem(message: str) -> None:
        # On the corpus thread, which goes on serving; the admins hear of it (rarely).
        asyncio.run_coroutine_threadsafe(notify_admins(application.bot, runtime, message), loop)

    corpus.on_problem = corpus_problem
    # The Chinese segmenter takes seconds to load: now, beside serving, not on
    # the first Chinese question. Shutdown waits for it (a thread still loading
    # while the interpreter exits could print a traceback).
    runtime.segmenter = threading.Thread(
        target=_load_segmenter, args=(corpus,), name="techbrief-segmenter", daemon=True
    )
    runtime.segmenter.start()
    stats = await runtime.run(corpus.stats)
    log.info(
        "corpus open: %s passages from %s articles (%s)",
        f"{stats.passages:,}",
        f"{stats.articles:,}",
        runtime.settings.db_path,
    )
    bot = application.bot
    await bot.set_my_commands(_commands(PUBLIC_COMMANDS), scope=BotCommandScopeDefault())
    for admin in sorted(runtime.settings.admins):
        try:
            await bot.set_my_commands(_commands(ADMIN_COMMANDS), scope=BotCommandScopeChat(admin))
        except (BadRequest, Forbidden) as exc:
            # Telegram knows a private chat only once the admin has started the bot.
            log.warning("admin %s: admin commands not shown (%s)", admin, exc.message)


def _load_segmenter(corpus: Corpus) -> None:
    try:
        corpus.analyzer.load_segmenter()
    except Exception as exc:  # a failed preload is retried on the first Chinese question
        log.warning("the Chinese segmenter did not load at start (%s); it loads when needed", exc)


async def _post_shutdown(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    runtime = _runtime(application)
    if runtime.segmenter is not None:
        await asyncio.get_running_loop().run_in_executor(None, runtime.segmenter.join, 60)
        runtime.segmenter = None
    # Fetch threads first: they may be waiting on the corpus thread.
    if runtime.ingestion is not None:
        runtime.ingestion.stop()
    await asyncio.get_running_loop().run_in_executor(None, runtime.fetches.shutdown, True)
    if runtime.ingestion is not None:
        runtime.ingestion.fetcher.close()
        runtime.ingestion = None
    if runtime.opened is not None:
        await runtime.run(runtime.opened.corpus.close)
        runtime.opened = None
    runtime.executor.shutdown(wait=True)


def _commands(commands: Sequence[tuple[str, str]]) -> list[BotCommand]:
    return [BotCommand(name, description) for name, description in commands]


@asynccontextmanager
async def running(application: TechBriefApplication) -> AsyncIterator[TechBriefApplication]:
    """The application answering updates until the block ends.

    Long polling by default (which deletes any webhook first, so switching back
    from webhook mode needs nothing else); with ``settings.webhook``, PTB's
    webhook server on ``listen:port`` + ``path``, registered with ``setWebhook``
    at the public URL and the secret token (requests without it get 403).

    Start-up failures propagate: ``InvalidToken``, ``NetworkError`` when the Bot
    API cannot be reached, ``OSError`` when the webhook port cannot be bound, a
    storage error from opening the database.
    """
    updater = application.updater
    if updater is None:
        raise TypeError("the application has no updater to poll with")
    webhook = application.runtime.settings.webhook

    def polling_failed(error: TelegramError) -> None:
        # Route polling errors to the error handler, as run_polling does.
        application.create_task(application.process_error(update=None, error=error))

    try:
        async with application:  # initialize() ... shutdown()
            if application.post_init is not None:
                await application.post_init(application)
            if webhook is None:
                await updater.start_polling(
                    timeout=LONG_POLL,
                    allowed_updates=ALLOWED_UPDATES,
                    error_callback=polling_failed,
                )
            else:
                await updater.start_webhook(
                    listen=webhook.listen,
                    port=webhook.port,
                    url_path=webhook.path,
                    webhook_url=webhook.url,
                    secret_token=webhook.secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
            await application.start()
            try:
                yield application
            finally:
                # A digest fan-out under way records what it sent before the bot stops.
                await stop_digests(application)
                await updater.stop()
                await application.stop()
    finally:
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def _serve_until_signalled(application: TechBriefApplication) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):  # no signal handlers there: Ctrl-C still works
            loop.add_signal_handler(signum, stop.set)
    async with running(application):
        webhook = application.runtime.settings.webhook
        if webhook is None:
            how = "polling for updates"
        else:  # the URL, not the secret
            how = f"webhook {webhook.url} -> http://{webhook.listen}:{webhook.port}{webhook.path}"
        log.info("%s as @%s; Ctrl-C or SIGTERM stops", how, application.bot.username)
        await stop.wait()
    log.info("stopped")


_CANNOT_BIND = (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES)


def run_telegram(settings: Settings) -> int:
    """Run the bot (polling or webhook) until SIGINT or SIGTERM. Returns an exit status.

    A token Telegram rejects, a Bot API server that cannot be reached or that
    refuses a start-up request, or a webhook port that cannot be bound raise
    :class:`BotUnavailable`; an unusable database or index raises their errors.
    The caller (``bot.cli``) prints one line, secrets masked.
    """
    # One line per event at TECHBRIEF_LOG_LEVEL; httpx (which logs every request
    # URL, each holding the token, at INFO) stays at WARNING unless debugging.
    configure_logging(settings.log_level)
    application = build_application(settings)
    where = settings.api_url or "api.telegram.org"
    try:
        asyncio.run(_serve_until_signalled(application))
    except InvalidToken:
        raise BotUnavailable("TELEGRAM_BOT_TOKEN: the Bot API rejected the token") from None
    except BadRequest as exc:  # e.g. setMyCommands refused: no retry can help
        raise BotUnavailable(f"the Bot API refused a start-up request: {exc.message}") from None
    except NetworkError as exc:
        raise BotUnavailable(f"cannot reach the Bot API at {where}: {exc.message}") from None
    except TelegramError as exc:
        raise BotUnavailable(f"the Bot API refused to start: {exc.message}") from None
    except OSError as exc:
        if settings.webhook is None or exc.errno not in _CANNOT_BIND:
            raise
        webhook = settings.webhook
        raise BotUnavailable(
            f"TECHBRIEF_WEBHOOK_PORT: cannot listen on "
            f"{webhook.listen}:{webhook.port}: {exc.strerror or exc}"
        ) from None
    return 0
