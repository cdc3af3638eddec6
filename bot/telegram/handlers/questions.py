"""Questions: text in a private chat, ``/ask`` anywhere, a mention of or reply to the bot.

Not every such message is a question. Small talk ("hello", "thanks") gets its one
line; "more" (or "next", "more results") the next result of the chat's last answer,
as the "More" button would. In a group, a reply to the bot that is small talk or has
no words to search gets no message at all: members thanking it or laughing among
themselves should not draw a refusal into the group. A bare ``/ask`` or mention in
reply to someone else's message asks that message's question.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from telegram import Message, Update

from bot.core import texts
from bot.core.service import AnswerPage, Refusal, asks_for_more, clean_text, small_talk
from bot.telegram.callbacks import NextHit, ShowSource, ShowSources, parse_callback, question_id
from bot.telegram.cards import answer_reply, text_reply
from bot.telegram.handlers.common import (
    mentions_bot,
    question_text,
    quoted_question,
    replies_to_bot,
    send_reply,
    show_typing,
)
from bot.telegram.runtime import BriefContext
from retrieval.answer import Answer

__all__ = ["on_ask_command", "on_group_text", "on_private_text"]

T = TypeVar("T")

TYPING_AFTER = 0.2
"""Seconds an answer may take before the chat shows "typing…".

Telegram recommends the chat action only when a reply takes noticeable time;
most answers take milliseconds, and every action is one more request counted
against the bot's 30 messages per second.
"""


async def _on_corpus(message: Message, context: BriefContext, fn: Callable[[], T]) -> T:
    """``fn`` on the corpus thread, with "typing…" in the chat if it is slow."""
    work = asyncio.ensure_future(context.runtime.run(fn))
    done, _ = await asyncio.wait({work}, timeout=TYPING_AFTER)
    if not done:
        await show_typing(context.bot, message.chat_id)
    return await work


async def _reply(message: Message, context: BriefContext, result: Answer | Refusal) -> None:
    """The answer card (remembered for "More" and "more") or the refusal, as a reply."""
    runtime = context.runtime
    if isinstance(result, Refusal):
        reply = text_reply(result.message)
    else:
        qid = question_id(result.question)
        runtime.questions.remember(qid, result.question)
        runtime.last_answers.shown(message.chat_id, qid, 0)
        reply = answer_reply(AnswerPage(result), qid)
    await send_reply(context.bot, message.chat_id, reply, reply_to=message.message_id)


async def respond(
    message: Message,
    context: BriefContext,
    text: str,
    *,
    quoted: str | None = None,
    quiet: bool = False,
    usage: str | None = None,
) -> None:
    """Reply to ``text`` from ``message``: "more", small talk, or a question.

    ``quoted``: the question of the message this one replies to, asked instead when
    ``text`` has no words to search. ``quiet``: small talk and text without words to
    search get no message (a reply to the bot in a group). ``usage``: what an empty
    ``text`` gets when ``quoted`` holds no question either (``/ask``'s usage).
    """
    if asks_for_more(text):
        await more(message, context)
        return
    talk = small_talk(text)
    if talk is not None:
        if not quiet:
            await send_reply(
                context.bot, message.chat_id, text_reply(talk.message), message.message_id
            )
        return
    service = context.runtime.service
    result = await _on_corpus(message, context, lambda: service.ask(text))
    if isinstance(result, Refusal) and result.unsearchable and quoted:
        asked = await _on_corpus(message, context, lambda: service.ask(quoted))
        if not (isinstance(asked, Refusal) and asked.unsearchable):
            result = asked
    if isinstance(result, Refusal) and result.unsearchable:
        if quiet:
            return
        if usage is not None and not clean_text(text):
            result = Refusal(usage)
    await _reply(message, context, result)


async def more(message: Message, context: BriefContext) -> None:
    """The next result as a new card: of the card this message replies to, or else of
    the chat's last answer; or a pointer to the "More" button when neither is known."""
    runtime = context.runtime
    on_card = _card_actions(message, context.bot.id)
    wanted = next((a for a in on_card if isinstance(a, NextHit)), None)
    if wanted is None and any(isinstance(a, ShowSource) for a in on_card):
        # A reply to an answer card on its last hit ("Source" only).
        await send_reply(
            context.bot, message.chat_id, text_reply(texts.NO_MORE_RESULTS), message.message_id
        )
        return
    if wanted is None:
        last = runtime.last_answers.get(message.chat_id)
        wanted = NextHit(last[0], last[1] + 1) if last is not None else None
    question = runtime.questions.get(wanted.question_id) if wanted is not None else None
    if wanted is None or question is None:
        reply = text_reply(texts.more_without_answer())
        await send_reply(context.bot, message.chat_id, reply, message.message_id)
        return
    qid, index = wanted.question_id, wanted.index
    page = await _on_corpus(message, context, lambda: runtime.service.page(question, index))
    if isinstance(page, Refusal):
        reply = text_reply(page.message)  # past the last hit
    else:
        runtime.last_answers.shown(message.chat_id, qid, index)
        reply = answer_reply(page, qid)
    await send_reply(context.bot, message.chat_id, reply, message.message_id)


def _card_actions(message: Message, bot_id: int) -> list[NextHit | ShowSource | ShowSources]:
    """What the buttons of the bot's message that ``message`` replies to do (none for
    any other message)."""
    card = message.reply_to_message
    if card is None or not replies_to_bot(message, bot_id) or card.reply_markup is None:
        return []
    actions = (
        parse_callback(button.callback_data if isinstance(button.callback_data, str) else None)
        for row in card.reply_markup.inline_keyboard
        for button in row
    )
    return [a for a in actions if a is not None]


async def on_private_text(update: Update, context: BriefContext) -> None:
    """In a private chat every text message is a question (or small talk, or "more")."""
    message = update.effective_message
    if message is not None:
        await respond(message, context, message.text or "")


async def on_ask_command(update: Update, context: BriefContext) -> None:
    """``/ask <question>`` in any chat; a bare ``/ask`` in reply to a message asks that."""
    message = update.effective_message
    if message is None:
        return
    bot = context.bot
    await respond(
        message,
        context,
        question_text(message, bot.username),
        quoted=quoted_question(message, bot.id, bot.username),
        usage=texts.ASK_USAGE,
    )


async def on_group_text(update: Update, context: BriefContext) -> None:
    """In a group, only a mention of the bot or a reply to it is for the bot; the rest is
    silence. A reply without a mention is quiet: small talk or no words get no message."""
    message = update.effective_message
    if message is None:
        return
    bot = context.bot
    mentioned = mentions_bot(message, bot.username)
    if not mentioned and not replies_to_bot(message, bot.id):
        return
    await respond(
        message,
        context,
        question_text(message, bot.username),
        quoted=quoted_question(message, bot.id, bot.username) if mentioned else None,
        quiet=not mentioned,
    )
