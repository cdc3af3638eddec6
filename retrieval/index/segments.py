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
from retrieval.index.errors import IndexCorrupt

__all__ = [
    "LEVEL_BASE",
    "MERGE_FACTOR",
    "SEGMENT_ARRAYS",
    "SEGMENT_DTYPES",
    "BoundParams",
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

_TF_DTYPES = (np.dtype(np.uint16), np.dtype(np.uint32))
SEGMENT_DTYPES: dict[str, tuple[np.dtype[Any], ...]] = {
    "keys": (np.dtype(np.int64),),
    "lengths": (np.dtype(np.uint32),),
    "term_ids": (np.dtype(np.uint32),),
    "starts": (np.dtype(np.int64),),
    "docs": (np.dtype(np.uint32),),
    "tfs": _TF_DTYPES,
    "term_bound": (np.dtype(np.float32),),
    "block_bound": (np.dtype(np.float32),),
    "bound_params": (np.dtype(np.float64),),
}
"""The dtypes each array of :data:`SEGMENT_ARRAYS` may have (checked when a segment is opened)."""

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
    name: str | None = None  # its file, once written
    _view: _kernel.SegmentView | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def view(self) -> _kernel.SegmentView:
        """The kernel's typed view of the arrays, made at the first search (a segment
        read from disk has passed :func:`check_segment` by then)."""
        view = self._view
        if view is None:
            view = _kernel.SegmentView(
                self.term_ids,
                self.starts,
                self.docs,
                self.tfs,
                self.term_bound,
                self.block_bound,
                self.bound_params,
            )
            object.__setattr__(self, "_view", view)
        return view

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


# -- validation of persisted segments -------------------------------------------------------


def check_segment(segment: Segment, n_terms: int) -> None:
    """Raise :class:`IndexCorrupt` unless ``segment`` is safe to search and consistent.

    The scoring kernel trusts what it reads (it is compiled without bounds
    checks), so a segment read from disk is checked first: every array is
    one-dimensional with a dtype it may have (:data:`SEGMENT_DTYPES`, for every
    name in :data:`SEGMENT_ARRAYS`); the lengths agree; offsets start at 0,
    increase and end at the posting count; term ids increase and are below
    ``n_terms``; keys increase; within each term, document numbers increase and
    lie in the segment's own range, and frequencies are at least 1; score
    bounds are finite and not negative. Cheap: O(terms + documents) plus one
    pass over the postings in the kernel.
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
        ("term_bound", n_terms_here),
        ("block_bound", -(-n_postings // _kernel.BLOCK_SIZE)),
        ("bound_params", 2),
    ):
        if getattr(segment, array).shape[0] != expected:
            raise IndexCorrupt(f"{name}: {array} holds the wrong number of entries")
    starts = segment.starts
    if int(starts[0]) != 0 or int(starts[-1]) != n_postings or np.any(starts[1:] <= starts[:-1]):
        raise IndexCorrupt(f"{name}: posting offsets are out of order")
    terms = segment.term_ids
    if n_terms_here and (np.any(terms[1:] <= terms[:-1]) or int(terms[-1]) >= n_terms):
        raise IndexCorrupt(f"{name}: term ids are out of order or unknown")
    if np.any(segment.keys[1:] <= segment.keys[:-1]):
        raise IndexCorrupt(f"{name}: keys do not increase")
    for array in ("term_bound", "block_bound", "bound_params"):
        value = getattr(segment, array)
        if not np.all(np.isfinite(value)) or np.any(value < 0):
            raise IndexCorrupt(f"{name}: {array} holds a negative or non-finite bound")
    problem = _kernel.check_postings(
        segment.starts, segment.docs, segment.tfs, segment.first_doc, n_docs
    )
    if problem is not None:
        raise IndexCorrupt(f"{name}: {problem}")
