"""Pure Telegram rendering: message chunks within Telegram's limits, keyboards, inline results.

Everything here is plain data (no ``telegram`` import), so the rules every reply
obeys are tested without a network:

* a message's visible text (after HTML parsing) is at most :data:`MAX_MESSAGE_UNITS`
  UTF-16 code units — Telegram counts in UTF-16, and so never undercounts an
  emoji; longer HTML is split by :func:`split_html` on paragraph boundaries,
  never inside a tag or an entity, with every chunk's tags balanced;
* an answer card is one message, so that "More" can edit it in place:
  :func:`card_html` shortens the passage of a card that would not fit;
* ``callback_data`` is at most :data:`MAX_CALLBACK_BYTES` bytes (:class:`Button`
  refuses more), and :func:`parse_callback` reads back only what
  :func:`encode_callback` wrote — anything else, forged or stale, is ``None``.

Callback data is stateless: "Source" carries the passage id (``s:<id>``),
"More" carries a 12-character hash of the question and the hit to show
(``m:<qid>:<n>``); the question itself is looked up by its hash.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import html
import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot import render
from bot.service import AnswerPage
from retrieval.answer import Answer, Candidate, Highlighted, Hit

__all__ = [
    "INLINE_RESULTS",
    "MAX_CALLBACK_BYTES",
    "MAX_MESSAGE_UNITS",
    "Button",
    "InlineArticle",
    "Keyboard",
    "NextHit",
    "Reply",
    "ShowSource",
    "answer_reply",
    "card_html",
    "encode_callback",
    "html_reply",
    "inline_articles",
    "parse_callback",
    "question_id",
    "source_reply",
    "split_html",
    "text_reply",
    "utf16_length",
    "visible_text",
]

MAX_MESSAGE_UNITS = 4096
"""Telegram's limit on a message's visible text, in UTF-16 code units."""

MAX_CALLBACK_BYTES = 64
"""Telegram's limit on ``callback_data``, in bytes (UTF-8)."""

INLINE_RESULTS = 10
"""At most this many results answer an inline query."""

_INLINE_TITLE_CHARS = 100
_INLINE_DESCRIPTION_CHARS = 200

# -- HTML: visible text and splitting ----------------------------------------------

_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*>")
# Break points, best first: a blank line, a line break, a sentence end, a space.
# A chunk ends where a match ends; the whitespace it ends with is dropped.
_BREAKS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\n[ \t]*\n"),
    re.compile(r"\n"),
    re.compile(r"[.!?…][\"'”’)\]]*\s|[。！？][\"'”’)\]」』]*"),
    re.compile(r"\s"),
)


@dataclass(eq=False, frozen=True, slots=True)
class _Open:
    """One open element: its tag name and the start tag exactly as written.

    Compared by identity, so that two adjacent elements of the same kind stay two.
    """

    name: str
    start_tag: str


_Stack = tuple[_Open, ...]


def _segments(markup: str) -> list[tuple[str, _Stack]]:
    """``markup`` as runs of visible text, each with the elements open around it.

    The markup is what :data:`bot.render.HTML` writes: well-formed, text escaped.
    """
    runs: list[tuple[str, _Stack]] = []
    stack: list[_Open] = []
    cursor = 0
    for match in _TAG.finditer(markup):
        if match.start() > cursor:
            runs.append((html.unescape(markup[cursor : match.start()]), tuple(stack)))
        closing, name = match.group(1), match.group(2).lower()
        if not closing:
            stack.append(_Open(name, match.group(0)))
        else:
            # Close the innermost element of that name (and anything left open inside it).
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth].name == name:
                    del stack[depth:]
                    break
        cursor = match.end()
    if cursor < len(markup):
        runs.append((html.unescape(markup[cursor:]), tuple(stack)))
    return runs


def visible_text(markup: str) -> str:
    """What Telegram shows of ``markup``: tags removed, entities decoded."""
    return "".join(text for text, _ in _segments(markup))


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def split_html(markup: str, limit: int = MAX_MESSAGE_UNITS) -> list[str]:
    """``markup`` as messages of at most ``limit`` visible UTF-16 units each.

    Splits at the last blank line that fits, else the last line break, sentence
    end or space, and only as a last resort inside a word (never between a
    character and its combining marks). Elements open across a split are closed
    at the end of one chunk and reopened at the start of the next. The whitespace
    at a split is dropped, so the chunks' visible texts, joined with that
    whitespace, are the visible text of ``markup``. Text that is only whitespace
    yields no chunks.
    """
    if limit < 2:
        raise ValueError("limit must allow at least one character")
    if utf16_length(markup) <= limit and _text_at_both_ends(markup):
        # Short, and starts and ends with visible text (not whitespace, not a tag).
        return [markup]
    runs = _segments(markup)
    text = "".join(t for t, _ in runs)
    if text.strip() and utf16_length(text) <= limit and text == text.strip():
        return [markup]
    # units[i] = UTF-16 length of text[:i]
    units = [0, *itertools.accumulate(2 if ord(c) > 0xFFFF else 1 for c in text)]
    chunks: list[str] = []
    start = _skip_space(text, 0)
    while start < len(text):
        end = bisect.bisect_right(units, units[start] + limit) - 1
        cut = len(text) if end >= len(text) else _break_before(text, start, end)
        stop = cut
        while stop > start and text[stop - 1].isspace():
            stop -= 1
        chunks.append(_serialise(runs, start, stop))
        start = _skip_space(text, cut)
    return chunks


