"""Admin commands for sources: /addsource, /addtext (text or a document), /sources (paged),
/removesource, /refresh, /stats.

Every handler here is registered behind the admin filter (``filters.User``);
the page buttons of /sources are checked again when pressed, since a list
forwarded to someone else still carries them. Fetching runs on a fetch
thread (:meth:`Runtime.ingest`); the event loop only sends and receives.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop

from bot.core import render, texts
from bot.core.ingest import (
    MAX_DOCUMENT_BYTES,
    IngestReport,
    check_document,
    check_text,
    check_title,
)
from bot.telegram.callbacks import ShowSources, parse_callback
from bot.telegram.cards import html_reply, sources_reply, text_reply
from bot.telegram.handlers.common import keyboard_markup, send_reply, show_typing
from bot.telegram.runtime import BriefContext

__all__ = [
    "on_addsource",
    "on_addtext",
    "on_cancel",
    "on_document",
    "on_draft_text",
    "on_refresh",
    "on_removesource",
    "on_skip",
    "on_sources",
    "on_sources_page",
    "on_stats",
]


async def _say(message: Message, context: BriefContext, text: str) -> None:
    await send_reply(context.bot, message.chat_id, text_reply(text), reply_to=message.message_id)


async def _report(message: Message, context: BriefContext, report: IngestReport) -> None:
    reply = html_reply(render.ingest_report(report, render.HTML))
    await send_reply(context.bot, message.chat_id, reply, reply_to=message.message_id)


async def _reports(
    message: Message, context: BriefContext, result: Sequence[IngestReport] | str
) -> None:
    """Several reports in one reply, or the one line that stopped the work."""
    if isinstance(result, str):
        await _say(message, context, result)
        return
    markup = "\n\n".join(render.ingest_report(r, render.HTML) for r in result)
    await send_reply(context.bot, message.chat_id, html_reply(markup), message.message_id)


def _id_argument(context: BriefContext) -> tuple[int | None, bool]:
    """(the one ``<id>`` argument, ``#3`` or ``3``, or None when absent; whether it is valid)."""
    if not context.args:
        return None, True
    raw = context.args[0].lstrip("#")
    if len(context.args) > 1 or not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        return None, False
    return int(raw), True


async def on_addsource(update: Update, context: BriefContext) -> None:
    message = update.effective_message
    if message is None:
        return
    if not context.args:
        await _say(message, context, texts.ADDSOURCE_USAGE)
        return
    line = " ".join(context.args)
    await show_typing(context.bot, message.chat_id)
    reports = await context.runtime.ingest(lambda ingestion: ingestion.add_urls(line))
    await _reports(message, context, reports)


async def on_sources(update: Update, context: BriefContext) -> None:
    message = update.effective_message
    if message is None:
        return
    runtime = context.runtime
    page = await runtime.run(runtime.service.sources_page, 0)
    await send_reply(context.bot, message.chat_id, sources_reply(page), message.message_id)


async def on_sources_page(update: Update, context: BriefContext) -> None:
    """ "‹ Previous" / "Next ›" under /sources: edit the list to that page (admins only)."""
    query = update.callback_query
    if query is None:
        return
    runtime = context.runtime
    action = parse_callback(query.data)
    card = query.message
    if query.from_user.id not in runtime.settings.admins:
        await query.answer(texts.ADMINS_ONLY)
        return
    if not isinstance(action, ShowSources) or card is None:
        await query.answer(texts.SOURCES_EXPIRED)
        return
    page = await runtime.run(runtime.service.sources_page, action.page)
    reply = sources_reply(page)
    await query.answer()
    try:
        await context.bot.edit_message_text(
            reply.chunks[0],
            chat_id=card.chat.id,
            message_id=card.message_id,
            reply_markup=keyboard_markup(reply.keyboard),
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def on_removesource(update: Update, context: BriefContext) -> None:
    message = update.effective_message
    if message is None:
        return
    source_id, valid = _id_argument(context)
    if source_id is None or not valid:
        await _say(message, context, texts.REMOVESOURCE_USAGE)
        return
    runtime = context.runtime
    source = await runtime.run(runtime.service.remove_source, source_id)
    if source is None:
        await _say(message, context, texts.no_such_source(source_id))
    else:
        text = texts.removed_source(source.id, source.title, source.articles, source.passages)
        await _say(message, context, text)


async def on_refresh(update: Update, context: BriefContext) -> None:
    message = update.effective_message
    if message is None:
        return
    wanted, valid = _id_argument(context)
    if not valid:
        await _say(message, context, texts.REFRESH_USAGE)
        return
    await show_typing(context.bot, message.chat_id)
    result = await context.runtime.ingest(lambda ingestion: ingestion.refresh(wanted))
    await _reports(message, context, result)


async def on_stats(update: Update, context: BriefContext) -> None:
    message = update.effective_message
    if message is None:
        return
    runtime = context.runtime
    report = await runtime.run(runtime.service.stats_report)
    digests = await runtime.run(runtime.service.digests.stats, runtime.clock())
    reply = html_reply(
        render.stats_report(report, render.HTML)
        + "\n"
        + render.subscription_stats(digests, render.HTML)
    )
    await send_reply(context.bot, message.chat_id, reply, reply_to=message.message_id)


# -- /addtext: a short conversation ------------------------------------------------------


def _key(message: Message) -> tuple[int, int]:
    user = message.from_user
    return message.chat_id, user.id if user is not None else 0


async def on_addtext(update: Update, context: BriefContext) -> None:
    """Start: the next message is the text (or a document); then its title."""
    message = update.effective_message
    if message is None:
        return
    context.runtime.drafts.start(_key(message), context.runtime.clock())
    await _say(message, context, texts.ADDTEXT_START)


async def on_draft_text(update: Update, context: BriefContext) -> None:
    """An admin's text while /addtext waits for it (runs before questions; stops them)."""
    message = update.effective_message
    if message is None:
        return
    runtime = context.runtime
    key = _key(message)
    draft, expired = runtime.drafts.get(key, runtime.clock())
    if expired:
        await _say(message, context, texts.ADDTEXT_TIMEOUT)
        raise ApplicationHandlerStop
    if draft is None:
        return  # no conversation: a question, handled by the next group
    text = message.text or ""
    if draft.text is None:
        problem = check_text(text)  # refused now, not after the title was asked for
        if problem is not None:
            runtime.drafts.pop(key)
            await _say(message, context, texts.could_not_add(texts.PASTED_TEXT, problem))
            raise ApplicationHandlerStop
        runtime.drafts.set_text(key, text)
        await _say(message, context, texts.ADDTEXT_TITLE)
        raise ApplicationHandlerStop
    title, problem = check_title(text)
    if problem is not None:
        await _say(message, context, problem)
        raise ApplicationHandlerStop
    runtime.drafts.pop(key)
    await _add_text(message, context, draft.text, title or "")
    raise ApplicationHandlerStop


async def _add_text(message: Message, context: BriefContext, text: str, title: str) -> None:
    report = await context.runtime.ingest(lambda ingestion: ingestion.add_text(text, title))
    await _report(message, context, report)


async def on_skip(update: Update, context: BriefContext) -> None:
    """/skip while asked for a title: the first sentence becomes the title."""
    message = update.effective_message
    if message is None:
        return
    runtime = context.runtime
    draft, _ = runtime.drafts.get(_key(message), runtime.clock())
    if draft is None or draft.text is None:
        await _say(message, context, texts.unknown_command("/skip"))
        return
    runtime.drafts.pop(_key(message))
    await _add_text(message, context, draft.text, "")


async def on_cancel(update: Update, context: BriefContext) -> None:
    message = update.effective_message
    if message is None:
        return
    runtime = context.runtime
    if runtime.drafts.pop(_key(message)) is None:
        await _say(message, context, texts.unknown_command("/cancel"))
        return
    await _say(message, context, texts.ADDTEXT_CANCELLED)


async def on_document(update: Update, context: BriefContext) -> None:
    """An admin's .txt/.md/.html upload (with or without /addtext): one article.

    The name and size are checked before anything is downloaded; the caption,
    if any, is the title.
    """
    message = update.effective_message
    if message is None or message.document is None:
        return
    document = message.document
    context.runtime.drafts.pop(_key(message))
    name = document.file_name or "document.txt"
    problem = check_document(name, document.file_size)
    if problem is not None:
        await _say(message, context, texts.could_not_add(name, problem))
        return
    await show_typing(context.bot, message.chat_id)
    file = await context.bot.get_file(document.file_id)
    data = bytes(await file.download_as_bytearray())
    if len(data) > MAX_DOCUMENT_BYTES:  # the declared size may have been missing or wrong
        await _say(message, context, texts.could_not_add(name, texts.document_too_large(
            MAX_DOCUMENT_BYTES)))  # fmt: skip
        return
    title = message.caption or ""
    report = await context.runtime.ingest(
        lambda ingestion: ingestion.add_document(name, data, title=title)
    )
    await _report(message, context, report)
