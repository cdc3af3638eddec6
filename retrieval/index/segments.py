"""Immutable postings segments and the policy that merges them.

Documents get dense numbers in insertion order. A :class:`Segment` holds the
postings of a run of consecutive documents: per term, the ascending document
numbers and term frequencies as numpy arrays, plus the term's largest
frequency and shortest document (its score bound). Every add builds one
segment with vectorised numpy (:func:`build_segment`); size-tiered merging
(:func:`merge_tail`, a linear scatter in :func:`merge`, no sort) keeps the
segment count logarithmic and drops the postings of removed documents.

Log-structured merging: a segment's level is log10 of its size in units of
:data:`LEVEL_BASE` postings; :data:`MERGE_FACTOR` segments of one level at the
tail merge into one of the next. Each posting is copied O(log N) times, a
query sees at most ~9 segments per level, and a merge's working set stays a
fraction of the index (the 1M-passage build peaks far below holding
everything twice).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.index.errors import IndexCorrupt

__all__ = [
    "LEVEL_BASE",
    "MERGE_FACTOR",
    "SEGMENT_ARRAYS",
    "SEGMENT_DTYPES",
    "FloatArray",
    "IntArray",
    "Segment",
    "U32Array",
    "build_segment",
    "check_segment",
    "level",
    "merge",
    "merge_tail",
    "tf_dtype",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
U32Array = npt.NDArray[np.uint32]

LEVEL_BASE = 1 << 16
MERGE_FACTOR = 10
SEGMENT_ARRAYS = ("keys", "lengths", "term_ids", "starts", "docs", "tfs", "max_tf", "min_len")
"""The arrays of a segment, as persisted (one ``.npy`` file each)."""

_TF_DTYPES = (np.dtype(np.uint16), np.dtype(np.uint32))
SEGMENT_DTYPES: dict[str, tuple[np.dtype[Any], ...]] = {
    "keys": (np.dtype(np.int64),),
    "lengths": (np.dtype(np.uint32),),
    "term_ids": (np.dtype(np.uint32),),
    "starts": (np.dtype(np.int64),),
    "docs": (np.dtype(np.uint32),),
    "tfs": _TF_DTYPES,
    "max_tf": _TF_DTYPES,
    "min_len": (np.dtype(np.uint32),),
}
"""The dtypes each array of :data:`SEGMENT_ARRAYS` may have (checked when a segment is opened)."""


@dataclass(frozen=True, slots=True)
class Segment:
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


def tf_dtype(max_tf: int) -> type[np.unsignedinteger[Any]]:
    return np.uint16 if max_tf <= np.iinfo(np.uint16).max else np.uint32


def level(postings: int) -> int:
    return 0 if postings < LEVEL_BASE else int(math.log10(postings / LEVEL_BASE)) + 1


def build_segment(
    first_doc: int,
    keys: IntArray,
    lengths: U32Array,
    term_ids: U32Array,
    docs: U32Array,
    tfs: npt.NDArray[np.integer[Any]],
    doc_lengths: U32Array,
) -> Segment:
    """A segment from postings sorted by (term id, doc); ``doc_lengths`` by global doc."""
    n = term_ids.shape[0]
    if n:
        firsts = np.flatnonzero(np.r_[True, term_ids[1:] != term_ids[:-1]])
        starts = np.append(firsts, n).astype(np.int64)
        unique_terms = term_ids[firsts]
        dtype = tf_dtype(int(tfs.max()))
        tfs = tfs.astype(dtype, copy=False)
        max_tf = np.maximum.reduceat(tfs, firsts).astype(dtype)
        min_len = np.minimum.reduceat(doc_lengths[docs], firsts).astype(np.uint32)
    else:
        starts = np.zeros(1, dtype=np.int64)
        unique_terms = term_ids
        tfs = tfs.astype(np.uint16)
        max_tf = np.zeros(0, dtype=np.uint16)
        min_len = np.zeros(0, dtype=np.uint32)
    return Segment(
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


def merge_tail(
    segments: list[Segment],
    dead_postings: list[bool],
    alive: npt.NDArray[np.uint8],
    vocab_size: int,
) -> None:
    """Merge runs of :data:`MERGE_FACTOR` same-level segments at the tail, in place.

    ``dead_postings`` (per segment: may hold removed documents' postings) is
    kept aligned with ``segments``.
    """
    while len(segments) >= MERGE_FACTOR:
        tail = level(segments[-1].n_postings)
        run = 0
        while run < len(segments) and level(segments[-1 - run].n_postings) <= tail:
            run += 1
        if run < MERGE_FACTOR:
            return
        segments[-run:] = [merge(segments[-run:], alive, vocab_size)]
        dead_postings[-run:] = [False]


def merge(segments: Sequence[Segment], alive: npt.NDArray[np.uint8], vocab_size: int) -> Segment:
    """One segment holding the live postings of ``segments`` (consecutive, in order);
    ``alive`` flags every document number, ``vocab_size`` bounds the term ids.

    A linear scatter: each input's postings go straight to their place in the
    output, which is ordered by term and, within a term, by document. The
    inputs' score bounds carry over (still bounds after dropping postings).
    """
    counts = np.zeros(vocab_size, dtype=np.int64)
    max_tf_all = np.zeros(vocab_size, dtype=np.uint32)
    min_len_all = np.full(vocab_size, np.iinfo(np.uint32).max, dtype=np.uint32)
    parts: list[tuple[Segment, npt.NDArray[np.bool_] | None, IntArray]] = []
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
    dtype = tf_dtype(int(max_tf_all.max()) if vocab_size else 0)
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
    return Segment(
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


# -- validation of persisted segments -------------------------------------------------------


def check_segment(segment: Segment, n_terms: int) -> None:
    """Raise :class:`IndexCorrupt` unless ``segment`` is safe to search and consistent.

    The scoring kernel trusts what it reads (it is compiled without bounds
    checks), so a segment read from disk is checked first: every array is
    one-dimensional with a dtype it may have (:data:`SEGMENT_DTYPES`, for every
    name in :data:`SEGMENT_ARRAYS`); the lengths agree; offsets start at 0,
    increase and end at the posting count; term ids increase and are below
    ``n_terms``; keys increase; every document number lies in the segment's own
    range. Cheap: O(terms + documents) plus two reductions over the postings.
    """
    name = segment.name or "a segment"
    for array in SEGMENT_ARRAYS:
        value = getattr(segment, array)
        allowed = SEGMENT_DTYPES[array]
        if not isinstance(value, np.ndarray) or value.ndim != 1 or value.dtype not in allowed:
            raise IndexCorrupt(f"{name}: {array} is not a 1-d array of {allowed[0]}")
    n_docs, n_terms_here, n_postings = segment.n_docs, segment.term_ids.shape[0], segment.n_postings
    for array, expected in (
        ("lengths", n_docs),
        ("starts", n_terms_here + 1),
        ("tfs", n_postings),
        ("max_tf", n_terms_here),
        ("min_len", n_terms_here),
    ):
        if getattr(segment, array).shape[0] != expected:
            raise IndexCorrupt(f"{name}: {array} holds the wrong number of entries")
    if segment.max_tf.dtype != segment.tfs.dtype:
        raise IndexCorrupt(f"{name}: max_tf and tfs differ in dtype")
    starts = segment.starts
    if int(starts[0]) != 0 or int(starts[-1]) != n_postings or np.any(starts[1:] <= starts[:-1]):
        raise IndexCorrupt(f"{name}: posting offsets are out of order")
    terms = segment.term_ids
    if n_terms_here and (np.any(terms[1:] <= terms[:-1]) or int(terms[-1]) >= n_terms):
        raise IndexCorrupt(f"{name}: term ids are out of order or unknown")
    if np.any(segment.keys[1:] <= segment.keys[:-1]):
        raise IndexCorrupt(f"{name}: keys do not increase")
    if n_postings and (
        int(segment.docs.min()) < segment.first_doc
        or int(segment.docs.max()) >= segment.first_doc + n_docs
    ):
        raise IndexCorrupt(f"{name}: document numbers outside the segment")
