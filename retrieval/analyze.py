"""Text analysis: the one place where text becomes index terms.

The same :class:`Analyzer` serves passages, questions, highlighting and the
BEIR evaluation, so what a question matches is exactly what the index holds.

Pipeline for each surface token found by ``_TOKEN_RE``:

* Unicode NFKC normalisation and case folding;
* possessives folded (``China's`` -> ``china``), contractions dropped as
  stopwords (``didn't``);
* English stopwords removed;
* Snowball (English) stemming of purely alphabetic words; tokens with digits
  or symbols are kept whole: ``pony.ai``, ``5g``, ``80%``, ``$690,000``;
* compounds joined by ``-`` or ``/`` yield their parts *and* the joined form
  (``e-commerce`` -> ``e``, ``commerc``, ``ecommerc``), so ``ecommerce``,
  ``e-commerce`` and ``e commerce`` all meet; dotted names likewise
  (``pony.ai`` -> ``pony.ai``, ``pony``, ``ai``); dotted acronyms join
  (``U.S.`` -> ``us``);
* runs of Chinese characters are converted to Simplified script with
  mainland vocabulary by OpenCC (``tw2sp``: 台積電 -> 台积电, 晶片 -> 芯片,
  奈米 -> 纳米), so Traditional and Simplified text and questions meet, then
  segmented into words by jieba (search mode, so a long word also yields its
  parts).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections.abc import Sequence
from typing import Any, NamedTuple

import Stemmer

from retrieval.stopwords import CHINESE as _CHINESE_STOPWORDS
from retrieval.stopwords import ENGLISH as ENGLISH_STOPWORDS

__all__ = ["ANALYZER_VERSION", "ENGLISH_STOPWORDS", "Analyzer", "SurfaceToken", "TokenSpan", "fold"]

ANALYZER_VERSION = "2"
"""Bump whenever analysis changes: a persisted index built by another version is rebuilt."""

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff"
_WORD = rf"[^\W_{_HAN}]"
_TOKEN_RE = re.compile(
    rf"""
      (?P<money>[$€£¥]\d[\d,]*(?:\.\d+)?)
    | (?P<percent>\d+(?:[.,]\d+)*\s?%)
    | (?P<number>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?)
    | (?P<han>[{_HAN}]+)
    | (?P<word>{_WORD}+(?:['’]{_WORD}+)*(?:[-/.]{_WORD}+(?:['’]{_WORD}+)*)*)
    """,
    re.VERBOSE,
)
_HAN_RUN = re.compile(f"[{_HAN}]")
_CONNECTOR_RE = re.compile(r"[-/.]")
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")


class TokenSpan(NamedTuple):
    """Where a surface token sits in the analysed text and the terms it yields.

    A named tuple rather than a dataclass: answers build thousands of these
    per question, and a tuple is built faster.
    """

    start: int
    end: int
    terms: tuple[str, ...]


class SurfaceToken(NamedTuple):
    """Every token of a text, stopwords included (their ``terms`` are empty).

    A run of Chinese characters is one token (``han`` true) whose terms are its
    segmented words.
    """

    start: int
    end: int
    terms: tuple[str, ...]
    han: bool


def fold(surface: str) -> str:
    """A surface word as a key: NFKC, case folded, possessive and apostrophes dropped."""
    token = unicodedata.normalize("NFKC", surface).casefold().replace("’", "'")
    return _strip_possessive(token).replace("'", "")


class Analyzer:
    """Turns text into BM25 terms; deterministic and safe to share between threads.

    Analysis of each distinct surface token is memoised, which makes analysing
    a large corpus cost roughly one regex pass plus a dictionary lookup per token.
    """

    _CACHE_LIMIT = 500_000

    def __init__(
        self,
        stopwords: frozenset[str] = ENGLISH_STOPWORDS,
        language: str = "english",
    ) -> None:
        self._stopwords = stopwords
        self._language = language
        self._stemmer = Stemmer.Stemmer(language)
        self._cache: dict[str, tuple[str, ...]] = {}
        self._jieba: Any = None
        self._opencc: Any = None
        self._top_frequency: int | None = None
        self._jieba_lock = threading.Lock()

    # -- public API -------------------------------------------------------------

    def terms(self, text: str) -> list[str]:
        """All index terms of ``text`` in order, with repetitions."""
        out: list[str] = []
        for match in _TOKEN_RE.finditer(text):
            if match.lastgroup == "han":
                out.extend(t for _, _, t in self._segment(match.group()))
            else:
                out.extend(self._surface_terms(match.group(), match.lastgroup or "word"))
        return out

    def spans(self, text: str) -> list[TokenSpan]:
        """Surface tokens of ``text`` with their offsets; tokens yielding no term
        (stopwords) are skipped. Used to bold the words a question matched."""
        out: list[TokenSpan] = []
        for match in _TOKEN_RE.finditer(text):
            kind = match.lastgroup or "word"
            start = match.start()
            if kind == "han":
                out.extend(
                    TokenSpan(start + s, start + e, (term,))
                    for s, e, term in self._segment(match.group())
                )
                continue
            terms = self._surface_terms(match.group(), kind)
            if terms:
                out.append(TokenSpan(start, match.end(), terms))
        return out

    def simplified(self, text: str) -> str:
        """``text`` with its Chinese in Simplified script and mainland vocabulary, when
        that keeps every offset (else as written)."""
        if not _HAN_RUN.search(text):
            return text
        converted = self._simplify(text)
        return converted if len(converted) == len(text) else text

    def words(self, run: str) -> list[tuple[int, int, str]]:
        """The Chinese words of a run of Han characters, already :meth:`simplified`, as a
        reader splits them (jieba's precise mode, no overlapping parts): (start, end, word)."""
        out: list[tuple[int, int, str]] = []
        start = 0
        for word in self._jieba_tokenizer().cut(run, HMM=True):
            out.append((start, start + len(word), word))
            start += len(word)
        return out

    def word_weight(self, word: str) -> float:
        """``log10`` of how much rarer a Chinese word is than the commonest one (的) in
        jieba's dictionary, between 0.5 and 5 (words it lacks weigh most): the
        counterpart of the English word list's weights."""
        tokenizer = self._jieba_tokenizer()
        count = tokenizer.FREQ.get(word, 0)
        if count <= 0:
            return 5.0
        top = self._top_frequency
        if top is None:
            top = self._top_frequency = max(tokenizer.FREQ.values())
        return min(5.0, max(0.5, math.log10(top / count)))

    def needs_segmenter(self, text: str) -> bool:
        """Whether analysing ``text`` would first load the Chinese segmenter (~1-4 s)."""
        return self._jieba is None and _HAN_RUN.search(text) is not None

    def load_segmenter(self) -> None:
        """Load the Chinese segmenter now (a server does it at start, off the request path)."""
        self._jieba_tokenizer()

    def tokens(self, text: str) -> list[SurfaceToken]:
        """Every surface token of ``text`` in order, stopwords included (with no terms).

        Query understanding reads these: question frame phrases such as "tell me
        about" are made of stopwords.
        """
        out: list[SurfaceToken] = []
        for match in _TOKEN_RE.finditer(text):
            kind = match.lastgroup or "word"
            if kind == "han":
                terms = tuple(t for _, _, t in self._segment(match.group()))
                out.append(SurfaceToken(match.start(), match.end(), terms, True))
            else:
                terms = self._surface_terms(match.group(), kind)
                out.append(SurfaceToken(match.start(), match.end(), terms, False))
        return out

    def stem_words(self, words: Sequence[str]) -> list[str]:
        """The Snowball stems of plain lower-case words (no stopword check), in one call.

        A stemmer without a cache: for one pass over many distinct words the
        cache only costs (0.15 s instead of 0.4 s for 50,000 words)."""
        stemmer = Stemmer.Stemmer(self._language, 0)
        return [str(w) for w in stemmer.stemWords(list(words))]

    # -- internals --------------------------------------------------------------

    def _surface_terms(self, surface: str, kind: str) -> tuple[str, ...]:
        cached = self._cache.get(surface)
        if cached is not None:
            return cached
        terms = self._analyse_surface(surface, kind)
        if len(self._cache) >= self._CACHE_LIMIT:
            self._cache.clear()
        self._cache[surface] = terms
        return terms

    def _analyse_surface(self, surface: str, kind: str) -> tuple[str, ...]:
        token = unicodedata.normalize("NFKC", surface).casefold().replace("’", "'")
        # NFKC spells some single characters as several words ("ﷺ"): a term has no spaces.
        token = "".join(token.split())
        if kind in ("money", "number"):
            return (token,)
        if kind == "percent":
            return (token.replace(" ", ""),)
        parts = _CONNECTOR_RE.split(token)
        if len(parts) == 1:
            word = self._word(token)
            return (word,) if word else ()
        if _NUMBER_RE.fullmatch(token):  # 2.5, 1.2.3
            return (token,)
        if "." in token and all(len(p) == 1 for p in parts):  # u.s -> us, p.m -> pm
            return (self._word("".join(parts)) or "".join(parts),)
        out = [word for word in map(self._word, parts) if word]
        whole = token if "." in token else "".join(parts)
        whole = _strip_possessive(whole).replace("'", "")
        joined = self._stem(whole) if whole.isalpha() else whole
        if joined and joined not in out:
            out.append(joined)
        return tuple(out)

    def _word(self, token: str) -> str:
        """Normalise one connector-free token; empty when it is a stopword."""
        token = _strip_possessive(token)
        if token in self._stopwords:
            return ""
        if "'" in token:
            token = token.replace("'", "")
            if token in self._stopwords:
                return ""
        return self._stem(token) if token.isalpha() else token

    def _stem(self, word: str) -> str:
        return str(self._stemmer.stemWord(word))

    def _segment(self, run: str) -> list[tuple[int, int, str]]:
        """Chinese words of a run of Han characters: (start, end, term)."""
        out: list[tuple[int, int, str]] = []
        tokenizer = self._jieba_tokenizer()
        run = self.simplified(run)  # offsets stay those of the text as written
        for word, start, end in tokenizer.tokenize(run, mode="search"):
            term = unicodedata.normalize("NFKC", word).casefold()
            if term.strip() and term not in _CHINESE_STOPWORDS:
                out.append((start, end, term))
        return out

    def _simplify(self, run: str) -> str:
        converter = self._opencc
        if converter is None:
            with self._jieba_lock:
                if self._opencc is None:
                    import opencc

                    self._opencc = opencc.OpenCC("tw2sp")
                converter = self._opencc
        return str(converter.convert(run))

    def _jieba_tokenizer(self) -> Any:
        # jieba loads a 5 MB dictionary (~1 s): only when Chinese text shows up.
        with self._jieba_lock:
            if self._jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                self._jieba = tokenizer
            return self._jieba


def _strip_possessive(token: str) -> str:
    if token.endswith("'s"):
        return token[:-2]
    return token.rstrip("'")
