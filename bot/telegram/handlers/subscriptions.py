"""Subscriptions in Telegram: the commands, their buttons, the typed time, group migrations.

``/subscribe <topic> [time]``, ``/subscriptions``, ``/unsubscribe <topic|all>``,
``/digest [topic]``, ``/timezone <Area/City>``, ``/topics``, the deep link
``/start subscribe_<topic>``, and the buttons "Unsubscribe", "Change time" (a
keyboard of common times plus "type HH:MM": the time is read as a reply to the
prompt, or typed plainly by the one who pressed within five minutes). In groups,
only the group's admins (asked of Telegram with ``getChatMember``; an anonymous
admin writes as the group itself) may change the group's subscriptions; anyone
may look.
The work runs on the corpus thread; what it returns is rendered there too.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from telegram import Bot, CallbackQuery, Chat, ForceReply, Message, Update, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, filters

from bot.core import render, texts
from bot.core.digests import Digests, topic_of
from bot.core.schedule import parse_local_time, zone_label
from bot.core.service import Refusal
from bot.telegram.callbacks import (
    ChangeTime,
    SetTime,
    TypeTime,
    Unsubscribe,
    parse_subscription_callback,
)
from bot.telegram.cards import (
    Reply,
    digest_reply,
    html_reply,
    subscription_reply,
    text_reply,
    time_picker_reply,
)
from bot.telegram.handlers.common import keyboard_markup, send_reply
from bot.telegram.runtime import BriefContext

__all__ = [
    "DEEP_LINK_PREFIX",
    "TIME_REPLY",
    "on_digest",
    "on_migrate",
    "on_subscribe",
    "on_subscription_button",
    "on_subscriptions",
    "on_time_reply",
    "on_timezone",
    "on_topics",
    "on_typed_time",
    "on_unsubscribe",
    "start_payload",
]

log = logging.getLogger(__name__)

DEEP_LINK_PREFIX = "subscribe_"
"""``t.me/<bot>?start=subscribe_ev`` subscribes the chat to ``ev``."""

_TYPED_TOPIC = re.compile(re.escape(texts.TIME_REPLY_PREFIX) + "(.+?) as HH:MM")
"""The topic in the prompt: its label ("electric vehicles"; free text in quotes), or the
topic's name in quotes as prompts said it before ("“ev”")."""


class _TimeReply(filters.MessageFilter):
    """A text replying to the bot's "Reply with the new time for …" prompt."""

    __slots__ = ()

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return (
            message.text is not None
            and replied is not None
            and replied.from_user is not None
            and replied.from_user.is_bot
            and (replied.text or "").startswith(texts.TIME_REPLY_PREFIX)
        )


TIME_REPLY = _TimeReply(name="techbrief.TimeReply")


# -- who may change a chat's subscriptions ------------------------------------------------


async def may_change(bot: Bot, chat: Chat, user: User | None, sender_chat: Chat | None) -> bool:
    """Anyone in a private chat; in a group, its admins (an anonymous admin is the group)."""
    if chat.type == ChatType.PRIVATE:
        return True
    if sender_chat is not None and sender_chat.id == chat.id:
        return True
    if user is None:
        return False
    try:
        member = await bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:
        log.info("chat %s: cannot tell whether user %s is an admin (%s)", chat.id, user.id, exc)
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def _allowed(
    message: Message, context: BriefContext, refusal: str = texts.GROUP_ADMINS_ONLY
) -> bool:
    """Whether the author of ``message`` may change the chat's subscriptions or time zone
    (else say so with ``refusal``)."""
    if await may_change(context.bot, message.chat, message.from_user, message.sender_chat):
        return True
    await send_reply(context.bot, message.chat_id, text_reply(refusal), message.message_id)
    return False


def _arguments(context: BriefContext) -> str:
    return " ".join(context.args or [])


async def _reply(message: Message, context: BriefContext, reply: Reply) -> None:
    await send_reply(context.bot, message.chat_id, reply, reply_to=message.message_id)


