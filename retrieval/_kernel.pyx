# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Exact top-k BM25 over one postings segment: document-at-a-time MaxScore.

Called by :class:`retrieval.index.BM25Index` once per segment, in document
order, with one shared heap, so the result over all segments is the exact
top-k of the whole index. Only documents holding a query term are visited,
and of those only documents that can still enter the top k are scored in full:
query terms are ordered by their score upper bound, and the terms whose bounds
together cannot lift a document above the current k-th score ("non-essential")
are only probed for documents found through the others.

Scores are BM25Okapi's: ``weight * (tf * (k1 + 1) / (tf + norm[doc]))`` per
term, with ``weight = idf * (repeats of the term in the query)`` and
``norm = k1 * (1 - b + b * len / avgdl)`` precomputed per document by the
caller, and the contributions are summed in the caller's term order, so equal
documents get bit-identical scores. The GIL is released only for long scans
(see ``RELEASE_GIL_POSTINGS``).

Heap order: a hit is better when its score is higher, or equal with a lower
document number (documents are visited in increasing number, so a later equal
score never displaces an earlier one).
"""

from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t
from libc.stdlib cimport free, malloc
from libc.math cimport INFINITY

ctypedef fused tf_t:
    uint16_t
    uint32_t

# Bounds are computed in a different order than scores; this slack keeps
# pruning safe against rounding (it only ever makes bounds looser).
cdef double BOUND_SLACK = 1e-9

# Postings a segment's query terms must hold before a scan releases the GIL
# (about a millisecond of scanning).
cdef int64_t RELEASE_GIL_POSTINGS = 200_000


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


cdef inline int64_t _seek(const uint32_t[::1] docs, int64_t pos, int64_t end, uint32_t target) noexcept nogil:
    """First position in [pos, end) whose document is >= target (end if none): galloping."""
    cdef int64_t step = 1, lo = pos, hi, mid
    if pos >= end or docs[pos] >= target:
        return pos
    # docs[lo] < target: gallop until docs[hi] >= target or past the end.
    hi = lo + 1
    while hi < end and docs[hi] < target:
        lo = hi
        step <<= 1
        hi = lo + step
    if hi > end:
        hi = end
    # docs[lo] < target, and docs[hi] >= target or hi == end.
    lo += 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if docs[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


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


cdef Py_ssize_t _scan(
    const uint32_t[::1] seg_docs,
    const tf_t[::1] seg_tfs,
    const double[::1] norm,
    const uint8_t[::1] alive,
    bint check_alive,
    Py_ssize_t m,
    Py_ssize_t n,
    Py_ssize_t k,
    int64_t* pos,
    int64_t* end,
    double* weight,
    double* bound,
    double* prefix,
    double* contrib,
    Py_ssize_t* slot,
    double k1,
    double* hs,
    int64_t* hd,
    Py_ssize_t heap_count,
) noexcept nogil:
    """MaxScore over the ``n`` cursors set up by :func:`search_segment`; returns the heap size."""
    cdef Py_ssize_t i, j, first_essential
    cdef double threshold, partial, total, tf, tmp_d
    cdef int64_t doc, next_doc, tmp_i
    cdef uint32_t d32
    cdef Py_ssize_t tmp_s
    # Order cursors by bound, ascending (insertion sort: n is small).
    for i in range(1, n):
        j = i
        while j > 0 and bound[j - 1] > bound[j]:
            tmp_d = bound[j]; bound[j] = bound[j - 1]; bound[j - 1] = tmp_d
            tmp_d = weight[j]; weight[j] = weight[j - 1]; weight[j - 1] = tmp_d
            tmp_i = pos[j]; pos[j] = pos[j - 1]; pos[j - 1] = tmp_i
            tmp_i = end[j]; end[j] = end[j - 1]; end[j - 1] = tmp_i
            tmp_s = slot[j]; slot[j] = slot[j - 1]; slot[j - 1] = tmp_s
            j -= 1
    total = 0.0
    for i in range(n):
        total += bound[i]
        prefix[i] = total

    threshold = hs[0] if heap_count >= k else -INFINITY
    first_essential = 0
    while first_essential < n and prefix[first_essential] <= threshold:
        first_essential += 1

    while first_essential < n:
        # The next candidate: the smallest current document of an essential cursor.
        doc = -1
        for i in range(first_essential, n):
            if pos[i] < end[i]:
                next_doc = seg_docs[pos[i]]
                if doc < 0 or next_doc < doc:
                    doc = next_doc
        if doc < 0:
            break
        d32 = <uint32_t> doc
        if check_alive and not alive[doc]:
            for i in range(first_essential, n):
                if pos[i] < end[i] and seg_docs[pos[i]] == d32:
                    pos[i] += 1
            continue

        partial = 0.0
        for i in range(first_essential, n):
            if pos[i] < end[i] and seg_docs[pos[i]] == d32:
                tf = <double> seg_tfs[pos[i]]
                contrib[slot[i]] = weight[i] * (tf * (k1 + 1) / (tf + norm[doc]))
                partial += contrib[slot[i]]
                pos[i] += 1
        # Non-essential cursors, largest bound first, while the doc can still make it.
        i = first_essential - 1
        while i >= 0:
            if partial + prefix[i] <= threshold:
                break
            pos[i] = _seek(seg_docs, pos[i], end[i], d32)
            if pos[i] < end[i] and seg_docs[pos[i]] == d32:
                tf = <double> seg_tfs[pos[i]]
                contrib[slot[i]] = weight[i] * (tf * (k1 + 1) / (tf + norm[doc]))
                partial += contrib[slot[i]]
            i -= 1

        if i < 0:
            # Fully scored: sum in the caller's term order, then offer to the heap.
            partial = 0.0
            for j in range(m):
                partial += contrib[j]
            if heap_count < k:
                hs[heap_count] = partial
                hd[heap_count] = doc
                _sift_up(hs, hd, heap_count)
                heap_count += 1
            elif _worse(hs[0], hd[0], partial, doc):
                hs[0] = partial
                hd[0] = doc
                _sift_down(hs, hd, heap_count, 0)
            if heap_count >= k and hs[0] > threshold:
                threshold = hs[0]
                while first_essential < n and prefix[first_essential] <= threshold:
                    first_essential += 1
        for j in range(m):
            contrib[j] = 0.0
    return heap_count


def search_segment(
    const uint32_t[::1] seg_terms,
    const int64_t[::1] seg_starts,
    const uint32_t[::1] seg_docs,
    const tf_t[::1] seg_tfs,
    const tf_t[::1] seg_max_tf,
    const uint32_t[::1] seg_min_len,
    const double[::1] norm,
    const uint8_t[::1] alive,
    bint check_alive,
    const uint32_t[::1] query_terms,
    const double[::1] query_weights,
    double k1,
    double b,
    double avgdl,
    double[::1] heap_scores,
    int64_t[::1] heap_docs,
    Py_ssize_t heap_count,
):
    """Merge this segment's matches into the heap; returns the new heap size.

    ``heap_scores``/``heap_docs`` have room for k entries; the first
    ``heap_count`` hold the current best (a min-heap, worst at the root).
    """
    cdef Py_ssize_t m = query_terms.shape[0]
    cdef Py_ssize_t k = heap_scores.shape[0]
    cdef Py_ssize_t n = 0, i, idx
    cdef int64_t* pos
    cdef int64_t* end
    cdef double* weight
    cdef double* bound
    cdef double* prefix
    cdef double* contrib
    cdef Py_ssize_t* slot  # cursor -> position of its term in the caller's order
    cdef double max_tf, ub
    cdef int64_t work = 0  # postings of the query terms in this segment
    cdef double* hs = &heap_scores[0] if k > 0 else NULL
    cdef int64_t* hd = &heap_docs[0] if k > 0 else NULL

    if k == 0 or m == 0:
        return heap_count

    pos = <int64_t*> malloc(m * sizeof(int64_t))
    end = <int64_t*> malloc(m * sizeof(int64_t))
    weight = <double*> malloc(m * sizeof(double))
    bound = <double*> malloc(m * sizeof(double))
    prefix = <double*> malloc(m * sizeof(double))
    contrib = <double*> malloc(m * sizeof(double))
    slot = <Py_ssize_t*> malloc(m * sizeof(Py_ssize_t))
    if not (pos and end and weight and bound and prefix and contrib and slot):
        free(pos); free(end); free(weight); free(bound); free(prefix); free(contrib); free(slot)
        raise MemoryError()

    # Cursors for the query terms present in this segment (with the GIL: cheap).
    for i in range(m):
        contrib[i] = 0.0
        idx = _find(seg_terms, query_terms[i])
        if idx < 0:
            continue
        pos[n] = seg_starts[idx]
        end[n] = seg_starts[idx + 1]
        weight[n] = query_weights[i]
        slot[n] = i
        max_tf = <double> seg_max_tf[idx]
        if query_weights[i] > 0:
            ub = query_weights[i] * (max_tf * (k1 + 1) / (
                max_tf + k1 * (1 - b + b * (<double> seg_min_len[idx]) / avgdl)))
            bound[n] = ub * (1 + BOUND_SLACK) + 1e-12
        else:
            bound[n] = 0.0  # a non-positive weight never raises a score
        work += end[n] - pos[n]
        n += 1

    # Release the GIL only for long scans: re-taking it while another thread
    # runs Python can wait a whole switch interval (5 ms), far longer than a
    # short scan takes.
    if work >= RELEASE_GIL_POSTINGS:
        with nogil:
            heap_count = _scan(seg_docs, seg_tfs, norm, alive, check_alive, m, n, k, pos, end,
                               weight, bound, prefix, contrib, slot, k1, hs, hd, heap_count)
    else:
        heap_count = _scan(seg_docs, seg_tfs, norm, alive, check_alive, m, n, k, pos, end,
                           weight, bound, prefix, contrib, slot, k1, hs, hd, heap_count)

    free(pos); free(end); free(weight); free(bound); free(prefix); free(contrib); free(slot)
    return heap_count


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
