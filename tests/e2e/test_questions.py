"""Questions in a private chat: the answer card, paging with "More", "Source", abstention."""

from __future__ import annotations

import html
import time
from pathlib import Path

import pytest

from bot.telegram.app import build_application
from bot.telegram.handlers import questions
from tests.e2e.botapi import BotApiServer
from tests.e2e.conftest import READER, XIAOMI, XIAOMI_URL, Errors, Harness
from tests.e2e.harness import running, settings_for, wait_for

ROBOTAXI = "Who approved the Hong Kong IPOs of Pony.ai and WeRide?"  # one hit
DEEPSEEK = "AI model"  # five hits


async def test_a_question_gets_the_answer_card(bot: Harness) -> None:
    [card] = await bot.say(READER, ROBOTAXI)
    # The best sentence with the question's words in bold, the passage, the source line.
    assert card.text.startswith("The push includes high-profile candidates like Pony.ai and WeRide")
    assert "<b>Hong</b> <b>Kong</b>" in card.html
    assert "<blockquote expandable>" in card.html
    assert "📰" in card.text
    assert "WebProNews" in card.text
    assert card.text.endswith("The only result")
    # The only hit: no "More".
    assert [b["text"] for b in card.buttons] == ["Source"]


async def test_a_card_with_more_hits_has_more_and_source(bot: Harness) -> None:
    [card] = await bot.say(READER, DEEPSEEK)
    assert card.text.endswith("Result 1 of 5")
    assert [b["text"] for b in card.buttons] == ["More", "Source"]
    assert card.button("More")["callback_data"].startswith("m:")
    assert card.button("Source")["callback_data"].startswith("s:")
    assert all(len(b["callback_data"].encode()) <= 64 for b in card.buttons)


async def test_typing_is_shown_while_a_slow_answer_is_prepared(bot: Harness) -> None:
    # The corpus thread is busy (a long search, a big ingestion): the question waits.
    bot.app.runtime.executor.submit(time.sleep, 0.6)
    [card] = await bot.say(READER, ROBOTAXI)
    assert bot.api.chat_actions == [(READER, "typing")]
    [typing] = bot.api.calls_of("sendChatAction")
    [sent] = bot.api.calls_of("sendMessage")
    assert typing.at < sent.at
    assert "Pony.ai" in card.text


async def test_a_quick_answer_needs_no_typing_indicator(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A generous threshold: a busy test machine can stall an answer past 0.2 s,
    # but typing must never be sent for an answer that is ready in time.
    monkeypatch.setattr(questions, "TYPING_AFTER", 2.0)
    await bot.say(READER, ROBOTAXI)
    assert bot.api.chat_actions == []


async def test_more_pages_to_the_end_then_the_stale_button_is_answered_politely(
    bot: Harness,
) -> None:
    [card] = await bot.say(READER, DEEPSEEK)
    first = card.text
    footers = []
    presses = 0
    stale_data = None
    while "More" in [b["text"] for b in card.buttons]:
        stale_data = card.button("More")["callback_data"]
        answer = await bot.press(card, stale_data)
        presses += 1
        assert not answer.get("text"), answer  # a silent acknowledgement
        card = bot.api.message(card.chat_id, card.message_id)
        await wait_for(lambda c=card, n=presses: c.edits == n or None, what="the edit")
        footers.append(card.text.rsplit("\n", 1)[-1])
    # Same message edited each time; the last hit has "Source" only.
    assert presses == 4
    assert len(bot.api.sent(READER)) == 1
    assert card.text != first
    assert footers[-1].startswith(f"Result {presses + 1} of {presses + 1}")
    assert [b["text"] for b in card.buttons] == ["Source"]
    # An old "More" pressed again (it still exists on other copies of the card).
    assert stale_data is not None
    index = int(stale_data.rsplit(":", 1)[1])
    beyond = stale_data.rsplit(":", 1)[0] + f":{index + 1}"
    answer = await bot.press(card, beyond)
    assert "No more results" in answer["text"]


async def test_pressing_more_twice_is_harmless(bot: Harness, errors: Errors) -> None:
    [card] = await bot.say(READER, DEEPSEEK)
    data = card.button("More")["callback_data"]
    await bot.press(card, data)
    # The second edit would not change the message: Telegram refuses it, quietly for the user.
    second = await bot.press(card, data)
    assert not second.get("text")
    await bot.idle()
    assert bot.api.message(READER, card.message_id).edits == 1
    assert errors() == []


async def test_source_shows_the_full_passage_and_link(bot: Harness) -> None:
    [card] = await bot.say(READER, "How many orders did the Xiaomi SU7 get?")
    answer = await bot.press(card, card.button("Source")["callback_data"])
    assert not answer.get("text")
    [source] = await bot.replies(READER, card.message_id)
    assert source.reply_to == card.message_id
    assert XIAOMI.body.split("\n\n")[0] in source.text
    assert XIAOMI_URL in source.text
    assert f'<a href="{html.escape(XIAOMI_URL)}">' in source.html
    assert source.buttons == []


async def test_corpus_text_that_looks_like_markup_is_shown_as_text(bot: Harness) -> None:
    [card] = await bot.say(READER, "What did analysts say about the Xiaomi launch queue?")
    assert "<script>alert('su7')</script>" in card.text
    assert "&lt;script&gt;" in card.html
    assert "Xiaomi's SU7 <Max> & the R&D race" in card.text
    assert "Example <News> & Co" in card.text


async def test_a_question_the_articles_cannot_answer_is_declined(bot: Harness) -> None:
    [reply] = await bot.say(READER, "Who is the CEO of Pony.ai?")
    assert "I don't have an answer to that in my articles" in reply.text
    assert reply.buttons == []


async def test_a_question_of_only_common_words_gets_a_hint(bot: Harness) -> None:
    [reply] = await bot.say(READER, "what is the and of?")
    assert "meaningful words" in reply.text


async def test_more_works_after_a_restart(api: BotApiServer, db_path: Path) -> None:
    """The card quotes the question, so a restarted bot (which remembers nothing) can page."""
    settings = settings_for(api, db_path)
    async with running(build_application(settings)) as first:
        card = (await Harness(api, first).say(READER, DEEPSEEK))[0]
    async with running(build_application(settings)) as second:
        assert len(second.runtime.questions) == 0
        answer = await Harness(api, second).press(card, card.button("More")["callback_data"])
        assert not answer.get("text")
        await wait_for(lambda: api.message(READER, card.message_id).edits == 1 or None)
    assert "Result 2 of" in api.message(READER, card.message_id).text


async def test_more_for_a_forgotten_question_without_its_message_expires_politely(
    bot: Harness,
) -> None:
    [card] = await bot.say(READER, DEEPSEEK)
    data = card.button("More")["callback_data"]
    bot.app.runtime.questions = type(bot.app.runtime.questions)()
    # A card whose question message is gone (the server quotes nothing).
    card.reply_to = None
    message = bot.api._chats[READER].messages[card.message_id]
    message.pop("reply_to_message")
    answer = await bot.press(card, data)
    assert "expired" in answer["text"]


async def test_no_error_is_logged_for_ordinary_use(bot: Harness, errors: Errors) -> None:
    await bot.say(READER, ROBOTAXI)
    await bot.say(READER, "/help")
    await bot.idle()
    assert errors() == []
