"""BM25 over passages with rank-bm25's ``BM25Okapi`` scores: exact, incremental, persistent.

By concern: :mod:`~retrieval.index.bm25` (scoring, search, adds and removals),
:mod:`~retrieval.index.segments` (immutable postings and the merge policy),
:mod:`~retrieval.index.store` (the files on disk and the commit point), and
``retrieval._kernel`` (the compiled top-k loop).
"""

from __future__ import annotations

from retrieval.index import store
from retrieval.index.bm25 import BM25Index, SearchHit
from retrieval.index.errors import (
    IndexCorrupt,
    IndexError_,
    IndexForeign,
    IndexStale,
    IndexUnwritable,
)
from retrieval.index.store import FORMAT_VERSION

__all__ = [
    "FORMAT_VERSION",
    "BM25Index",
    "IndexCorrupt",
    "IndexError_",
    "IndexForeign",
    "IndexStale",
    "IndexUnwritable",
    "SearchHit",
    "store",
]
