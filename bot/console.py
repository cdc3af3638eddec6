"""The console chat: the same conversation as in Telegram, in a terminal or over a pipe."""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, BinaryIO, TextIO

from bot.core import render, texts
from bot.core.digests import CONSOLE_CHAT, topic_of
from bot.core.service import (
    AnswerPage,
    Conversation,
    Refusal,
    TechBrief,
    asks_for_more,
    small_talk,
)
from retrieval.index import IndexError_
from storage.errors import StorageError

if TYPE_CHECKING:
    from bot.core.ingest import Ingestion

__all__ = [
    "CONSOLE_ADMIN_COMMANDS",
    "CONSOLE_COMMANDS",
    "ConsoleChat",
    "console_lines",
    "loading_notice",
    "run_console",
    "terminal_lines",
]

log = logging.getLogger(__name__)

CONSOLE_COMMANDS: tuple[tuple[str, str], ...] = (
    ("any text", "a question, e.g. what did BYD unveil?"),
    ("/ask <question>", "the same, explicitly"),
    ("more", "the next result for the last question (or next, more results)"),
    ("/subscribe <topic> [time]", "a daily digest of new articles on a topic"),
    ("/subscriptions", "this chat's subscriptions"),
    ("/unsubscribe <topic|all>", "stop a digest"),
    ("/digest [topic]", "preview the next digest now"),
    ("/timezone <city>", "the time zone of your digests (a city, country or UTC+8)"),
    ("/topics", "the built-in topics"),
    ("/help", "this help"),
    ("/quit", "leave (or Ctrl-D)"),
)
"""The console's commands for everyone, as a reader's /help in Telegram lists them."""

CONSOLE_ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("/addsource <url>", "add an article page or an RSS/Atom feed"),
    ("/addtext", "add pasted text as an article (ends with a line holding only '.')"),
    ("/sources", "the sources with their #id, last fetch and last error"),
    ("/removesource <id>", "remove a source and its articles"),
    ("/refresh [id]", "poll one feed now, or every feed"),
    ("/stats", "how much is stored, questions today, subscribers, recent errors"),
)
"""The admin commands: the terminal is the operator's, so the console user is an admin,
and /help lists them under their own heading (those that need fetching only when the
chat can fetch)."""

_FETCHING = {"/addsource", "/addtext", "/refresh"}

_SUBSCRIPTION_COMMANDS = {
    "/subscribe",
    "/subscriptions",
    "/unsubscribe",
    "/digest",
    "/timezone",
    "/topics",
}
_QUIT = {"/quit", "/exit"}
_QUIT_WORDS = {"quit", "exit"}  # without a slash only when alone: "quit smoking?" is a question
_MORE_COMMANDS = {"/more", "/next"}  # the words ("more", "next", …): service.asks_for_more
_END_OF_TEXT = "."
_TITLE_COMMANDS = {"/skip", "/cancel"}  # what /addtext's title step takes as an answer


def _is_command(word: str) -> bool:
    return word.startswith("/") and len(word) > 1 and word[1:].isalnum()


_FATAL = (sqlite3.Error, StorageError, IndexError_)
"""Failures of the database or the index: the chat ends with one line (``bot.cli``)."""


def loading_notice(service: TechBrief, question: str) -> str | None:
    """A line to show before a question that must first load the Chinese segmenter."""
    return texts.LOADING_SEGMENTER if service.corpus.analyzer.needs_segmenter(question) else None


