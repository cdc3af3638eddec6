"""Groups: only /ask, a mention of the bot or a reply to it gets an answer."""

from __future__ import annotations

from tests.e2e.conftest import READER, Harness

GROUP = -1001234
OTHER = 2002
QUESTION = "Which robotaxi firms filed for Hong Kong IPOs?"


async def _silence_after(bot: Harness, message_id: int) -> None:
    await bot.idle()
    assert [s for s in bot.api.sent(GROUP) if s.reply_to == message_id] == []


async def test_ordinary_group_chatter_gets_no_reply(bot: Harness) -> None:
    for text in [QUESTION, "lol", "@SomeOtherBot what about BYD?", "/ask@SomeOtherBot BYD"]:
        message = bot.api.group_message(GROUP, READER, text)
        await _silence_after(bot, message["message_id"])
    assert bot.api.sent(GROUP) == []
    assert all(chat != GROUP for chat, _ in bot.api.chat_actions)


async def test_ask_command_is_answered_in_a_group(bot: Harness) -> None:
    message = bot.api.group_message(GROUP, READER, f"/ask {QUESTION}")
    [card] = await bot.replies(GROUP, message["message_id"])
    assert "Pony.ai and WeRide" in card.text


async def test_ask_addressed_to_this_bot_by_name(bot: Harness) -> None:
    message = bot.api.group_message(GROUP, READER, f"/ask@TechBriefTestBot {QUESTION}")
    [card] = await bot.replies(GROUP, message["message_id"])
    assert "Pony.ai and WeRide" in card.text


async def test_ask_without_a_question_shows_usage(bot: Harness) -> None:
    message = bot.api.group_message(GROUP, READER, "/ask")
    [reply] = await bot.replies(GROUP, message["message_id"])
    assert reply.text.startswith("Usage: /ask <question>")


async def test_a_mention_is_a_question_without_the_mention(bot: Harness) -> None:
    message = bot.api.group_message(GROUP, READER, f"@techbrieftestbot {QUESTION}")
    [card] = await bot.replies(GROUP, message["message_id"])
    assert "Pony.ai and WeRide" in card.text
    # The mention in the middle of a sentence works too.
    message = bot.api.group_message(GROUP, OTHER, "hey @TechBriefTestBot, what did BYD unveil?")
    [card] = await bot.replies(GROUP, message["message_id"])
    assert "BYD" in card.text


async def test_a_reply_to_the_bot_is_a_question(bot: Harness) -> None:
    asked = bot.api.group_message(GROUP, READER, f"/ask {QUESTION}")
    [card] = await bot.replies(GROUP, asked["message_id"])
    follow_up = bot.api.group_message(
        GROUP, OTHER, "And how many new EV models did BYD unveil?", reply_to=card.message_id
    )
    [answer] = await bot.replies(GROUP, follow_up["message_id"])
    assert "BYD" in answer.text
    # A reply to someone else is not for the bot.
    aside = bot.api.group_message(GROUP, READER, "BYD EV models?", reply_to=follow_up["message_id"])
    await _silence_after(bot, aside["message_id"])


async def test_buttons_work_for_anyone_in_the_group(bot: Harness) -> None:
    asked = bot.api.group_message(GROUP, READER, "/ask AI model")
    [card] = await bot.replies(GROUP, asked["message_id"])
    query_id = bot.api.press(card, card.button("More")["callback_data"], user_id=OTHER)
    await bot.idle()
    assert bot.api.callback_answer(query_id) is not None
    assert bot.api.message(GROUP, card.message_id).text.endswith("Result 2 of 5")


async def test_unknown_commands_are_ignored_in_groups(bot: Harness) -> None:
    message = bot.api.group_message(GROUP, READER, "/weather Beijing")
    await _silence_after(bot, message["message_id"])
