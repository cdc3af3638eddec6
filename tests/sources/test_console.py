"""The console chat's admin conversation in process: /addtext with a real corpus and ingestion."""

from __future__ import annotations

import io

import pytest

from bot.console import ConsoleChat, run_console
from bot.core import render, texts
from bot.core.ingest import Ingestion
from bot.core.service import TechBrief
from tests.chinese import BYD_ZH
from tests.sources.test_ingest import PONY

M = render.console_markup(ansi=False)


@pytest.fixture
def chat(ingestion: Ingestion) -> ConsoleChat:
    return ConsoleChat(TechBrief(ingestion._corpus), M, ingestion=ingestion)


def test_skip_gives_the_source_the_derived_title(chat: ConsoleChat) -> None:
    # Trial bug 6: /sources showed "#4  (text; …)" and /removesource "Removed source #4 ()".
    assert chat.reply("/addtext") is not None
    for line in PONY:
        assert chat.reply(line) == ""
    assert (chat.reply(".") or "").startswith("Now its title")
    added = chat.reply("/skip") or ""
    assert added.startswith("Added source #2: “Pony.ai began charging fares")
    listing = chat.reply("/sources") or ""
    assert "#2 Pony.ai began charging fares" in listing
    removed = chat.reply("/removesource 2") or ""
    assert removed.startswith("Removed source #2 (Pony.ai began charging fares")


def test_a_command_while_the_title_is_asked_for_runs_and_the_title_is_asked_again(
    chat: ConsoleChat,
) -> None:
    # Tried as a user: "/sources" typed at the title prompt became the article's title.
    chat.reply("/addtext")
    for line in PONY:
        chat.reply(line)
    chat.reply(".")
    listing = chat.reply("/sources") or ""
    assert "#1 Seed articles" in listing
    assert listing.endswith(texts.ADDTEXT_TITLE)
    assert (chat.reply("/nonsense") or "").startswith("Unknown command /nonsense")
    added = chat.reply("Pony.ai starts charging robotaxi fares") or ""
    assert added.startswith("Added source #2: “Pony.ai starts charging robotaxi fares”")
    # A new /addtext at the title prompt drops the first draft and starts again.
    chat.reply("/addtext")
    for line in PONY:
        chat.reply(line)
    chat.reply(".")
    assert chat.reply("/addtext") == texts.ADDTEXT_START_CONSOLE
    assert chat.reply(".") == (
        "Could not add the text: that is too short for an article (at least 20 words, please)."
    )
    assert len(chat._service.sources()) == 2


def test_too_short_text_is_refused_before_the_title(chat: ConsoleChat) -> None:
    # Trial rough edge 7: the title was asked for first, then the text refused.
    chat.reply("/addtext")
    assert chat.reply("Too short.") == ""
    assert chat.reply(".") == (
        "Could not add the text: that is too short for an article (at least 20 words, please)."
    )
    # The conversation is over: the next line is a question again, not a title.
    assert "Unknown command /skip" in (chat.reply("/skip") or "")
    assert len(chat._service.sources()) == 1


def test_the_segmenter_notice_is_shown_once_while_chinese_is_pasted(
    ingestion: Ingestion,
) -> None:
    # Trial rough edge 7: each pasted Chinese line of an /addtext draft printed the notice.
    service = TechBrief(ingestion._corpus)
    assert service.corpus.analyzer.needs_segmenter(BYD_ZH[0])
    out = io.StringIO()
    lines = ["/addtext", *BYD_ZH, ".", "/skip", "比亚迪的闪充平台五分钟能增加多少续航？"]
    assert run_console(service, lines, out, ingestion=ingestion) == 0
    text = out.getvalue()
    assert text.count(texts.LOADING_SEGMENTER) == 1
    assert "Added source #2: “比亚迪周三在上海车展上发布了五款新的电动汽车" in text
    assert "四百公里" in text.split("Added source #2")[1]


def test_a_command_in_chinese_shows_no_segmenter_notice(ingestion: Ingestion) -> None:
    """ "/timezone 北京" asks nothing: the notice about the first Chinese question waits
    for one (before, it was printed before the time zone reply)."""
    service = TechBrief(ingestion._corpus)
    out = io.StringIO()
    assert run_console(service, ["/timezone 北京"], out, ingestion=ingestion) == 0
    assert texts.LOADING_SEGMENTER not in out.getvalue()
    assert "Asia/Shanghai" in out.getvalue()
