"""Text out of bytes: charset detection, article extraction (trafilatura), HTML fragments,
Markdown (markdown-it-py, then the page extraction).

Bytes are decoded by evidence, not by trust: valid UTF-8 is UTF-8 whatever the
header says; otherwise the declared charset (header or ``<meta>``) if it
decodes cleanly (when the two disagree, the one charset-normalizer finds
less garbled: Latin-1 decodes any bytes, so a clean decode proves nothing);
otherwise charset-normalizer's best guess, except that
mostly-ASCII text goes to Windows-1252 (Latin-1's superset) when that reads as
cleanly as the guess: a short Western text gives the detector little to go on,
and it would pick a Baltic or Central European code page ("Cafķ", "naďve").
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urlsplit

from bot.sources.errors import NoText
from retrieval.passages import HEADING_MAX_WORDS, count_words

__all__ = [
    "MIN_WORDS",
    "Extracted",
    "decode",
    "extract_article",
    "host_name",
    "html_fragment_text",
    "looks_like_html",
    "looks_like_markdown",
    "markdown_article",
    "tidy_text",
]

MIN_WORDS = 20
"""Fewer words than this is no article (a login wall, an error page, a stub); words are
counted by :func:`retrieval.passages.count_words`, so Chinese text without spaces counts."""

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_BLANK_LINES = re.compile(r"\n\s*\n+")
_SPACES = re.compile(r"[ \t\u00a0]+")


@dataclass(frozen=True, slots=True)
class Extracted:
    """An article's main text and what the page says about it (``publisher``: the site
    name the page gives, None when it gives none)."""

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
    meta = _META_CHARSET.search(body[:4096])
    candidates = [
        codec
        for codec in dict.fromkeys(
            (_codec(declared), _codec(meta.group(1).decode("ascii", "replace")) if meta else None)
        )
        if codec is not None and codec != "utf-8"
    ]
    if len(candidates) > 1:
        # The header and the page disagree (an old Chinese site sent as ISO-8859-1 with
        # <meta charset=gbk>): Latin-1 decodes any bytes, so "decodes cleanly" cannot
        # choose; charset-normalizer's mess measure between the two does.
        from charset_normalizer import from_bytes

        best = from_bytes(body, cp_isolation=candidates).best()
        if best is not None:
            return str(best)
    for codec in candidates:
        try:
            return body.decode(codec)
        except UnicodeDecodeError:
            pass
    return _detect(body)


_WESTERN = frozenset({"cp1252", "latin_1", "iso8859_15"})
_MOSTLY_ASCII = 0.85
"""At least this share of bytes below 0x80: text in a Latin script."""


def _detect(body: bytes) -> str:
    """Undeclared, non-UTF-8 bytes as text (see the module doc)."""
    from charset_normalizer import from_bytes

    results = from_bytes(body)
    best = results.best()
    if best is None:
        return _western(body)
    ascii_share = sum(b < 0x80 for b in body) / max(1, len(body))
    if ascii_share >= _MOSTLY_ASCII and any(
        _WESTERN.intersection(match.could_be_from_charset) and match.chaos <= best.chaos
        for match in results
    ):
        return _western(body)
    return str(best)


def _western(body: bytes) -> str:
    """Windows-1252, or Latin-1 for the five bytes Windows-1252 leaves undefined."""
    try:
        return body.decode("cp1252")
    except UnicodeDecodeError:
        return body.decode("latin-1")


_LIST_ITEM = re.compile(r"^[-*•▪–]\s+")
"""A list item as trafilatura writes it ("- item")."""
_SENTENCE_END = re.compile(r"""[.!?…:;。！？：；]["'”’)\]」』）】]*$""")
_CJK_END = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff]$")


def _list_item(line: str) -> str:
    """A list item's text without its marker, ended like a sentence: the passage
    splitter would take a short unmarked line for a heading, and items merged into
    one passage must stay separate sentences."""
    line = _LIST_ITEM.sub("", line, count=1)
    if not line or _SENTENCE_END.search(line):
        return line
    return line + ("。" if _CJK_END.search(line) else ".")


def _tidy(text: str, title: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    while lines and (not lines[0] or lines[0].casefold() == title.casefold()):
        lines.pop(0)  # trafilatura starts with the headline; it is the title, not a passage
    return "\n".join(_list_item(line) if _LIST_ITEM.match(line) else line for line in lines).strip()


def _http_url(url: str | None) -> str | None:
    if not url:
        return None
    url = urldefrag(url.strip())[0]
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def extract_article(html: str, url: str | None = None) -> Extracted:
    """Main text, title, date, publisher and canonical URL of a web page (raises NoText).

    The date is one the page states (meta tags, JSON-LD, ``<time>``, the URL, a
    full date in the text): htmldate's extensive search is off, since it turns any
    year in the text ("made before December 2024") into 1 January of that year.
    """
    import trafilatura
    from trafilatura.metadata import examine_title_element
    from trafilatura.settings import set_date_params
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None:
        raise NoText(url or "the page")
    _, first, second = examine_title_element(tree)  # before extraction prunes the tree
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        date_extraction_params=set_date_params(extensive=False),
    )
    if document is None:
        raise NoText(url or "the page")
    found: dict[str, Any] = document if isinstance(document, dict) else document.as_dict()
    title = (found.get("title") or "").strip()
    publisher = (found.get("sitename") or "").strip() or None
    if publisher and _is_host(publisher, url, found.get("hostname")):
        publisher = None  # trafilatura's stand-in when the page names no site
    if first and second:
        title, publisher = _split_title(title, publisher, first.strip(), second.strip())
    text = _tidy(found.get("text") or "", title)
    if count_words(text) < MIN_WORDS:
        raise NoText(url or "the page")
    return Extracted(
        title=title,
        text=text,
        published=(found.get("date") or None),
        publisher=publisher,
        canonical_url=_http_url(found.get("url")) or (_http_url(url) if url else None),
    )


