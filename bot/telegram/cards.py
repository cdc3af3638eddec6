"""Replies as plain data: answer cards that fit one message, source cards, inline results.

An answer card is one message, so that "More" can edit it in place:
:func:`card_html` shortens the passage of a card that would not fit. Pure:
no ``telegram`` import, so the rules every reply obeys are tested without a network.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from bot.core import render, texts
from bot.core.digests import DigestView, topic_of
from bot.core.schedule import zone_label
from bot.core.service import AnswerPage, SourcesPage
from bot.telegram.callbacks import (
    Button,
    ChangeTime,
    Keyboard,
    NextHit,
    SetTime,
    ShowSource,
    ShowSources,
    TypeTime,
    Unsubscribe,
    encode_callback,
    encode_subscription_callback,
    question_id,
)
from bot.telegram.split import MAX_MESSAGE_UNITS, split_html, utf16_length, visible_text
from retrieval.answer import Answer, Candidate, Highlighted, Hit
from storage.subscriptions import Subscription

__all__ = [
    "COMMON_TIMES",
    "INLINE_RESULTS",
    "InlineArticle",
    "Reply",
    "answer_reply",
    "card_html",
    "digest_reply",
    "html_reply",
    "inline_articles",
    "source_reply",
    "sources_reply",
    "subscription_keyboard",
    "subscription_reply",
    "text_reply",
    "time_picker_reply",
]

INLINE_RESULTS = 10
"""At most this many results answer an inline query."""

_INLINE_TITLE_CHARS = 100
_INLINE_DESCRIPTION_CHARS = 200

# -- replies ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """Messages to send in order (HTML); ``keyboard`` goes under the last one."""

    chunks: tuple[str, ...]
    keyboard: Keyboard = ()


def html_reply(markup: str) -> Reply:
    """Any HTML (help, lists, source cards), split to fit."""
    return Reply(tuple(split_html(markup)))


def text_reply(text: str) -> Reply:
    """Plain text (refusals, apologies), escaped and split to fit."""
    return html_reply(render.HTML.text(text))


def answer_reply(page: AnswerPage, qid: str) -> Reply:
    """The answer card with "More" (while hits remain) and "Source"; the abstention without."""
    hit = page.hit
    if hit is None:
        return html_reply(render.abstention(page.answer, render.HTML))
    buttons = []
    if page.has_more:
        buttons.append(Button("More", encode_callback(NextHit(qid, page.index + 1))))
    buttons.append(Button("Source", encode_callback(ShowSource(hit.candidate.passage_id))))
    return Reply((card_html(page),), (tuple(buttons),))


def source_reply(candidate: Candidate) -> Reply:
    """The full passage, its source line and link (split when the passage is long)."""
    return html_reply(render.source_card(candidate, render.HTML))


def sources_reply(page: SourcesPage) -> Reply:
    """One page of /sources in one message, with "‹ Previous" / "Next ›" when there are more."""
    buttons = []
    if page.page > 0:
        buttons.append(Button("‹ Previous", encode_callback(ShowSources(page.page - 1))))
    if page.page + 1 < page.pages:
        buttons.append(Button("Next ›", encode_callback(ShowSources(page.page + 1))))
    markup = render.sources_page(page, render.HTML)
    return Reply((split_html(markup)[0],), (tuple(buttons),) if buttons else ())


# Progressively shorter cuts of sentence and passage for a card that does not fit.
_CARD_CUTS = (1500, 600, 200)


def card_html(page: AnswerPage, limit: int = MAX_MESSAGE_UNITS, *, position: bool = True) -> str:
    """The answer card as one message of at most ``limit`` visible units (``position``:
    with "Result 2 of 5", see :func:`~bot.core.render.answer_card`)."""
    card = render.answer_card(page, render.HTML, position=position)
    if utf16_length(card) <= limit:
        return card  # the markup itself fits, so its visible text does
    for chars in _CARD_CUTS:
        if utf16_length(visible_text(card).strip()) <= limit:
            return card
        card = render.answer_card(_shortened(page, chars), render.HTML, position=position)
    if utf16_length(visible_text(card).strip()) <= limit:
        return card
    return split_html(card, limit)[0]


def _shortened(page: AnswerPage, chars: int) -> AnswerPage:
    hit = page.hit
    assert hit is not None
    short = Hit(
        candidate=replace(hit.candidate, title=_cut(hit.candidate.title, chars)),
        sentence=_cut_highlighted(hit.sentence, chars),
        passage=_cut_highlighted(hit.passage, chars),
        heading=_cut_highlighted(hit.heading, chars) if hit.heading else None,
        support=hit.support,
    )
    hits = list(page.answer.hits)
    hits[page.index] = short
    return AnswerPage(replace(page.answer, hits=tuple(hits)), page.index)


def _cut(text: str, chars: int) -> str:
    """``text`` cut to about ``chars`` characters at a space, with an ellipsis."""
    if len(text) <= chars:
        return text
    cut = text.rfind(" ", int(chars * 0.8), chars)
    return text[: cut if cut > 0 else chars].rstrip() + "…"


def _cut_highlighted(h: Highlighted, chars: int) -> Highlighted:
    text = _cut(h.text, chars)
    if text == h.text:
        return h
    kept = len(text) - 1
    return Highlighted(text, tuple((s, min(e, kept)) for s, e in h.spans if s < kept))


# -- subscriptions and digests ----------------------------------------------------------

COMMON_TIMES = ("06:00", "07:00", "08:00", "09:00", "12:00", "18:00", "20:00", "21:00")
"""The times "Change time" offers as buttons (and "type HH:MM" for any other)."""


def subscription_keyboard(subscription: Subscription, *, card: bool = False) -> Keyboard:
    """ "Unsubscribe" and "Change time", for a digest or (``card``) a /subscriptions card."""
    unsubscribe = Unsubscribe(subscription.id, card)
    change = ChangeTime(subscription.id, card)
    return (
        (
            Button(texts.UNSUBSCRIBE, encode_subscription_callback(unsubscribe)),
            Button(texts.CHANGE_TIME, encode_subscription_callback(change)),
        ),
    )


def digest_reply(view: DigestView) -> Reply:
    """A digest (scheduled or preview); a subscription's carries its two buttons."""
    chunks = tuple(split_html(render.digest_card(view, render.HTML)))
    if view.subscription is None:
        return Reply(chunks)
    return Reply(chunks, subscription_keyboard(view.subscription))


