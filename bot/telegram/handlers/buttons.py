"""The "More" and "Source" buttons under an answer card.

Every press gets an ``answerCallbackQuery`` — a polite one for data this bot
did not write (garbled, another bot's: "not one of mine"), for a "More" whose
question is unknown or is not the card's (forged, or the question was edited:
"expired"), or past the last hit ("no more results") — and never an exception.
"""

from __future__ import annotations

from telegram import CallbackQuery, MaybeInaccessibleMessage, Message, Update
from telegram.error import BadRequest

from bot.core import texts
from bot.core.service import Refusal, clean_text
from bot.telegram.callbacks import NextHit, ShowSource, ShowSources, parse_callback, question_id
from bot.telegram.cards import answer_reply, source_reply
from bot.telegram.handlers.common import keyboard_markup, question_text, send_reply
from bot.telegram.runtime import BriefContext

__all__ = ["on_button"]


async def on_button(update: Update, context: BriefContext) -> None:
    query = update.callback_query
    if query is None:
        return
    action = parse_callback(query.data)
    card = query.message
    if action is None or card is None or isinstance(action, ShowSources):
        # Inline-mode cards carry only link buttons, so a press without a message is not ours.
        await query.answer(texts.FOREIGN_BUTTON)
    elif isinstance(action, ShowSource):
        await show_source(query, card, action, context)
    else:
        await show_next(query, card, action, context)


async def show_source(
    query: CallbackQuery, card: MaybeInaccessibleMessage, action: ShowSource, context: BriefContext
) -> None:
    """Send the full passage and its link as a reply to the card."""
    runtime = context.runtime
    candidate = await runtime.run(runtime.service.source, action.passage_id)
    if candidate is None:
        await query.answer(texts.SOURCE_GONE)
        return
    await query.answer()
    await send_reply(context.bot, card.chat.id, source_reply(candidate), card.message_id)


async def show_next(
    query: CallbackQuery, card: MaybeInaccessibleMessage, action: NextHit, context: BriefContext
) -> None:
    """Edit the card in place to show the next hit."""
    runtime = context.runtime
    question = runtime.questions.get(action.question_id) or _asked_in(card, context)
    if question is None or question_id(clean_text(question)) != action.question_id:
        # Unknown, forged, or the question message was edited since: not this card's button.
        await query.answer(texts.EXPIRED_ANSWER)
        return
    page = await runtime.run(runtime.service.page, question, action.index)
    if isinstance(page, Refusal):
        await query.answer(page.message)  # e.g. a stale "More" past the last hit
        return
    runtime.questions.remember(action.question_id, page.answer.question)
    runtime.last_answers.shown(card.chat.id, action.question_id, action.index)  # for "more"
    reply = answer_reply(page, action.question_id)
    await query.answer()
    try:
        await context.bot.edit_message_text(
            reply.chunks[0],
            chat_id=card.chat.id,
            message_id=card.message_id,
            reply_markup=keyboard_markup(reply.keyboard),
        )
    except BadRequest as exc:
        # A double press edits to the same content; Telegram refuses that, nothing is lost.
        if "not modified" not in exc.message.lower():
            raise


def _asked_in(card: MaybeInaccessibleMessage, context: BriefContext) -> str | None:
    """The question a card answers, from the message it replies to (after a restart)."""
    if not isinstance(card, Message) or card.reply_to_message is None:
        return None
    question = question_text(card.reply_to_message, context.bot.username)
    return question or None