def _split_title(
    title: str, publisher: str | None, first: str, second: str
) -> tuple[str, str | None]:
    """Title and publisher when the page's ``<title>`` is "Headline | Site".

    trafilatura takes the part without a dot for the title and the part with one
    for the site name, so "JD.com launches … | Retail Watch" came out as the title
    "Retail Watch" from "JD.com launches …". Where it took either from these two
    parts, the part with more words is the headline (the first on a tie) and the
    other the site's name.
    """
    parts = (first, second)
    if title not in parts and publisher not in parts:
        return title, publisher  # both came from elsewhere (h1, og:title, og:site_name)
    headline, site = (second, first) if count_words(second) > count_words(first) else parts
    from_title = title in parts or not title
    if from_title:
        title = headline
    if publisher in parts or (publisher is None and from_title):
        publisher = site
    return title, publisher


def host_name(url: str | None) -> str | None:
    """The host of ``url`` without port or "www." (a publisher of last resort)."""
    host = urlsplit(url).hostname if url else None
    return host.removeprefix("www.") if host else None


def _is_host(name: str, url: str | None, hostname: str | None) -> bool:
    name = name.casefold().removeprefix("www.")
    hosts = {(hostname or "").casefold().removeprefix("www."), host_name(url) or ""}
    if url:
        hosts.add(urlsplit(url).netloc.casefold().removeprefix("www."))
    return name in hosts


_BYLINE = re.compile(r"^by\s+\S", re.IGNORECASE)


def markdown_article(text: str) -> Extracted:
    """A Markdown document's article, as clean text.

    markdown-it-py (CommonMark) renders it to HTML, which is extracted like a
    page: emphasis, links and inline code marks go, code blocks are dropped,
    list items become lines of their own without their marks, headings stay
    section headings. A leading heading is the title; a first paragraph that is a
    byline ("*By Staff Reporter, 2025-07-18*") is marked as one, so trafilatura
    takes its date rather than making it the heading of the first passage.
    Never raises: when the page extraction finds too little, the rendered
    blocks are taken as they are (the caller judges the length).
    """
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    # Code is no article text, and a short code line would become a section heading.
    tokens = [t for t in md.parse(text) if t.type not in ("fence", "code_block")]
    title = ""
    if len(tokens) >= 3 and tokens[0].type == "heading_open":
        title = _inline_text(tokens[1])
        tokens = tokens[3:]
    if len(tokens) >= 3 and tokens[0].type == "paragraph_open":
        first = _inline_text(tokens[1])
        if _BYLINE.match(first) and count_words(first) <= HEADING_MAX_WORDS:
            tokens[0].attrSet("class", "byline")
    body = md.renderer.render(tokens, md.options, {})
    head = f"<title>{html.escape(title)}</title>" if title else ""
    page = f'<html><head><meta charset="utf-8">{head}</head><body><article>{body}</article>'
    try:
        found = extract_article(page + "</body></html>")
    except NoText:
        return Extracted(title=title, text=html_fragment_text(body))
    return Extracted(title=title, text=found.text, published=found.published)


def _inline_text(token: Any) -> str:
    """The plain text of a markdown-it inline token (emphasis, links and code marks dropped)."""
    parts = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return _SPACES.sub(" ", "".join(parts)).strip()


_MARKDOWN_MARKS = (
    re.compile(r"\[[^\]\n]+\]\([^)\s]+\)"),  # [link](url)
    re.compile(r"(\*\*|__)\S[^\n]*?\S\1"),  # **bold**, __bold__
    re.compile(r"(?m)^ {0,3}(```|~~~)"),  # a code fence
    re.compile(r"(?m)^ {0,3}#{1,6} \S"),  # a "# heading"
    re.compile(r"(?<![\w*])\*[^\s*][^*\n]*(?<![\s*])\*(?![\w*])"),  # *emphasis*
    re.compile(r"(?m)^ {0,3}[-*+] \S.*\n {0,3}[-*+] \S"),  # two list items in a row
)


def looks_like_markdown(text: str) -> bool:
    """Whether pasted text is written in Markdown: it has a link, emphasis, a code
    fence, a heading or a list in Markdown's syntax (plain news text has none)."""
    return any(mark.search(text) for mark in _MARKDOWN_MARKS)


_HTML_START = re.compile(
    rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.I | re.S
)
_HTML_TAG = re.compile(
    rb"</?(html|head|body|p|div|span|a|br|h[1-6]|ul|ol|li|article|section|script|style|meta|"
    rb"title|link|img|table|tr|td|nav|header|footer)\b[^>]*>",
    re.I,
)
_MANY_TAGS = 10


def looks_like_html(body: bytes) -> bool:
    """Whether a body sent as text (``text/plain``, a .txt file) is an HTML page: it
    starts with ``<!doctype html>`` or ``<html>``, or has many HTML tags (raw GitHub
    and misconfigured servers send .html files as text/plain)."""
    head = body[:65536]
    if _HTML_START.match(head):
        return True
    return (
        sum(1 for _ in zip(range(_MANY_TAGS), _HTML_TAG.finditer(head), strict=False)) >= _MANY_TAGS
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


def tidy_text(text: str) -> str:
    """Pasted or uploaded text: one paragraph per line, spacing tidied.

    Hard-wrapped paragraphs (lines separated by single line breaks inside a block
    separated by blank lines) stay as lines: the passage splitter merges short ones.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    lines = []
    for line in text.split("\n"):
        lines.append(_SPACES.sub(" ", line).strip())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