# -- work on the corpus thread: core call and rendering -------------------------------------


def _subscribe(digests: Digests, chat_id: int, raw: str, now: datetime) -> Reply:
    result = digests.subscribe(chat_id, raw, now)
    if isinstance(result, Refusal):
        return text_reply(result.message)
    digests.resume_chat(chat_id, now)  # the chat can hear us again
    next_at = digests.next_delivery(result.subscription, now)
    return html_reply(render.subscribed(result, next_at, render.HTML))


# -- commands ----------------------------------------------------------------------------


async def on_subscribe(update: Update, context: BriefContext) -> None:
    message = update.effective_message
    if message is None or not await _allowed(message, context):
        return
    runtime = context.runtime
    reply = await runtime.run(
        _subscribe, runtime.service.digests, message.chat_id, _arguments(context), runtime.clock()
    )
    await _reply(message, context, reply)


async def start_payload(message: Message, context: BriefContext, payload: str) -> bool:
    """``/start``: resume the chat's paused subscriptions; a ``subscribe_<topic>`` payload
    subscribes (``_`` stands for a space). Returns whether the payload was ours (replied)."""
    runtime = context.runtime
    digests = runtime.service.digests
    resumed = await runtime.run(digests.resume_chat, message.chat_id, runtime.clock())
    if resumed:
        log.info("chat %s wrote /start: %d subscriptions resumed", message.chat_id, resumed)
    if not payload.casefold().startswith(DEEP_LINK_PREFIX):
        return False
    if not await _allowed(message, context):
        return True
    topic = payload[len(DEEP_LINK_PREFIX) :].replace("_", " ")
    reply = await runtime.run(_subscribe, digests, message.chat_id, topic, runtime.clock())
    await _reply(message, context, reply)
    return True


async def on_subscriptions(update: Update, context: BriefContext) -> None:
    """Each subscription in its own message, with "Unsubscribe" and "Change time"."""
    message = update.effective_message
    if message is None:
        return
    runtime = context.runtime
    digests = runtime.service.digests
    now = runtime.clock()

    def cards() -> list[Reply]:
        return [
            subscription_reply(s, digests.next_delivery(s, now))
            for s in digests.subscriptions(message.chat_id)
        ]

    replies = await runtime.run(cards)
    if not replies:
        replies = [text_reply(texts.NO_SUBSCRIPTIONS)]
    for number, reply in enumerate(replies):
        await send_reply(
            context.bot, message.chat_id, reply, message.message_id if number == 0 else None
        )


async def on_unsubscribe(update: Update, context: BriefContext) -> None:
    message = update.effective_message
    if message is None or not await _allowed(message, context):
        return
    runtime = context.runtime
    gone = await runtime.run(
        runtime.service.digests.unsubscribe, message.chat_id, _arguments(context)
    )
    if isinstance(gone, Refusal):
        await _reply(message, context, text_reply(gone.message))
    else:
        await _reply(message, context, html_reply(render.unsubscribed(gone, render.HTML)))


async def on_digest(update: Update, context: BriefContext) -> None:
    """A preview now: the next digest of each subscription (or of a topic); records nothing."""
    message = update.effective_message
    if message is None:
        return
    runtime = context.runtime
    views = await runtime.run(
        runtime.service.digests.preview, message.chat_id, _arguments(context), runtime.clock()
    )
    if isinstance(views, Refusal):
        await _reply(message, context, text_reply(views.message))
        return
    for number, view in enumerate(views):
        reply = digest_reply(view)
        await send_reply(
            context.bot, message.chat_id, reply, message.message_id if number == 0 else None
        )


