"""BM25 over passages with rank-bm25's ``BM25Okapi`` scores: exact, incremental, persistent.

Scores are exactly those of ``rank_bm25.BM25Okapi(corpus).get_scores(query)``
for the same token lists (parity tests check it, adds and removals included)::

    idf(t)   = log(N - df + 0.5) - log(df + 0.5), and when that is negative,
               epsilon * (mean of idf over every term of the corpus)
    score(d) = sum over query tokens t (repeats count) of
               idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avgdl))

Layout. Documents get dense numbers in insertion order; the caller's keys
(passage ids) must increase with every :meth:`BM25Index.add`, so a key is
found by binary search. Postings live in immutable *segments*: per term, the
ascending document numbers and term frequencies as numpy arrays, plus the
term's largest frequency and shortest document (its score bound). Every
``add`` writes one new segment with vectorised numpy; size-tiered merging (a
linear scatter, no sort) keeps the segment count logarithmic. Removal marks
documents dead and corrects document frequencies at once; merging drops dead
postings later.

Search. :mod:`retrieval._kernel` runs document-at-a-time MaxScore per
segment with one shared heap: only documents holding a query term are
visited, and only those that can still enter the top k are scored in full.
The result is the exact top k, ties broken by lower key.

Persistence. With a directory, every change is committed there:
``seg-N/*.npy`` (immutable, memory-mapped when opened), ``vocab.txt``
(append-only), ``df-G.npy`` and ``dead-G.npy`` (per generation G) and
``manifest.json``, replaced atomically last, which is the commit point. A
crash leaves the previous generation intact; files no manifest names are
swept on open. The index is a cache of the database: the caller reconciles
it on start (see ``bot.corpus``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from retrieval import _kernel

__all__ = ["FORMAT_VERSION", "BM25Index", "IndexCorrupt", "IndexError_", "SearchHit"]

FORMAT_VERSION = 1

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
U32Array = npt.NDArray[np.uint32]
_Array = TypeVar("_Array", bound=npt.NDArray[Any])

# Log-structured merging: a segment's level is log10 of its size in units of
# _LEVEL_BASE postings; _MERGE_FACTOR segments of one level at the tail merge
# into one of the next. Each posting is copied O(log N) times, a query sees
# at most ~9 segments per level, and a merge's working set stays a fraction of
# the index (the 1M-passage build peaks far below holding everything twice).
_LEVEL_BASE = 1 << 16
_MERGE_FACTOR = 10
_SEGMENT_ARRAYS = ("keys", "lengths", "term_ids", "starts", "docs", "tfs", "max_tf", "min_len")


class IndexError_(ValueError):
    """The index was asked to do something inconsistent (e.g. non-increasing keys)."""


class IndexCorrupt(IndexError_):
    """The files on disk are not a readable index; rebuild it from the database."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    key: int
    score: float


@dataclass(frozen=True, slots=True)
class _Segment:
    """Immutable postings of documents ``first_doc .. first_doc + len(keys) - 1``.

    ``term_ids`` are the sorted distinct term ids present; the postings of
    ``term_ids[i]`` are ``docs[starts[i]:starts[i + 1]]`` (ascending global
    document numbers) with frequencies ``tfs[...]``; ``max_tf[i]`` and
    ``min_len[i]`` bound that term's score in this segment.
    """

    first_doc: int
    keys: IntArray
    lengths: U32Array
    term_ids: U32Array
    starts: IntArray
    docs: U32Array
    tfs: npt.NDArray[np.unsignedinteger[Any]]
    max_tf: npt.NDArray[np.unsignedinteger[Any]]
    min_len: U32Array
    name: str | None = None  # its directory, once written

    @property
    def n_docs(self) -> int:
        return int(self.keys.shape[0])

    @property
    def n_postings(self) -> int:
        return int(self.docs.shape[0])

    def postings(self, term_id: int) -> tuple[U32Array, npt.NDArray[np.unsignedinteger[Any]]]:
        i = int(np.searchsorted(self.term_ids, term_id))
        if i >= self.term_ids.shape[0] or int(self.term_ids[i]) != term_id:
            return self.docs[:0], self.tfs[:0]
        lo, hi = int(self.starts[i]), int(self.starts[i + 1])
        return self.docs[lo:hi], self.tfs[lo:hi]

    def posting_term_ids(self) -> U32Array:
        """The term id of every posting, aligned with ``docs``."""
        return np.repeat(self.term_ids, np.diff(self.starts))


