"""Immutable postings segments and the policy that merges them.

Documents get dense numbers in insertion order. A :class:`Segment` holds the
postings of a run of consecutive documents: per term, the ascending document
numbers and term frequencies as numpy arrays, plus score bounds per term and
per block of postings (see ``retrieval._kernel``). Every add builds one
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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval import _kernel

__all__ = [
    "LEVEL_BASE",
    "MERGE_FACTOR",
    "SEGMENT_ARRAYS",
    "BoundParams",
    "FloatArray",
    "IntArray",
    "Segment",
    "U32Array",
    "build_segment",
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
SEGMENT_ARRAYS = (
    "keys",
    "lengths",
    "term_ids",
    "starts",
    "docs",
    "tfs",
    "term_bound",
    "block_bound",
    "bound_params",
)
"""The arrays of a segment, as persisted (one ``.npy`` file each)."""

BoundParams = tuple[float, float]
"""``(a, c)`` with ``norm = a + c * len``: ``(k1 * (1 - b), k1 * b / avgdl)``."""


@dataclass(frozen=True, slots=True)
class Segment:
    """Immutable postings of documents ``first_doc .. first_doc + len(keys) - 1``.

    ``term_ids`` are the sorted distinct term ids present; the postings of
    ``term_ids[i]`` are ``docs[starts[i]:starts[i + 1]]`` (ascending global
    document numbers) with frequencies ``tfs[...]``. ``term_bound[i]`` and
    ``block_bound[j]`` bound ``tf / (tf + norm)`` over that term's postings and
    over postings ``j * BLOCK_SIZE ..`` for the ``norm`` of ``bound_params``
    (see ``retrieval._kernel.segment_bounds``).
    """

    first_doc: int
    keys: IntArray
    lengths: U32Array
    term_ids: U32Array
    starts: IntArray
    docs: U32Array
    tfs: npt.NDArray[np.unsignedinteger[Any]]
    term_bound: npt.NDArray[np.float32]
    block_bound: npt.NDArray[np.float32]
    bound_params: FloatArray
    name: str | None = None  # its directory, once written
    view: _kernel.SegmentView = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The kernel's typed view of the arrays, checked once here rather than per query.
        view = _kernel.SegmentView(
            self.term_ids,
            self.starts,
            self.docs,
            self.tfs,
            self.term_bound,
            self.block_bound,
            self.bound_params,
        )
        object.__setattr__(self, "view", view)

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


def _with_bounds(
    first_doc: int,
    keys: IntArray,
    lengths: U32Array,
    term_ids: U32Array,
    starts: IntArray,
    docs: U32Array,
    tfs: npt.NDArray[np.unsignedinteger[Any]],
    params: BoundParams,
) -> Segment:
    lengths = np.ascontiguousarray(lengths, dtype=np.uint32)
    docs = np.ascontiguousarray(docs, dtype=np.uint32)
    tfs = np.ascontiguousarray(tfs)
    term_bound, block_bound = _kernel.segment_bounds(
        starts, docs, tfs, lengths, first_doc, params[0], params[1]
    )
    return Segment(
        first_doc=first_doc,
        keys=keys,
        lengths=lengths,
        term_ids=np.ascontiguousarray(term_ids, dtype=np.uint32),
        starts=np.ascontiguousarray(starts, dtype=np.int64),
        docs=docs,
        tfs=tfs,
        term_bound=term_bound,
        block_bound=block_bound,
        bound_params=np.array(params, dtype=np.float64),
    )


def build_segment(
    first_doc: int,
    keys: IntArray,
    lengths: U32Array,
    term_ids: U32Array,
    docs: U32Array,
    tfs: npt.NDArray[np.integer[Any]],
    params: BoundParams,
) -> Segment:
    """A segment from postings sorted by (term id, doc), with its bounds for ``params``."""
    n = term_ids.shape[0]
    if n:
        firsts = np.flatnonzero(np.r_[True, term_ids[1:] != term_ids[:-1]])
        starts = np.append(firsts, n).astype(np.int64)
        unique_terms = term_ids[firsts]
        typed_tfs = tfs.astype(tf_dtype(int(tfs.max())), copy=False)
    else:
        starts = np.zeros(1, dtype=np.int64)
        unique_terms = term_ids
        typed_tfs = tfs.astype(np.uint16)
    return _with_bounds(first_doc, keys, lengths, unique_terms, starts, docs, typed_tfs, params)


def merge_tail(
    segments: list[Segment],
    dead_postings: list[bool],
    alive: npt.NDArray[np.uint8],
    vocab_size: int,
    params: BoundParams,
) -> None:
    """Merge runs of :data:`MERGE_FACTOR` same-level segments at the tail, in place.

    ``dead_postings`` (per segment: may hold removed documents' postings) is
    kept aligned with ``segments``; merged segments get bounds for ``params``.
    """
    while len(segments) >= MERGE_FACTOR:
        tail = level(segments[-1].n_postings)
        run = 0
        while run < len(segments) and level(segments[-1 - run].n_postings) <= tail:
            run += 1
        if run < MERGE_FACTOR:
            return
        segments[-run:] = [merge(segments[-run:], alive, vocab_size, params)]
        dead_postings[-run:] = [False]


def merge(
    segments: Sequence[Segment],
    alive: npt.NDArray[np.uint8],
    vocab_size: int,
    params: BoundParams,
) -> Segment:
    """One segment holding the live postings of ``segments`` (consecutive, in order);
    ``alive`` flags every document number, ``vocab_size`` bounds the term ids.

    A linear scatter: each input's postings go straight to their place in the
    output, which is ordered by term and, within a term, by document. The
    bounds are computed afresh for ``params`` (one pass over the postings).
    """
    counts = np.zeros(vocab_size, dtype=np.int64)
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
        parts.append((segment, keep, kept))
    bounds = np.zeros(vocab_size + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    total = int(bounds[-1])
    present = np.flatnonzero(counts)
    # Each input's frequencies fit its own dtype: the widest fits them all.
    dtype = np.result_type(np.uint16, *(segment.tfs.dtype for segment, _, _ in parts))
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
    return _with_bounds(
        segments[0].first_doc,
        np.concatenate([np.asarray(s.keys) for s in segments]),
        np.concatenate([np.asarray(s.lengths) for s in segments]),
        present.astype(np.uint32),
        np.append(bounds[present], total),
        out_docs,
        out_tfs,
        params,
    )


# -- persistence --------------------------------------------------------------