async def on_timezone(update: Update, context: BriefContext) -> None:
    """``/timezone``: show the chat's zone; ``/timezone Area/City``: set it (admins in groups)."""
    message = update.effective_message
    if message is None:
        return
    arguments = _arguments(context)
    if arguments and not await _allowed(message, context, texts.GROUP_ADMINS_ONLY_TIMEZONE):
        return
    runtime = context.runtime
    result = await runtime.run(
        runtime.service.digests.set_timezone, message.chat_id, arguments, runtime.clock()
    )
    if isinstance(result, Refusal):
        await _reply(message, context, text_reply(result.message))
    else:
        await _reply(message, context, html_reply(render.timezone_set(result, render.HTML)))


async def on_topics(update: Update, context: BriefContext) -> None:
    message = update.effective_message
    if message is not None:
        topics = context.runtime.service.digests.topics
        await _reply(message, context, html_reply(render.topics_card(topics, render.HTML)))


async def on_migrate(update: Update, context: BriefContext) -> None:
    """A group became a supergroup: its subscriptions move to the new chat id."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat_id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat_id
    else:
        return
    runtime = context.runtime
    moved = await runtime.run(runtime.service.digests.migrate_chat, old, new)
    log.info("group %s is now supergroup %s: %d subscriptions moved", old, new, moved)


async def on_time_reply(update: Update, context: BriefContext) -> None:
    """The answer to "Reply with the new time for “topic” as HH:MM"."""
    message = update.effective_message
    if message is None or message.reply_to_message is None:
        return
    match = _TYPED_TOPIC.match(message.reply_to_message.text or "")
    if match is None or not await _allowed(message, context):
        return
    runtime = context.runtime
    digests = runtime.service.digests
    topic, typed = match.group(1).removeprefix("“").removesuffix("”"), (message.text or "").strip()
    asked = runtime.time_prompts.last(message.chat_id)  # for the card it came from

    def change() -> tuple[Reply, _CardEdit | None]:
        found = next(iter(digests.subscribed_to(message.chat_id, topic)), None)
        if found is None:
            return text_reply(texts.SUBSCRIPTION_GONE), None
        card = asked.card_message if asked and asked.subscription_id == found.id else None
        return _set_time(digests, message.chat_id, found.id, typed, runtime.clock(), card)

    runtime.time_prompts.answered(message.chat_id)
    reply, card = await runtime.run(change)
    await _reply(message, context, reply)
    await _edit_card(context.bot, card)


async def on_typed_time(update: Update, context: BriefContext) -> None:
    """A time typed without replying to the "type HH:MM" prompt, by the one who pressed it,
    while the prompt is fresh (:class:`~bot.telegram.runtime.TimePrompts`). Anything that is
    no time goes on to the next handlers (a question)."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    runtime = context.runtime
    user_id = message.from_user.id if message.from_user is not None else None
    prompt = runtime.time_prompts.pending(message.chat_id, user_id, runtime.clock())
    if prompt is None or parse_local_time(message.text) is None:
        return
    runtime.time_prompts.answered(message.chat_id)
    if await _allowed(message, context):  # still an admin of the group?
        reply, card = await runtime.run(
            _set_time,
            runtime.service.digests,
            message.chat_id,
            prompt.subscription_id,
            message.text,
            runtime.clock(),
            prompt.card_message,
        )
        await _reply(message, context, reply)
        await _edit_card(context.bot, card)
    raise ApplicationHandlerStop


@dataclass(frozen=True, slots=True)
class _CardEdit:
    """A /subscriptions card to rewrite: where it is and what it says now."""

    chat_id: int
    message_id: int
    reply: Reply


def _set_time(
    digests: Digests,
    chat_id: int,
    subscription_id: int,
    typed: str,
    now: datetime,
    card_message: int | None = None,
) -> tuple[Reply, _CardEdit | None]:
    """The reply to a typed time, and the card ``card_message`` as it reads now (if any)."""
    changed = _new_time(digests, chat_id, subscription_id, typed, now, card_message)
    if isinstance(changed, Refusal):
        return text_reply(changed.message), None
    confirmation, edit = changed
    return text_reply(confirmation), edit


