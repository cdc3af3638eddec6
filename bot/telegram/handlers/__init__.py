"""Telegram handlers: read the update, ask the service on the corpus thread, render, reply.

:func:`register` adds them to the application in the order that decides
which one handles an update.
"""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler, CommandHandler, InlineQueryHandler, MessageHandler
from telegram.ext import filters as f

from bot.telegram.callbacks import SUBSCRIPTION_CALLBACK
from bot.telegram.handlers.buttons import on_button
from bot.telegram.handlers.commands import (
    ADMIN_COMMANDS,
    ADMIN_ONLY_COMMANDS,
    PUBLIC_COMMANDS,
    on_admins_only,
    on_help,
    on_start,
    on_unknown_command,
)
from bot.telegram.handlers.errors import on_error
from bot.telegram.handlers.inline import on_inline_query
from bot.telegram.handlers.questions import on_ask_command, on_group_text, on_private_text
from bot.telegram.handlers.sources import (
    on_addsource,
    on_addtext,
    on_cancel,
    on_document,
    on_draft_text,
    on_refresh,
    on_removesource,
    on_skip,
    on_sources,
    on_sources_page,
    on_stats,
)
from bot.telegram.handlers.subscriptions import (
    TIME_REPLY,
    on_digest,
    on_migrate,
    on_subscribe,
    on_subscription_button,
    on_subscriptions,
    on_time_reply,
    on_timezone,
    on_topics,
    on_unsubscribe,
)
from bot.telegram.runtime import TechBriefApplication

__all__ = ["ADMIN_COMMANDS", "PUBLIC_COMMANDS", "register"]


def register(application: TechBriefApplication) -> None:
    # New messages only: answering an edited message would post a second card.
    new = f.UpdateType.MESSAGE
    # Our own inline results, posted by users, come back as messages "via" the bot.
    own = ~f.VIA_BOT
    # Within one group the first matching handler wins: named commands before
    # the unknown-command fallback, commands before plain text.
    application.add_handler(CommandHandler("start", on_start, filters=new))
    application.add_handler(CommandHandler("help", on_help, filters=new))
    application.add_handler(CommandHandler("ask", on_ask_command, filters=new))
    # Subscriptions (bot.telegram.handlers.subscriptions); group admins are checked inside.
    application.add_handler(CommandHandler("subscribe", on_subscribe, filters=new))
    application.add_handler(CommandHandler("subscriptions", on_subscriptions, filters=new))
    application.add_handler(CommandHandler("unsubscribe", on_unsubscribe, filters=new))
    application.add_handler(CommandHandler("digest", on_digest, filters=new))
    application.add_handler(CommandHandler("timezone", on_timezone, filters=new))
    application.add_handler(CommandHandler("topics", on_topics, filters=new))
    application.add_handler(MessageHandler(f.StatusUpdate.MIGRATE, on_migrate))
    # A typed time answers the bot's prompt; before plain text, which would be a question.
    application.add_handler(MessageHandler(new & TIME_REPLY & ~f.COMMAND, on_time_reply))
    # Admin paths carry the admin filter; anyone else gets one refusal. Edited
    # messages match none of them (``new``): an edited command is never run again.
    admin = f.User(user_id=application.runtime.settings.admins)
    for name, callback in (
        ("addsource", on_addsource),
        ("addtext", on_addtext),
        ("sources", on_sources),
        ("removesource", on_removesource),
        ("refresh", on_refresh),
        ("stats", on_stats),
        ("cancel", on_cancel),
        ("skip", on_skip),
    ):
        application.add_handler(CommandHandler(name, callback, filters=new & admin))
    application.add_handler(CommandHandler(ADMIN_ONLY_COMMANDS, on_admins_only, filters=new))
    # /addtext's text, before questions (group -1): it stops the update when it took it.
    application.add_handler(
        MessageHandler(new & admin & f.TEXT & ~f.COMMAND, on_draft_text), group=-1
    )
    private = f.ChatType.PRIVATE
    application.add_handler(MessageHandler(new & admin & private & f.Document.ALL, on_document))
    application.add_handler(MessageHandler(new & private & f.Document.ALL, on_admins_only))
    application.add_handler(MessageHandler(new & f.COMMAND, on_unknown_command))
    application.add_handler(
        MessageHandler(new & own & f.ChatType.PRIVATE & f.TEXT & ~f.COMMAND, on_private_text)
    )
    application.add_handler(
        MessageHandler(new & own & f.ChatType.GROUPS & f.TEXT & ~f.COMMAND, on_group_text)
    )
    application.add_handler(CallbackQueryHandler(on_sources_page, pattern=r"^src:"))
    application.add_handler(
        CallbackQueryHandler(on_subscription_button, pattern=SUBSCRIPTION_CALLBACK)
    )
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(InlineQueryHandler(on_inline_query))
    application.add_error_handler(on_error)
