"""The console chat: the same conversation as in Telegram, in a terminal or over a pipe."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import BinaryIO, TextIO

from bot.core import render, texts
from bot.core.digests import CONSOLE_CHAT, topic_of
from bot.core.service import AnswerPage, Conversation, Refusal, TechBrief

__all__ = [
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
    ("more", "the next result for the last question"),
    ("/subscribe <topic> [HH:MM]", "a daily digest of new articles on a topic"),
    ("/subscriptions", "this chat's subscriptions"),
    ("/unsubscribe <topic|all>", "stop a digest"),
    ("/digest [topic]", "preview the next digest now"),
    ("/timezone <Area/City>", "the time zone of your digests"),
    ("/topics", "the built-in topics"),
    ("/sources", "the sources of the stored articles"),
    ("/stats", "how much is stored"),
    ("/help", "this help"),
    ("/quit", "leave (or Ctrl-D)"),
)

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
_MORE = {"more", "/more", "next", "/next"}


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
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._conversation = Conversation(service)
        self._service = service
        self._m = markup
        self._clock = clock

    def reply(self, line: str) -> str | None:
        """The reply to ``line``; ``None`` means the user asked to leave."""
        text = line.strip()
        command, _, rest = text.partition(" ")
        command = command.lower().split("@", 1)[0]
        if not text:
            return ""
        if command in _QUIT or (command in _QUIT_WORDS and not rest):
            return None
        if command in ("/help", "/start"):
            return render.help_card(self._service.topics, self._m, commands=CONSOLE_COMMANDS)
        if command in _MORE and not rest:
            return self._show(self._conversation.more())
        if command == "/ask":
            if not rest.strip():
                return texts.ASK_USAGE
            return self._show(self._conversation.ask(rest))
        if command in _SUBSCRIPTION_COMMANDS:
            return self._subscriptions(command, rest)
        if command == "/sources":
            return render.sources_list(self._service.sources(), self._m)
        if command == "/stats":
            digests = self._service.digests.stats(self._clock())
            return "\n".join(
                [
                    render.stats_card(self._service.stats(), self._m),
                    render.subscription_stats(digests, self._m),
                ]
            )
        if command.startswith("/") and len(command) > 1 and command[1:].isalnum():
            return texts.unknown_command(command)
        return self._show(self._conversation.ask(text))

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


def run_console(
    service: TechBrief,
    lines: Iterable[str],
    out: TextIO,
    *,
    ansi: bool = False,
    greeting: bool = False,
    clock: Callable[[], datetime] = _utcnow,
) -> int:
    """Answer ``lines`` until they end or the user quits. Returns an exit status.

    Due digests of the console's subscriptions are shown before each reply.
    """
    chat = ConsoleChat(service, render.console_markup(ansi), clock)
    if greeting:
        out.write('techbrief: ask about Chinese tech; "/help" for commands, "/quit" to leave.\n')
    for line in lines:
        for digest in _due_digests(chat):
            out.write(digest + "\n\n")
        notice = loading_notice(service, line)
        if notice:
            out.write(notice + "\n")
            out.flush()
        try:
            reply = chat.reply(line)
        except Exception:
            # Keep the chat alive and the traceback out of the user's way.
            log.exception("console reply failed")
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
    except Exception:
        log.exception("console digests failed")
        return []


def terminal_lines(prompt: str = "› ") -> Iterator[str]:
    """Lines typed at a terminal, with line editing; ends on Ctrl-D or Ctrl-C."""
    while True:
        try:
            yield input(prompt)
        except (EOFError, KeyboardInterrupt):
            return
