"""Telegram's HTML parse mode, checked the way the Bot API checks it.

An implementation independent of :mod:`bot.telegram.split` (a strict
character-level parser, not the renderer's tag regex), so the test server is
an oracle for what the bot sends: only Telegram's tags and attributes, tags
properly nested and closed, only the entities Telegram knows (``&lt;``,
``&gt;``, ``&amp;``, ``&quot;`` and numeric), no bare ``<``, ``>`` or ``&``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ALLOWED_TAGS", "HtmlError", "parse_html", "utf16_units"]

ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)

_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s\"'<>=]+))?)*)\s*>"
)
_ATTRIBUTE = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(?:\"([^\"<>]*)\"|'([^'<>]*)'|([^\s\"'<>=]+)))?")
_URL = re.compile(r"(?:https?://[^\s/]+|tg://|mailto:)\S*", re.IGNORECASE)


class HtmlError(ValueError):
    """The text would be refused: ``Bad Request: can't parse entities: <message>``."""


@dataclass(frozen=True, slots=True)
class Parsed:
    text: str  # what the user sees
    tags: tuple[str, ...]  # every start tag's name, in order
    styles: tuple[tuple[str, ...], ...]  # for each character of text, the tags around it


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _decode_entities(raw: str, where: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "&":
            m = _ENTITY.match(raw, i)
            if m is None:
                raise HtmlError(f"Unsupported HTML entity at byte offset {where + i}")
            if m.group(1):
                out.append(_NAMED[m.group(1)])
            else:
                code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
                if code > 0x10FFFF or code == 0:
                    raise HtmlError(f"Invalid character code at byte offset {where + i}")
                out.append(chr(code))
            i = m.end()
        elif c in "<>":
            raise HtmlError(f"Unexpected {c!r} at byte offset {where + i}")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _check_attributes(name: str, raw: str, where: int) -> None:
    attributes = {}
    for m in _ATTRIBUTE.finditer(raw):
        value = next((g for g in m.groups()[1:] if g is not None), None)
        attributes[m.group(1).lower()] = None if value is None else _decode_entities(value, where)
    allowed: dict[str, set[str]] = {
        "a": {"href"},
        "span": {"class"},
        "code": {"class"},
        "blockquote": {"expandable"},
        "tg-emoji": {"emoji-id"},
    }
    extra = set(attributes) - allowed.get(name, set())
    if extra:
        raise HtmlError(f'Unsupported attribute "{sorted(extra)[0]}" at byte offset {where}')
    if name == "a":
        href = attributes.get("href")
        if not href or not _URL.fullmatch(href):
            raise HtmlError(f"Wrong HTTP URL at byte offset {where}")
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {where}')
    if name == "code" and not (attributes.get("class") or "language-").startswith("language-"):
        raise HtmlError(f"Wrong code class at byte offset {where}")
    if name == "tg-emoji" and not (attributes.get("emoji-id") or "").isdigit():
        raise HtmlError(f"Wrong emoji-id at byte offset {where}")


def parse_html(markup: str) -> Parsed:
    """The visible text of ``markup``; raises :class:`HtmlError` where Telegram would refuse."""
    out: list[str] = []
    styles: list[tuple[str, ...]] = []
    tags: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(markup):
        start = markup.find("<", i)
        if start < 0:
            start = len(markup)
        text = _decode_entities(markup[i:start], i)
        out.append(text)
        styles.extend([tuple(stack)] * len(text))
        if start == len(markup):
            break
        m = _TAG.match(markup, start)
        if m is None:
            raise HtmlError(f"Unexpected '<' at byte offset {start}")
        closing, name, attributes = m.group(1), m.group(2).lower(), m.group(3)
        if closing:
            if attributes.strip():
                raise HtmlError(f"Unexpected end tag attributes at byte offset {start}")
            if not stack or stack[-1] != name:
                raise HtmlError(f'Unmatched end tag "{name}" at byte offset {start}')
            stack.pop()
        else:
            if name not in ALLOWED_TAGS:
                raise HtmlError(f'Unsupported start tag "{name}" at byte offset {start}')
            inside = stack[-1] if stack else ""
            if inside in ("code", "pre") and not (inside == "pre" and name == "code"):
                raise HtmlError(f'Tag "{name}" inside "{stack[-1]}" at byte offset {start}')
            if name == "blockquote" and "blockquote" in stack:
                raise HtmlError(f"Nested blockquote at byte offset {start}")
            if name == "a" and "a" in stack:
                raise HtmlError(f"Nested link at byte offset {start}")
            _check_attributes(name, attributes, start)
            stack.append(name)
            tags.append(name)
        i = m.end()
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return Parsed("".join(out), tuple(tags), tuple(styles))
