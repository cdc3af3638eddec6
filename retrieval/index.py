"""BM25 over passages with rank-bm25's ``BM25Okapi`` scores, without rescoring the corpus.

Scores are exactly those of ``rank_bm25.BM25Okapi(corpus).get_scores(query)``
for the same token lists (a parity test checks it, adds and removals
included)::

    idf(t)   = log(N - df + 0.5) - log(df + 0.5), and when that is negative,
               epsilon * (mean of idf over every term of the corpus)
    score(d) = sum over query tokens t (repeats count) of
               idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avgdl))

Layout: documents get dense numbers in insertion order; the caller's keys
(passage ids) must increase with every :meth:`BM25Index.add`, so a key is
found by binary search. Postings live in immutable *segments*: per term, the
ascending document numbers and term frequencies, as numpy arrays. Every
``add`` writes one new segment (vectorised, no per-document Python loop);
small segments are merged so a query touches few of them. Removal marks
documents dead, corrects the document frequencies at once, and merging drops
the dead postings later.

Only passages containing a query term are ever scored.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = ["BM25Index", "IndexError_", "SearchHit"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_Array = TypeVar("_Array", bound=npt.NDArray[Any])

# A new segment is merged with its neighbours while it is at least this
# fraction of their size: logarithmically many segments, amortised merging.
_MERGE_RATIO = 0.5
_MAX_SEGMENTS = 8


class IndexError_(ValueError):
    """The index was asked to do something inconsistent (e.g. non-increasing keys)."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    key: int
    score: float


@dataclass(frozen=True, slots=True)
class _Segment:
    """Immutable postings of the documents ``first_doc .. last_doc``.

    ``term_ids`` are the sorted distinct term ids present; the postings of
    ``term_ids[i]`` are ``docs[starts[i]:starts[i + 1]]`` (ascending) with
    frequencies ``tfs[...]``.
    """

    term_ids: npt.NDArray[np.uint32]
    starts: IntArray
    docs: npt.NDArray[np.uint32]
    tfs: npt.NDArray[np.unsignedinteger[Any]]
    first_doc: int
    last_doc: int

    @property
    def n_postings(self) -> int:
        return int(self.docs.shape[0])

    def postings(self, term_id: int) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.generic]]:
        i = int(np.searchsorted(self.term_ids, term_id))
        if i >= self.term_ids.shape[0] or int(self.term_ids[i]) != term_id:
            return _EMPTY_DOCS, _EMPTY_TFS
        lo, hi = int(self.starts[i]), int(self.starts[i + 1])
        return self.docs[lo:hi], self.tfs[lo:hi]

    def posting_term_ids(self) -> npt.NDArray[np.uint32]:
        """The term id of every posting, aligned with ``docs``."""
        return np.repeat(self.term_ids, np.diff(self.starts))


_EMPTY_DOCS: npt.NDArray[np.uint32] = np.zeros(0, dtype=np.uint32)
_EMPTY_TFS: npt.NDArray[np.uint32] = np.zeros(0, dtype=np.uint32)


def _segment_from_triples(
    term_ids: npt.NDArray[np.uint32],
    docs: npt.NDArray[np.uint32],
    tfs: npt.NDArray[np.generic],
    first_doc: int,
    last_doc: int,
) -> _Segment:
    """Build a segment from postings already sorted by (term id, doc)."""
    boundaries = np.flatnonzero(np.diff(term_ids)) + 1
    starts = np.concatenate(([0], boundaries, [term_ids.shape[0]])).astype(np.int64)
    if term_ids.shape[0] == 0:
        starts = np.zeros(1, dtype=np.int64)
    unique_terms = term_ids[starts[:-1]] if term_ids.shape[0] else term_ids
    max_tf = int(tfs.max()) if tfs.shape[0] else 0
    tf_dtype = np.uint16 if max_tf <= np.iinfo(np.uint16).max else np.uint32
    return _Segment(
        term_ids=np.ascontiguousarray(unique_terms, dtype=np.uint32),
        starts=starts,
        docs=np.ascontiguousarray(docs, dtype=np.uint32),
        tfs=np.ascontiguousarray(tfs, dtype=tf_dtype),
        first_doc=first_doc,
        last_doc=last_doc,
    )


