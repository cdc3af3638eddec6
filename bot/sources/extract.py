"""Text out of bytes: charset detection, article extraction (trafilatura), HTML fragments.

Bytes are decoded by evidence, not by trust: valid UTF-8 is UTF-8 whatever the
header says; otherwise the declared charset (header or ``<meta>``) if it
decodes cleanly; otherwise charset-normalizer's best guess.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urlsplit

from bot.sources.errors import NoText

__all__ = [
    "MIN_WORDS",
    "Extracted",
    "decode",
    "extract_article",
    "html_fragment_text",
    "tidy_text",
]

MIN_WORDS = 20
"""Fewer words than this is no article (a login wall, an error page, a stub)."""

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_BLANK_LINES = re.compile(r"\n\s*\n+")
_SPACES = re.compile(r"[ \t\u00a0]+")


@dataclass(frozen=True, slots=True)
class Extracted:
    """An article's main text and what the page says about it."""

    title: str
    text: str
    published: str | None = None
    publisher: str | None = None
    canonical_url: str | None = None


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def decode(body: bytes, declared: str | None = None) -> str:
    """``body`` as text; see the module doc for the order of evidence."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", "replace")
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", "replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared is None and (meta := _META_CHARSET.search(body[:4096])):
        declared = meta.group(1).decode("ascii", "replace")
    codec = _codec(declared)
    if codec is not None and codec != "utf-8":
        try:
            return body.decode(codec)
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(body).best()
    if best is not None:
        return str(best)
    return body.decode("utf-8", "replace")


def _words(text: str) -> int:
    return len(text.split())


def _tidy(text: str, title: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    while lines and (not lines[0] or lines[0].casefold() == title.casefold()):
        lines.pop(0)  # trafilatura starts with the headline; it is the title, not a passage
    return "\n".join(lines).strip()


def _http_url(url: str | None) -> str | None:
    if not url:
        return None
    url = urldefrag(url.strip())[0]
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def extract_article(html: str, url: str | None = None) -> Extracted:
    """Main text, title, date, publisher and canonical URL of a web page (raises NoText)."""
    import trafilatura

    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
    )
    if document is None:
        raise NoText(url or "the page")
    found: dict[str, Any] = document if isinstance(document, dict) else document.as_dict()
    title = (found.get("title") or "").strip()
    text = _tidy(found.get("text") or "", title)
    if _words(text) < MIN_WORDS:
        raise NoText(url or "the page")
    publisher = (found.get("sitename") or found.get("hostname") or "").strip() or None
    return Extracted(
        title=title,
        text=text,
        published=(found.get("date") or None),
        publisher=publisher,
        canonical_url=_http_url(found.get("url")) or (_http_url(url) if url else None),
    )


_BLOCKS = frozenset(
    {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "section",
     "article", "header", "footer", "figcaption", "dd", "dt"}
)  # fmt: skip


def html_fragment_text(fragment: str) -> str:
    """The text of an HTML fragment (a feed entry's content), one paragraph per block."""
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return _join_blocks(fragment)
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag in _BLOCKS:
            element.tail = "\n\n" + (element.tail or "")
            if element.text:
                element.text = "\n" + element.text
    return _join_blocks(root.text_content())


def _join_blocks(text: str) -> str:
    """Blocks separated by blank lines, each joined into one line: one paragraph per line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [
        " ".join(_SPACES.sub(" ", line).strip() for line in block.splitlines() if line.strip())
        for block in _BLANK_LINES.split(text)
    ]
    return "\n".join(p for p in paragraphs if p)


_MARKDOWN_LINE = re.compile(r"^\s{0,3}(?:#{1,6}\s+|[-*+]\s+|>\s?)")


def tidy_text(text: str, *, markdown: bool = False) -> str:
    """Pasted or uploaded text: one paragraph per line, spacing tidied, markdown marks dropped.

    Hard-wrapped paragraphs (lines separated by single line breaks inside a block
    separated by blank lines) stay as lines: the passage splitter merges short ones.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    lines = []
    for line in text.split("\n"):
        if markdown:
            line = _MARKDOWN_LINE.sub("", line)
        lines.append(_SPACES.sub(" ", line).strip())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
