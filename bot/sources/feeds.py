"""RSS and Atom feeds: telling a feed from a page, and reading its entries (feedparser)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.sources.errors import NotAFeed
from bot.sources.extract import html_fragment_text

__all__ = [
    "FEED_TYPES",
    "FeedEntry",
    "ParsedFeed",
    "advertised_feeds",
    "looks_like_feed",
    "parse_feed",
]

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/xml",
        "text/xml",
        "application/x-rss+xml",
    }
)
_FEED_ROOTS = (b"<rss", b"<feed", b"<rdf:rdf")


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry: its link (the page to fetch), title, date and own text (the fallback)."""

    link: str | None
    title: str
    published: str | None
    text: str


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """``title``: the feed's title, else its URL; ``name``: its own title or None;
    ``self_url``: the address the feed gives for itself (``rel="self"``), or None."""

    title: str
    entries: tuple[FeedEntry, ...]
    name: str | None = None
    self_url: str | None = None


def looks_like_feed(content_type: str, body: bytes) -> bool:
    """Whether a response is a feed: by media type, else by its root element."""
    head = body[:2048].lstrip().lower()
    if content_type in ("application/rss+xml", "application/atom+xml", "application/rdf+xml"):
        return True
    if content_type in ("text/html", "application/xhtml+xml", "text/plain"):
        # Some servers send feeds as text/html or text/plain: trust the root element only.
        return head.startswith(b"<?xml") and any(root in head for root in _FEED_ROOTS)
    return any(root in head for root in _FEED_ROOTS)


def _date(entry: dict[str, object]) -> str | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            return time.strftime("%Y-%m-%d", value)
    return None


def _entry_text(entry: dict[str, object]) -> str:
    """The entry's own content (the longest of content and summary), as text."""
    candidates: list[str] = []
    for content in entry.get("content") or []:  # type: ignore[attr-defined]
        value = content.get("value")
        if isinstance(value, str):
            candidates.append(value)
    summary = entry.get("summary")
    if isinstance(summary, str):
        candidates.append(summary)
    texts = [html_fragment_text(c) for c in candidates if c.strip()]
    return max(texts, key=len, default="")


def parse_feed(body: bytes, url: str) -> ParsedFeed:
    """The feed's title and entries (raises NotAFeed when ``body`` is none)."""
    import feedparser

    # Bytes, never a str: feedparser would take a str for a URL or path to open.
    parsed = feedparser.parse(body, response_headers={"content-location": url})
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        raise NotAFeed(url)
    feed = parsed.get("feed", {})
    entries = tuple(
        FeedEntry(
            link=(e.get("link") or None),
            title=html_fragment_text(e.get("title") or "").replace("\n", " "),
            published=_date(e),
            text=_entry_text(e),
        )
        for e in parsed.entries
    )
    name = html_fragment_text(feed.get("title") or "").replace("\n", " ") or None
    self_url = next(
        (
            link.get("href")
            for link in feed.get("links") or []
            if link.get("rel") == "self" and link.get("href")
        ),
        None,
    )
    return ParsedFeed(title=name or url, entries=entries, name=name, self_url=self_url)


def advertised_feeds(html: str, url: str) -> list[str]:
    """The feeds a page names (``<link rel="alternate" type="application/rss+xml">``,
    else links that look like feeds), as absolute URLs; trafilatura's feed finder."""
    from urllib.parse import urlsplit

    from trafilatura.feeds import FeedParameters, determine_feed

    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}"
    found: list[str] = determine_feed(html, FeedParameters(base, parts.netloc, url))
    return found
