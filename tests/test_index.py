"""The BM25 index against rank-bm25, the reference implementation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from retrieval.index import BM25Index, IndexCorrupt, IndexError_, IndexForeign, IndexStale
from retrieval.synthetic import Zipf

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


# -- exact top k, persistence and crash safety -------------------------------------


def reference_top(docs: dict[int, list[str]], query: list[str], k: int) -> list[tuple[int, float]]:
    """rank-bm25 over the live documents, sorted by score then key, touched docs only."""
    keys = sorted(docs)
    scores = BM25Okapi([docs[key] for key in keys]).get_scores(query)
    touched = [i for i, key in enumerate(keys) if set(query) & set(docs[key])]
    ranked = sorted(touched, key=lambda i: (-scores[i], keys[i]))[:k]
    return [(keys[i], float(scores[i])) for i in ranked]


def assert_same_top(index: BM25Index, docs: dict[int, list[str]], query: list[str], k: int) -> None:
    got = [(h.key, h.score) for h in index.search(query, k)]
    expected = reference_top(docs, query, k)
    assert [s for _, s in got] == pytest.approx([s for _, s in expected], abs=1e-9, rel=0)
    # Same documents, except where floating-point ties may order equal scores differently.
    for (key_a, score_a), (key_b, score_b) in zip(got, expected, strict=True):
        assert key_a == key_b or abs(score_a - score_b) < 1e-9


operation = st.one_of(
    st.tuples(st.just("add"), st.lists(document, min_size=1, max_size=8)),
    st.tuples(st.just("remove"), st.lists(st.integers(0, 60), max_size=6)),
    st.tuples(st.just("reopen"), st.none()),
    st.tuples(st.just("compact"), st.none()),
)


@given(
    st.lists(operation, min_size=1, max_size=12),
    st.lists(query_st, min_size=1, max_size=4),
    st.integers(1, 12),
)
def test_search_is_exact_through_adds_removes_reopens(
    tmp_path_factory: pytest.TempPathFactory,
    operations: list[tuple[str, object]],
    queries: list[list[str]],
    k: int,
) -> None:
    directory = tmp_path_factory.mktemp("index") / "ix"
    index = BM25Index(directory=directory)
    live: dict[int, list[str]] = {}
    next_key = 0
    for kind, payload in operations:
        if kind == "add":
            batch = list(payload)  # type: ignore[call-overload]
            keys = list(range(next_key, next_key + len(batch)))
            next_key += len(batch)
            index.add(keys, batch)
            live.update(zip(keys, batch, strict=True))
        elif kind == "remove":
            victims = [key for key in payload if key in live]  # type: ignore[union-attr]
            with_tokens = bool(len(victims) % 2)  # exercise both ways of correcting df
            removed = index.remove(victims, [live[key] for key in victims] if with_tokens else None)
            assert removed == len(set(victims))
            for key in victims:
                live.pop(key, None)
        elif kind == "reopen":
            index = BM25Index.open(directory)
        else:
            index.compact()
    assert list(index.keys()) == sorted(live)
    assert len(index) == len(live)
    if live:
        for query in queries:
            assert_same_top(index, live, query, k)
    reopened = BM25Index.open(directory)
    assert list(reopened.keys()) == sorted(live)
    if live:
        for query in queries:
            assert [h.key for h in reopened.search(query, k)] == [
                h.key for h in index.search(query, k)
            ]


@pytest.mark.slow
def test_large_random_corpus_top_10_matches_rank_bm25() -> None:
    zipf = Zipf([f"w{i}" for i in range(2000)], seed=11)
    (passages,) = zipf.passages(6000, lengths=(20, 59))
    docs = dict(enumerate(passages))
    rng = np.random.default_rng(11)
    index = BM25Index()
    keys = sorted(docs)
    for start in range(0, 6000, 700):
        index.add(keys[start : start + 700], [docs[k] for k in keys[start : start + 700]])
    assert index.segment_count > 1
    for _ in range(40):
        query = zipf.sample(rng, int(rng.integers(2, 7)))
        assert_same_top(index, docs, query, 10)


def test_scores_can_be_negative_on_tiny_corpora() -> None:
    # Every term in most documents: negative idf everywhere, a negative average.
    docs = {1: ["a", "b"], 2: ["a", "b"], 3: ["a", "b", "c"], 4: ["a"]}
    index = BM25Index()
    index.add(sorted(docs), [docs[k] for k in sorted(docs)])
    assert index.idf("a") < 0
    assert_same_top(index, docs, ["a", "b"], 3)
    assert_same_top(index, docs, ["a", "c"], 10)


def test_persisted_index_is_memory_mapped_and_reopens(tmp_path: Path) -> None:
    directory = tmp_path / "ix"
    index = BM25Index(directory=directory, meta={"analyzer": "x"})
    index.add([1, 2, 3], [["a", "b"], ["b", "c"], ["c", "d"]])
    index.remove([2], [["b", "c"]])
    reopened = BM25Index.open(directory)
    assert reopened.meta == {"analyzer": "x"}
    assert list(reopened.keys()) == [1, 3]
    assert reopened.document_frequency("b") == 1
    assert isinstance(reopened._segments[0].docs, np.memmap)
    assert [h.key for h in reopened.search(["c"])] == [3]
    with pytest.raises(IndexError_):
        BM25Index(directory=directory)  # will not overwrite an index


def test_unreadable_index_raises_index_corrupt(tmp_path: Path) -> None:
    directory = tmp_path / "ix"
    BM25Index(directory=directory).add([1], [["a"]])
    (directory / "manifest.json").write_text("{broken")
    with pytest.raises(IndexCorrupt):
        BM25Index.open(directory)
    (directory / "manifest.json").write_text('{"format": 99}')
    with pytest.raises(IndexCorrupt):
        BM25Index.open(directory)


def test_a_torn_commit_leaves_the_previous_generation(tmp_path: Path) -> None:
    directory = tmp_path / "ix"
    index = BM25Index(directory=directory)
    index.add([1], [["a", "b"]])
    # A crash after writing a segment file and appending to the vocabulary, before
    # the manifest switched: simulate the leftovers.
    (directory / "seg-99-0badf00d.bin").write_bytes(b"partial")
    vocabulary = json.loads((directory / "manifest.json").read_text())["vocabulary"]
    with open(directory / vocabulary, "ab") as vocab:
        vocab.write(b"torn\n")
    reopened = BM25Index.open(directory)
    assert list(reopened.keys()) == [1]
    assert not (directory / "seg-99-0badf00d.bin").exists()  # swept
    reopened.add([2], [["torn", "c"]])
    again = BM25Index.open(directory)
    assert again.document_frequency("torn") == 1
    assert [h.key for h in again.search(["torn"])] == [2]


def _files(directory: Path) -> dict[str, tuple[int, bytes]]:
    return {
        p.name: (p.stat().st_ino, p.read_bytes())
        for p in directory.iterdir()
        if p.name.startswith(("seg-", "gen-"))
    }


def test_files_are_written_once_under_fresh_names(tmp_path: Path) -> None:
    directory = tmp_path / "ix"
    index = BM25Index(directory=directory)
    seen: dict[str, tuple[int, bytes]] = {}
    for key in range(1, 30):
        index.add([key], [[f"t{key % 7}", "common"]])
        if key % 5 == 0:
            index.remove([key - 1])
        now = _files(directory)
        for name, (inode, data) in now.items():
            if name in seen:  # a file that survives is the very same file, unchanged
                assert seen[name] == (inode, data), name
        assert not set(now) & {n for n in seen if n not in now}  # a name never comes back
        seen.update(now)
    manifest = json.loads((directory / "manifest.json").read_text())
    names = {s["pack"]["name"] for s in manifest["segments"]} | {manifest["state"]["name"]}
    assert names == set(_files(directory))  # the sweep kept exactly what the manifest names


def test_a_commit_flushes_files_before_publishing_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "ix"
    index = BM25Index(directory=directory)
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        events.append("dir" if path.is_dir() else path.name)
        real_fsync(fd)

    def replace(src: str | Path, dst: str | Path) -> None:
        events.append(f"replace {Path(src).name} {Path(dst).name}")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)

    def commit(keys: list[int], docs: list[list[str]]) -> tuple[set[str], dict[str, Any]]:
        """Add ``docs``; the files flushed before the manifest's rename (which is checked)."""
        before = set(_files(directory)) if directory.exists() else set()
        events.clear()
        index.add(keys, docs)
        (publish,) = [i for i, e in enumerate(events) if e.endswith(" manifest.json")]
        temporary = events[publish].split()[1]
        # The folder (the new names, the rename) is flushed right after the rename.
        assert events[publish + 1 :] == ["dir"]
        flushed = events[:publish]
        assert temporary in flushed
        assert "dir" not in flushed
        manifest = json.loads((directory / "manifest.json").read_text())
        new = {s["pack"]["name"] for s in manifest["segments"]} | {manifest["state"]["name"]}
        assert new - before <= set(flushed)  # every new file of the generation is on disk
        return set(flushed) - {temporary}, manifest

    flushed, manifest = commit([1, 2], [["a"], ["b", "c"]])
    assert manifest["vocabulary"] in flushed  # a new vocabulary file
    assert len(flushed) == 3  # the segment, the generation and the vocabulary
    flushed, manifest = commit([3], [["a", "d"]])
    assert manifest["vocabulary"] in flushed  # appended to ("d")
    flushed, manifest = commit([4], [["a", "b"]])
    assert manifest["vocabulary"] not in flushed  # unchanged: nothing to flush
    assert len(flushed) == 2