def _tf_dtype(max_tf: int) -> type[np.unsignedinteger[Any]]:
    return np.uint16 if max_tf <= np.iinfo(np.uint16).max else np.uint32


def _level(postings: int) -> int:
    return 0 if postings < _LEVEL_BASE else int(math.log10(postings / _LEVEL_BASE)) + 1


def _segment(
    first_doc: int,
    keys: IntArray,
    lengths: U32Array,
    term_ids: U32Array,
    docs: U32Array,
    tfs: npt.NDArray[np.integer[Any]],
    doc_lengths: U32Array,
) -> _Segment:
    """A segment from postings sorted by (term id, doc); ``doc_lengths`` by global doc."""
    n = term_ids.shape[0]
    if n:
        firsts = np.flatnonzero(np.r_[True, term_ids[1:] != term_ids[:-1]])
        starts = np.append(firsts, n).astype(np.int64)
        unique_terms = term_ids[firsts]
        dtype = _tf_dtype(int(tfs.max()))
        tfs = tfs.astype(dtype, copy=False)
        max_tf = np.maximum.reduceat(tfs, firsts).astype(dtype)
        min_len = np.minimum.reduceat(doc_lengths[docs], firsts).astype(np.uint32)
    else:
        starts = np.zeros(1, dtype=np.int64)
        unique_terms = term_ids
        tfs = tfs.astype(np.uint16)
        max_tf = np.zeros(0, dtype=np.uint16)
        min_len = np.zeros(0, dtype=np.uint32)
    return _Segment(
        first_doc=first_doc,
        keys=keys,
        lengths=lengths,
        term_ids=np.ascontiguousarray(unique_terms, dtype=np.uint32),
        starts=starts,
        docs=np.ascontiguousarray(docs, dtype=np.uint32),
        tfs=np.ascontiguousarray(tfs),
        max_tf=np.ascontiguousarray(max_tf),
        min_len=np.ascontiguousarray(min_len),
    )


