"""Type stubs for the compiled scoring kernel (retrieval/_kernel.pyx)."""

from typing import Any

import numpy as np
import numpy.typing as npt

def search_segment(
    seg_terms: npt.NDArray[np.uint32],
    seg_starts: npt.NDArray[np.int64],
    seg_docs: npt.NDArray[np.uint32],
    seg_tfs: npt.NDArray[np.unsignedinteger[Any]],
    seg_max_tf: npt.NDArray[np.unsignedinteger[Any]],
    seg_min_len: npt.NDArray[np.uint32],
    norm: npt.NDArray[np.float64],
    alive: npt.NDArray[np.uint8],
    check_alive: bool,
    query_terms: npt.NDArray[np.uint32],
    query_weights: npt.NDArray[np.float64],
    k1: float,
    b: float,
    avgdl: float,
    heap_scores: npt.NDArray[np.float64],
    heap_docs: npt.NDArray[np.int64],
    heap_count: int,
) -> int: ...
def map_tokens(
    vocabulary: dict[str, int],
    new_terms: list[str],
    documents: list[Any],
    out: npt.NDArray[np.int64],
) -> None: ...
