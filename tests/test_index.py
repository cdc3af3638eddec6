"""The BM25 index against rank-bm25, the reference implementation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from retrieval.index import BM25Index, IndexError_

VOCAB = [f"t{i}" for i in range(12)]
# Small vocabularies make terms frequent, so negative idf (the epsilon floor) is common.
document = st.lists(st.sampled_from(VOCAB), min_size=1, max_size=15)
corpus_st = st.lists(document, min_size=1, max_size=40)
query_st = st.lists(st.sampled_from([*VOCAB, "absent"]), min_size=1, max_size=6)
params = st.sampled_from([(1.5, 0.75, 0.25), (1.2, 0.75, 0.25), (0.9, 0.4, 0.5), (2.0, 1.0, 0.1)])


def assert_parity(
    index: BM25Index, keys: list[int], docs: list[list[str]], query: list[str]
) -> None:
    reference = BM25Okapi(docs, k1=index.k1, b=index.b, epsilon=index.epsilon)
    expected = reference.get_scores(query)
    got = index.scores(query)
    query_terms = set(query)
    for key, doc, score in zip(keys, docs, expected, strict=True):
        if query_terms & set(doc):
            assert got[key] == pytest.approx(score, abs=1e-9, rel=0)
        else:
            # Documents without a query term are never scored (rank-bm25 gives them 0).
            assert key not in got
            assert score == 0
    assert set(got) <= set(keys)


@given(corpus_st, st.lists(query_st, min_size=1, max_size=5), params, st.integers(1, 9))
def test_scores_equal_rank_bm25(
    docs: list[list[str]], queries: list[list[str]], p: tuple[float, float, float], batch: int
) -> None:
    index = BM25Index(*p)
    keys = [10 * i + 3 for i in range(len(docs))]
    for start in range(0, len(docs), batch):
        index.add(keys[start : start + batch], docs[start : start + batch])
    for query in queries:
        assert_parity(index, keys, docs, query)


@given(corpus_st, st.data())
def test_scores_equal_rank_bm25_after_adds_and_removes(
    docs: list[list[str]], data: st.DataObject
) -> None:
    index = BM25Index()
    keys = list(range(1, len(docs) + 1))
    index.add(keys, docs)
    removed = data.draw(st.sets(st.sampled_from(keys), max_size=len(keys) - 1))
    assert index.remove(removed) == len(removed)
    extra = data.draw(st.lists(document, max_size=10))
    extra_keys = list(range(len(docs) + 1, len(docs) + 1 + len(extra)))
    index.add(extra_keys, extra)
    live = [
        (k, d) for k, d in zip(keys + extra_keys, docs + extra, strict=True) if k not in removed
    ]
    assert list(index.keys()) == [k for k, _ in live]
    for query in data.draw(st.lists(query_st, min_size=1, max_size=3)):
        assert_parity(index, [k for k, _ in live], [d for _, d in live], query)


def test_negative_idf_uses_the_epsilon_floor() -> None:
    docs = [["common", "a"], ["common", "b"], ["common", "c"], ["rare"]]
    index = BM25Index()
    index.add([1, 2, 3, 4], docs)
    reference = BM25Okapi(docs)
    assert index.idf("common") == pytest.approx(reference.idf["common"])
    assert index.idf("common") == pytest.approx(0.25 * reference.average_idf)
    assert reference.idf["common"] > 0  # the floor, not the negative raw value


def test_search_returns_top_k_best_first_with_ties_by_key() -> None:
    index = BM25Index()
    docs = [["x", "y"], ["x", "y"], ["x"], ["z"], ["q"], ["r"], ["s"]]
    index.add([5, 6, 7, 8, 9, 10, 11], docs)
    hits = index.search(["x", "y"], k=2)
    assert [h.key for h in hits] == [5, 6]
    assert hits[0].score == hits[1].score
    assert [h.key for h in index.search(["x"], k=10)] == [7, 5, 6]  # shorter doc first
    assert index.search(["nothing"], k=5) == []
    assert index.search(["x"], k=0) == []


def test_search_agrees_with_a_full_sort_of_rank_bm25() -> None:
    rng = np.random.default_rng(7)
    vocab = [f"w{i}" for i in range(300)]
    weights = 1 / np.arange(1, 301)
    weights /= weights.sum()
    docs = [list(rng.choice(vocab, size=int(rng.integers(5, 40)), p=weights)) for _ in range(2000)]
    index = BM25Index()
    for start in range(0, 2000, 300):
        index.add(list(range(start, min(start + 300, 2000))), docs[start : start + 300])
    reference = BM25Okapi(docs)
    for _ in range(30):
        query = list(rng.choice(vocab, size=4))
        scores = reference.get_scores(query)
        expected = sorted(range(2000), key=lambda i: (-scores[i], i))[:10]
        hits = index.search(query, k=10)
        assert [h.key for h in hits] == expected
        assert [h.score for h in hits] == pytest.approx([scores[i] for i in expected], abs=1e-9)


def test_keys_must_increase() -> None:
    index = BM25Index()
    index.add([3], [["a"]])
    with pytest.raises(IndexError_):
        index.add([3], [["b"]])
    with pytest.raises(IndexError_):
        index.add([9, 8], [["b"], ["c"]])
    with pytest.raises(IndexError_):
        index.add([10], [])
    assert list(index.keys()) == [3]


def test_remove_unknown_or_twice_is_harmless() -> None:
    index = BM25Index()
    index.add([1, 2], [["a", "b"], ["b"]])
    assert index.remove([1, 99]) == 1
    assert index.remove([1]) == 0
    assert 1 not in index
    assert 2 in index
    assert index.document_frequency("a") == 0
    assert index.document_frequency("b") == 1
    assert index.vocabulary_size == 1


def test_removing_everything_then_adding_again() -> None:
    index = BM25Index()
    index.add([1, 2], [["a"], ["b"]])
    index.remove([1, 2])
    assert len(index) == 0
    assert index.search(["a"]) == []
    index.add([3], [["a", "c"]])
    assert [h.key for h in index.search(["a"])] == [3]


def test_segments_are_merged_as_documents_arrive() -> None:
    index = BM25Index()
    for key in range(1, 200):
        index.add([key], [["a", f"u{key}"]])
    # Size-tiered merging keeps the number of segments logarithmic.
    assert index.segment_count <= 8
    assert index.document_frequency("a") == 199
