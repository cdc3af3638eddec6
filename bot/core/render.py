"""Pure rendering: answers, help and lists -> text, for Telegram HTML or the terminal.

Every card is written once against a :class:`Markup`; :data:`HTML` produces
Telegram's HTML subset with all corpus and user text escaped, :func:`console_markup`
produces plain terminal text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.core import texts
from bot.core.corpus import CorpusStats
from bot.core.digests import (
    DigestView,
    Subscribed,
    SubscriptionStats,
    TimezoneSet,
    TopicChoice,
    topic_of,
)
from bot.core.service import AnswerPage
from retrieval.answer import Candidate, Highlighted
from retrieval.topics import TOPICS, Topic
from storage.sources import Source
from storage.subscriptions import Subscription

__all__ = [
    "HTML",
    "Markup",
    "abstention",
    "answer_card",
    "console_markup",
    "digest_card",
    "format_date",
    "format_local",
    "help_card",
    "other_hits",
    "source_card",
    "sources_list",
    "stats_card",
    "subscribed",
    "subscription_card",
    "subscription_stats",
    "timezone_set",
    "topic_label",
    "topics_card",
    "unsubscribed",
]

_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


class Markup(Protocol):
    def text(self, text: str) -> str: ...
    def bold(self, text: str) -> str: ...
    def italic(self, text: str) -> str: ...
    def link(self, label: str, url: str) -> str: ...
    def quote(self, text: str) -> str: ...


class _Html:
    """Telegram HTML: only <b>, <i>, <a href>, <blockquote>; text always escaped."""

    def text(self, text: str) -> str:
        return html.escape(text, quote=False)

    def bold(self, text: str) -> str:
        return f"<b>{text}</b>"

    def italic(self, text: str) -> str:
        return f"<i>{text}</i>"

    def link(self, label: str, url: str) -> str:
        return f'<a href="{html.escape(url, quote=True)}">{label}</a>'

    def quote(self, text: str) -> str:
        return f"<blockquote expandable>{text}</blockquote>"


@dataclass(frozen=True, slots=True)
class _Console:
    ansi: bool

    def text(self, text: str) -> str:
        return text

    def bold(self, text: str) -> str:
        return f"\033[1m{text}\033[0m" if self.ansi else f"**{text}**"

    def italic(self, text: str) -> str:
        return f"\033[3m{text}\033[0m" if self.ansi else text

    def link(self, label: str, url: str) -> str:
        return f"{label} <{url}>"

    def quote(self, text: str) -> str:
        return "\n".join(f"  | {line}" for line in text.split("\n"))


HTML: Markup = _Html()


def console_markup(ansi: bool) -> Markup:
    """Terminal text; ``ansi`` uses real bold, otherwise ``**bold**``."""
    return _Console(ansi)


def format_date(published: str | None, note: str | None = None) -> str:
    """``2025-04`` -> ``Apr 2025``, ``2025-04-17...`` -> ``17 Apr 2025``; "(approx.)" if noted."""
    if not published:
        return ""
    parts = published[:10].split("-")
    try:
        year = int(parts[0])
        month = _MONTHS[int(parts[1]) - 1] if len(parts) > 1 else ""
        day = int(parts[2]) if len(parts) > 2 else 0
    except (ValueError, IndexError):
        out = published
    else:
        out = " ".join(str(p) for p in (day or "", month, year) if p)
    return f"{out} (approx.)" if note and "approx" in note.lower() else out


def _highlighted(h: Highlighted, m: Markup) -> str:
    out: list[str] = []
    cursor = 0
    for start, end in h.spans:
        if start < cursor:
            continue
        out.append(m.text(h.text[cursor:start]))
        out.append(m.bold(m.text(h.text[start:end])))
        cursor = end
    out.append(m.text(h.text[cursor:]))
    return "".join(out)


def _source_line(c: Candidate, m: Markup) -> str:
    title = m.text(c.title)
    title = m.link(title, c.url) if c.url else title
    details = [m.text(x) for x in (c.publisher, format_date(c.published, c.published_note)) if x]
    return " · ".join([f"📰 {title}", *details])


def answer_card(page: AnswerPage, m: Markup) -> str:
    """The answer card: best sentence (terms bold), passage, source, position."""
    hit = page.hit
    if hit is None:
        return abstention(m)
    context = _highlighted(hit.passage, m)
    if hit.heading is not None:
        context = f"{m.italic(_highlighted(hit.heading, m))}\n{context}"
    total = len(page.answer.hits)
    footer = f"Result {page.index + 1} of {total}" if total > 1 else "The only result"
    return "\n\n".join(
        [
            _highlighted(hit.sentence, m),
            m.quote(context),
            _source_line(hit.candidate, m),
            m.italic(m.text(footer)),
        ]
    )


def other_hits(page: AnswerPage, m: Markup, limit: int) -> str:
    """One line per further hit: its best sentence and title."""
    lines = []
    for number, hit in enumerate(page.answer.hits[page.index + 1 : limit], page.index + 2):
        lines.append(f"{number}. {_highlighted(hit.sentence, m)} ({m.text(hit.candidate.title)})")
    return "\n".join(lines)


def source_card(candidate: Candidate, m: Markup) -> str:
    """The full passage and where it comes from."""
    body = m.text(candidate.text)
    if candidate.heading:
        body = f"{m.italic(m.text(candidate.heading))}\n{body}"
    link = m.link(m.text(candidate.url), candidate.url) if candidate.url else "(no link stored)"
    return f"{body}\n\n{_source_line(candidate, m)}\n{link}"


def abstention(m: Markup, topics: Sequence[Topic] = TOPICS) -> str:
    """What the bot says when its articles do not support an answer."""
    labels = ", ".join(t.label for t in topics)
    return (
        "I don't have an answer to that in my articles. "
        f"I can answer questions about {m.text(labels)}.\n"
        f"Try: {m.italic(m.text(topics[0].example))}"
    )


def help_card(topics: Sequence[Topic], m: Markup, *, commands: Sequence[tuple[str, str]]) -> str:
    lines = [
        m.bold("techbrief")
        + m.text(
            " answers questions about Chinese tech companies and policy "
            "from the news articles it has stored, quoting its source."
        ),
        "",
        m.bold("Ask, for example:"),
        *(f"• {m.text(t.example)}" for t in topics[:4]),
        "",
        m.bold("Topics:") + " " + m.text(", ".join(f"{t.name} ({t.label})" for t in topics)),
        "",
        m.bold("Commands:"),
        *(f"{m.text(name)} {m.text('—')} {m.text(text)}" for name, text in commands),
    ]
    return "\n".join(lines)


def sources_list(sources: Sequence[Source], m: Markup) -> str:
    if not sources:
        return m.text(texts.NO_SOURCES)
    lines = [m.bold("Sources")]
    for s in sources:
        where = f" {m.text(s.url)}" if s.url else ""
        lines.append(
            m.text(f"#{s.id} ")
            + m.text(s.title)
            + where
            + m.text(f" ({s.kind}; {_count(s.articles, 'article')}, ")
            + m.text(f"{_count(s.passages, 'passage')})")
        )
    return "\n".join(lines)


def stats_card(stats: CorpusStats, m: Markup) -> str:
    return m.text(
        f"{_count(stats.articles, 'article')} from {_count(stats.sources, 'source')}: "
        f"{_count(stats.passages, 'passage')}, {_count(stats.terms, 'distinct term')} indexed."
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


# -- subscriptions and digests ----------------------------------------------------------

_DIGEST_SENTENCE_CHARS = 300
_DIGEST_TITLE_CHARS = 150


def format_local(when: datetime, zone: ZoneInfo) -> str:
    """``23 Nov 2026 08:00`` in ``zone``."""
    local = when.astimezone(zone)
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year} {local:%H:%M}"


def topic_label(topic: TopicChoice) -> str:
    """A built-in topic's label; free text in quotes."""
    return topic.label if topic.label != topic.name else f"“{topic.name}”"