def console_lines(stream: BinaryIO) -> Iterator[str]:
    """Lines of a byte stream; undecodable bytes become U+FFFD instead of an error."""
    for raw in stream:
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ConsoleChat:
    """Turns one line of input into one reply (text), keeping the chat's state.

    The console is one more chat (:data:`~bot.core.digests.CONSOLE_CHAT`): its
    subscriptions are stored like any other, and their digests are shown, once,
    before the next reply once they are due (:meth:`due_digests`).
    """

    def __init__(
        self,
        service: TechBrief,
        markup: render.Markup,
        *,
        ingestion: Ingestion | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._conversation = Conversation(service)
        self._service = service
        self._m = markup
        self._ingestion = ingestion
        # /addtext: the lines pasted so far, then (text complete) waiting for a title
        self._draft: list[str] | None = None
        self._draft_text: str | None = None
        self._clock = clock

    def reply(self, line: str) -> str | None:
        """The reply to ``line``; ``None`` means the user asked to leave."""
        text = line.strip()
        command, _, rest = text.partition(" ")
        command = command.lower().split("@", 1)[0]
        if self._draft is not None:
            return self._add_text(line, command)
        if self._draft_text is not None:
            # Asked for a title: /skip and /cancel answer it, another command runs (the
            # title is still asked for, as on Telegram), anything else is the title.
            if command in _TITLE_COMMANDS or not _is_command(command):
                return self._add_text(line, command)
            said = self._reply(text, command, rest)
            if said is None or self._draft_text is None:
                return said  # left, or a new /addtext began
            return f"{said}\n\n{texts.ADDTEXT_TITLE}"
        return self._reply(text, command, rest)

    def _reply(self, text: str, command: str, rest: str) -> str | None:
        if not text:
            return ""
        if command in _QUIT or (command in _QUIT_WORDS and not rest):
            return None
        if command in ("/help", "/start"):
            admin = [
                (name, text)
                for name, text in CONSOLE_ADMIN_COMMANDS
                if self._ingestion is not None or name.split()[0] not in _FETCHING
            ]
            return render.help_card(
                self._service.topics, self._m, commands=CONSOLE_COMMANDS, admin_commands=admin
            )
        if command in _MORE_COMMANDS and not rest:
            return self._show(self._conversation.more())
        if command == "/ask":
            if not rest.strip():
                return texts.ASK_USAGE
            return self._ask(rest)
        if command in _SUBSCRIPTION_COMMANDS:
            return self._subscriptions(command, rest)
        if command == "/sources":
            return render.sources_list(self._service.sources(), self._m)
        if command == "/stats":
            digests = self._service.digests.stats(self._clock())
            return "\n".join(
                [
                    render.stats_report(self._service.stats_report(), self._m),
                    render.subscription_stats(digests, self._m),
                ]
            )
        if command in ("/addsource", "/addtext", "/removesource", "/refresh"):
            return self._admin(command, rest.strip())
        if _is_command(command):
            return texts.unknown_command(command)
        return self._ask(text)

    def _ask(self, text: str) -> str:
        """A question, "more" (``/ask more`` too, as on Telegram), or small talk ("hello",
        "thanks") that gets its one-line reply."""
        if asks_for_more(text):
            return self._show(self._conversation.more())
        talk = small_talk(text)
        if talk is not None:
            return talk.message
        return self._show(self._conversation.ask(text))

    def _admin(self, command: str, argument: str) -> str:
        """Admin commands: the terminal is the operator's, so they are allowed here."""
        if command == "/removesource":
            source_id = _source_id(argument)
            if source_id is None:
                return texts.REMOVESOURCE_USAGE
            source = self._service.remove_source(source_id)
            if source is None:
                return texts.no_such_source(source_id)
            return texts.removed_source(source.id, source.title, source.articles, source.passages)
        if self._ingestion is None:
            return texts.unknown_command(command)
        if command == "/addsource":
            if not argument:
                return texts.ADDSOURCE_USAGE
            return render.ingest_report(self._ingestion.add_url(argument), self._m)
        if command == "/refresh":
            wanted = _source_id(argument) if argument else None
            if argument and wanted is None:
                return texts.REFRESH_USAGE
            reports = self._ingestion.refresh(wanted)
            if isinstance(reports, str):
                return reports
            return "\n\n".join(render.ingest_report(r, self._m) for r in reports)
        self._draft, self._draft_text = [], None
        return texts.ADDTEXT_START_CONSOLE

    def _add_text(self, line: str, command: str) -> str:
        """The /addtext conversation: text lines until ".", then a title (or /skip)."""
        assert self._ingestion is not None
        from bot.core.ingest import check_text, check_title

        if command == "/cancel":
            self._draft = self._draft_text = None
            return texts.ADDTEXT_CANCELLED
        if self._draft is not None:
            if line.strip() != _END_OF_TEXT:
                self._draft.append(line)
                return ""
            text, self._draft = "\n".join(self._draft), None
            problem = check_text(text)  # refused now, not after the title was asked for
            if problem is not None:
                return texts.could_not_add(texts.PASTED_TEXT, problem)
            self._draft_text = text
            return texts.ADDTEXT_TITLE
        title = ""
        if command != "/skip":
            checked, problem = check_title(line)
            if problem is not None:
                return problem
            title = checked or ""
        body, self._draft_text = self._draft_text or "", None
        return render.ingest_report(self._ingestion.add_text(body, title), self._m)

    def _subscriptions(self, command: str, rest: str) -> str:
        digests, m, now = self._service.digests, self._m, self._clock()
        if command == "/topics":
            return render.topics_card(digests.topics, m)
        if command == "/subscribe":
            result = digests.subscribe(CONSOLE_CHAT, rest, now)
            if isinstance(result, Refusal):
                return result.message
            next_at = digests.next_delivery(result.subscription, now)
            return render.subscribed(result, next_at, m)
        if command == "/unsubscribe":
            gone = digests.unsubscribe(CONSOLE_CHAT, rest)
            return gone.message if isinstance(gone, Refusal) else render.unsubscribed(gone, m)
        if command == "/timezone":
            zone = digests.set_timezone(CONSOLE_CHAT, rest, now)
            return zone.message if isinstance(zone, Refusal) else render.timezone_set(zone, m)
        if command == "/digest":
            views = digests.preview(CONSOLE_CHAT, rest, now)
            if isinstance(views, Refusal):
                return views.message
            return "\n\n".join(render.digest_card(view, m) for view in views)
        mine = digests.subscriptions(CONSOLE_CHAT)
        if not mine:
            return texts.NO_SUBSCRIPTIONS
        lines = [
            render.subscription_card(s, topic_of(s), digests.next_delivery(s, now), m) for s in mine
        ]
        return "\n".join([*lines, "", texts.CONSOLE_SUBSCRIPTIONS_HINT])

    def due_digests(self) -> list[str]:
        """The console's digests that are due now, rendered; each is recorded as delivered
        (a day with nothing new is recorded too, and shows nothing)."""
        digests, now = self._service.digests, self._clock()
        shown = []
        for due in digests.due(now, chats=(CONSOLE_CHAT,)):
            if due.view.digest.empty:
                digests.record(due, "empty", now)
            elif digests.record(due, "sent", now):
                shown.append(render.digest_card(due.view, self._m))
        return shown

    def _show(self, result: AnswerPage | Refusal) -> str:
        if isinstance(result, Refusal):
            return result.message
        card = render.answer_card(result, self._m)
        if result.has_more:
            card += '\n(type "more" for the next result)'
        return card


def _source_id(raw: str) -> int | None:
    value = raw.strip().lstrip("#")
    return int(value) if value.isascii() and value.isdigit() and int(value) > 0 else None


def run_console(
    service: TechBrief,
    lines: Iterable[str],
    out: TextIO,
    *,
    ansi: bool = False,
    greeting: bool = False,
    ingestion: Ingestion | None = None,
    clock: Callable[[], datetime] = _utcnow,
) -> int:
    """Answer ``lines`` until they end or the user quits. Returns an exit status.

    Due digests of the console's subscriptions are shown before each reply.
    """
    chat = ConsoleChat(service, render.console_markup(ansi), ingestion=ingestion, clock=clock)
    if greeting:
        out.write('techbrief: ask about Chinese tech; "/help" for commands, "/quit" to leave.\n')
    noticed = False  # the segmenter notice, once a run (lines of an /addtext draft load nothing)
    for line in lines:
        for digest in _due_digests(chat):
            out.write(digest + "\n\n")
        asks = not line.startswith("/") or line.split(maxsplit=1)[0].lower() == "/ask"
        notice = None if noticed or not asks else loading_notice(service, line)
        if notice:
            noticed = True
            out.write(notice + "\n")
            out.flush()
        try:
            reply = chat.reply(line)
        except _FATAL:
            raise  # the database or the index: the command stops with one line
        except Exception as exc:
            # Keep the chat alive and the traceback out of the user's way (DEBUG has it).
            log.error("could not answer that line (%s: %s)", type(exc).__name__, exc)
            log.debug("console reply failed", exc_info=exc)
            reply = texts.APOLOGY
        if reply is None:
            break
        if reply:
            out.write(reply + "\n\n")
            out.flush()
    return 0


def _due_digests(chat: ConsoleChat) -> list[str]:
    try:
        return chat.due_digests()
    except _FATAL:
        raise
    except Exception as exc:
        log.error("could not show due digests (%s: %s)", type(exc).__name__, exc)
        log.debug("console digests failed", exc_info=exc)
        return []


def terminal_lines(prompt: str = "› ", out: TextIO | None = None) -> Iterator[str]:
    """Lines typed at a terminal, with line editing. Ctrl-D ends them; Ctrl-C raises
    ``KeyboardInterrupt`` (the command exits 130). Either way the prompt's line is
    ended, so that the shell's prompt starts on a line of its own."""
    stream = sys.stdout if out is None else out
    while True:
        try:
            yield input(prompt)
        except EOFError:
            stream.write("\n")
            stream.flush()
            return
        except KeyboardInterrupt:
            stream.write("\n")
            stream.flush()
            raise
