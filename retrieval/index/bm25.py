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
ascending document numbers and term frequencies as numpy arrays, plus score
bounds per term and per block of 64 postings. Every ``add`` writes one new
segment with vectorised numpy; size-tiered merging (a linear scatter, no
sort) keeps the segment count logarithmic. Removal marks documents dead and
corrects document frequencies at once; merging drops dead postings later.

Search. :mod:`retrieval._kernel` runs block-max MaxScore over the segments
with one shared heap: only documents holding a query term are visited, whole
blocks whose terms cannot reach the current k-th score are skipped, and only
documents that can still enter the top k are scored in full. The result is
the exact top k, ties broken by lower key.

Persistence. With a directory, every change is committed there:
``seg-N/*.npy`` (immutable, memory-mapped when opened), ``vocab.txt``
(append-only), ``df-G.npy`` and ``dead-G.npy`` (per generation G) and
``manifest.json``, replaced atomically last, which is the commit point. A
crash leaves the previous generation intact; files no manifest names are
swept on open. The index is a cache of the database: the caller reconciles
it on start (see ``bot.core.corpus``).
"""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

from retrieval import _kernel
from retrieval.index import store
from retrieval.index.errors import IndexCorrupt, IndexError_
from retrieval.index.segments import (
    FloatArray,
    IntArray,
    Segment,
    U32Array,
    build_segment,
    merge,
    merge_tail,
)

__all__ = ["BM25Index", "SearchHit"]

_Array = TypeVar("_Array", bound=npt.NDArray[Any])


class SearchHit(NamedTuple):
    key: int
    score: float


class _Stats(NamedTuple):
    """What scoring needs beyond the postings; recomputed after every change."""

    average_idf: float  # mean raw idf over the live vocabulary (the epsilon floor's base)
    avgdl: float
    norm: FloatArray  # per document: k1 * (1 - b + b * len / avgdl)
    codes: npt.NDArray[np.uint8]  # per document: min(len, 255)
    by_tf: FloatArray  # [(tf - 1) * 256 + code]: tf * (k1 + 1) / (tf + norm of that length)


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
        self._segments: list[Segment] = []
        self._dead_postings: list[bool] = []  # per segment: may hold dead documents' postings
        self._stats_cache: _Stats | None = None
        self._searcher = _kernel.Searcher()
        self._bulk = 0
        # Persistence state.
        self._generation = 0
        self._next_segment = 1
        self._vocab_persisted = 0
        self._vocab_bytes = 0
        if self._directory is not None:
            if (self._directory / store.MANIFEST).exists():
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
            manifest = store.read_manifest(directory)
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
        self._terms = store.read_vocabulary(directory, self._vocab_bytes)
        if len(self._terms) != int(manifest["vocab_size"]):
            raise IndexCorrupt("vocabulary size does not match the manifest")
        self._vocab = {term: i for i, term in enumerate(self._terms)}
        self._vocab_persisted = len(self._terms)
        self._df = store.read_document_frequencies(directory, self._generation)
        if self._df.shape[0] != len(self._terms):
            raise IndexCorrupt("document frequencies do not match the vocabulary")
        for name in manifest["segments"]:
            segment = store.load_segment(directory, str(name), self._n_docs)
            self._segments.append(segment)
            self._n_docs += segment.n_docs
        self._keys = np.concatenate([s.keys for s in self._segments] or [self._keys])
        self._lengths = np.concatenate([s.lengths for s in self._segments] or [self._lengths])
        self._alive = np.ones(self._n_docs, dtype=np.uint8)
        dead = store.read_dead(directory, self._generation)
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
        return self._idf_of(int(self._df[term_id]), self._stats().average_idf)

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
            build_segment(
                first,
                key_array,
                lengths.astype(np.uint32),
                seg_terms,
                seg_docs,
                tfs,
                self._bound_params(),
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
            self._segments = [
                merge(self._segments, self._alive, self._df.shape[0], self._bound_params())
            ]
            self._dead_postings = [False]
        self._commit()

    # -- reads ------------------------------------------------------------------

    def search(self, query: Sequence[str], k: int = 10) -> list[SearchHit]:
        """The ``k`` best documents for the query tokens, best first (ties: lower key)."""
        if k <= 0 or self._n_alive == 0:
            return []
        # Repeats per term, in order of first appearance (as ``scores`` counts them).
        vocab = self._vocab
        repeats: dict[int, int] = {}
        for term in query:
            term_id = vocab.get(term)
            if term_id is not None:
                repeats[term_id] = repeats.get(term_id, 0) + 1
        if not repeats:
            return []
        stats = self._stats()
        term_ids: list[int] = []
        term_weights: list[float] = []
        for term_id, count in repeats.items():
            df = int(self._df[term_id])
            if df:
                term_ids.append(term_id)
                term_weights.append(self._idf_of(df, stats.average_idf) * count)
        if not term_ids:
            return []
        hits: list[SearchHit] = self._searcher.search(
            [segment.view for segment in self._segments],
            self._dead_postings,
            term_ids,
            term_weights,
            k,
            SearchHit,
        )
        return hits

    def scores(self, query: Sequence[str]) -> dict[int, float]:
        """Score of every live document containing a query token, by key.

        Exhaustive over the matching postings (numpy); for tests and analysis.
        """
        weights = Counter(t for t in query if t in self._vocab)
        if not weights or self._n_alive == 0:
            return {}
        average_idf, norm = self._stats().average_idf, self._stats().norm
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

    def _stats(self) -> _Stats:
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
            # The kernel reads tf * (k1 + 1) / (tf + norm) from a table by length
            # code and tf: the same expressions over the lengths 0..255 give the
            # same values, bit for bit, as over every document.
            codes = np.minimum(lengths, _kernel.LENGTH_CODES - 1).astype(np.uint8)
            code_lengths = np.arange(_kernel.LENGTH_CODES, dtype=np.uint32)
            code_norm = self.k1 * (1 - self.b + self.b * code_lengths / avgdl)
            by_tf = np.concatenate(
                [tf * (self.k1 + 1) / (tf + code_norm) for tf in range(1, _kernel.TF_TABLE + 1)]
            )
            self._stats_cache = _Stats(average, float(avgdl), norm, codes, by_tf)
            a, c = self._norm_params(avgdl)
            self._searcher.bind(norm, codes, by_tf, self._alive, self._keys, self.k1, a, c)
        return self._stats_cache

    def _norm_params(self, avgdl: float) -> tuple[float, float]:
        """``(a, c)`` such that every document's ``norm`` is ``a + c * len``."""
        return self.k1 * (1 - self.b), self.k1 * self.b / avgdl

    def _bound_params(self) -> tuple[float, float]:
        """The norm parameters of the current average length (for new segments' bounds)."""
        avgdl = self._total_length / self._n_alive if self._n_alive else 1.0
        return self._norm_params(avgdl if avgdl > 0 else 1.0)

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
        merge_tail(
            self._segments,
            self._dead_postings,
            self._alive,
            self._df.shape[0],
            self._bound_params(),
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
                store.write_segment(directory, name, segment)
                self._segments[i] = replace(segment, name=name)
        self._vocab_bytes = store.append_vocabulary(
            directory, self._terms[self._vocab_persisted :], self._vocab_bytes
        )
        self._vocab_persisted = len(self._terms)
        generation = self._generation + 1
        store.write_generation(
            directory,
            generation,
            self._df[: len(self._terms)],
            np.flatnonzero(self._alive[: self._n_docs] == 0),
        )
        store.write_manifest(
            directory,
            {
                "format": store.FORMAT_VERSION,
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
            },
        )
        self._generation = generation
        self._sweep()

    def _sweep(self) -> None:
        if self._directory is not None:
            store.sweep(
                self._directory,
                {s.name for s in self._segments if s.name is not None}
                | {
                    store.MANIFEST,
                    store.VOCABULARY,
                    f"df-{self._generation}.npy",
                    f"dead-{self._generation}.npy",
                },
            )


def _resized(array: _Array, capacity: int) -> _Array:
    grown = np.zeros(capacity, dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown  # type: ignore[return-value]
