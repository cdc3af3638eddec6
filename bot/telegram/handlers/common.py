"""What several handlers need: sending a :class:`Reply`, keyboards, reading the question."""

from __future__ import annotations

import logging

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyParameters,
)
from telegram.constants import ChatAction, ChatType, MessageEntityType
from telegram.error import TelegramError

from bot.telegram.callbacks import Keyboard
from bot.telegram.cards import Reply

__all__ = [
    "is_private",
    "keyboard_markup",
    "leading_command",
    "mentions_bot",
    "question_text",
    "quoted_question",
    "replies_to_bot",
    "send_reply",
    "show_typing",
]

log = logging.getLogger(__name__)


def keyboard_markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    """PTB's markup for a keyboard rendered as plain data (``None`` for no buttons)."""
    rows = [
        [
            InlineKeyboardButton(b.label, callback_data=b.callback_data)
            if b.callback_data is not None
            else InlineKeyboardButton(b.label, url=b.url)
            for b in row
        ]
        for row in keyboard
        if row
    ]
    return InlineKeyboardMarkup(rows) if rows else None


async def send_reply(bot: Bot, chat_id: int, reply: Reply, reply_to: int | None) -> None:
    """Send ``reply``'s chunks in order: the first quotes ``reply_to``, the last has the keys."""
    for number, chunk in enumerate(reply.chunks, 1):
        await bot.send_message(
            chat_id,
            chunk,
            reply_parameters=(
                ReplyParameters(reply_to, allow_sending_without_reply=True)
                if reply_to is not None and number == 1
                else None
            ),
            reply_markup=keyboard_markup(reply.keyboard) if number == len(reply.chunks) else None,
        )


async def show_typing(bot: Bot, chat_id: int) -> None:
    """ "typing…" in the chat; best effort, since the answer itself reports real failures."""
    try:
        await bot.send_chat_action(chat_id, ChatAction.TYPING)
    except TelegramError as exc:
        log.debug("typing indicator for chat %s failed: %s", chat_id, exc)


def _utf16(text: str) -> bytes:
    # surrogatepass: a lone surrogate in a message must not break the handler
    return text.encode("utf-16-le", "surrogatepass")


def _mentions_bot(message: Message, entity: MessageEntity, username: str) -> bool:
    if entity.type != MessageEntityType.MENTION:
        return False
    # Entity offsets and lengths count UTF-16 code units.
    units = _utf16(message.text or "")[entity.offset * 2 : (entity.offset + entity.length) * 2]
    return units.decode("utf-16-le", "replace").casefold() == f"@{username}".casefold()


def mentions_bot(message: Message, username: str) -> bool:
    """Whether ``message`` mentions the bot (``@username``, in any case)."""
    return any(_mentions_bot(message, e, username) for e in message.entities)


def replies_to_bot(message: Message, bot_id: int) -> bool:
    """Whether ``message`` is a reply to one of the bot's own messages."""
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == bot_id


def quoted_question(message: Message, bot_id: int, username: str) -> str | None:
    """The text of the message ``message`` replies to, when that is someone's message
    (not the bot's, nor an answer card posted inline "via" it): the question that a bare
    ``/ask`` or mention in reply to it means."""
    replied = message.reply_to_message
    if replied is None or replies_to_bot(message, bot_id):
        return None
    if replied.via_bot is not None and replied.via_bot.id == bot_id:
        return None
    if replied.text:
        return question_text(replied, username) or None
    return replied.caption or None


def question_text(message: Message, username: str) -> str:
    """The question in ``message``: its text without a leading command or mentions of the bot."""
    text = message.text or ""
    dropped = [
        e
        for e in message.entities
        if (e.type == MessageEntityType.BOT_COMMAND and e.offset == 0)
        or _mentions_bot(message, e, username)
    ]
    if not dropped:
        return text
    units = _utf16(text)
    keep = bytearray()
    cursor = 0
    for entity in sorted(dropped, key=lambda e: e.offset):
        keep += units[cursor : entity.offset * 2] + b"\x20\x00"
        cursor = (entity.offset + entity.length) * 2
    keep += units[cursor:]
    return keep.decode("utf-16-le", "replace").strip()


def leading_command(message: Message) -> str:
    """The command a message starts with, as typed (``/foo@bot``), or ``""``."""
    for entity in message.entities:
        if entity.type == MessageEntityType.BOT_COMMAND and entity.offset == 0:
            units = _utf16(message.text or "")[: entity.length * 2]
            return units.decode("utf-16-le", "replace")
    return ""


def is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE
