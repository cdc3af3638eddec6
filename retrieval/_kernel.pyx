# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Exact top-k BM25 over postings segments: block-max MaxScore in windows.

:func:`search` runs one query over every segment of an index with one
shared heap, so the result is the exact top k of the whole index. Only
documents holding a query term are visited, and of those only documents that
can still enter the top k are scored in full.

Score bounds. Per segment, every term has a bound on ``tf / (tf + norm)``
over its postings, and so has every block of :data:`BLOCK_SIZE` consecutive
postings (blocks are cut at fixed positions of the segment's postings arrays,
so a block may straddle two terms: its bound is then the larger, still a
bound). The bounds are computed when the segment is built, for the average
document length of that moment, and stay valid as it drifts (see
:func:`segment_bounds`).

MaxScore in windows, as Lucene's MaxScoreBulkScorer does it. Documents are
taken in windows that end at a block boundary of an "essential" term. Per
window, each term's bound is the largest bound of its blocks overlapping the
window; the terms whose bounds together cannot lift a document above the
current k-th score are "non-essential" (ordered by bound per posting, so
that the long lists go there): only documents of the other terms are
candidates. A window whose terms all together cannot reach the k-th score is
skipped whole. Within a window, inner windows of :data:`INNER_WINDOW`
documents sum the essential terms' contributions into an array, then add the
non-essential terms, best bound first, to the candidates that can still make
the top k. Windows grow while they hold too few candidates to pay for their
set-up.

Scores are BM25Okapi's: ``weight * (tf * (k1 + 1) / (tf + norm[doc]))`` per
term, with ``weight = idf * (repeats of the term in the query)`` and
``norm = k1 * (1 - b + b * len / avgdl)`` precomputed per document by the
caller; a document's final score is summed in the caller's term order, so
equal documents get bit-identical scores. The hot loop reads the same values
from small tables the caller computes with the same expressions (per length
code, per term frequency): a per-document array does not stay in cache. The
GIL is released only for long scans (see ``RELEASE_GIL_POSTINGS``).

Heap order: a hit is better when its score is higher, or equal with a lower
document number.
"""

import numpy as np

from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t, INT64_MAX
from libc.stdlib cimport free, malloc, calloc
from libc.math cimport INFINITY, fabs, nextafterf

cdef extern from *:
    int __builtin_ctzll(unsigned long long) nogil
    int __builtin_popcountll(unsigned long long) nogil
    void __builtin_prefetch(const void*) nogil

ctypedef fused tf_t:
    uint16_t
    uint32_t

DEF SHIFT = 6
BLOCK_SIZE = 1 << SHIFT
"""Postings per block of a segment's score bounds."""

# Documents per inner window (the span of the partial-score array).
DEF INNER_WINDOW = 4096
# A non-essential term's postings in an inner window are scattered into the
# partial-score array, rather than merged with the candidates, when there are at
# most this many per candidate (a merge step costs a few times a scatter).
DEF DENSE_POSTINGS = 4
# Postings ahead whose length code is fetched early (a per-document array
# read out of order misses the cache).
DEF PREFETCH = 16

# Term frequencies 1..TF_TABLE and length codes 0..254 have their
# tf * (k1 + 1) / (tf + norm) in the caller's table.
TF_TABLE = 4
DEF TF_ROWS = 4
LENGTH_CODES = 256

# Bounds are computed in a different order than scores; this slack keeps
# pruning safe against rounding (it only ever makes bounds looser).
cdef double BOUND_SLACK = 1e-9
cdef double ABSOLUTE_SLACK = 1e-12
# Relative margin for a partial score summed in another order than the score.
cdef double SUM_SLACK = 1e-12

# Postings a query's terms must hold in a segment before its scan releases
# the GIL (about a millisecond of scanning).
cdef int64_t RELEASE_GIL_POSTINGS = 200_000

# Windows grow (doubling, up to this many documents) while they average fewer
# than WINDOW_CANDIDATES candidates per term.
cdef int64_t MAX_MIN_WINDOW = 4096
cdef int64_t WINDOW_CANDIDATES = 32
# A window's bound for a term reads at most this many of its blocks.
cdef int64_t MAX_WINDOW_BLOCKS = 16


