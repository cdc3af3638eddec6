"""The console chat: the same conversation as in Telegram, in a terminal or over a pipe."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Iterator
from typing import BinaryIO, TextIO

from bot.core import render, texts
from bot.core.service import AnswerPage, Conversation, Refusal, TechBrief
from retrieval.index import IndexError_
from storage.errors import StorageError

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
    ("/sources", "the sources of the stored articles"),
    ("/stats", "how much is stored"),
    ("/help", "this help"),
    ("/quit", "leave (or Ctrl-D)"),
)

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


class ConsoleChat:
    """Turns one line of input into one reply (text), keeping the chat's state."""

    def __init__(self, service: TechBrief, markup: render.Markup) -> None:
        self._conversation = Conversation(service)
        self._service = service
        self._m = markup

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
        if command == "/sources":
            return render.sources_list(self._service.sources(), self._m)
        if command == "/stats":
            return render.stats_card(self._service.stats(), self._m)
        if command.startswith("/") and len(command) > 1 and command[1:].isalnum():
            return texts.unknown_command(command)
        return self._show(self._conversation.ask(text))

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
) -> int:
    """Answer ``lines`` until they end or the user quits. Returns an exit status."""
    chat = ConsoleChat(service, render.console_markup(ansi))
    if greeting:
        out.write('techbrief: ask about Chinese tech; "/help" for commands, "/quit" to leave.\n')
    for line in lines:
        notice = loading_notice(service, line)
        if notice:
            out.write(notice + "\n")
            out.flush()
        try:
            reply = chat.reply(line)
        except (sqlite3.Error, StorageError, IndexError_, OSError):
            raise  # the database, the index or the disk: the command stops with one line
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


def terminal_lines(prompt: str = "› ") -> Iterator[str]:
    """Lines typed at a terminal, with line editing; ends on Ctrl-D or Ctrl-C."""
    while True:
        try:
            yield input(prompt)
        except (EOFError, KeyboardInterrupt):
            return
