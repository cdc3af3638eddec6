"""Inline mode: ``@bot question`` in any chat offers up to ten answer cards to post.

Each result is one hit: the article's title, the best sentence as description,
and the HTML answer card as the message it posts, with a "Source" link button
(inline messages live in chats the bot may not be in, so their buttons are
links, not callbacks). An empty query, a question that cannot be searched and
an abstention all get no results and a button that opens the private chat,
where /start explains what the bot knows.
"""

from __future__ import annotations

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode

from bot.core.service import Refusal, clean_text
from bot.telegram.cards import INLINE_RESULTS, InlineArticle, inline_articles
from bot.telegram.runtime import BriefContext

__all__ = ["INLINE_CACHE_SECONDS", "on_inline_query"]

INLINE_CACHE_SECONDS = 10
"""Short: new articles should reach inline answers quickly."""

_HOW_TO = InlineQueryResultsButton("Type a question about Chinese tech", start_parameter="inline")
_NO_ANSWER = InlineQueryResultsButton(
    "No answer in my articles: see what I know", start_parameter="topics"
)


async def on_inline_query(update: Update, context: BriefContext) -> None:
    query = update.inline_query
    if query is None:
        return
    if not clean_text(query.query):
        await query.answer([], cache_time=INLINE_CACHE_SECONDS, button=_HOW_TO)
        return
    runtime = context.runtime
    result = await runtime.run(runtime.service.ask, query.query, INLINE_RESULTS)
    if isinstance(result, Refusal) or result.abstained:
        await query.answer([], cache_time=INLINE_CACHE_SECONDS, button=_NO_ANSWER)
        return
    results = [_article(a) for a in inline_articles(result)]
    await query.answer(results, cache_time=INLINE_CACHE_SECONDS)


def _article(article: InlineArticle) -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        id=article.result_id,
        title=article.title,
        description=article.description,
        input_message_content=InputTextMessageContent(
            article.message_html, parse_mode=ParseMode.HTML
        ),
        reply_markup=(
            InlineKeyboardMarkup([[InlineKeyboardButton("Source", url=article.source_url)]])
            if article.source_url
            else None
        ),
    )