class BM25Index:
    """Incremental BM25Okapi index; see the module docstring for the guarantees."""

    def __init__(self, k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25) -> None:
        self.k1 = k1
        self.b = b
        self.epsilon = epsilon
        self._vocab: dict[str, int] = {}
        self._df: IntArray = np.zeros(0, dtype=np.int64)
        self._keys: IntArray = np.zeros(0, dtype=np.int64)
        self._lengths: IntArray = np.zeros(0, dtype=np.int64)
        self._alive: npt.NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._n_docs = 0  # document numbers handed out, dead ones included
        self._n_alive = 0
        self._total_length = 0  # of alive documents
        self._segments: list[_Segment] = []
        self._dead_in_segment: list[int] = []
        self._stats_cache: tuple[float, FloatArray] | None = None  # (avg idf, K per doc)

    # -- size and membership ------------------------------------------------------

    def __len__(self) -> int:
        return self._n_alive

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int) and self._doc_of(key) is not None

    def keys(self) -> IntArray:
        """Keys of the live documents, ascending."""
        return self._keys[: self._n_docs][self._alive[: self._n_docs]]

    @property
    def vocabulary_size(self) -> int:
        """Terms present in at least one live document."""
        return int(np.count_nonzero(self._df))

    @property
    def segment_count(self) -> int:
        return len(self._segments)

    def document_frequency(self, term: str) -> int:
        term_id = self._vocab.get(term)
        return 0 if term_id is None else int(self._df[term_id])

    def idf(self, term: str) -> float:
        """BM25Okapi's idf of ``term`` (0 for a term the corpus does not hold)."""
        term_id = self._vocab.get(term)
        if term_id is None or self._df[term_id] == 0:
            return 0.0
        return self._idf_of(int(self._df[term_id]), self._average_idf())

    # -- writes -----------------------------------------------------------------

    def add(self, keys: Sequence[int], documents: Sequence[Sequence[str]]) -> None:
        """Add documents (token lists) under increasing integer keys."""
        if len(keys) != len(documents):
            raise IndexError_("keys and documents differ in length")
        if not keys:
            return
        key_array = np.asarray(keys, dtype=np.int64)
        last = int(self._keys[self._n_docs - 1]) if self._n_docs else None
        if np.any(np.diff(key_array) <= 0) or (last is not None and int(key_array[0]) <= last):
            raise IndexError_("keys must increase, and exceed every key already added")

        vocab = self._vocab
        # One dict lookup per token is the only per-token Python work.
        flat_ids = [vocab.setdefault(token, len(vocab)) for doc in documents for token in doc]
        lengths = np.fromiter((len(doc) for doc in documents), dtype=np.int64, count=len(keys))
        first = self._n_docs
        self._grow(first + len(keys), len(vocab))
        self._keys[first : first + len(keys)] = key_array
        self._lengths[first : first + len(keys)] = lengths
        self._alive[first : first + len(keys)] = True
        self._n_docs += len(keys)
        self._n_alive += len(keys)
        self._total_length += int(lengths.sum())
        self._stats_cache = None

        if flat_ids:
            term_ids = np.asarray(flat_ids, dtype=np.int64)
            local_docs = np.repeat(np.arange(len(keys), dtype=np.int64), lengths)
            combined, tfs = np.unique(term_ids * len(keys) + local_docs, return_counts=True)
            seg_terms = (combined // len(keys)).astype(np.uint32)
            seg_docs = (combined % len(keys) + first).astype(np.uint32)
            self._df += np.bincount(seg_terms, minlength=self._df.shape[0])
            segment = _segment_from_triples(seg_terms, seg_docs, tfs, first, first + len(keys) - 1)
            self._segments.append(segment)
            self._dead_in_segment.append(0)
            self._merge_small_segments()

    def remove(self, keys: Iterable[int]) -> int:
        """Remove documents by key; unknown keys are ignored. Returns how many went."""
        docs = sorted({d for d in (self._doc_of(k) for k in keys) if d is not None})
        if not docs:
            return 0
        doc_array = np.asarray(docs, dtype=np.int64)
        self._alive[doc_array] = False
        self._n_alive -= len(docs)
        self._total_length -= int(self._lengths[doc_array].sum())
        self._stats_cache = None
        for i, segment in enumerate(self._segments):
            mine = doc_array[(doc_array >= segment.first_doc) & (doc_array <= segment.last_doc)]
            if mine.shape[0] == 0:
                continue
            hit = np.isin(segment.docs, mine.astype(np.uint32))
            gone_terms = segment.posting_term_ids()[hit]
            self._df -= np.bincount(gone_terms, minlength=self._df.shape[0])
            self._dead_in_segment[i] += int(mine.shape[0])
        if self._n_alive == 0:
            self._reset_postings()
        return len(docs)

    # -- reads ------------------------------------------------------------------

    def search(self, query: Sequence[str], k: int = 10) -> list[SearchHit]:
        """The ``k`` best documents for the query tokens, best first (ties: lower key)."""
        docs, scores = self._score_touched(query)
        if docs.shape[0] == 0 or k <= 0:
            return []
        if docs.shape[0] > k:
            top = np.argpartition(-scores, k - 1)[:k]
            # Include every document tied with the k-th score, then order exactly.
            kth = scores[top].min()
            top = np.flatnonzero(scores >= kth)
        else:
            top = np.arange(docs.shape[0])
        keys = self._keys[docs[top]]
        order = np.lexsort((keys, -scores[top]))[:k]
        return [SearchHit(int(keys[i]), float(scores[top][i])) for i in order]

    def scores(self, query: Sequence[str]) -> dict[int, float]:
        """Score of every live document containing a query token, by key."""
        docs, scores = self._score_touched(query)
        return {int(key): float(s) for key, s in zip(self._keys[docs], scores, strict=True)}

    # -- internals ----------------------------------------------------------------

    def _score_touched(self, query: Sequence[str]) -> tuple[IntArray, FloatArray]:
        weights = Counter(t for t in query if t in self._vocab)
        if not weights or self._n_alive == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        average_idf, norm = self._stats()
        k1 = self.k1
        doc_parts: list[IntArray] = []
        score_parts: list[FloatArray] = []
        for term, weight in weights.items():
            term_id = self._vocab[term]
            df = int(self._df[term_id])
            if df == 0:
                continue
            idf = self._idf_of(df, average_idf)
            for i, segment in enumerate(self._segments):
                docs, tfs = segment.postings(term_id)
                if docs.shape[0] == 0:
                    continue
                if self._dead_in_segment[i]:
                    keep = self._alive[docs]
                    docs, tfs = docs[keep], tfs[keep]
                tf = tfs.astype(np.float64)
                term_scores = idf * (tf * (k1 + 1) / (tf + norm[docs]))
                if weight > 1:
                    term_scores = term_scores * weight
                doc_parts.append(docs.astype(np.int64))
                score_parts.append(term_scores)
        if not doc_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        all_docs = np.concatenate(doc_parts)
        all_scores = np.concatenate(score_parts)
        order = np.argsort(all_docs, kind="stable")
        sorted_docs = all_docs[order]
        firsts = np.flatnonzero(np.r_[True, sorted_docs[1:] != sorted_docs[:-1]])
        return sorted_docs[firsts], np.add.reduceat(all_scores[order], firsts)

    def _idf_of(self, df: int, average_idf: float) -> float:
        idf = math.log(self._n_alive - df + 0.5) - math.log(df + 0.5)
        return idf if idf >= 0 else self.epsilon * average_idf

    def _average_idf(self) -> float:
        return self._stats()[0]

    def _stats(self) -> tuple[float, FloatArray]:
        """Mean raw idf over the live vocabulary, and the length norm of every doc."""
        if self._stats_cache is None:
            present = self._df[self._df > 0].astype(np.float64)
            n = float(self._n_alive)
            raw = np.log(n - present + 0.5) - np.log(present + 0.5)
            average = float(raw.sum() / raw.shape[0]) if raw.shape[0] else 0.0
            avgdl = self._total_length / self._n_alive if self._n_alive else 1.0
            lengths = self._lengths[: self._n_docs]
            norm = (self.k1 * (1 - self.b + self.b * lengths / avgdl)).astype(np.float64)
            self._stats_cache = (average, norm)
        return self._stats_cache

    def _doc_of(self, key: int) -> int | None:
        keys = self._keys[: self._n_docs]
        i = int(np.searchsorted(keys, key))
        if i < self._n_docs and int(keys[i]) == key and bool(self._alive[i]):
            return i
        return None

    def _grow(self, n_docs: int, n_terms: int) -> None:
        if n_docs > self._keys.shape[0]:
            capacity = max(n_docs, 2 * self._keys.shape[0], 1024)
            self._keys = _resized(self._keys, capacity)
            self._lengths = _resized(self._lengths, capacity)
            self._alive = _resized(self._alive, capacity)
        if n_terms > self._df.shape[0]:
            self._df = _resized(self._df, max(n_terms, 2 * self._df.shape[0], 1024))

    def _merge_small_segments(self) -> None:
        segments = self._segments
        while len(segments) > 1 and (
            len(segments) > _MAX_SEGMENTS
            or segments[-1].n_postings >= _MERGE_RATIO * segments[-2].n_postings
        ):
            segments[-2:] = [self._merge(segments[-2], segments[-1])]
            self._dead_in_segment[-2:] = [0]  # merging dropped the dead postings

    def _merge(self, older: _Segment, newer: _Segment) -> _Segment:
        term_ids = np.concatenate((older.posting_term_ids(), newer.posting_term_ids()))
        docs = np.concatenate((older.docs, newer.docs))
        tfs = np.concatenate((older.tfs.astype(np.uint32), newer.tfs.astype(np.uint32)))
        keep = self._alive[docs]
        term_ids, docs, tfs = term_ids[keep], docs[keep], tfs[keep]
        # older's documents all precede newer's: a stable sort by term keeps docs ascending.
        order = np.argsort(term_ids, kind="stable")
        return _segment_from_triples(
            term_ids[order], docs[order], tfs[order], older.first_doc, newer.last_doc
        )

    def _reset_postings(self) -> None:
        # Nothing is alive: start over with empty postings (keys stay monotonic).
        self._segments.clear()
        self._dead_in_segment.clear()
        self._df[:] = 0


def _resized(array: _Array, capacity: int) -> _Array:
    grown = np.zeros(capacity, dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown  # type: ignore[return-value]