cdef struct Cursor:
    int64_t pos          # next posting
    int64_t end          # one past the term's last posting
    int64_t start        # its position when the current inner window began
    int64_t probe        # where exact scoring looks next (from ``start``, ascending)
    double weight        # idf * repeats
    double scale         # weight * (k1 + 1) * drift * (1 + slack); 0 if weight <= 0
    float term_f         # the term's bound on tf / (tf + norm) in this segment
    double term_ub       # bound on the term's contribution anywhere in the segment
    double ub            # bound on its contribution in the current window
    double cost          # the term's postings in the segment
    double key           # partition order: window bound per posting
    Py_ssize_t slot      # position of the term in the caller's order
    bint essential       # in the current window's partition


cdef struct Norms:
    const double* norm       # per document: k1 * (1 - b + b * len / avgdl)
    const uint8_t* code      # per document: min(len, 255)
    const double* by_tf      # [tf - 1][code]: tf * (k1 + 1) / (tf + norm), codes below 255


cdef struct Workspace:
    double* acc          # partial scores (summed in any order), by offset in the inner window
    uint64_t* bits       # which offsets hold a candidate
    int64_t* cand_doc    # the inner window's candidates, ascending
    double* cand_score   # their partial scores so far
    double* contrib      # per query term (caller's order): one document's contributions
    Py_ssize_t* order    # cursors in partition order
    double* prefix       # prefix[i]: sum of the window bounds of order[0..i]


cdef class SegmentView:
    """One segment's arrays as the kernel reads them (built once per segment)."""

    cdef const uint32_t[::1] term_ids
    cdef const int64_t[::1] starts
    cdef const uint32_t[::1] docs
    cdef const uint16_t[::1] tfs16
    cdef const uint32_t[::1] tfs32
    cdef bint wide
    cdef const float[::1] term_bound
    cdef const float[::1] block_bound
    cdef double a_ref
    cdef double c_ref
    cdef int64_t n_postings

    def __init__(self, term_ids, starts, docs, tfs, term_bound, block_bound, bound_params):
        self.term_ids = term_ids
        self.starts = starts
        self.docs = docs
        if tfs.dtype.itemsize == 2:
            self.tfs16 = tfs
            self.wide = False
        else:
            self.tfs32 = tfs
            self.wide = True
        self.term_bound = term_bound
        self.block_bound = block_bound
        self.a_ref = bound_params[0]
        self.c_ref = bound_params[1]
        self.n_postings = self.docs.shape[0]
        if (
            self.starts.shape[0] != self.term_ids.shape[0] + 1
            or self.term_bound.shape[0] != self.term_ids.shape[0]
            or self.block_bound.shape[0] != (self.n_postings + BLOCK_SIZE - 1) // BLOCK_SIZE
            or (self.tfs32.shape[0] if self.wide else self.tfs16.shape[0]) != self.n_postings
        ):
            raise ValueError("segment arrays do not match")


# -- bounds, at build time -----------------------------------------------------------


def segment_bounds(
    const int64_t[::1] starts,
    const uint32_t[::1] docs,
    const tf_t[::1] tfs,
    const uint32_t[::1] lengths,
    int64_t first_doc,
    double a,
    double c,
):
    """Per term and per block of postings, the largest ``tf / (tf + a + c * len)``.

    ``lengths`` are the segment's document lengths (``docs - first_doc``
    index them). Returned as float32 rounded up, so they stay bounds.

    Why they hold for other ``(a', c')`` (another average length): ``tf + a'
    + c' * len`` is at least ``min(1, a' / a, c' / c) * (tf + a + c * len)``,
    so the value at ``(a', c')`` is at most ``max(1, a / a', c / c')`` times
    the value at ``(a, c)``; :func:`search` applies that factor.
    """
    cdef Py_ssize_t n_terms = starts.shape[0] - 1
    cdef int64_t n = docs.shape[0]
    cdef int64_t n_blocks = (n + BLOCK_SIZE - 1) // BLOCK_SIZE
    term_out = np.zeros(n_terms, dtype=np.float32)
    block_out = np.zeros(n_blocks, dtype=np.float32)
    cdef float[::1] term_bound = term_out
    cdef float[::1] block_bound = block_out
    cdef double* block_max = <double*> calloc(n_blocks if n_blocks else 1, sizeof(double))
    cdef double f, tf, best
    cdef Py_ssize_t t
    cdef int64_t p, b
    if block_max == NULL:
        raise MemoryError()
    with nogil:
        for t in range(n_terms):
            best = 0.0
            for p in range(starts[t], starts[t + 1]):
                tf = <double> tfs[p]
                f = tf / (tf + a + c * (<double> lengths[docs[p] - first_doc]))
                if f > best:
                    best = f
                b = p >> SHIFT
                if f > block_max[b]:
                    block_max[b] = f
            term_bound[t] = _round_up(best)
        for b in range(n_blocks):
            block_bound[b] = _round_up(block_max[b])
    free(block_max)
    return term_out, block_out


