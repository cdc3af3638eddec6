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

Persistence. With a directory, every change is committed there (see
:mod:`retrieval.index.store`): immutable files under fresh names (segments
memory-mapped when opened, an append-only vocabulary, per-generation document
frequencies and removed documents), each with its CRC-32 in a manifest that
is written last and renamed into place: the commit point. Opening checks the
manifest, every checksum and every segment's invariants, and raises
:class:`IndexCorrupt` rather than hand the kernel anything inconsistent. A
crash leaves the previous generation intact. Several processes may share a
folder: a commit first checks, under an exclusive lock, that no other
process committed since this index was loaded, and raises
:class:`IndexStale` (writing nothing) if one did. The index is a cache of the
database: the caller reconciles it on start and after :class:`IndexStale`
(see ``bot.core.corpus``).
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
from retrieval.index.errors import IndexCorrupt, IndexError_, IndexStale, IndexUnwritable
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
        replace: bool = False,
        lock: store.IndexLock | None = None,
    ) -> None:
        """A new, empty index; with ``directory``, persisted there.

        The folder must be techbrief's (see :func:`store.claim`) and hold no
        index, unless ``replace``: then its index is replaced at the first
        commit (a rebuild), and nothing is written before. ``lock`` is the
        folder's lock when the caller holds it already (see :meth:`open`).
        """
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
        self._unsaved = False  # changes not yet committed to the directory
        self._read_only = False
        # Persistence state.
        self._lock: store.IndexLock | None = None
        self._base_commit: str | None = None  # the generation on disk this index continues
        self._persisted: dict[str, store.SegmentEntry] = {}  # written segments, by name
        self._generation = 0
        self._next_segment = 1
        self._vocab_file = store.fresh_vocabulary()
        self._vocab_persisted = 0
        self._vocab_bytes = 0
        self._vocab_crc = 0
        if self._directory is not None:
            store.claim(self._directory)
            self._lock = lock or store.IndexLock(self._directory)
            exists = (self._directory / store.MANIFEST).exists()
            if exists and not replace:
                raise IndexError_(f"{self._directory} holds an index already: use BM25Index.open")
            if replace:
                # Replaces what is there (unreadable, or built differently) at the
                # first commit, unless another process commits first.
                self._base_commit = store.current_commit(self._directory)
                self._unsaved = True
            else:
                self._commit()

    # -- opening ----------------------------------------------------------------

    @classmethod
    def open(
        cls,
        directory: Path | str,
        *,
        read_only: bool = False,
        lock: store.IndexLock | None = None,
    ) -> BM25Index:
        """Open the index persisted in ``directory`` (postings are memory-mapped).

        Raises :class:`IndexCorrupt` when the files are not a sound index of
        this format: the caller rebuilds it. ``read_only``: change no file (no
        sweep of older generations, not even a lock file made) and refuse writes,
        so that another process may inspect an index while its owner runs.
        ``lock``: the folder's lock, for a caller that holds it across opening
        and committing (locks are per object: a second lock object on the same
        folder would wait for the first).
        """
        directory = Path(directory)
        index = cls.__new__(cls)
        lock = lock or store.IndexLock(directory, read_only=read_only)
        try:
            with lock.shared():  # no sweep deletes a file while it is being opened
                index._load(directory, store.read_manifest(directory))
        except IndexCorrupt:
            raise
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise IndexCorrupt(f"cannot read the index in {directory}: {exc}") from exc
        index._lock = lock
        index._read_only = read_only
        if read_only:
            return index
        # Leftovers of a crashed commit go now if nobody is committing (never wait for it).
        with contextlib.suppress(OSError, IndexUnwritable), lock.exclusive(wait=False) as held:
            if held and store.current_commit(directory) == index._base_commit:
                store.sweep(directory)
        return index

    def _load(self, directory: Path, manifest: store.Manifest) -> None:
        BM25Index.__init__(self, manifest.k1, manifest.b, manifest.epsilon, meta=manifest.meta)
        self._directory = directory
        self._base_commit = manifest.commit
        self._generation = manifest.generation
        self._next_segment = manifest.next_segment
        self._vocab_file = manifest.vocabulary
        self._vocab_bytes = manifest.vocab_bytes
        self._vocab_crc = manifest.vocab_crc
        self._terms = store.read_vocabulary(
            directory, manifest.vocabulary, manifest.vocab_bytes, manifest.vocab_crc
        )
        self._vocab = {term: i for i, term in enumerate(self._terms)}
        if len(self._terms) != manifest.vocab_size or len(self._vocab) != len(self._terms):
            raise IndexCorrupt("the vocabulary does not match the manifest")
        self._vocab_persisted = len(self._terms)
        state = store.read_pack(directory, manifest.state, store.GENERATION_DTYPES)
        if state["df"].shape[0] != len(self._terms):
            raise IndexCorrupt("document frequencies do not match the vocabulary")
        self._df = state["df"].astype(np.int64)
        last_key: int | None = None
        for entry in manifest.segments:
            if entry.docs and last_key is not None and entry.first_key <= last_key:
                raise IndexCorrupt(f"{entry.name}: keys do not follow the previous segment's")
            segment = store.load_segment(directory, entry, self._n_docs, len(self._terms))
            self._segments.append(segment)
            self._persisted[entry.name] = entry
            self._n_docs += segment.n_docs
            last_key = entry.last_key if entry.docs else last_key
        self._keys = np.concatenate([s.keys for s in self._segments] or [self._keys])
        self._lengths = np.concatenate([s.lengths for s in self._segments] or [self._lengths])
        self._alive = np.ones(self._n_docs, dtype=np.uint8)
        dead = np.array(state["dead"], dtype=np.int64)
        if dead.shape[0] and (
            int(dead[0]) < 0 or int(dead[-1]) >= self._n_docs or np.any(dead[1:] <= dead[:-1])
        ):
            raise IndexCorrupt("removed documents are not document numbers of this index")
        self._alive[dead] = 0
        self._dead_postings = [
            bool(dead.shape[0])
            and bool(np.any((dead >= s.first_doc) & (dead < s.first_doc + s.n_docs)))
            for s in self._segments
        ]
        self._n_alive = int(np.count_nonzero(self._alive))
        self._total_length = int(self._lengths[self._alive.astype(bool)].sum(dtype=np.int64))
        if self._n_alive != manifest.live_docs:
            raise IndexCorrupt("live document count does not match the manifest")
        if np.any(self._df < 0) or np.any(self._df > self._n_alive):
            raise IndexCorrupt("document frequencies are out of range")

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
    def lock(self) -> store.IndexLock | None:
        """The folder's lock this index commits under (``None`` in memory)."""
        return self._lock

    @property
    def unsaved(self) -> bool:
        """Whether this persisted index holds changes its folder does not (yet)."""
        return self._directory is not None and self._unsaved

    @property
    def last_key(self) -> int | None:
        """The largest key ever added (removed ones included): a new key must exceed it."""
        return int(self._keys[self._n_docs - 1]) if self._n_docs else None

    def is_current(self) -> bool:
        """Whether no other process committed to the folder since this index was loaded."""
        if self._directory is None:
            return True
        return store.current_commit(self._directory) == self._base_commit

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

    def vocabulary(self) -> list[tuple[str, int]]:
        """Terms present in at least one live document, with their document frequencies."""
        present = np.flatnonzero(self._df)
        return [(self._terms[i], int(self._df[i])) for i in present.tolist()]

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
        self._unsaved = True
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
        self._unsaved = True
        if not self._bulk:
            self._commit()
        return len(docs)

    @contextlib.contextmanager
    def bulk(self) -> Iterator[BM25Index]:
        """Defer committing to the end of the block (for big loads); an error commits nothing."""
        self._bulk += 1
        try:
            yield self
        except BaseException:
            self._bulk -= 1
            raise
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

    def scores_after(self, query: Sequence[str], after_key: int) -> dict[int, float]:
        """Score of every live document with a key above ``after_key`` that contains a
        query token, by key: :meth:`scores` restricted to the newest documents.

        Keys grow with insertion, so those documents are a suffix of the document
        numbers: only postings from there on are read (a binary search per term and
        segment), whatever the size of the rest of the index. Digests use it to score
        the passages added since a subscriber's last digest.
        """
        weights = Counter(t for t in query if t in self._vocab)
        if not weights or self._n_alive == 0:
            return {}
        first = int(np.searchsorted(self._keys[: self._n_docs], after_key, side="right"))
        if first >= self._n_docs:
            return {}
        stats = self._stats()
        average_idf, norm = stats.average_idf, stats.norm
        totals = np.zeros(self._n_docs - first, dtype=np.float64)
        touched = np.zeros(self._n_docs - first, dtype=bool)
        for term, repeats in weights.items():
            term_id = self._vocab[term]
            df = int(self._df[term_id])
            if not df:
                continue
            idf = self._idf_of(df, average_idf)
            for docs, tf in self._live_postings_from(term_id, first):
                part = idf * (tf * (self.k1 + 1) / (tf + norm[docs])) * repeats
                # A document appears once per term and segment: plain fancy indexing adds.
                totals[docs - first] += part
                touched[docs - first] = True
        found = np.flatnonzero(touched)
        keys = self._keys[found + first]
        return dict(zip(keys.tolist(), totals[found].tolist(), strict=True))

    def _live_postings_from(
        self, term_id: int, first: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The live documents from number ``first`` on holding a term, per segment:
        (document numbers, term frequencies as floats)."""
        for segment in self._segments:
            if segment.first_doc + segment.n_docs <= first:
                continue
            docs, tfs = segment.postings(term_id)
            start = int(np.searchsorted(docs, first))
            docs, tfs = docs[start:], tfs[start:]
            live = self._alive[docs].astype(bool)
            yield docs[live], tfs[live].astype(np.float64)

    def saturations_after(
        self, terms: Iterable[str], after_key: int
    ) -> dict[str, dict[int, float]]:
        """For each of ``terms``, by key of every live document above ``after_key`` holding
        it: BM25's term-frequency part without the idf, ``tf / (tf + norm)`` where
        ``norm = k1 * (1 - b + b * len / avgdl)`` (in [0, 1): how much of the document
        is that term). A document's score for a term is ``idf * (k1 + 1)`` times it.

        Digests weigh a topic's concepts with it (:mod:`retrieval.digest`); it reads
        the postings :meth:`scores_after` reads.
        """
        out: dict[str, dict[int, float]] = {}
        if self._n_alive == 0:
            return out
        first = int(np.searchsorted(self._keys[: self._n_docs], after_key, side="right"))
        if first >= self._n_docs:
            return out
        norm = self._stats().norm
        for term in dict.fromkeys(terms):
            term_id = self._vocab.get(term)
            if term_id is None or not self._df[term_id]:
                continue
            found: dict[int, float] = {}
            for docs, tf in self._live_postings_from(term_id, first):
                part = tf / (tf + norm[docs])
                found.update(zip(self._keys[docs].tolist(), part.tolist(), strict=True))
            if found:
                out[term] = found
        return out

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
        """Write what changed under fresh names and publish it with a new manifest.

        Raises :class:`IndexStale` (writing nothing) when another process
        committed since this index was loaded, and :class:`IndexUnwritable`
        when the files cannot be written; either way the generation on disk is
        untouched and this object keeps its changes in memory.
        """
        directory, lock = self._directory, self._lock
        if directory is None or lock is None:
            return
        if self._read_only:
            raise IndexError_(f"{directory} was opened read-only")
        with lock.exclusive():
            if store.current_commit(directory) != self._base_commit:
                raise IndexStale(f"another process changed the index in {directory}")
            written: list[str] = []
            try:
                manifest = self._write_generation(directory, written)
                flush = list(written)  # removed again if the commit fails
                if manifest.vocab_bytes != self._vocab_bytes and manifest.vocabulary not in flush:
                    flush.append(manifest.vocabulary)  # appended to: flushed, never removed
                store.write_manifest(directory, manifest, flush)
            except OSError as exc:
                store.remove_files(directory, written)
                raise IndexUnwritable(
                    f"cannot write the search index in {directory}: {exc.strerror or exc}"
                ) from exc
            self._adopt(manifest)
            self._unsaved = False
            with contextlib.suppress(OSError):
                store.sweep(directory, manifest)

    def _write_generation(self, directory: Path, written: list[str]) -> store.Manifest:
        """Write the files of the next generation (recording their names in ``written``)."""
        entries: list[store.SegmentEntry] = []
        number = self._next_segment
        for segment in self._segments:
            entry = self._persisted.get(segment.name) if segment.name else None
            if entry is None:
                entry = store.write_segment(directory, segment, number)
                written.append(entry.name)
                number += 1
            entries.append(entry)
        if not (directory / self._vocab_file).exists():
            written.append(self._vocab_file)  # a new vocabulary file (a new or rebuilt index)
        vocab_bytes, vocab_crc = store.append_vocabulary(
            directory,
            self._vocab_file,
            self._terms[self._vocab_persisted :],
            self._vocab_bytes,
            self._vocab_crc,
        )
        generation = self._generation + 1
        state = store.write_pack(
            directory / store.fresh_generation_name(generation),
            {
                "df": self._df[: len(self._terms)].astype(np.int32),
                "dead": np.flatnonzero(self._alive[: self._n_docs] == 0).astype(np.int64),
            },
        )
        written.append(state.name)
        return store.Manifest(
            commit=store.fresh_commit(),
            generation=generation,
            k1=self.k1,
            b=self.b,
            epsilon=self.epsilon,
            meta=dict(self.meta),
            segments=tuple(entries),
            next_segment=number,
            vocabulary=self._vocab_file,
            vocab_size=len(self._terms),
            vocab_bytes=vocab_bytes,
            vocab_crc=vocab_crc,
            state=state,
            live_docs=self._n_alive,
        )

    def _adopt(self, manifest: store.Manifest) -> None:
        """Take the committed generation's names as this index's own."""
        self._segments = [
            replace(segment, name=entry.name)
            for segment, entry in zip(self._segments, manifest.segments, strict=True)
        ]
        self._persisted = {entry.name: entry for entry in manifest.segments}
        self._next_segment = manifest.next_segment
        self._vocab_bytes, self._vocab_crc = manifest.vocab_bytes, manifest.vocab_crc
        self._vocab_persisted = manifest.vocab_size
        self._generation = manifest.generation
        self._base_commit = manifest.commit


def _resized(array: _Array, capacity: int) -> _Array:
    grown = np.zeros(capacity, dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown  # type: ignore[return-value]
