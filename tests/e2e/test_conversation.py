"""Conversation edges found in a user trial: small talk, "more" typed, replies in groups,
``/ask`` or a bare mention as a reply to someone else's question."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import texts
from bot.telegram.app import build_application
from retrieval.topics import TOPICS
from tests.e2e.botapi import BotApiServer
from tests.e2e.conftest import READER, Errors, Harness
from tests.e2e.harness import running, settings_for, wait_for

GROUP = -1001234
OTHER = 2002
DEEPSEEK = "AI model"  # five hits
HEARSAY = "does anyone know what BYD unveiled in April?"
GREETING = texts.greeting(TOPICS[1].example)


async def _silence_after(bot: Harness, chat_id: int, message_id: int) -> None:
    await bot.idle()
    assert [s for s in bot.api.sent(chat_id) if s.reply_to == message_id] == []


# -- 1. small talk in a private chat ----------------------------------------------------


@pytest.mark.parametrize(
    ("said", "reply"),
    [
        ("hello", GREETING),
        ("hi", GREETING),
        ("你好", GREETING),
        ("thanks!", texts.THANKS_REPLY),
        ("thank you", texts.THANKS_REPLY),
        ("谢谢", texts.THANKS_REPLY),
        ("ok", texts.ACKNOWLEDGED),
        ("lol", texts.ACKNOWLEDGED),
    ],
)
async def test_small_talk_gets_one_friendly_line(bot: Harness, said: str, reply: str) -> None:
    # Before the fix each got "I don't have an answer to that in my articles. …".
    [sent] = await bot.say(READER, said)
    assert sent.text == reply
    assert sent.buttons == []


async def test_a_question_that_opens_with_a_greeting_is_still_answered(bot: Harness) -> None:
    [card] = await bot.say(READER, "Hi! How many new EV models did BYD unveil?")
    assert "BYD" in card.text
    assert "📰" in card.text


# -- 2. replies to the bot in a group -----------------------------------------------------


async def test_small_talk_or_no_words_in_a_reply_to_the_bot_gets_no_message_in_a_group(
    bot: Harness, errors: Errors
) -> None:
    asked = bot.api.group_message(GROUP, READER, f"/ask {DEEPSEEK}")
    [card] = await bot.replies(GROUP, asked["message_id"])
    for text in ["thanks", "lol", "ok", "thank you!", "👍", "?", "the of and"]:
        reply = bot.api.group_message(GROUP, OTHER, text, reply_to=card.message_id)
        # Before the fix: the refusal ("I don't have an answer…", "I need a few
        # meaningful words…") was posted into the group.
        await _silence_after(bot, GROUP, reply["message_id"])
    assert len(bot.api.sent(GROUP)) == 1
    # A real question in a reply is answered as before.
    follow_up = bot.api.group_message(
        GROUP, OTHER, "How many new EV models did BYD unveil?", reply_to=card.message_id
    )
    [answer] = await bot.replies(GROUP, follow_up["message_id"])
    assert "BYD" in answer.text
    # A greeting that mentions the bot is addressed to it: it gets its line.
    hello = bot.api.group_message(GROUP, OTHER, "hi @TechBriefTestBot")
    [greeted] = await bot.replies(GROUP, hello["message_id"])
    assert greeted.text == GREETING
    assert errors() == []


# -- 3. /ask or a bare mention as a reply to someone else's question -----------------------


@pytest.mark.parametrize(
    "command", ["/ask", "/ask@TechBriefTestBot", "@TechBriefTestBot", "@TechBriefTestBot ?"]
)
async def test_ask_or_a_mention_in_reply_to_a_question_answers_that_question(
    bot: Harness, command: str
) -> None:
    question = bot.api.group_message(GROUP, OTHER, HEARSAY)
    await _silence_after(bot, GROUP, question["message_id"])
    asked = bot.api.group_message(GROUP, READER, command, reply_to=question["message_id"])
    # Before the fix: the /ask usage, or "Ask me a question about Chinese tech…".
    [card] = await bot.replies(GROUP, asked["message_id"])
    assert card.reply_to == asked["message_id"]
    assert "BYD unveiled" in card.text
    assert "📰" in card.text


async def test_ask_in_reply_works_in_a_private_chat_too(bot: Harness) -> None:
    own = bot.api.private_message(READER, "remind me: " + HEARSAY)
    [first] = await bot.replies(READER, own["message_id"])
    asked = bot.api.private_message(READER, "/ask", reply_to=own["message_id"])
    [card] = await bot.replies(READER, asked["message_id"])
    assert "BYD unveiled" in card.text
    assert card.text == first.text


async def test_ask_without_a_question_still_shows_usage_when_the_reply_has_none(
    bot: Harness,
) -> None:
    # Replying to the bot's own message, or to one with no words to search, is no question.
    asked = bot.api.group_message(GROUP, READER, f"/ask {DEEPSEEK}")
    [card] = await bot.replies(GROUP, asked["message_id"])
    again = bot.api.group_message(GROUP, READER, "/ask", reply_to=card.message_id)
    [usage] = await bot.replies(GROUP, again["message_id"])
    assert usage.text == texts.ASK_USAGE
    smile = bot.api.group_message(GROUP, OTHER, "😀")
    ask = bot.api.group_message(GROUP, READER, "/ask", reply_to=smile["message_id"])
    [usage] = await bot.replies(GROUP, ask["message_id"])
    assert usage.text == texts.ASK_USAGE


# -- 4. "more" typed --------------------------------------------------------------------------


async def test_more_typed_in_a_private_chat_shows_the_next_result(bot: Harness) -> None:
    [nothing] = await bot.say(READER, "more")
    assert nothing.text == texts.more_without_answer()
    [card] = await bot.say(READER, DEEPSEEK)
    assert card.text.endswith("Result 1 of 5")
    # Before the fix: "I need a few meaningful words to search for…".
    [second] = await bot.say(READER, "more")
    assert second.text.endswith("Result 2 of 5")
    assert [b["text"] for b in second.buttons] == ["More", "Source"]
    # The More button and the typed words share the place in the answer.
    await bot.press(second, second.button("More")["callback_data"])
    [fourth] = await bot.say(READER, "next")
    assert fourth.text.endswith("Result 4 of 5")
    [fifth] = await bot.say(READER, "More results")
    assert fifth.text.endswith("Result 5 of 5")
    assert [b["text"] for b in fifth.buttons] == ["Source"]
    [end] = await bot.say(READER, "more")
    assert end.text == texts.NO_MORE_RESULTS
    # A new question starts again.
    [card] = await bot.say(READER, "China AI")
    assert card.text.endswith("Result 1 of 10")
    [again] = await bot.say(READER, "more")
    assert again.text.endswith("Result 2 of 10")


async def test_more_as_a_reply_to_a_card_in_a_group_pages_that_card(bot: Harness) -> None:
    asked = bot.api.group_message(GROUP, READER, f"/ask {DEEPSEEK}")
    [card] = await bot.replies(GROUP, asked["message_id"])
    other = bot.api.group_message(GROUP, OTHER, "/ask How many new EV models did BYD unveil?")
    await bot.replies(GROUP, other["message_id"])
    more = bot.api.group_message(GROUP, OTHER, "more", reply_to=card.message_id)
    [second] = await bot.replies(GROUP, more["message_id"])
    assert second.text.endswith("Result 2 of 5")
    assert second.text != card.text
    # Typed plainly, not addressed to the bot: silence, as for any group chatter.
    plain = bot.api.group_message(GROUP, OTHER, "more")
    await _silence_after(bot, GROUP, plain["message_id"])


async def test_more_typed_after_a_restart_points_to_the_more_button(
    api: BotApiServer, db_path: Path
) -> None:
    settings = settings_for(api, db_path)
    async with running(build_application(settings)) as first:
        [card] = await Harness(api, first).say(READER, DEEPSEEK)
    async with running(build_application(settings)) as second:
        again = Harness(api, second)
        [pointer] = await again.say(READER, "more")
        assert pointer.text == texts.more_without_answer()
        # The button itself still works: the card quotes its question.
        answer = await again.press(card, card.button("More")["callback_data"])
        assert not answer.get("text")
        await wait_for(lambda: api.message(READER, card.message_id).edits == 1 or None)
        # ...and it tells the chat where it is: "more" continues from there.
        [third] = await again.say(READER, "more")
        assert third.text.endswith("Result 3 of 5")