def subscription_reply(subscription: Subscription, next_at: datetime) -> Reply:
    """A /subscriptions card: its buttons edit it to say what changed."""
    card = render.subscription_card(subscription, topic_of(subscription), next_at, render.HTML)
    return Reply((card,), subscription_keyboard(subscription, card=True))


def time_picker_reply(subscription: Subscription, card_message: int | None = None) -> Reply:
    """Common times as buttons, four a row, and "type HH:MM"; ``card_message``: the
    /subscriptions card it was opened from (the new time is shown there too)."""
    label = render.topic_label(topic_of(subscription))
    zone = zone_label(subscription.timezone)
    prompt = texts.change_time_prompt(label, subscription.local_time, zone)
    times = [
        Button(t, encode_subscription_callback(SetTime(subscription.id, t, card_message)))
        for t in COMMON_TIMES
    ]
    rows = [tuple(times[i : i + 4]) for i in range(0, len(times), 4)]
    type_time = TypeTime(subscription.id, card_message)
    rows.append((Button(texts.TYPE_TIME, encode_subscription_callback(type_time)),))
    return Reply((render.HTML.text(prompt),), tuple(rows))


# -- inline mode ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InlineArticle:
    """One inline result: a title and description to pick from, the card it posts."""

    result_id: str
    title: str
    description: str
    message_html: str
    source_url: str | None


def inline_articles(answer: Answer, limit: int = INLINE_RESULTS) -> list[InlineArticle]:
    """One result per hit (at most ``limit``); an abstention has none."""
    qid = question_id(answer.question)
    articles = []
    for index, hit in enumerate(answer.hits[:limit]):
        page = AnswerPage(answer, index)
        articles.append(
            InlineArticle(
                result_id=f"{qid}:{index}",
                title=_cut(hit.candidate.title, _INLINE_TITLE_CHARS) or "Untitled article",
                description=_cut(hit.sentence.text, _INLINE_DESCRIPTION_CHARS),
                # No "Result 2 of 5": a posted inline message has no "More" to page with.
                message_html=card_html(page, position=False),
                source_url=hit.candidate.url if render.linkable(hit.candidate.url) else None,
            )
        )
    return articles