def _cut(text: str, chars: int) -> str:
    if len(text) <= chars:
        return text
    cut = text.rfind(" ", int(chars * 0.8), chars)
    return text[: cut if cut > 0 else chars].rstrip() + "…"


def digest_card(view: DigestView, m: Markup) -> str:
    """A digest: its topic and window, then up to five articles (title, best sentence,
    publisher, date); or that nothing is new since the window began."""
    label = topic_label(view.topic)
    since = format_local(view.since, view.zone)
    digest = view.digest
    if digest.empty:
        return m.text(texts.nothing_new_since(label, since))
    count = len(digest.articles)
    noun = "article" if count == 1 else "articles"
    head = "Preview · " if view.preview else ""
    more = f" (top {count} of {digest.matched})" if digest.matched > count else ""
    lines = [
        f"📬 {m.text(head)}{m.bold(m.text(label))}"
        + m.text(f" — {count} new {noun} since {since}{more}")
    ]
    for number, item in enumerate(digest.articles, 1):
        c = item.candidate
        title = m.text(_cut(c.title, _DIGEST_TITLE_CHARS))
        title = m.link(title, c.url) if c.url else title
        sentence = item.sentence
        if len(sentence.text) > _DIGEST_SENTENCE_CHARS:
            sentence = _cut_highlighted(sentence, _DIGEST_SENTENCE_CHARS)
        details = [
            m.text(x) for x in (c.publisher, format_date(c.published, c.published_note)) if x
        ]
        if item.duplicates:
            other = "story" if item.duplicates == 1 else "stories"
            details.append(m.text(f"+{item.duplicates} similar {other}"))
        lines.append("")
        lines.append(f"{number}. {m.bold(title)}")
        lines.append(_highlighted(sentence, m))
        if details:
            lines.append(m.italic(" · ".join(details)))
    return "\n".join(lines)