def check_postings(
    const int64_t[::1] starts,
    const uint32_t[::1] docs,
    const tf_t[::1] tfs,
    int64_t first_doc,
    int64_t n_docs,
):
    """What is wrong with a segment's postings, or ``None``: one pass, for segments read
    from disk (the search trusts these and is compiled without bounds checks).

    ``starts`` must already be checked (0, non-decreasing, ending at the posting
    count). Within each term, documents must increase and lie in ``first_doc ..
    first_doc + n_docs - 1``; every frequency must be at least 1.
    """
    cdef Py_ssize_t n_terms = starts.shape[0] - 1
    cdef int64_t p, lo, hi, previous, doc, end = first_doc + n_docs
    cdef Py_ssize_t t
    cdef int problem = 0
    if docs.shape[0] != tfs.shape[0] or n_terms < 0 or starts[n_terms] != docs.shape[0]:
        return "postings arrays differ in length"
    with nogil:
        for t in range(n_terms):
            lo = starts[t]
            hi = starts[t + 1]
            previous = first_doc - 1
            for p in range(lo, hi):
                doc = docs[p]
                if doc <= previous or doc >= end:
                    problem = 1
                    break
                if tfs[p] == 0:
                    problem = 2
                    break
                previous = doc
            if problem:
                break
    if problem == 1:
        return "document numbers out of order or outside the segment"
    if problem == 2:
        return "a term frequency of 0"
    return None


cdef inline float _round_up(double value) noexcept nogil:
    cdef float rounded = <float> value
    return nextafterf(rounded, INFINITY) if rounded < value else rounded


# -- search ---------------------------------------------------------------------------


cdef inline Py_ssize_t _find(const uint32_t[::1] terms, uint32_t term) noexcept nogil:
    cdef Py_ssize_t lo = 0, hi = terms.shape[0], mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if terms[mid] < term:
            lo = mid + 1
        else:
            hi = mid
    if lo < terms.shape[0] and terms[lo] == term:
        return lo
    return -1


