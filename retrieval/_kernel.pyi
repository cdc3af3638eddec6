"""Type stubs for the compiled scoring kernel (retrieval/_kernel.pyx)."""

from typing import Any

import numpy as np
import numpy.typing as npt

BLOCK_SIZE: int
TF_TABLE: int
LENGTH_CODES: int

class SegmentView:
    def __init__(
        self,
        term_ids: npt.NDArray[np.uint32],
        starts: npt.NDArray[np.int64],
        docs: npt.NDArray[np.uint32],
        tfs: npt.NDArray[np.unsignedinteger[Any]],
        term_bound: npt.NDArray[np.float32],
        block_bound: npt.NDArray[np.float32],
        bound_params: npt.NDArray[np.float64],
    ) -> None: ...

class Searcher:
    def bind(
        self,
        norm: npt.NDArray[np.float64],
        codes: npt.NDArray[np.uint8],
        by_tf: npt.NDArray[np.float64],
        alive: npt.NDArray[np.uint8],
        keys: npt.NDArray[np.int64],
        k1: float,
        a_now: float,
        c_now: float,
    ) -> None: ...
    def search(
        self,
        views: list[SegmentView],
        dead: list[bool],
        term_ids: list[int],
        weights: list[float],
        k: int,
        hit: type[Any],
    ) -> list[Any]: ...

def segment_bounds(
    starts: npt.NDArray[np.int64],
    docs: npt.NDArray[np.uint32],
    tfs: npt.NDArray[np.unsignedinteger[Any]],
    lengths: npt.NDArray[np.uint32],
    first_doc: int,
    a: float,
    c: float,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]: ...
def check_postings(
    starts: npt.NDArray[np.int64],
    docs: npt.NDArray[np.uint32],
    tfs: npt.NDArray[np.unsignedinteger[Any]],
    first_doc: int,
    n_docs: int,
) -> str | None: ...
def map_tokens(
    vocabulary: dict[str, int],
    new_terms: list[str],
    documents: list[Any],
    out: npt.NDArray[np.int64],
) -> None: ...