class BM25Index:
    """Incremental BM25Okapi index; see the module docstring for the guarantees.

    Not thread-safe: one thread at a time (the kernel releases the GIL while
    it scans, so other threads run meanwhile).
    """

    def __init__(
        self,
        k1: float = 1.5,
        b: float = 0.75,
        epsilon: float = 0.25,
        *,
        directory: Path | str | None = None,
        meta: dict[str, str] | None = None,
    ) -> None:
        self.k1 = k1
        self.b = b
        self.epsilon = epsilon
        self.meta: dict[str, str] = dict(meta or {})
        self._directory = Path(directory) if directory is not None else None
        self._terms: list[str] = []
        self._vocab: dict[str, int] = {}
        self._df: IntArray = np.zeros(0, dtype=np.int64)
        self._keys: IntArray = np.zeros(0, dtype=np.int64)
        self._lengths: U32Array = np.zeros(0, dtype=np.uint32)
        self._alive: npt.NDArray[np.uint8] = np.zeros(0, dtype=np.uint8)
        self._n_docs = 0  # document numbers handed out, dead ones included
        self._n_alive = 0
        self._total_length = 0  # of live documents
        self._segments: list[_Segment] = []
        self._dead_postings: list[bool] = []  # per segment: may hold dead documents' postings
        self._stats_cache: tuple[float, float, FloatArray] | None = None
        self._bulk = 0
        # Persistence state.
        self._generation = 0
        self._next_segment = 1
        self._vocab_persisted = 0
        self._vocab_bytes = 0
        if self._directory is not None:
            if (self._directory / "manifest.json").exists():
                raise IndexError_(f"{self._directory} holds an index already: use BM25Index.open")
            self._directory.mkdir(parents=True, exist_ok=True)
            self._commit()

    # -- opening ----------------------------------------------------------------

    @classmethod
    def open(cls, directory: Path | str) -> BM25Index:
        """Open the index persisted in ``directory`` (postings are memory-mapped).

        Raises :class:`IndexCorrupt` when the files cannot be read as an index.
        """
        directory = Path(directory)
        try:
            manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
            if manifest.get("format") != FORMAT_VERSION:
                raise IndexCorrupt(f"index format {manifest.get('format')!r} is not supported")
            index = cls.__new__(cls)
            index._load(directory, manifest)
        except IndexCorrupt:
            raise
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise IndexCorrupt(f"cannot read the index in {directory}: {exc}") from exc
        return index

    def _load(self, directory: Path, manifest: dict[str, Any]) -> None:
        BM25Index.__init__(
            self,
            float(manifest["k1"]),
            float(manifest["b"]),
            float(manifest["epsilon"]),
            meta={str(k): str(v) for k, v in manifest.get("meta", {}).items()},
        )
        self._directory = directory
        self._generation = int(manifest["generation"])
        self._next_segment = int(manifest["next_segment"])
        self._vocab_bytes = int(manifest["vocab_bytes"])
        raw = (directory / "vocab.txt").read_bytes()[: self._vocab_bytes]
        self._terms = raw.decode("utf-8").split("\n")[:-1] if raw else []
        if len(self._terms) != int(manifest["vocab_size"]):
            raise IndexCorrupt("vocabulary size does not match the manifest")
        self._vocab = {term: i for i, term in enumerate(self._terms)}
        self._vocab_persisted = len(self._terms)
        self._df = np.array(np.load(directory / f"df-{self._generation}.npy"), dtype=np.int64)
        if self._df.shape[0] != len(self._terms):
            raise IndexCorrupt("document frequencies do not match the vocabulary")
        for name in manifest["segments"]:
            arrays = {
                a: np.load(directory / name / f"{a}.npy", mmap_mode="r") for a in _SEGMENT_ARRAYS
            }
            segment = _Segment(first_doc=self._n_docs, name=name, **arrays)
            if (
                segment.starts.shape[0] != segment.term_ids.shape[0] + 1
                or int(segment.starts[-1]) != segment.n_postings
            ):
                raise IndexCorrupt(f"segment {name} is damaged")
            self._segments.append(segment)
            self._n_docs += segment.n_docs
        self._keys = np.concatenate([s.keys for s in self._segments] or [self._keys])
        self._lengths = np.concatenate([s.lengths for s in self._segments] or [self._lengths])
        self._alive = np.ones(self._n_docs, dtype=np.uint8)
        dead_file = directory / f"dead-{self._generation}.npy"
        dead = np.load(dead_file) if dead_file.exists() else np.zeros(0, dtype=np.int64)
        self._alive[dead] = 0
        self._dead_postings = [
            bool(dead.shape[0])
            and bool(np.any((dead >= s.first_doc) & (dead < s.first_doc + s.n_docs)))
            for s in self._segments
        ]
        self._n_alive = int(np.count_nonzero(self._alive))
        self._total_length = int(self._lengths[self._alive.astype(bool)].sum(dtype=np.int64))
        if self._n_alive != int(manifest["live_docs"]):
            raise IndexCorrupt("live document count does not match the manifest")
        self._sweep()

    # -- size and membership ------------------------------------------------------

    def __len__(self) -> int:
        return self._n_alive

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int) and self._doc_of(key) is not None

    def keys(self) -> IntArray:
        """Keys of the live documents, ascending."""
        live: IntArray = self._keys[: self._n_docs][self._alive[: self._n_docs].astype(bool)]
        return live

    @property
    def directory(self) -> Path | None:
        return self._directory

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
        return self._idf_of(int(self._df[term_id]), self._stats()[0])

    # -- writes -----------------------------------------------------------------

    def add(self, keys: Sequence[int], documents: Sequence[Sequence[str]]) -> None:
        """Add documents (token lists) under increasing integer keys, and commit."""
        if len(keys) != len(documents):
            raise IndexError_("keys and documents differ in length")
        if not keys:
            return
        n = len(keys)
        key_array = np.asarray(keys, dtype=np.int64)
        last = int(self._keys[self._n_docs - 1]) if self._n_docs else None
        if np.any(np.diff(key_array) <= 0) or (last is not None and int(key_array[0]) <= last):
            raise IndexError_("keys must increase, and exceed every key already added")

        lengths = np.fromiter(map(len, documents), dtype=np.int64, count=n)
        term_ids = np.empty(int(lengths.sum()), dtype=np.int64)
        new_terms: list[str] = []
        try:
            _kernel.map_tokens(self._vocab, new_terms, list(documents), term_ids)
        except (TypeError, ValueError) as exc:
            for term in new_terms:  # leave the vocabulary as it was
                del self._vocab[term]
            raise IndexError_(f"documents must be sequences of str tokens: {exc}") from None
        self._terms.extend(new_terms)
        first = self._n_docs
        self._grow(first + n, len(self._vocab))
        self._keys[first : first + n] = key_array
        self._lengths[first : first + n] = lengths
        self._alive[first : first + n] = 1
        self._n_docs += n
        self._n_alive += n
        self._total_length += int(lengths.sum())
        self._stats_cache = None

        local = np.repeat(np.arange(n, dtype=np.int64), lengths)
        combined, tfs = np.unique(term_ids * n + local, return_counts=True)
        seg_terms = (combined // n).astype(np.uint32)
        seg_docs = (combined % n + first).astype(np.uint32)
        self._df += np.bincount(seg_terms, minlength=self._df.shape[0])
        self._segments.append(
            _segment(
                first,
                key_array,
                lengths.astype(np.uint32),
                seg_terms,
                seg_docs,
                tfs,
                self._lengths,
            )
        )
        self._dead_postings.append(False)
        self._merge_small_segments()
        if not self._bulk:
            self._commit()

    def remove(self, keys: Iterable[int], documents: Sequence[Sequence[str]] | None = None) -> int:
        """Remove documents by key; unknown keys are ignored. Returns how many went.

        ``documents``, aligned with ``keys``, are their token lists as added: with
        them, document frequencies are corrected from the tokens; without them
        (e.g. when the text is gone), from a scan of the affected segments.
        """
        key_list = list(keys)
        found = [(k, self._doc_of(k)) for k in key_list]
        docs = sorted({d for _, d in found if d is not None})
        if not docs:
            return 0
        doc_array = np.asarray(docs, dtype=np.int64)
        if documents is not None:
            if len(documents) != len(key_list):
                raise IndexError_("keys and documents differ in length")
            gone: Counter[int] = Counter()
            seen: set[int] = set()
            for (_, doc), tokens in zip(found, documents, strict=True):
                if doc is not None and doc not in seen:
                    seen.add(doc)
                    gone.update({i for i in map(self._vocab.get, tokens) if i is not None})
            if gone:
                ids = np.fromiter(gone.keys(), dtype=np.int64, count=len(gone))
                self._df[ids] -= np.fromiter(gone.values(), dtype=np.int64, count=len(gone))
        else:
            for segment in self._segments:
                mine = doc_array[
                    (doc_array >= segment.first_doc)
                    & (doc_array < segment.first_doc + segment.n_docs)
                ]
                if mine.shape[0]:
                    hit = np.isin(segment.docs, mine.astype(np.uint32))
                    lost = segment.posting_term_ids()[hit]
                    self._df -= np.bincount(lost, minlength=self._df.shape[0])
        self._alive[doc_array] = 0
        self._n_alive -= len(docs)
        self._total_length -= int(self._lengths[doc_array].sum(dtype=np.int64))
        self._stats_cache = None
        for i, segment in enumerate(self._segments):
            if np.any(
                (doc_array >= segment.first_doc) & (doc_array < segment.first_doc + segment.n_docs)
            ):
                self._dead_postings[i] = True
        if not self._bulk:
            self._commit()
        return len(docs)

    @contextlib.contextmanager
    def bulk(self) -> Iterator[BM25Index]:
        """Defer committing to the end of the block (for big loads)."""
        self._bulk += 1
        try:
            yield self
        finally:
            self._bulk -= 1
            if not self._bulk:
                self._commit()

    def compact(self) -> None:
        """Merge every segment into one, dropping dead postings, and commit."""
        if len(self._segments) > 1 or any(self._dead_postings):
            self._segments = [self._merge(self._segments)]
            self._dead_postings = [False]
        self._commit()

    # -- reads ------------------------------------------------------------------

    def search(self, query: Sequence[str], k: int = 10) -> list[SearchHit]:
        """The ``k`` best documents for the query tokens, best first (ties: lower key)."""
        if k <= 0 or self._n_alive == 0:
            return []
        weights = Counter(t for t in query if t in self._vocab)
        if not weights:
            return []
        average_idf, avgdl, norm = self._stats()
        term_ids: list[int] = []
        term_weights: list[float] = []
        for term, repeats in weights.items():
            term_id = self._vocab[term]
            df = int(self._df[term_id])
            if df:
                term_ids.append(term_id)
                term_weights.append(self._idf_of(df, average_idf) * repeats)
        if not term_ids:
            return []
        query_ids = np.asarray(term_ids, dtype=np.uint32)
        query_weights = np.asarray(term_weights, dtype=np.float64)
        heap_scores = np.empty(k, dtype=np.float64)
        heap_docs = np.empty(k, dtype=np.int64)
        count = 0
        for segment, dead in zip(self._segments, self._dead_postings, strict=True):
            if segment.n_postings:
                count = _kernel.search_segment(
                    segment.term_ids,
                    segment.starts,
                    segment.docs,
                    segment.tfs,
                    segment.max_tf,
                    segment.min_len,
                    norm,
                    self._alive,
                    dead,
                    query_ids,
                    query_weights,
                    self.k1,
                    self.b,
                    avgdl,
                    heap_scores,
                    heap_docs,
                    count,
                )
        scores, docs = heap_scores[:count], heap_docs[:count]
        order = np.lexsort((docs, -scores))
        keys = self._keys[docs[order]]
        return [SearchHit(int(key), float(s)) for key, s in zip(keys, scores[order], strict=True)]

    def scores(self, query: Sequence[str]) -> dict[int, float]:
        """Score of every live document containing a query token, by key.

        Exhaustive over the matching postings (numpy); for tests and analysis.
        """
        weights = Counter(t for t in query if t in self._vocab)
        if not weights or self._n_alive == 0:
            return {}
        average_idf, _, norm = self._stats()
        totals: dict[int, float] = {}
        for term, repeats in weights.items():
            term_id = self._vocab[term]
            df = int(self._df[term_id])
            if not df:
                continue
            idf = self._idf_of(df, average_idf)
            for segment in self._segments:
                docs, tfs = segment.postings(term_id)
                live = self._alive[docs].astype(bool)
                docs = docs[live]
                tf = tfs[live].astype(np.float64)
                part = idf * (tf * (self.k1 + 1) / (tf + norm[docs])) * repeats
                for doc, s in zip(docs.tolist(), part.tolist(), strict=True):
                    totals[doc] = totals.get(doc, 0.0) + s
        return {int(self._keys[doc]): s for doc, s in totals.items()}

    # -- internals ----------------------------------------------------------------

    def _idf_of(self, df: int, average_idf: float) -> float:
        idf = math.log(self._n_alive - df + 0.5) - math.log(df + 0.5)
        return idf if idf >= 0 else self.epsilon * average_idf

    def _stats(self) -> tuple[float, float, FloatArray]:
        """(mean raw idf over the live vocabulary, avgdl, length norm of every doc)."""
        if self._stats_cache is None:
            present = self._df[self._df > 0].astype(np.float64)
            n = float(self._n_alive)
            raw = np.log(n - present + 0.5) - np.log(present + 0.5)
            average = float(raw.sum() / raw.shape[0]) if raw.shape[0] else 0.0
            avgdl = self._total_length / self._n_alive if self._n_alive else 1.0
            if avgdl <= 0:
                avgdl = 1.0  # only empty documents: every score is 0 anyway
            lengths = self._lengths[: self._n_docs]
            norm = np.ascontiguousarray(self.k1 * (1 - self.b + self.b * lengths / avgdl))
            self._stats_cache = (average, float(avgdl), norm)
        return self._stats_cache

    def _doc_of(self, key: int) -> int | None:
        keys = self._keys[: self._n_docs]
        i = int(np.searchsorted(keys, key))
        if i < self._n_docs and int(keys[i]) == key and self._alive[i]:
            return i
        return None

    def _grow(self, n_docs: int, n_terms: int) -> None:
        if n_docs > self._keys.shape[0]:
            capacity = max(n_docs, 2 * self._keys.shape[0], 1024)
            self._keys = _resized(self._keys, capacity)
            self._lengths = _resized(self._lengths, capacity)
            self._alive = _resized(self._alive, capacity)
            self._stats_cache = None
        if n_terms > self._df.shape[0]:
            self._df = _resized(self._df, max(n_terms, 2 * self._df.shape[0], 1024))

    def _merge_small_segments(self) -> None:
        segments = self._segments
        while len(segments) >= _MERGE_FACTOR:
            level = _level(segments[-1].n_postings)
            run = 0
            while run < len(segments) and _level(segments[-1 - run].n_postings) <= level:
                run += 1
            if run < _MERGE_FACTOR:
                return
            segments[-run:] = [self._merge(segments[-run:])]
            self._dead_postings[-run:] = [False]

    def _merge(self, segments: Sequence[_Segment]) -> _Segment:
        """One segment holding the live postings of ``segments`` (consecutive, in order).

        A linear scatter: each input's postings go straight to their place in the
        output, which is ordered by term and, within a term, by document. The
        inputs' score bounds carry over (still bounds after dropping postings).
        """
        alive = self._alive
        vocab_size = self._df.shape[0]
        counts = np.zeros(vocab_size, dtype=np.int64)
        max_tf_all = np.zeros(vocab_size, dtype=np.uint32)
        min_len_all = np.full(vocab_size, np.iinfo(np.uint32).max, dtype=np.uint32)
        parts: list[tuple[_Segment, npt.NDArray[np.bool_] | None, IntArray]] = []
        for segment in segments:
            if segment.n_postings == 0:
                continue
            keep: npt.NDArray[np.bool_] | None = None
            if not np.all(alive[segment.first_doc : segment.first_doc + segment.n_docs]):
                keep = alive[segment.docs].astype(bool)
                kept = np.add.reduceat(keep.astype(np.int64), segment.starts[:-1])
            else:
                kept = np.diff(segment.starts)
            counts[segment.term_ids] += kept
            np.maximum.at(max_tf_all, segment.term_ids, segment.max_tf)
            np.minimum.at(min_len_all, segment.term_ids, segment.min_len)
            parts.append((segment, keep, kept))
        bounds = np.zeros(vocab_size + 1, dtype=np.int64)
        np.cumsum(counts, out=bounds[1:])
        total = int(bounds[-1])
        present = np.flatnonzero(counts)
        dtype = _tf_dtype(int(max_tf_all.max()) if vocab_size else 0)
        out_docs = np.empty(total, dtype=np.uint32)
        out_tfs = np.empty(total, dtype=dtype)
        cursor = bounds[:-1].copy()
        for segment, keep, kept in parts:
            docs = segment.docs if keep is None else segment.docs[keep]
            tfs = segment.tfs if keep is None else segment.tfs[keep]
            group = np.repeat(np.arange(kept.shape[0]), kept)
            offset = np.arange(group.shape[0]) - (np.cumsum(kept) - kept)[group]
            positions = cursor[segment.term_ids][group] + offset
            out_docs[positions] = docs
            out_tfs[positions] = tfs
            cursor[segment.term_ids] += kept
            del group, offset, positions
        return _Segment(
            first_doc=segments[0].first_doc,
            keys=np.concatenate([np.asarray(s.keys) for s in segments]),
            lengths=np.concatenate([np.asarray(s.lengths) for s in segments]),
            term_ids=present.astype(np.uint32),
            starts=np.append(bounds[present], total),
            docs=out_docs,
            tfs=out_tfs,
            max_tf=max_tf_all[present].astype(dtype),
            min_len=min_len_all[present],
        )

    # -- persistence --------------------------------------------------------------

    def _commit(self) -> None:
        """Write what changed and switch the manifest to the new generation."""
        directory = self._directory
        if directory is None:
            return
        for i, segment in enumerate(self._segments):
            if segment.name is None:
                name = f"seg-{self._next_segment}"
                self._next_segment += 1
                folder = directory / name
                folder.mkdir(exist_ok=True)
                for array in _SEGMENT_ARRAYS:
                    np.save(folder / f"{array}.npy", getattr(segment, array))
                self._segments[i] = replace(segment, name=name)
        if len(self._terms) > self._vocab_persisted:
            added = "".join(f"{t}\n" for t in self._terms[self._vocab_persisted :]).encode()
            with open(directory / "vocab.txt", "ab") as vocab:
                vocab.truncate(self._vocab_bytes)  # drop a torn append from a crash
                vocab.seek(self._vocab_bytes)
                vocab.write(added)
            self._vocab_bytes += len(added)
            self._vocab_persisted = len(self._terms)
        elif not (directory / "vocab.txt").exists():
            (directory / "vocab.txt").write_bytes(b"")
        generation = self._generation + 1
        np.save(directory / f"df-{generation}.npy", self._df[: len(self._terms)].astype(np.int32))
        dead = np.flatnonzero(self._alive[: self._n_docs] == 0)
        if dead.shape[0]:
            np.save(directory / f"dead-{generation}.npy", dead.astype(np.int64))
        manifest = {
            "format": FORMAT_VERSION,
            "k1": self.k1,
            "b": self.b,
            "epsilon": self.epsilon,
            "meta": self.meta,
            "generation": generation,
            "next_segment": self._next_segment,
            "segments": [s.name for s in self._segments],
            "vocab_size": len(self._terms),
            "vocab_bytes": self._vocab_bytes,
            "live_docs": self._n_alive,
        }
        temporary = directory / "manifest.json.tmp"
        temporary.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        os.replace(temporary, directory / "manifest.json")
        self._generation = generation
        self._sweep()

    def _sweep(self) -> None:
        """Delete files of older generations and segments no manifest names."""
        directory = self._directory
        if directory is None:
            return
        keep = {s.name for s in self._segments} | {
            "manifest.json",
            "vocab.txt",
            f"df-{self._generation}.npy",
            f"dead-{self._generation}.npy",
        }
        for entry in directory.iterdir():
            if entry.name in keep:
                continue
            if entry.is_dir() and entry.name.startswith("seg-"):
                shutil.rmtree(entry, ignore_errors=True)
            elif entry.name.startswith(("df-", "dead-", "manifest.json.tmp")):
                entry.unlink(missing_ok=True)


def _resized(array: _Array, capacity: int) -> _Array:
    grown = np.zeros(capacity, dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown  # type: ignore[return-value]