_READER = """
import json, sys
from retrieval.index import BM25Index
index = BM25Index.open(sys.argv[1])
query = ["w1", "w2", "w3", "w5", "w8"]
for _ in range(2):
    print(json.dumps([[hit.key, hit.score] for hit in index.search(query, k=50)]), flush=True)
    sys.stdin.readline()
"""

_REBUILDER = """
import sys
from retrieval.index import BM25Index, IndexStale
try:
    BM25Index(directory=sys.argv[1], replace=True).add([7], [["w1", "small"]])
except IndexStale:
    pass  # the other rebuilder committed first
"""


def test_a_reader_survives_two_processes_rebuilding_the_index_it_has_mapped(
    tmp_path: Path,
) -> None:
    # Issue 7, case 5: two processes that repaired an index rewrote the same segment
    # file in place, and a reader that had it memory-mapped died of SIGBUS.
    directory = tmp_path / "ix"
    rng = np.random.default_rng(5)
    docs = [[f"w{int(t)}" for t in rng.zipf(1.3, 40) % 300] for _ in range(4000)]
    BM25Index(directory=directory).add(list(range(1, 4001)), docs)
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root}
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, str(directory)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert reader.stdin is not None
    assert reader.stdout is not None
    before = json.loads(reader.stdout.readline())
    assert len(before) == 50
    rebuilders = [
        subprocess.Popen([sys.executable, "-c", _REBUILDER, str(directory)], env=env)
        for _ in range(2)
    ]
    assert [p.wait(timeout=120) for p in rebuilders] == [0, 0]
    assert list(BM25Index.open(directory).keys()) == [7]  # the rebuild is what is on disk
    reader.stdin.write("\n")
    reader.stdin.flush()
    after = json.loads(reader.stdout.readline() or "null")
    reader.communicate("\n", timeout=60)
    assert reader.returncode == 0  # not -SIGBUS
    assert after == before  # the reader still answers from the generation it opened