def _new_time(
    digests: Digests,
    chat_id: int,
    subscription_id: int,
    typed: str,
    now: datetime,
    card_message: int | None,
) -> tuple[str, _CardEdit | None] | Refusal:
    """Set the time: the confirmation, and the card ``card_message`` as it reads now."""
    result = digests.set_time(chat_id, subscription_id, typed, now)
    if isinstance(result, Refusal):
        return result
    label = render.topic_label(topic_of(result))
    confirmation = texts.time_changed(label, result.local_time, zone_label(result.timezone))
    if card_message is None:
        return confirmation, None
    card = subscription_reply(result, digests.next_delivery(result, now))
    return confirmation, _CardEdit(chat_id, card_message, card)


async def _edit_card(bot: Bot, edit: _CardEdit | None) -> None:
    """Rewrite a /subscriptions card (best effort: it may have been deleted meanwhile)."""
    if edit is None:
        return
    [text] = edit.reply.chunks
    try:
        await bot.edit_message_text(
            text,
            chat_id=edit.chat_id,
            message_id=edit.message_id,
            reply_markup=keyboard_markup(edit.reply.keyboard),
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            log.info("chat %s: card %s not updated (%s)", edit.chat_id, edit.message_id, exc)


# -- buttons --------------------------------------------------------------------------------


async def on_subscription_button(update: Update, context: BriefContext) -> None:
    """ "Unsubscribe", "Change time", a time choice, "type HH:MM": checked, then done."""
    query = update.callback_query
    if query is None:
        return
    action = parse_subscription_callback(query.data)
    card = query.message
    if action is None or card is None or not isinstance(card, Message):
        await query.answer(texts.FOREIGN_BUTTON)
        return
    if not await may_change(context.bot, card.chat, query.from_user, None):
        await query.answer(texts.GROUP_ADMINS_ONLY)
        return
    runtime = context.runtime
    digests = runtime.service.digests
    found = await runtime.run(digests.subscription, card.chat.id, action.subscription_id)
    if found is None:
        await query.answer(texts.SUBSCRIPTION_GONE)
        return
    label = render.topic_label(topic_of(found))
    if isinstance(action, Unsubscribe):
        await runtime.run(digests.unsubscribe_id, card.chat.id, found.id)
        done = texts.unsubscribed([label])
        await query.answer(done)
        if action.card:  # the card describes the subscription: now it says it is gone
            await _edit(query, done)
        else:  # a digest keeps its articles
            await _drop_buttons(query)
            await send_reply(context.bot, card.chat.id, text_reply(done), None)
    elif isinstance(action, ChangeTime):
        await query.answer()
        picker = time_picker_reply(found, card.message_id if action.card else None)
        await send_reply(context.bot, card.chat.id, picker, card.message_id)
    elif isinstance(action, SetTime):
        changed = await runtime.run(
            _new_time,
            digests,
            card.chat.id,
            found.id,
            action.local_time,
            runtime.clock(),
            action.card_message,
        )
        if isinstance(changed, Refusal):
            await query.answer(changed.message)
            return
        confirmation, edit = changed
        await query.answer()
        await _edit(query, confirmation)
        await _edit_card(context.bot, edit)
    elif isinstance(action, TypeTime):
        await query.answer()
        runtime.time_prompts.ask(
            card.chat.id, found.id, query.from_user.id, runtime.clock(), action.card_message
        )
        await context.bot.send_message(
            card.chat.id,
            render.HTML.text(texts.type_time_prompt(label)),
            # Not selective: the prompt neither mentions nor replies to the presser, so a
            # selective one would show nobody the reply box; only admins' replies count.
            reply_markup=ForceReply(selective=False),
        )


async def _drop_buttons(query: CallbackQuery) -> None:
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def _edit(query: CallbackQuery, text: str) -> None:
    try:
        await query.edit_message_text(render.HTML.text(text), reply_markup=None)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise
