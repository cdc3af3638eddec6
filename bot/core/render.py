"""Pure rendering: answers, help and lists -> text, for Telegram HTML or the terminal.

Every card is written once against a :class:`Markup`; :data:`HTML` produces
Telegram's HTML subset with all corpus and user text escaped, :func:`console_markup`
produces plain terminal text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit
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
from bot.core.schedule import zone_label
from bot.core.service import AnswerPage, SourcesPage, StatsReport
from retrieval.answer import Answer, Candidate, Highlighted
from retrieval.topics import TOPICS, Topic, find_topic
from storage.sources import Source
from storage.subscriptions import Subscription

if TYPE_CHECKING:
    from bot.core.ingest import IngestReport, StoredArticle

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
    "ingest_report",
    "linkable",
    "other_hits",
    "source_card",
    "sources_list",
    "sources_page",
    "stats_card",
    "stats_report",
    "subscribed",
    "subscription_card",
    "subscription_stats",
    "timezone_set",
    "topic_label",
    "topics_card",
    "unsubscribed",
]

# Terminal escape sequences (colours, cursor moves, titles) and other C0/C1 controls
# but newline and tab, and the bidirectional overrides that reorder what a terminal shows.
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

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
        if not linkable(url):  # javascript:, data:, relative... stay text
            return label
        return f'<a href="{html.escape(url, quote=True)}">{label}</a>'

    def quote(self, text: str) -> str:
        return f"<blockquote expandable>{text}</blockquote>"


@dataclass(frozen=True, slots=True)
class _Console:
    ansi: bool

    def text(self, text: str) -> str:
        # Stored text comes from the web: no escape sequence of it reaches the terminal.
        return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))

    def bold(self, text: str) -> str:
        return f"\033[1m{text}\033[0m" if self.ansi else f"**{text}**"

    def italic(self, text: str) -> str:
        return f"\033[3m{text}\033[0m" if self.ansi else text

    def link(self, label: str, url: str) -> str:
        return f"{label} <{self.text(url)}>" if linkable(url) else label

    def quote(self, text: str) -> str:
        return "\n".join(f"  | {line}" for line in text.split("\n"))


HTML: Markup = _Html()


def console_markup(ansi: bool) -> Markup:
    """Terminal text; ``ansi`` uses real bold, otherwise ``**bold**``."""
    return _Console(ansi)


def linkable(url: str | None) -> bool:
    """Whether a stored URL may become a link: absolute http(s) with a host, no spaces or
    control characters, at most 2048 characters (what Telegram accepts on a button too)."""
    if not url or len(url) > 2048 or any(c.isspace() or ord(c) < 0x20 or c == "\x7f" for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


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
    for start, end in _merged(h.spans):
        out.append(m.text(h.text[cursor:start]))
        out.append(m.bold(m.text(h.text[start:end])))
        cursor = end
    out.append(m.text(h.text[cursor:]))
    return "".join(out)


def _merged(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans that overlap or touch made one: Chinese words matched in parts (台積 and 電,
    董事 inside 董事长) are bold as one word, not as "**台積****電**"."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _credit_line(c: Candidate, m: Markup, *, shown: str | None = None) -> str:
    """📰 title · publisher · date; without the title when it only repeats ``shown`` (the
    sentence on the card, an untitled article's title being its first sentence)."""
    publisher = c.publisher
    if shown is not None and _repeats(c.title, shown):
        # With nothing else to name it by, the title stays, though it repeats the sentence.
        name = publisher or (urlsplit(c.url).hostname if c.url else None) or c.title
        publisher = None
    else:
        name = c.title
    name = name or texts.UNTITLED
    label = m.link(m.text(name), c.url) if c.url else m.text(name)
    details = [m.text(x) for x in (publisher, format_date(c.published, c.published_note)) if x]
    return " · ".join([f"📰 {label}", *details])


def _plain(text: str) -> str:
    return " ".join(text.split()).casefold()


def _repeats(title: str, sentence: str) -> bool:
    """Whether ``title`` is ``sentence`` again: whole (final stop aside) or its cut start."""
    title, sentence = _plain(title), _plain(sentence)
    if title.endswith("…"):
        stem = title[:-1].rstrip()
        return len(stem) >= 10 and sentence.startswith(stem)
    return bool(title) and sentence.rstrip(".。!?！？") == title.rstrip(".。!?！？")


def answer_card(page: AnswerPage, m: Markup, *, position: bool = True) -> str:
    """The answer card: best sentence (terms bold), passage, source, position.

    A passage that is its best sentence alone is quoted once, without the sentence above it.
    ``position=False`` leaves out "Result 2 of 5" (a card nobody can page through, such as
    one posted in inline mode).
    """
    hit = page.hit
    if hit is None:
        return abstention(page.answer, m)
    context = _highlighted(hit.passage, m)
    if hit.heading is not None:
        context = f"{m.italic(_highlighted(hit.heading, m))}\n{context}"
    total = len(page.answer.hits)
    footer = f"Result {page.index + 1} of {total}" if total > 1 else "The only result"
    alone = _plain(hit.sentence.text) == _plain(hit.passage.text)
    return "\n\n".join(
        [
            *([] if alone else [_highlighted(hit.sentence, m)]),
            m.quote(context),
            _credit_line(hit.candidate, m, shown=hit.sentence.text),
            *([m.italic(m.text(footer))] if position else []),
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
    if candidate.url and linkable(candidate.url):
        link = m.link(m.text(candidate.url), candidate.url)
    else:
        link = m.text(candidate.url) if candidate.url else "(no link stored)"
    return f"{body}\n\n{_credit_line(candidate, m)}\n{link}"


def abstention(answer: Answer, m: Markup, topics: Sequence[Topic] = TOPICS) -> str:
    """What the bot says when its articles do not support an answer: that plainly;
    for Chinese words no article holds, that none says them; the closest
    passage it found, marked as not an answer; a question to try, from the
    nearest topic."""
    closest = answer.closest
    topic = find_topic(answer.topic or "") or topics[0]
    parts = []
    untranslated = answer.query.untranslated
    if closest is None:
        parts.append(m.text(texts.no_answer_topics(", ".join(t.label for t in topics))))
    else:
        parts.append(m.text(texts.NO_ANSWER))
    if untranslated:
        parts.append(m.text(texts.english_only("、".join(untranslated))))
    if closest is not None:
        parts.append(
            "\n".join(
                [
                    m.italic(m.text(texts.CLOSEST)),
                    m.quote(_highlighted(closest.sentence, m)),
                    _credit_line(closest.candidate, m),
                ]
            )
        )
    parts.append(m.text("Try: ") + m.italic(m.text(topic.example)))
    return "\n\n".join(parts)


def help_card(
    topics: Sequence[Topic],
    m: Markup,
    *,
    commands: Sequence[tuple[str, str]],
    admin_commands: Sequence[tuple[str, str]] = (),
) -> str:
    """The /help card; ``admin_commands`` are listed under their own heading (an admin's)."""
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
    if admin_commands:
        lines += [
            "",
            m.bold("Admin commands:"),
            *(f"{m.text(name)} {m.text('—')} {m.text(text)}" for name, text in admin_commands),
        ]
    return "\n".join(lines)


def _stamp(iso: str | None) -> str:
    """``2026-11-22T08:00:00+00:00`` -> ``22 Nov 2026 08:00``."""
    if not iso:
        return ""
    return f"{format_date(iso[:10])} {iso[11:16]}".strip()


def _clip(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def _source_line(s: Source, m: Markup) -> str:
    """One source, short enough that a page of ten fits one Telegram message."""
    where = f" {m.text(_clip(s.url, 120))}" if s.url else ""
    details = [s.kind, f"{_count(s.articles, 'article')}, {_count(s.passages, 'passage')}"]
    if s.last_fetch:
        details.append(f"fetched {_stamp(s.last_fetch)}")
    if s.disabled:
        details.append("disabled")
    line = (
        m.text(f"#{s.id} ")
        + m.text(_clip(s.title, 100))
        + where
        + m.text(f" ({'; '.join(details)})")
    )
    if s.last_error:
        line += "\n   " + m.italic(m.text(f"last error: {_clip(s.last_error, 120)}"))
    return line


def sources_list(sources: Sequence[Source], m: Markup) -> str:
    if not sources:
        return m.text(texts.NO_SOURCES)
    return "\n".join([m.bold("Sources"), *(_source_line(s, m) for s in sources)])


def sources_page(page: SourcesPage, m: Markup) -> str:
    """One page of /sources: a header with the page and the total, one line per source."""
    if not page.sources:
        return m.text(texts.NO_SOURCES)
    header = m.bold("Sources")
    if page.pages > 1:
        header += m.text(f" (page {page.page + 1} of {page.pages}, {page.total:,} in all)")
    return "\n".join([header, *(_source_line(s, m) for s in page.sources)])


def stats_card(stats: CorpusStats, m: Markup) -> str:
    return m.text(
        f"{_count(stats.articles, 'article')} from {_count(stats.sources, 'source')}: "
        f"{_count(stats.passages, 'passage')}, {_count(stats.terms, 'distinct term')} indexed."
    )


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def stats_report(report: StatsReport, m: Markup) -> str:
    """/stats: the corpus, feeds, questions today, sizes on disk and the latest errors."""
    c = report.corpus
    lines = [
        stats_card(c, m),
        m.text(f"Feeds: {report.feeds:,}")
        + (m.text(f" ({report.disabled_feeds:,} disabled)") if report.disabled_feeds else ""),
        m.text(f"Questions today: {report.questions_today:,}"),
        m.text(f"On disk: index {_size(c.index_bytes)}, database {_size(c.database_bytes)}"),
    ]
    if report.recent_errors:
        lines.append(m.bold("Recent errors:"))
        for e in report.recent_errors:
            where = f"#{e.source_id} " if e.source_id else ""
            lines.append(m.text(f"• {_stamp(e.at)} {where}{e.url or ''}: {e.reason}"))
    else:
        lines.append(m.text(texts.NO_RECENT_ERRORS))
    return "\n".join(lines)


def _article_line(a: StoredArticle, m: Markup) -> str:
    details = [x for x in (a.publisher, format_date(a.published)) if x]
    tail = f" · {' · '.join(details)}" if details else ""
    return m.text(f"“{a.title}”{tail} — {_count(a.passages, 'passage')}")


_LISTED = 5


def ingest_report(r: IngestReport, m: Markup) -> str:
    """What adding a source did: added (title, publisher, passages), known, failed; or why not."""
    report = _ingest_report(r, m)
    return m.text(texts.followed_feed(r.via, r.what)) + "\n" + report if r.via else report


def _ingest_report(r: IngestReport, m: Markup) -> str:
    if r.error is not None and not r.added:
        if r.existing and r.kind == "feed" and r.source_id is not None:
            return m.text(texts.could_not_refresh(r.source_id, r.source_title, r.what, r.error))
        if r.existing:
            return m.text(r.error)
        return m.text(texts.could_not_add(r.what, r.error))
    if r.kind != "feed":
        if not r.added:
            return m.text(texts.already_stored(r.known_title or r.what, r.known_source))
        return m.text(texts.added_source(r.source_id or 0)) + _article_line(r.added[0], m)
    lines = [m.text(texts.feed_heading(r.source_id or 0, r.source_title, refreshed=r.existing))]
    if r.not_modified:
        lines.append(m.text(texts.FEED_NOT_MODIFIED))
    else:
        summary = texts.feed_entries(
            len(r.added) + r.known + len(r.failed) + r.skipped,
            len(r.added),
            _count(r.passages, "passage"),
            r.known,
            len(r.failed),
            r.skipped,
        )
        lines.append(m.text(summary))
    for a in r.added[:_LISTED]:
        lines.append("• " + _article_line(a, m))
    if len(r.added) > _LISTED:
        lines.append(m.text(texts.and_more(len(r.added) - _LISTED)))
    for f in r.failed[:_LISTED]:
        lines.append(m.text(f"✗ {f.what}: {f.reason}"))
    if len(r.failed) > _LISTED:
        lines.append(m.text(texts.and_more(len(r.failed) - _LISTED, "failed")))
    return "\n".join(lines)


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
        f" — daily at {subscription.local_time} ({zone_label(subscription.timezone)})"
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
    label, zone = topic_label(topic_of(s)), zone_label(s.timezone)
    if result.created:
        first = format_local(next_at, ZoneInfo(s.timezone))
        said = texts.subscribed(label, s.local_time, zone, first)
    elif result.time_changed:
        said = texts.time_changed(label, s.local_time, zone)
    else:
        said = texts.already_subscribed(label, s.local_time, zone)
    if result.number_topic is not None:  # "Xiaomi 15" may have been the topic
        said += " " + texts.number_as_time(result.number_topic, s.local_time)
    return m.text(said)


def unsubscribed(gone: Sequence[Subscription], m: Markup) -> str:
    return m.text(texts.unsubscribed([topic_label(topic_of(s)) for s in gone]))


def timezone_set(result: TimezoneSet, m: Markup) -> str:
    """The zone set and its offset now ("UTC+08:00" once for a fixed offset's zone)."""
    label = zone_label(result.zone)
    offset = "" if result.offset == label else result.offset
    return m.text(texts.timezone_set(label, result.subscriptions, offset))