def test_a_writer_that_lost_the_race_writes_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "ix"
    BM25Index(directory=directory).add([1], [["a"]])
    first, second = BM25Index.open(directory), BM25Index.open(directory)
    first.add([2], [["b"]])
    before = {p.name for p in directory.iterdir()}
    assert not second.is_current()
    with pytest.raises(IndexStale):
        second.add([2], [["c"]])
    assert {p.name for p in directory.iterdir()} == before
    assert list(BM25Index.open(directory).keys()) == [1, 2]
    assert BM25Index.open(directory).document_frequency("b") == 1


@pytest.mark.parametrize("content", ["file", "foreign", "foreign-json"])
def test_a_path_that_is_not_an_index_folder_is_never_touched(tmp_path: Path, content: str) -> None:
    directory = tmp_path / "ix"
    if content == "file":
        directory.write_text("precious")
    else:
        directory.mkdir()
        name = "notes.txt" if content == "foreign" else "manifest.json"
        (directory / name).write_text('{"mine": true}')
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(IndexForeign):
        BM25Index(directory=directory)
    with pytest.raises(IndexForeign):
        BM25Index(directory=directory, replace=True)
    assert sorted(tmp_path.rglob("*")) == before


def test_a_replacing_index_takes_over_only_at_its_first_commit(tmp_path: Path) -> None:
    directory = tmp_path / "ix"
    BM25Index(directory=directory).add([1], [["old"]])
    (directory / "operator-notes.txt").write_text("mine")
    fresh = BM25Index(directory=directory, replace=True)
    assert list(BM25Index.open(directory).keys()) == [1]  # nothing written yet
    fresh.add([5], [["new"]])
    reopened = BM25Index.open(directory)
    assert list(reopened.keys()) == [5]
    assert reopened.document_frequency("old") == 0
    assert (directory / "operator-notes.txt").read_text() == "mine"


def test_non_string_tokens_are_refused_without_damage() -> None:
    index = BM25Index()
    index.add([1], [["a"]])
    with pytest.raises(IndexError_):
        index.add([2], [["fresh", 7]])  # type: ignore[list-item]
    assert index.document_frequency("fresh") == 0
    index.add([2], [["fresh"]])
    assert index.document_frequency("fresh") == 1


