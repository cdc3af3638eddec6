"""The error handler: log with the update's context, tell the admins (rarely), apologise briefly.

Users never see a traceback. A chat that blocked the bot (``Forbidden``) is
logged and left alone; a network blip while polling is logged as a warning
(python-telegram-bot retries polling by itself); anything else is logged with
its traceback, reported to each admin at most once per ten minutes, and the
user whose update failed gets a one-line apology.
"""

from __future__ import annotations

import html
import logging

from telegram import Bot, Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from bot.core import texts
from bot.telegram.runtime import BriefContext, Runtime

__all__ = ["notify_admins", "on_error"]

log = logging.getLogger(__name__)


async def on_error(update: object, context: BriefContext) -> None:
    error = context.error
    where = _describe(update)
    if isinstance(error, Forbidden):
        log.info("%s: the bot cannot write there (%s)", where, error.message)
        return
    if update is None and isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        log.warning("polling: %s", error.message)
        return
    log.error("%s failed", where, exc_info=error)
    await notify_admins(context.bot, context.runtime, f"{type(error).__name__}: {error} ({where})")
    if isinstance(update, Update):
        await _apologise(update, context)


def _describe(update: object) -> str:
    """Which update failed, by ids and kind (not its text: that is the user's)."""
    if not isinstance(update, Update):
        return "no update" if update is None else f"job or task {type(update).__name__}"
    kind = next(
        (k for k in ("message", "callback_query", "inline_query") if getattr(update, k)), "update"
    )
    chat = update.effective_chat.id if update.effective_chat else None
    user = update.effective_user.id if update.effective_user else None
    return f"update {update.update_id} ({kind}, chat {chat}, user {user})"


async def notify_admins(bot: Bot, runtime: Runtime, text: str) -> None:
    """Tell each admin ``text`` (secrets masked), at most once per admin per interval."""
    notice = f"⚠️ techbrief error: {html.escape(runtime.redactor(text)[:500], quote=False)}"
    now = runtime.clock()
    for admin in sorted(runtime.settings.admins):
        if not runtime.notices.due(admin, now):
            continue
        try:
            await bot.send_message(admin, notice)
        except TelegramError as exc:
            log.warning("could not tell admin %s about an error: %s", admin, exc.message)


async def _apologise(update: Update, context: BriefContext) -> None:
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(texts.APOLOGY)
        elif update.effective_message is not None and update.inline_query is None:
            await update.effective_message.reply_text(html.escape(texts.APOLOGY, quote=False))
    except TelegramError as exc:
        log.warning("could not apologise for update %s: %s", update.update_id, exc.message)
