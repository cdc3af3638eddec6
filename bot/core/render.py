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
from typing import Protocol
from urllib.parse import urlsplit

from bot.core import texts
from bot.core.corpus import CorpusStats
from bot.core.service import AnswerPage
from retrieval.answer import Candidate, Highlighted
from retrieval.topics import TOPICS, Topic
from storage.sources import Source

__all__ = [
    "HTML",
    "Markup",
    "abstention",
    "answer_card",
    "console_markup",
    "format_date",
    "help_card",
    "linkable",
    "other_hits",
    "source_card",
    "sources_list",
    "stats_card",
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
    if candidate.url and linkable(candidate.url):
        link = m.link(m.text(candidate.url), candidate.url)
    else:
        link = m.text(candidate.url) if candidate.url else "(no link stored)"
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
