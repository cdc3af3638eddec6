"""The console chat's admin conversation in process: /addtext with a real corpus and ingestion."""

from __future__ import annotations

import pytest

from bot.console import ConsoleChat
from bot.core import render
from bot.core.ingest import Ingestion
from bot.core.service import TechBrief
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