def test_long_scans_that_release_the_interpreter_lock_are_exact() -> None:
    """A query term with over 200,000 postings in one segment takes the kernel's
    GIL-free path; its top 10 must equal the exhaustive scores."""
    n = 210_000
    rng = np.random.default_rng(11)
    extra = rng.integers(0, 5_000, size=n)
    docs = [["common", f"t{int(x)}"] + ["common"] * int(x % 3) for x in extra]
    index = BM25Index()
    index.add(list(range(n)), docs)
    assert index.segment_count == 1
    for query in (["common"], ["common", "t7", "t4999"], ["t7", "common", "common"]):
        scores = index.scores(query)
        expected = sorted(scores, key=lambda key: (-scores[key], key))[:10]
        hits = index.search(query, k=10)
        assert [h.key for h in hits] == expected
        assert [h.score for h in hits] == [scores[key] for key in expected]


# -- the kernel's bounds and tables ------------------------------------------------------


def assert_exhaustive_top(index: BM25Index, query: list[str], k: int) -> None:
    """``search`` gives the top k of ``scores`` (every matching document, numpy)."""
    scores = index.scores(query)
    ranked = sorted(scores, key=lambda key: (-scores[key], key))[:k]
    got = [(h.key, h.score) for h in index.search(query, k)]
    assert [s for _, s in got] == pytest.approx([scores[key] for key in ranked], abs=1e-12, rel=0)
    # The same documents, except where a query term repeats: the scan multiplies
    # idf by the repeats, ``scores`` the contribution, and the last bit may differ.
    for (key, score), expected in zip(got, ranked, strict=True):
        assert key == expected or abs(score - scores[expected]) < 1e-12


# Lengths drawn uniformly up to past the kernel's 255 length codes (plain lists
# would stay short), mostly padding, so that a query term's frequency in a long
# document may be small (the kernel's table) or large (past it).
long_document = st.integers(1, 320).flatmap(
    lambda n: st.lists(st.sampled_from([*VOCAB[:6], *["pad"] * 30]), min_size=n, max_size=n)
)


@settings(max_examples=50)  # long documents are slow to draw
@given(
    st.lists(st.lists(long_document, min_size=1, max_size=10), min_size=1, max_size=4),
    st.lists(query_st, min_size=1, max_size=4),
    st.integers(1, 50),  # up to every document: long ones must rank right too
    params,
)
def test_search_equals_exhaustive_scores(
    batches: list[list[list[str]]], queries: list[list[str]], k: int, p: tuple[float, float, float]
) -> None:
    """Lengths past the 255 length codes and frequencies past the kernel's table,
    several segments, removals: the top k and its scores are those of ``scores``
    (which computes every contribution with numpy, not through the tables)."""
    index = BM25Index(*p)
    key = 0
    for batch in batches:
        index.add(list(range(key, key + len(batch))), batch)
        key += len(batch)
    index.remove(range(0, key, 5))
    for query in queries:
        assert_exhaustive_top(index, query, k)


@pytest.mark.parametrize("growing", [True, False])
def test_bounds_hold_as_the_average_length_drifts(growing: bool) -> None:
    """Segment bounds are taken at the average length of their build; a later,
    very different average must not let the search prune a document it needs."""
    rng = np.random.default_rng(5)
    vocab = [f"t{i}" for i in range(12)]
    # Long postings lists (many blocks), so that the search prunes by its bounds.
    short = [list(rng.choice(vocab, size=int(rng.integers(2, 6)))) for _ in range(4000)]
    long = [list(rng.choice(vocab, size=int(rng.integers(150, 300)))) for _ in range(400)]
    first, then = (short, long) if growing else (long, short)
    index = BM25Index(1.2, 1.0)  # b = 1: the norm is all length, bounds move the most
    index.add(list(range(len(first))), first)
    index.add(list(range(len(first), 4400)), then)
    assert index.segment_count == 2
    for _ in range(40):
        query = list(rng.choice(vocab, size=int(rng.integers(1, 5))))
        assert_exhaustive_top(index, query, 10)


def test_an_index_of_the_previous_format_is_refused(tmp_path: Path) -> None:
    """Segments written before score bounds per block (format 2) cannot be searched:
    opening them raises IndexCorrupt, which makes the corpus rebuild its index."""
    directory = tmp_path / "ix"
    BM25Index(directory=directory).add([1], [["a"]])
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["format"] = 2
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="format 2"):
        BM25Index.open(directory)
