"""Telegram's message limit: visible text in UTF-16 units, and HTML split to fit.

A message's visible text (after HTML parsing) is at most :data:`MAX_MESSAGE_UNITS`
UTF-16 code units — Telegram counts in UTF-16, and so never undercounts an
emoji; longer HTML is split by :func:`split_html` on paragraph boundaries,
never inside a tag or an entity, with every chunk's tags balanced. Pure: no
``telegram`` import.
"""

from __future__ import annotations

import bisect
import html
import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MAX_MESSAGE_UNITS", "split_html", "utf16_length", "visible_text"]

MAX_MESSAGE_UNITS = 4096
"""Telegram's limit on a message's visible text, in UTF-16 code units."""

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

    The markup is what :data:`bot.core.render.HTML` writes: well-formed, text escaped.
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