def _text_at_both_ends(markup: str) -> bool:
    first, last = markup[:1], markup[-1:]
    return bool(first.strip() and last.strip()) and first != "<" and last not in ">;"


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _break_before(text: str, start: int, end: int) -> int:
    """Where to end a chunk that starts at ``start`` and may reach ``end`` (exclusive)."""
    window = text[start : end + 1]  # one more character: a break may start right at ``end``
    for pattern in _BREAKS:
        best = 0
        for match in pattern.finditer(window):
            content_end = match.end()
            while content_end > 0 and window[content_end - 1].isspace():
                content_end -= 1
            if 0 < content_end <= end - start:
                best = match.end()
        if best:
            return start + best
    cut = end
    # Keep a character with its combining marks, joiners and variation selectors.
    while cut > start + 1 and _clings(text[cut]):
        cut -= 1
    if cut > start + 1 and "\ud800" <= text[cut - 1] <= "\udbff":
        cut -= 1  # never separate a surrogate pair that slipped in unpaired
    return cut


def _clings(char: str) -> bool:
    return (
        unicodedata.combining(char) != 0
        or char in "\u200d\ufe0e\ufe0f"
        or unicodedata.category(char) in ("Mn", "Me", "Mc")
        or 0x1F3FB <= ord(char) <= 0x1F3FF  # skin-tone modifiers
    )


def _serialise(runs: Sequence[tuple[str, _Stack]], start: int, stop: int) -> str:
    """The visible characters ``start:stop`` as balanced HTML."""
    out: list[str] = []
    current: _Stack = ()
    offset = 0
    for text, stack in runs:
        lo, hi = max(start, offset), min(stop, offset + len(text))
        offset += len(text)
        if lo >= hi:
            continue
        common = 0
        while common < min(len(current), len(stack)) and current[common] is stack[common]:
            common += 1
        out.extend(f"</{element.name}>" for element in reversed(current[common:]))
        out.extend(element.start_tag for element in stack[common:])
        out.append(html.escape(text[lo - (offset - len(text)) : hi - (offset - len(text))], False))
        current = stack
    out.extend(f"</{element.name}>" for element in reversed(current))
    return "".join(out)


# -- keyboards and callback data -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button: a callback (at most 64 bytes of data) or a link."""

    label: str
    callback_data: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.callback_data is None) == (self.url is None):
            raise ValueError("a button has either callback data or a URL")
        if self.callback_data is not None and not (
            1 <= len(self.callback_data.encode("utf-8")) <= MAX_CALLBACK_BYTES
        ):
            raise ValueError(f"callback_data must be 1..{MAX_CALLBACK_BYTES} bytes")


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class NextHit:
    """ "More": show hit ``index`` of the question whose id is ``question_id``."""

    question_id: str
    index: int


@dataclass(frozen=True, slots=True)
class ShowSource:
    """ "Source": show the full passage ``passage_id`` and its link."""

    passage_id: int


_QUESTION_ID = re.compile(r"[A-Za-z0-9_-]{12}")
_NEXT_HIT = re.compile(r"m:([A-Za-z0-9_-]{12}):(0|[1-9][0-9]{0,2})")
_SHOW_SOURCE = re.compile(r"s:([1-9][0-9]{0,17})")


def question_id(question: str) -> str:
    """A 12-character id for a (cleaned) question: the same text always gets the same id."""
    digest = hashlib.blake2b(question.encode("utf-8", "surrogatepass"), digest_size=9).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def encode_callback(action: NextHit | ShowSource) -> str:
    if isinstance(action, ShowSource):
        data = f"s:{action.passage_id}"
    else:
        if not _QUESTION_ID.fullmatch(action.question_id) or not 0 <= action.index <= 999:
            raise ValueError(f"cannot encode {action!r}")
        data = f"m:{action.question_id}:{action.index}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data for {action!r} would exceed {MAX_CALLBACK_BYTES} bytes")
    return data


def parse_callback(data: str | None) -> NextHit | ShowSource | None:
    """What a button press asks for, or ``None`` for data this bot did not write."""
    if not data or len(data) > MAX_CALLBACK_BYTES:
        return None
    if match := _NEXT_HIT.fullmatch(data):
        return NextHit(match.group(1), int(match.group(2)))
    if match := _SHOW_SOURCE.fullmatch(data):
        return ShowSource(int(match.group(1)))
    return None


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
        return html_reply(render.abstention(render.HTML))
    buttons = []
    if page.has_more:
        buttons.append(Button("More", encode_callback(NextHit(qid, page.index + 1))))
    buttons.append(Button("Source", encode_callback(ShowSource(hit.candidate.passage_id))))
    return Reply((card_html(page),), (tuple(buttons),))


def source_reply(candidate: Candidate) -> Reply:
    """The full passage, its source line and link (split when the passage is long)."""
    return html_reply(render.source_card(candidate, render.HTML))


# Progressively shorter cuts of sentence and passage for a card that does not fit.
_CARD_CUTS = (1500, 600, 200)


def card_html(page: AnswerPage, limit: int = MAX_MESSAGE_UNITS) -> str:
    """The answer card as one message of at most ``limit`` visible units."""
    card = render.answer_card(page, render.HTML)
    if utf16_length(card) <= limit:
        return card  # the markup itself fits, so its visible text does
    for chars in _CARD_CUTS:
        if utf16_length(visible_text(card).strip()) <= limit:
            return card
        card = render.answer_card(_shortened(page, chars), render.HTML)
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


def _linkable(url: str | None) -> bool:
    """Whether Telegram accepts ``url`` on a link button: absolute http(s), no spaces."""
    if not url or len(url) > 2048 or any(c.isspace() or ord(c) < 0x20 for c in url):
        return False
    scheme, sep, rest = url.partition("://")
    return bool(sep) and scheme.lower() in ("http", "https") and bool(rest.split("/", 1)[0])


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
                message_html=card_html(page),
                source_url=hit.candidate.url if _linkable(hit.candidate.url) else None,
            )
        )
    return articles
