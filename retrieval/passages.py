"""Article text -> passages (the unit BM25 ranks) and passages -> sentences.

Rules, in order:

* the text is split into paragraphs on line breaks;
* a short line (at most ``HEADING_MAX_WORDS`` words) that does not end like a
  sentence and is no list item (``- …``, ``• …``) is a *section heading*: it is
  not a passage of its own but the context of every passage of its section
  (shown with the answer and indexed with the passage, so "energy challenges"
  finds the section of that name);
* a paragraph longer than ``MAX_WORDS`` is cut at sentence boundaries into
  pieces of about ``TARGET_WORDS`` words;
* a paragraph shorter than ``MIN_WORDS`` is merged into the next paragraph of
  the same section (or the previous one when it is the last).

Words are counted by :func:`count_words`: Chinese (and Japanese) text has no
spaces between words, so its characters count ``CJK_CHARS_PER_WORD`` to a word;
sentences end with ``。！？`` too, and Chinese pieces are joined without spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pysbd

__all__ = [
    "CJK_CHARS_PER_WORD",
    "HEADING_MAX_WORDS",
    "MAX_WORDS",
    "MIN_WORDS",
    "TARGET_WORDS",
    "Passage",
    "Sentence",
    "count_words",
    "derive_title",
    "is_heading",
    "sentence_spans",
    "split_passages",
    "split_sentences",
]

HEADING_MAX_WORDS = 12
MIN_WORDS = 25
MAX_WORDS = 180
TARGET_WORDS = 110

CJK_CHARS_PER_WORD = 1.8
"""Chinese news text averages about 1.8 characters per word (jieba's segmentation)."""

# Han and kana, as the analyzer segments them; CJK punctuation is not counted.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_CJK_WORD = re.compile(rf"[^\s{_CJK}]*[^\W_{_CJK}][^\s{_CJK}]*")  # a non-CJK word
# Chinese characters and punctuation (、。「」 and the full-width ，！？): drawn two columns
# wide, and no space is put between two pieces that meet with them.
_WIDE = re.compile(f"[{_CJK}\u3000-\u303f\uff01-\uff60]")
_SENTENCE_END = re.compile(r"""[.!?…:;。！？：；]["'”’)\]」』）】]*$""")
_LIST_ITEM = re.compile(r"[-*•▪–]\s")  # as trafilatura writes list items: "- item"
_WHITESPACE = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u3000]+")
_LINE_BREAKS = re.compile(r"\r\n|\r|\n|\u2028|\u2029")


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrievable unit: a paragraph (or part of one) and its section heading."""

    text: str
    heading: str | None = None

    @property
    def indexed_text(self) -> str:
        """What the index sees: the heading, then the text."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence and its character offsets in the text it was cut from."""

    text: str
    start: int
    end: int


def count_words(text: str) -> int:
    """Words in ``text``: space-separated tokens, and Chinese characters by
    ``CJK_CHARS_PER_WORD`` (text without them counts exactly as ``len(text.split())``)."""
    cjk = len(_CJK_CHAR.findall(text))
    if not cjk:
        return len(text.split())
    return len(_CJK_WORD.findall(text)) + max(1, round(cjk / CJK_CHARS_PER_WORD))


def _join(first: str, second: str) -> str:
    """Two pieces of text as one: a space between them, none between Chinese ones."""
    if first and second and _WIDE.match(first[-1]) and _WIDE.match(second[0]):
        return first + second
    return f"{first} {second}"


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of ``text`` with offsets; whitespace around them is not included."""
    out: list[Sentence] = []
    # A fresh segmenter per call (~2 µs): pysbd keeps per-call state.
    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    for span in segmenter.segment(text):
        raw = span.sent
        stripped = raw.strip()
        if not stripped:
            continue
        start = span.start + (len(raw) - len(raw.lstrip()))
        out.append(Sentence(stripped, start, start + len(stripped)))
    return out


def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) offsets of the sentences of ``text``: stored once, used per answer."""
    return tuple((s.start, s.end) for s in split_sentences(text))


def split_passages(text: str) -> list[Passage]:
    """Cut an article body into passages (see the module docstring for the rules)."""
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    for line in _LINE_BREAKS.split(text):
        paragraph = _WHITESPACE.sub(" ", line).strip()
        if not paragraph:
            continue
        if is_heading(paragraph):
            sections.append((paragraph, []))
        else:
            sections[-1][1].append(paragraph)

    passages: list[Passage] = []
    pending_heading: str | None = None
    for heading, paragraphs in sections:
        if not paragraphs:
            # Two headings in a row: keep the earlier one as context too.
            if heading:
                pending_heading = _join_headings(pending_heading, heading)
            continue
        heading = _join_headings(pending_heading, heading)
        pending_heading = None
        for chunk in _merge_short(_cut_long(paragraphs)):
            passages.append(Passage(chunk, heading))
    return passages


def is_heading(paragraph: str) -> bool:
    """A short line that does not end like a sentence and is no list item."""
    return (
        count_words(paragraph) <= HEADING_MAX_WORDS
        and not _SENTENCE_END.search(paragraph)
        and not _LIST_ITEM.match(paragraph)
    )


def _join_headings(first: str | None, second: str | None) -> str | None:
    if first and second:
        return f"{first} — {second}"
    return first or second


def _cut_long(paragraphs: list[str]) -> list[str]:
    out: list[str] = []
    for paragraph in paragraphs:
        if count_words(paragraph) <= MAX_WORDS:
            out.append(paragraph)
            continue
        # Pieces are cut out of the paragraph, so its own spacing (none in Chinese) stays.
        start: int | None = None
        end = size = 0
        for sentence in split_sentences(paragraph):
            words = count_words(sentence.text)
            if start is not None and size + words > TARGET_WORDS:
                out.append(paragraph[start:end])
                start, size = None, 0
            if start is None:
                start = sentence.start
            end = sentence.end
            size += words
        if start is not None:
            out.append(paragraph[start:end])
    return out


def _merge_short(paragraphs: list[str]) -> list[str]:
    out: list[str] = []
    carry = ""
    for paragraph in paragraphs:
        text = _join(carry, paragraph) if carry else paragraph
        if count_words(text) < MIN_WORDS:
            carry = text
            continue
        out.append(text)
        carry = ""
    if carry:
        if out:
            out[-1] = _join(out[-1], carry)
        else:
            out.append(carry)
    return out


def derive_title(text: str, max_chars: int = 60) -> str:
    """A title for an article that has none: its first sentence, cut at a word boundary
    (short: cards show it under that sentence when nothing else names the article).

    ``max_chars`` is a width: a Chinese character counts as two (it is drawn as
    wide as two Latin letters), and Chinese text is cut between characters.
    """
    sentences = split_sentences(text[:2000])
    first = sentences[0].text if sentences else text.strip()
    first = _WHITESPACE.sub(" ", first)
    end = _overflow(first, max_chars)
    if end is None:
        return first.rstrip(".。")
    wide = _WIDE.match(first[end])
    cut = first[:end] if wide else first[: end + 1].rsplit(" ", 1)[0]
    return f"{cut.rstrip(',;:—- ，、；：')}…"


def _overflow(text: str, max_width: int) -> int | None:
    """The index of the first character past ``max_width`` columns, None if all fit."""
    width = 0
    for index, char in enumerate(text):
        width += 2 if _WIDE.match(char) else 1
        if width > max_width:
            return index
    return None