cdef inline int64_t _seek(const uint32_t* docs, int64_t pos, int64_t end, int64_t target) noexcept nogil:
    """First position in [pos, end) whose document is >= target (end if none): galloping."""
    cdef int64_t step = 1, lo = pos, hi, mid
    if pos >= end or docs[pos] >= target:
        return pos
    hi = lo + 1
    while hi < end and docs[hi] < target:
        lo = hi
        step <<= 1
        hi = lo + step
    if hi > end:
        hi = end
    lo += 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if docs[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef inline int64_t _advance(const uint32_t* docs, int64_t pos, int64_t end, int64_t target) noexcept nogil:
    """Like :func:`_seek`, stepping first: the target is usually a few postings ahead."""
    cdef int steps = 0
    while pos < end and docs[pos] < target:
        steps += 1
        if steps > 8:
            return _seek(docs, pos, end, target)
        pos += 1
    return pos


cdef inline bint _worse(double s1, int64_t d1, double s2, int64_t d2) noexcept nogil:
    return s1 < s2 or (s1 == s2 and d1 > d2)


cdef inline void _sift_down(double* scores, int64_t* docs, Py_ssize_t n, Py_ssize_t i) noexcept nogil:
    cdef Py_ssize_t child
    cdef double s
    cdef int64_t d
    while True:
        child = 2 * i + 1
        if child >= n:
            return
        if child + 1 < n and _worse(scores[child + 1], docs[child + 1], scores[child], docs[child]):
            child += 1
        if not _worse(scores[child], docs[child], scores[i], docs[i]):
            return
        s = scores[i]; scores[i] = scores[child]; scores[child] = s
        d = docs[i]; docs[i] = docs[child]; docs[child] = d
        i = child


cdef inline void _sift_up(double* scores, int64_t* docs, Py_ssize_t i) noexcept nogil:
    cdef Py_ssize_t parent
    cdef double s
    cdef int64_t d
    while i > 0:
        parent = (i - 1) >> 1
        if not _worse(scores[i], docs[i], scores[parent], docs[parent]):
            return
        s = scores[i]; scores[i] = scores[parent]; scores[parent] = s
        d = docs[i]; docs[i] = docs[parent]; docs[parent] = d
        i = parent


cdef inline Py_ssize_t _offer(
    double* hs, int64_t* hd, Py_ssize_t count, Py_ssize_t k, double score, int64_t doc
) noexcept nogil:
    """Offer a scored document to the heap; returns the heap size."""
    if count < k:
        hs[count] = score
        hd[count] = doc
        _sift_up(hs, hd, count)
        return count + 1
    if _worse(hs[0], hd[0], score, doc):
        hs[0] = score
        hd[0] = doc
        _sift_down(hs, hd, count, 0)
    return count


cdef inline double _threshold(double* hs, Py_ssize_t count, Py_ssize_t k) noexcept nogil:
    return hs[0] if count >= k else -INFINITY


cdef inline double _contribution(
    Cursor* c, const tf_t* tfs, int64_t p, Norms* nm, int64_t doc, double k1
) noexcept nogil:
    """The term's contribution at posting ``p`` (of ``doc``), bit for bit
    ``weight * (tf * (k1 + 1) / (tf + norm[doc]))``."""
    cdef uint64_t tf = tfs[p]
    cdef uint8_t code = nm.code[doc]
    cdef double t
    if code != 255:
        if tf <= TF_ROWS:
            return c.weight * nm.by_tf[(tf - 1) * 256 + code]
    t = <double> tf
    return c.weight * (t * (k1 + 1) / (t + nm.norm[doc]))


cdef inline double _window_bound(
    Cursor* c, const uint32_t* docs, const float* blocks, int64_t window_max
) noexcept nogil:
    """Bound on the cursor's contributions to documents before ``window_max``."""
    cdef int64_t b, first, last
    cdef float f
    if c.pos >= c.end or docs[c.pos] >= window_max or c.scale == 0:
        return 0.0
    b = c.pos >> SHIFT
    last = b + MAX_WINDOW_BLOCKS
    f = blocks[b]
    b += 1
    first = b << SHIFT
    while first < c.end and docs[first] < window_max:
        if b == last:
            f = c.term_f  # a window over many blocks: the term's bound is as good
            break
        if blocks[b] > f:
            f = blocks[b]
        b += 1
        first = b << SHIFT
    if f > c.term_f:
        f = c.term_f
    return c.scale * f + ABSOLUTE_SLACK


cdef inline int64_t _block_end_doc(Cursor* c, const uint32_t* docs) noexcept nogil:
    """One past the document of the last posting in the cursor's current block."""
    cdef int64_t last = ((c.pos >> SHIFT) + 1) << SHIFT
    if last > c.end:
        last = c.end
    return <int64_t> docs[last - 1] + 1


cdef Py_ssize_t _partition(
    Cursor* cur, Py_ssize_t n, Py_ssize_t* order, double* prefix, double threshold
) noexcept nogil:
    """Order the cursors for the partition and return the first essential one.

    Any prefix whose bounds add up to at most the threshold may be
    non-essential; ordering by bound per posting (as Lucene does) puts the
    long lists there, so that candidates come from the short ones.
    """
    cdef Py_ssize_t i, j, tmp, first
    cdef double total = 0.0
    for i in range(n):
        order[i] = i
        cur[i].key = cur[i].ub / cur[i].cost
    for i in range(1, n):
        j = i
        while j > 0 and cur[order[j - 1]].key > cur[order[j]].key:
            tmp = order[j]; order[j] = order[j - 1]; order[j - 1] = tmp
            j -= 1
    first = n
    for i in range(n):
        total += cur[order[i]].ub
        prefix[i] = total
        if first == n and total > threshold:
            first = i
    for i in range(n):
        cur[order[i]].essential = i >= first
    return first


cdef inline bint _may_exceed(double partial, double rest, double threshold) noexcept nogil:
    """Whether a document with this partial score and bound on the rest may beat the
    threshold (with a margin for the partial's other order of summing)."""
    return partial + rest + (fabs(partial) + 1.0) * SUM_SLACK > threshold


cdef double _exact(
    Cursor* cur, Py_ssize_t n, Py_ssize_t m, const uint32_t* docs, const tf_t* tfs,
    Norms* nm, int64_t doc, double k1, double* contrib,
) noexcept nogil:
    """``doc``'s score, summed in the caller's term order.

    The document's postings lie at or after each cursor's ``probe``: its
    inner-window start, moved up as the window's documents are scored in order.
    """
    cdef Py_ssize_t i
    cdef int64_t p
    cdef double total = 0.0
    for i in range(m):
        contrib[i] = 0.0
    for i in range(n):
        p = _advance(docs, cur[i].probe, cur[i].end, doc)
        cur[i].probe = p
        if p < cur[i].end and docs[p] == doc:
            contrib[cur[i].slot] = _contribution(&cur[i], tfs, p, nm, doc, k1)
    for i in range(m):
        total += contrib[i]
    return total


cdef Py_ssize_t _scan(
    const uint32_t* docs,
    const tf_t* tfs,
    const float* blocks,
    Norms* nm,
    const uint8_t* alive,
    bint check_alive,
    Cursor* cur,
    Py_ssize_t n,
    Py_ssize_t m,
    Workspace* ws,
    double k1,
    Py_ssize_t k,
    double* hs,
    int64_t* hd,
    Py_ssize_t count,
) noexcept nogil:
    """Block-max MaxScore over the ``n`` cursors of one segment; returns the heap size."""
    cdef Py_ssize_t i, j, first, active, rounds, nc, kept, w, words
    cdef int64_t* cand_doc = ws.cand_doc
    cdef double* cand_score = ws.cand_score
    cdef double threshold, live_bound, next_threshold, score, rest
    cdef int64_t doc, next_doc, window_min, window_max, end_doc, min_window = 1
    cdef int64_t lo, hi, p, off, stop, windows = 0, candidates = 0
    cdef uint64_t word
    cdef int keep
    cdef bint repartition
    cdef Cursor* c
    cdef double* acc = ws.acc
    cdef uint64_t* bits = ws.bits
    cdef Py_ssize_t* order = ws.order
    cdef double* prefix = ws.prefix

    window_min = INT64_MAX
    for i in range(n):
        cur[i].essential = True
        if cur[i].pos < cur[i].end and docs[cur[i].pos] < window_min:
            window_min = docs[cur[i].pos]

    while True:
        threshold = _threshold(hs, count, k)
        # Bring every cursor to the window; stop when nothing left can compete.
        active = 0
        live_bound = 0.0
        for i in range(n):
            c = &cur[i]
            if c.pos < c.end and docs[c.pos] < window_min:
                c.pos = _seek(docs, c.pos, c.end, window_min)
            if c.pos < c.end:
                active += 1
                live_bound += c.term_ub
        if active == 0 or live_bound <= threshold:
            break

        # The window ends at the first block boundary of an essential term ...
        window_max = INT64_MAX
        for i in range(n):
            if cur[i].essential and cur[i].pos < cur[i].end:
                end_doc = _block_end_doc(&cur[i], docs)
                if end_doc < window_max:
                    window_max = end_doc
        if window_max == INT64_MAX:
            for i in range(n):
                if cur[i].pos < cur[i].end:
                    end_doc = _block_end_doc(&cur[i], docs)
                    if end_doc < window_max:
                        window_max = end_doc
        # ... but is never so small that setting it up costs more than it saves.
        if active > 1:
            if candidates < windows * WINDOW_CANDIDATES * active:
                min_window = min_window * 2 if min_window * 2 < MAX_MIN_WINDOW else MAX_MIN_WINDOW
            else:
                min_window = 1
            if window_max < window_min + min_window:
                window_max = window_min + min_window
        windows += 1

        # Bounds in the window and the partition they allow; the new essential
        # terms may end the window sooner, for tighter bounds (one more round).
        for rounds in range(2):
            for i in range(n):
                cur[i].ub = _window_bound(&cur[i], docs, blocks, window_max)
            first = _partition(cur, n, order, prefix, threshold)
            if first == n or rounds == 1:
                break
            end_doc = INT64_MAX
            for i in range(first, n):
                c = &cur[order[i]]
                if c.pos < c.end and docs[c.pos] < window_max:
                    next_doc = _block_end_doc(c, docs)
                    if next_doc < end_doc:
                        end_doc = next_doc
            if end_doc < window_min + min_window:
                end_doc = window_min + min_window
            if end_doc >= window_max:
                break
            window_max = end_doc
        if first == n:
            window_min = window_max  # nothing here can compete
            continue
        # A threshold at or above this would allow a better partition.
        next_threshold = prefix[first]

        # Inner windows: the essential terms' postings are summed into ``acc``,
        # then the non-essential terms are added, best bound first, to the
        # candidates that can still make the top k.
        repartition = False
        while True:
            lo = INT64_MAX
            for i in range(first, n):
                c = &cur[order[i]]
                if c.pos < c.end and docs[c.pos] < lo:
                    lo = docs[c.pos]
            if lo >= window_max:
                break
            hi = lo + INNER_WINDOW
            if hi > window_max:
                hi = window_max
            for i in range(first, n):
                c = &cur[order[i]]
                c.start = c.pos
                c.probe = c.pos
                p = c.pos
                while p < c.end and docs[p] < hi:
                    doc = docs[p]
                    if p + PREFETCH < c.end:
                        __builtin_prefetch(&nm.code[docs[p + PREFETCH]])
                    off = doc - lo
                    acc[off] += _contribution(c, tfs, p, nm, doc, k1)
                    bits[off >> 6] |= (<uint64_t> 1) << (off & 63)
                    p += 1
                c.pos = p
            # Candidates, ascending, that can still make the top k with every
            # non-essential term's bound (kept without a branch: the test is
            # a coin toss in dense windows).
            nc = 0
            rest = prefix[first - 1] if first > 0 else 0.0
            words = ((hi - lo) + 63) >> 6
            for w in range(words):
                word = bits[w]
                if word == 0:
                    continue
                bits[w] = 0
                candidates += __builtin_popcountll(word)
                while word:
                    off = (w << 6) + __builtin_ctzll(word)
                    word &= word - 1
                    doc = lo + off
                    score = acc[off]
                    acc[off] = 0.0
                    cand_doc[nc] = doc
                    cand_score[nc] = score
                    keep = _may_exceed(score, rest, threshold)
                    if check_alive:
                        keep = keep & alive[doc]
                    nc += keep
            # The non-essential terms, best bound first, each followed by the
            # same filter with the bound of the terms still to add.
            i = first - 1
            while i >= 0 and nc > 0:
                c = &cur[order[i]]
                p = _seek(docs, c.pos, c.end, lo)
                c.start = p
                c.probe = p
                stop = _seek(docs, p, c.end, hi)
                if stop - p <= nc * DENSE_POSTINGS:
                    # As many candidates as postings: scatter the postings into
                    # ``acc`` (zero again after the collection above) and read
                    # them per candidate, instead of a branchy merge; a document
                    # without the term reads 0.0, which adds nothing.
                    for p in range(c.start, stop):
                        doc = docs[p]
                        acc[doc - lo] = _contribution(c, tfs, p, nm, doc, k1)
                    for j in range(nc):
                        cand_score[j] += acc[cand_doc[j] - lo]
                    for p in range(c.start, stop):
                        acc[docs[p] - lo] = 0.0
                    c.pos = stop
                else:
                    c.pos = p
                    for j in range(nc):
                        doc = cand_doc[j]
                        c.pos = _advance(docs, c.pos, c.end, doc)
                        if c.pos < c.end and docs[c.pos] == doc:
                            cand_score[j] += _contribution(c, tfs, c.pos, nm, doc, k1)
                rest = prefix[i - 1] if i > 0 else 0.0
                kept = 0
                for j in range(nc):
                    score = cand_score[j]
                    cand_doc[kept] = cand_doc[j]
                    cand_score[kept] = score
                    kept += _may_exceed(score, rest, threshold)
                nc = kept
                i -= 1
            for j in range(nc):
                if _may_exceed(cand_score[j], 0.0, threshold):
                    score = _exact(cur, n, m, docs, tfs, nm, cand_doc[j], k1, ws.contrib)
                    count = _offer(hs, hd, count, k, score, cand_doc[j])
                    threshold = _threshold(hs, count, k)
            if threshold >= next_threshold:
                repartition = True
                window_min = hi
                break
        if not repartition:
            window_min = window_max
    return count


cdef Py_ssize_t _run_segment(
    SegmentView view,
    Norms* nm,
    const uint8_t[::1] alive,
    bint check_alive,
    const uint32_t[::1] query_terms,
    const double[::1] query_weights,
    double k1,
    double a_now,
    double c_now,
    Py_ssize_t k,
    double* hs,
    int64_t* hd,
    Py_ssize_t count,
    Cursor* cur,
    Workspace* ws,
) except -1:
    """Set up the cursors of the query terms in one segment, then scan it."""
    cdef Py_ssize_t m = query_terms.shape[0]
    cdef Py_ssize_t n = 0, i, idx
    cdef int64_t work = 0
    cdef double drift = 1.0
    cdef const uint32_t* docs
    cdef const float* blocks
    if view.n_postings == 0:
        return count
    # How far the average length drifted since the bounds were taken.
    if view.a_ref > a_now:
        drift = view.a_ref / a_now if a_now > 0 else INFINITY
    if view.c_ref > c_now:
        drift = max(drift, view.c_ref / c_now if c_now > 0 else INFINITY)
    for i in range(m):
        idx = _find(view.term_ids, query_terms[i])
        if idx < 0:
            continue
        c = &cur[n]
        c.pos = view.starts[idx]
        c.end = view.starts[idx + 1]
        c.start = c.pos
        c.probe = c.pos
        c.weight = query_weights[i]
        c.slot = i
        c.term_f = view.term_bound[idx]
        c.cost = <double> (c.end - c.pos)
        if query_weights[i] > 0:
            c.scale = query_weights[i] * (k1 + 1) * drift * (1 + BOUND_SLACK)
            c.term_ub = c.scale * c.term_f + ABSOLUTE_SLACK
        else:
            c.scale = 0.0  # a non-positive weight never raises a score
            c.term_ub = 0.0
        work += c.end - c.pos
        n += 1
    if n == 0:
        return count
    docs = &view.docs[0]
    blocks = &view.block_bound[0]
    # Release the GIL only for long scans: re-taking it while another thread
    # runs Python can wait a whole switch interval (5 ms), far longer than a
    # short scan takes.
    if view.wide:
        if work >= RELEASE_GIL_POSTINGS:
            with nogil:
                count = _scan(docs, &view.tfs32[0], blocks, nm, &alive[0], check_alive,
                              cur, n, m, ws, k1, k, hs, hd, count)
        else:
            count = _scan(docs, &view.tfs32[0], blocks, nm, &alive[0], check_alive,
                          cur, n, m, ws, k1, k, hs, hd, count)
    else:
        if work >= RELEASE_GIL_POSTINGS:
            with nogil:
                count = _scan(docs, &view.tfs16[0], blocks, nm, &alive[0], check_alive,
                              cur, n, m, ws, k1, k, hs, hd, count)
        else:
            count = _scan(docs, &view.tfs16[0], blocks, nm, &alive[0], check_alive,
                          cur, n, m, ws, k1, k, hs, hd, count)
    return count


cdef class Searcher:
    """One index's search state: working memory, kept between queries, and the
    per-document arrays of its current statistics (see :meth:`bind`).

    One thread at a time, as the index itself.
    """

    cdef Workspace ws
    cdef Cursor* cur
    cdef Py_ssize_t terms      # room for this many query terms
    cdef double* heap_scores
    cdef int64_t* heap_docs
    cdef Py_ssize_t heap       # room for this many heap entries
    cdef const double[::1] norm
    cdef const uint8_t[::1] codes
    cdef const double[::1] by_tf
    cdef const uint8_t[::1] alive
    cdef const int64_t[::1] keys
    cdef double k1
    cdef double a_now
    cdef double c_now
    cdef bint bound

    def __cinit__(self):
        self.ws.acc = <double*> calloc(INNER_WINDOW, sizeof(double))
        self.ws.bits = <uint64_t*> calloc(INNER_WINDOW // 64, sizeof(uint64_t))
        self.ws.cand_doc = <int64_t*> malloc(INNER_WINDOW * sizeof(int64_t))
        self.ws.cand_score = <double*> malloc(INNER_WINDOW * sizeof(double))
        if not (self.ws.acc and self.ws.bits and self.ws.cand_doc and self.ws.cand_score):
            raise MemoryError()

    def __dealloc__(self):
        free(self.ws.acc); free(self.ws.bits); free(self.ws.cand_doc); free(self.ws.cand_score)
        self._release_terms()
        free(self.heap_scores); free(self.heap_docs)

    def bind(self, norm, codes, by_tf, alive, keys, double k1, double a_now, double c_now):
        """Use these per-document arrays until the next call.

        ``norm``, ``codes`` (``min(len, 255)``), ``alive`` and ``keys`` are per
        document (``norm`` covers every document number); ``by_tf[(tf - 1) *
        256 + code]`` is ``tf * (k1 + 1) / (tf + norm)`` for the documents of
        that code below 255 and ``tf`` up to :data:`TF_TABLE`, computed as the
        scan computes it; ``a_now + c_now * len`` is the current ``norm``.
        """
        self.bound = False
        self.norm = norm
        self.codes = codes
        self.by_tf = by_tf
        self.alive = alive
        self.keys = keys
        n = self.norm.shape[0]
        if (self.by_tf.shape[0] < TF_ROWS * 256 or self.codes.shape[0] < n
                or self.alive.shape[0] < n or self.keys.shape[0] < n):
            raise ValueError("per-document arrays do not cover the documents")
        self.k1 = k1
        self.a_now = a_now
        self.c_now = c_now
        self.bound = n > 0

    cdef void _release_terms(self) noexcept:
        free(self.cur); free(self.ws.contrib); free(self.ws.order); free(self.ws.prefix)
        self.cur = NULL
        self.ws.contrib = NULL
        self.ws.order = NULL
        self.ws.prefix = NULL
        self.terms = 0

    cdef int _reserve(self, Py_ssize_t terms, Py_ssize_t heap) except -1:
        if terms > self.terms:
            self._release_terms()
            self.cur = <Cursor*> malloc(terms * sizeof(Cursor))
            self.ws.contrib = <double*> malloc(terms * sizeof(double))
            self.ws.order = <Py_ssize_t*> malloc(terms * sizeof(Py_ssize_t))
            self.ws.prefix = <double*> malloc(terms * sizeof(double))
            if not (self.cur and self.ws.contrib and self.ws.order and self.ws.prefix):
                self._release_terms()
                raise MemoryError()
            self.terms = terms
        if heap > self.heap:
            free(self.heap_scores); free(self.heap_docs)
            self.heap_scores = <double*> malloc(heap * sizeof(double))
            self.heap_docs = <int64_t*> malloc(heap * sizeof(int64_t))
            if not (self.heap_scores and self.heap_docs):
                free(self.heap_scores); free(self.heap_docs)
                self.heap_scores = NULL
                self.heap_docs = NULL
                self.heap = 0
                raise MemoryError()
            self.heap = heap
        return 0

    def search(self, list views, list dead, list term_ids, list weights, Py_ssize_t k, hit):
        """The ``k`` best documents as ``hit`` tuples ``(key, score)``, best first
        (ties: lower key), for the query terms ``term_ids`` with ``weights``
        (idf times repeats), summed in that order.

        ``views`` and ``dead`` (may hold removed documents' postings) are per
        segment, in document order.
        """
        cdef Py_ssize_t m = len(term_ids)
        cdef Py_ssize_t count = 0, i, j, s
        cdef double score
        cdef int64_t doc
        cdef Norms nm
        if k <= 0 or m == 0 or not views:
            return []
        if not self.bound or len(weights) != m or len(dead) != len(views):
            raise ValueError("search arguments do not match")
        self._reserve(m, k)
        query_terms_array = np.array(term_ids, dtype=np.uint32)
        query_weights_array = np.array(weights, dtype=np.float64)
        cdef const uint32_t[::1] query_terms = query_terms_array
        cdef const double[::1] query_weights = query_weights_array
        nm.norm = &self.norm[0]
        nm.code = &self.codes[0]
        nm.by_tf = &self.by_tf[0]
        for s in range(len(views)):
            count = _run_segment(views[s], &nm, self.alive, bool(dead[s]), query_terms,
                                 query_weights, self.k1, self.a_now, self.c_now, k,
                                 self.heap_scores, self.heap_docs, count, self.cur, &self.ws)
        # Best first: sort the heap (k is small).
        cdef double* hs = self.heap_scores
        cdef int64_t* hd = self.heap_docs
        for i in range(1, count):
            score = hs[i]
            doc = hd[i]
            j = i
            while j > 0 and _worse(hs[j - 1], hd[j - 1], score, doc):
                hs[j] = hs[j - 1]
                hd[j] = hd[j - 1]
                j -= 1
            hs[j] = score
            hd[j] = doc
        return [tuple.__new__(hit, (self.keys[hd[i]], hs[i])) for i in range(count)]


from cpython.dict cimport PyDict_GetItem, PyDict_SetItem
from cpython.long cimport PyLong_AsLongLong, PyLong_FromSsize_t
from cpython.object cimport PyObject


def map_tokens(dict vocabulary, list new_terms, list documents, int64_t[::1] out):
    """Write the term id of every token of ``documents`` (in order) into ``out``.

    Unknown terms get the next ids, in order of first appearance, and are
    appended to ``new_terms``. ``out`` must hold exactly as many entries as
    there are tokens. A C loop over the dictionary: the token -> id lookup is
    the one per-token cost of indexing, and the interpreter would triple it.
    """
    cdef Py_ssize_t position = 0
    cdef Py_ssize_t capacity = out.shape[0]
    cdef PyObject* found
    cdef object doc, token, new_id
    for doc in documents:
        for token in doc:
            if position >= capacity:
                raise ValueError("more tokens than room in out")
            found = PyDict_GetItem(vocabulary, token)
            if found is NULL:
                if not isinstance(token, str):
                    raise TypeError(f"tokens must be str, not {type(token).__name__}")
                new_id = PyLong_FromSsize_t(len(vocabulary))
                PyDict_SetItem(vocabulary, token, new_id)
                new_terms.append(token)
                out[position] = len(vocabulary) - 1
            else:
                out[position] = PyLong_AsLongLong(<object> found)
            position += 1
    if position != capacity:
        raise ValueError("fewer tokens than room in out")
