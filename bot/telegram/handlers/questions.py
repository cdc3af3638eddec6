"""Questions: text in a private chat, ``/ask`` anywhere, a mention of or reply to the bot."""

from __future__ import annotations

import asyncio

from telegram import Message, Update

from bot.core import texts
from bot.core.service import AnswerPage, Refusal
from bot.telegram.callbacks import question_id
from bot.telegram.cards import answer_reply, text_reply
from bot.telegram.handlers.common import addresses_bot, question_text, send_reply, show_typing
from bot.telegram.runtime import BriefContext

__all__ = ["on_ask_command", "on_group_text", "on_private_text"]


TYPING_AFTER = 0.2
"""Seconds an answer may take before the chat shows "typing…".

Telegram recommends the chat action only when a reply takes noticeable time;
most answers take milliseconds, and every action is one more request counted
against the bot's 30 messages per second.
"""


async def answer(message: Message, context: BriefContext, question: str) -> None:
    """Answer on the corpus thread ("typing…" if that is slow), reply with the card or why not."""
    runtime = context.runtime
    work = asyncio.ensure_future(runtime.run(runtime.service.ask, question))
    done, _ = await asyncio.wait({work}, timeout=TYPING_AFTER)
    if not done:
        await show_typing(context.bot, message.chat_id)
    result = await work
    if isinstance(result, Refusal):
        reply = text_reply(result.message)
    else:
        qid = question_id(result.question)
        runtime.questions.remember(qid, result.question)
        reply = answer_reply(AnswerPage(result), qid)
    await send_reply(context.bot, message.chat_id, reply, reply_to=message.message_id)


async def on_private_text(update: Update, context: BriefContext) -> None:
    """In a private chat every text message is a question."""
    message = update.effective_message
    if message is not None:
        await answer(message, context, message.text or "")


async def on_ask_command(update: Update, context: BriefContext) -> None:
    """``/ask <question>``, in any chat."""
    message = update.effective_message
    if message is None:
        return
    question = question_text(message, context.bot.username)
    if not question:
        await send_reply(
            context.bot, message.chat_id, text_reply(texts.ASK_USAGE), message.message_id
        )
        return
    await answer(message, context, question)


async def on_group_text(update: Update, context: BriefContext) -> None:
    """In a group, only a reply to the bot or a mention of it is a question; the rest is silence."""
    message = update.effective_message
    if message is None or not addresses_bot(message, context.bot.id, context.bot.username):
        return
    await answer(message, context, question_text(message, context.bot.username))
