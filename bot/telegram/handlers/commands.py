"""``/start`` (deep-link payloads too), ``/help``, the admin commands, unknown commands."""

from __future__ import annotations

from telegram import Message, Update

from bot.core import render, texts
from bot.telegram.cards import html_reply, text_reply
from bot.telegram.handlers.common import is_private, leading_command, send_reply
from bot.telegram.handlers.subscriptions import start_payload
from bot.telegram.runtime import BriefContext
from retrieval.topics import TOPICS, Topic

__all__ = [
    "ADMIN_COMMANDS",
    "ADMIN_HELP",
    "ADMIN_ONLY_COMMANDS",
    "PUBLIC_COMMANDS",
    "on_admins_only",
    "on_help",
    "on_start",
    "on_unknown_command",
]

PUBLIC_COMMANDS: tuple[tuple[str, str], ...] = (
    ("ask", "Ask about Chinese tech companies and policy"),
    ("subscribe", "Daily digest of a topic: /subscribe ev 07:30"),
    ("subscriptions", "This chat's digests, to stop or retime"),
    ("unsubscribe", "Stop a digest: /unsubscribe ev (or all)"),
    ("digest", "Preview the next digest now"),
    ("timezone", "Time zone of the digests: /timezone Asia/Shanghai"),
    ("topics", "The built-in topics"),
    ("help", "Example questions, topics and commands"),
)
"""The command menu everyone sees (``setMyCommands``, default scope)."""

ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    *PUBLIC_COMMANDS,
    ("addsource", "Add an article URL or an RSS/Atom feed (admins)"),
    ("addtext", "Add pasted text or a .txt/.md/.html file (admins)"),
    ("sources", "Stored sources with their #id (admins)"),
    ("removesource", "Remove a source by its #id (admins)"),
    ("refresh", "Poll one feed now, or every feed (admins)"),
    ("stats", "How much is stored (admins)"),
)
"""The command menu in each admin's private chat (chat scope)."""

ADMIN_ONLY_COMMANDS: tuple[str, ...] = tuple(
    name for name, _ in ADMIN_COMMANDS if name not in dict(PUBLIC_COMMANDS)
)
"""Commands only admins may run: their handlers carry the admin filter."""


ADMIN_HELP: tuple[tuple[str, str], ...] = (
    ("/addsource <url>", "add an article page or an RSS/Atom feed"),
    ("/addtext", "add pasted text, or a .txt/.md/.html file, as an article"),
    ("/sources", "the sources with their #id, last fetch and last error"),
    ("/removesource <id>", "remove a source and its articles"),
    ("/refresh [id]", "poll one feed now, or every feed"),
    ("/stats", "how much is stored, questions today, subscribers, recent errors"),
)
"""What an admin's /help adds (in a private chat, where the admin's command menu is)."""


def _is_admin_in_private(message: Message, context: BriefContext) -> bool:
    user = message.from_user
    return is_private(message) and user is not None and user.id in context.runtime.settings.admins


def _help(topics: tuple[Topic, ...], username: str, *, admin: bool = False) -> str:
    return render.help_card(
        topics,
        render.HTML,
        admin_commands=ADMIN_HELP if admin else (),
        commands=(
            ("any text", "in a private chat, a question"),
            ("/ask <question>", "a question, in any chat"),
            (f"@{username}", "in a group: mention me or reply to me to ask"),
            (f"@{username} <question>", "in any chat: pick an answer to post (inline)"),
            ("More, Source", "buttons under an answer: the next result, the full passage"),
            ("more", "typed after an answer: its next result, as More gives"),
            ("/subscribe <topic> [time]", "a daily digest of new articles (default 08:00)"),
            ("/subscriptions", "this chat's digests, with Unsubscribe and Change time"),
            ("/unsubscribe <topic|all>", "stop digests"),
            ("/digest [topic]", "preview the next digest now"),
            ("/timezone <city>", "the time zone of this chat's digests (a city, country or UTC+8)"),
            ("/topics", "the built-in topics"),
            ("/help", "this help"),
        ),
    )


async def on_start(update: Update, context: BriefContext) -> None:
    """Welcome; a deep-link payload naming a topic (``?start=ev``) leads with that topic."""
    message = update.effective_message
    if message is None:
        return
    payload = context.args[0].casefold() if context.args else ""
    # Resumes paused digests; "subscribe_<topic>" subscribes (and replies).
    if await start_payload(message, context, payload):
        return
    topics = tuple(sorted(TOPICS, key=lambda t: t.name != payload))
    admin = _is_admin_in_private(message, context)
    reply = html_reply(_help(topics, context.bot.username, admin=admin))
    await send_reply(context.bot, message.chat_id, reply, reply_to=None)


async def on_help(update: Update, context: BriefContext) -> None:
    message = update.effective_message
    if message is not None:
        admin = _is_admin_in_private(message, context)
        reply = html_reply(_help(TOPICS, context.bot.username, admin=admin))
        await send_reply(context.bot, message.chat_id, reply, reply_to=message.message_id)


async def on_admins_only(update: Update, context: BriefContext) -> None:
    """An admin command from someone who is not an admin: refuse, do nothing."""
    message = update.effective_message
    if message is not None:
        reply = text_reply(texts.ADMINS_ONLY)
        await send_reply(context.bot, message.chat_id, reply, reply_to=message.message_id)


async def on_unknown_command(update: Update, context: BriefContext) -> None:
    """A command this bot does not have: say so in private chats, stay silent in groups."""
    message = update.effective_message
    if message is None or not is_private(message):
        return
    command = leading_command(message) or "/"
    reply = text_reply(texts.unknown_command(command))
    await send_reply(context.bot, message.chat_id, reply, reply_to=message.message_id)
