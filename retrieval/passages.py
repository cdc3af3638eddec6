"""Article text -> passages (the unit BM25 ranks) and passages -> sentences.

Rules, in order:

* the text is split into paragraphs on line breaks;
* a short line (at most ``HEADING_MAX_WORDS`` words) that does not end like a
  sentence is a *section heading*: it is not a passage of its own but the
  context of every passage of its section (shown with the answer and indexed
  with the passage, so "energy challenges" finds the section of that name);
* a paragraph longer than ``MAX_WORDS`` is cut at sentence boundaries into
  pieces of about ``TARGET_WORDS`` words;
* a paragraph shorter than ``MIN_WORDS`` is merged into the next paragraph of
  the same section (or the previous one when it is the last).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pysbd

__all__ = [
    "HEADING_MAX_WORDS",
    "MAX_WORDS",
    "MIN_WORDS",
    "TARGET_WORDS",
    "Passage",
    "Sentence",
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

_SENTENCE_END = re.compile(r"""[.!?…:;]["'”’)\]]*$""")
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
    """A short line that does not end like a sentence."""
    words = paragraph.split()
    return len(words) <= HEADING_MAX_WORDS and not _SENTENCE_END.search(paragraph)


def _join_headings(first: str | None, second: str | None) -> str | None:
    if first and second:
        return f"{first} — {second}"
    return first or second


def _cut_long(paragraphs: list[str]) -> list[str]:
    out: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph.split()) <= MAX_WORDS:
            out.append(paragraph)
            continue
        piece: list[str] = []
        size = 0
        for sentence in split_sentences(paragraph):
            words = len(sentence.text.split())
            if piece and size + words > TARGET_WORDS:
                out.append(" ".join(piece))
                piece, size = [], 0
            piece.append(sentence.text)
            size += words
        if piece:
            out.append(" ".join(piece))
    return out


def _merge_short(paragraphs: list[str]) -> list[str]:
    out: list[str] = []
    carry = ""
    for paragraph in paragraphs:
        text = f"{carry} {paragraph}" if carry else paragraph
        if len(text.split()) < MIN_WORDS:
            carry = text
            continue
        out.append(text)
        carry = ""
    if carry:
        if out:
            out[-1] = f"{out[-1]} {carry}"
        else:
            out.append(carry)
    return out


def derive_title(text: str, max_chars: int = 90) -> str:
    """A title for an article that has none: its first sentence, cut at a word boundary."""
    sentences = split_sentences(text[:2000])
    first = sentences[0].text if sentences else text.strip()
    first = _WHITESPACE.sub(" ", first)
    if len(first) <= max_chars:
        return first.rstrip(".")
    cut = first[: max_chars + 1].rsplit(" ", 1)[0].rstrip(",;:—- ")
    return f"{cut}…"