def _cut_highlighted(h: Highlighted, chars: int) -> Highlighted:
    text = _cut(h.text, chars)
    kept = len(text) - 1
    return Highlighted(text, tuple((s, min(e, kept)) for s, e in h.spans if s < kept))


def subscription_card(
    subscription: Subscription, topic: TopicChoice, next_at: datetime, m: Markup
) -> str:
    """One subscription: topic, daily time and zone, the next digest (or why it is paused)."""
    zone = ZoneInfo(subscription.timezone)
    line = m.bold(m.text(topic_label(topic))) + m.text(
        f" — daily at {subscription.local_time} ({subscription.timezone})"
    )
    if not subscription.active:
        return line + m.text(". Paused: the bot could not write here; /start resumes it.")
    return line + m.text(f". Next: {format_local(next_at, zone)}.")


def topics_card(topics: Sequence[Topic], m: Markup) -> str:
    lines = [m.bold("Topics")]
    lines += [f"{m.text(t.name)} {m.text('—')} {m.text(t.label)}" for t in topics]
    lines += [
        "",
        m.text(
            f"/subscribe {topics[1].name} for a daily digest at 08:00, "
            f"/subscribe {topics[1].name} 07:30 for another time; any words work as a topic too."
        ),
    ]
    return "\n".join(lines)


def subscription_stats(stats: SubscriptionStats, m: Markup) -> str:
    return m.text(
        f"{_count(stats.subscriptions, 'subscription')} in {_count(stats.chats, 'chat')}; "
        f"{_count(stats.sent_today, 'digest')} sent today."
    )


def subscribed(result: Subscribed, next_at: datetime, m: Markup) -> str:
    """What ``/subscribe`` says: subscribed (and when the first digest comes), time changed,
    or subscribed already."""
    s = result.subscription
    label = topic_label(topic_of(s))
    if result.created:
        first = format_local(next_at, ZoneInfo(s.timezone))
        return m.text(texts.subscribed(label, s.local_time, s.timezone, first))
    if result.time_changed:
        return m.text(texts.time_changed(label, s.local_time, s.timezone))
    return m.text(texts.already_subscribed(label, s.local_time, s.timezone))


def unsubscribed(gone: Sequence[Subscription], m: Markup) -> str:
    return m.text(texts.unsubscribed([topic_label(topic_of(s)) for s in gone]))


def timezone_set(result: TimezoneSet, m: Markup) -> str:
    return m.text(texts.timezone_set(result.zone, result.subscriptions))
