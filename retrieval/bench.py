"""``techbrief bench``: techbrief's index beside reference BM25 engines, each in its own process.

Corpus (deterministic): Zipf (s = 1.0) over 200,000 word types ``w0`` (most
frequent) .. ``w199999``, passage lengths uniform in 40..80 tokens, fixed seed,
generated batch by batch so an engine that streams never holds it all. Queries:
200 of 3..6 terms, each term 30% from the 100 most frequent types, 40% from
ranks 100..10,000, 30% from the rest. Every engine gets the same token lists
(lists of ``str``) and answers "tokenised query -> sorted top 10".

Figures per engine and size, measured in a fresh process per engine:
build seconds (for techbrief: build and write the persisted index), peak RSS
of that process (``ru_maxrss``, corpus generation included), query latency
p50/p95 over the 200 queries, the cost of adding 1,000 passages (an engine
without an add operation pays a full rebuild with them), and cold start: a new
process opens the persisted index and answers one query (wall time of that
process, interpreter start included; the page cache is warm).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from retrieval.synthetic import Zipf

__all__ = ["ENGINES", "corpus_batches", "main", "queries", "run_bench"]

VOCABULARY = 200_000
SEED = 20261122
BATCH = 50_000
QUERIES = 200
ENGINES = ("techbrief", "rank_bm25", "bm25s", "tantivy")
# rank-bm25 rescans every passage in Python per query: above this size it is
# skipped unless asked for (--slow-limit), as the spec allows.
SLOW_LIMIT = 100_000


def _zipf() -> Zipf:
    return Zipf([f"w{i}" for i in range(VOCABULARY)], seed=SEED)


def corpus_batches(n: int, *, stream: int = 0, batch: int = BATCH) -> Iterator[list[list[str]]]:
    """The first ``n`` passages of token stream ``stream``, in batches (deterministic)."""
    return _zipf().passages(n, stream=stream, batch=batch)


def queries() -> list[list[str]]:
    return _zipf().queries(QUERIES)


# -- engines: each builds, searches, adds, saves and opens in its own way --------


class _Engine:
    """One engine's build / search / add / open, as its users would call them."""

    def build(self, batches: Iterator[list[list[str]]], directory: Path) -> None:
        raise NotImplementedError

    def search(self, query: list[str]) -> list[tuple[int, float]]:
        raise NotImplementedError

    def add(self, first_key: int, docs: list[list[str]]) -> None:
        raise NotImplementedError

    def open(self, directory: Path) -> None:
        raise NotImplementedError


class _Techbrief(_Engine):
    def build(self, batches: Iterator[list[list[str]]], directory: Path) -> None:
        from retrieval.index import BM25Index

        self.index = BM25Index(directory=directory / "index")
        key = 0
        with self.index.bulk():
            for docs in batches:
                self.index.add(list(range(key, key + len(docs))), docs)
                key += len(docs)

    def search(self, query: list[str]) -> list[tuple[int, float]]:
        return [(h.key, h.score) for h in self.index.search(query, 10)]

    def add(self, first_key: int, docs: list[list[str]]) -> None:
        self.index.add(list(range(first_key, first_key + len(docs))), docs)

    def open(self, directory: Path) -> None:
        from retrieval.index import BM25Index

        self.index = BM25Index.open(directory / "index")


class _RankBM25(_Engine):
    def build(self, batches: Iterator[list[list[str]]], directory: Path) -> None:
        from rank_bm25 import BM25Okapi

        self.docs = [doc for docs in batches for doc in docs]
        self.bm25 = BM25Okapi(self.docs)
        with open(directory / "rank_bm25.pickle", "wb") as out:
            import pickle

            pickle.dump(self.bm25, out, protocol=pickle.HIGHEST_PROTOCOL)

    def search(self, query: list[str]) -> list[tuple[int, float]]:
        scores = self.bm25.get_scores(query)
        top = np.argpartition(-scores, 9)[:10] if scores.shape[0] > 10 else np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))]
        return [(int(i), float(scores[i])) for i in top]

    def add(self, first_key: int, docs: list[list[str]]) -> None:
        from rank_bm25 import BM25Okapi

        self.bm25 = BM25Okapi(self.docs + docs)

    def open(self, directory: Path) -> None:
        import pickle

        with open(directory / "rank_bm25.pickle", "rb") as source:
            self.bm25 = pickle.load(source)  # noqa: S301 - our own file, just written


class _BM25S(_Engine):
    """bm25s at its fastest: the numba backend (its ``core`` extra), JIT-compiled
    by the warm-up query; the cold start includes that compilation."""

    def _index(self, docs: list[list[str]]) -> Any:
        import bm25s

        retriever = bm25s.BM25(backend="numba")
        retriever.index(docs, show_progress=False)
        return retriever

    def build(self, batches: Iterator[list[list[str]]], directory: Path) -> None:
        self.docs = [doc for docs in batches for doc in docs]
        self.retriever = self._index(self.docs)
        self.retriever.save(str(directory / "bm25s"))

    def search(self, query: list[str]) -> list[tuple[int, float]]:
        ids, scores = self.retriever.retrieve(
            [query], k=10, show_progress=False, backend_selection="numba"
        )
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True)]

    def add(self, first_key: int, docs: list[list[str]]) -> None:
        self.retriever = self._index(self.docs + docs)

    def open(self, directory: Path) -> None:
        import bm25s

        self.retriever = bm25s.BM25.load(str(directory / "bm25s"), mmap=True)


class _Tantivy(_Engine):
    """tantivy (Rust, Lucene-style, block-max WAND) through its Python binding.

    An on-disk index: the tokens go in joined by spaces and come out again
    through tantivy's ``whitespace`` tokenizer (no lowercasing, stemming or
    splitting at dots: ``w123`` stays ``w123``), with term frequencies but no
    positions (all BM25 needs); the key is a fast field. One writer adds every
    document and commits once, with one indexing thread and a heap big enough
    that the build ends in one segment (tantivy's fastest shape to search; more
    threads or a smaller heap give more segments, slower queries). Queries are
    an OR of term queries (terms are not re-analysed) through the top-10
    collector alone: asking for the hit count as well would turn off tantivy's
    block-max pruning. One searcher serves every query until the next commit.
    """

    HEAP_BYTES = 1_000_000_000  # tantivy's limit is 4 GB per thread; pages are touched as used
    FIELD = "body"

    def _schema(self) -> Any:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field(
            self.FIELD, stored=False, tokenizer_name="whitespace", index_option="freq"
        )
        builder.add_integer_field("key", stored=False, indexed=False, fast=True)
        return builder.build()

    def _add(self, first_key: int, docs: list[list[str]]) -> None:
        import tantivy

        add, document = self.writer.add_document, tantivy.Document
        for key, doc in enumerate(docs, start=first_key):
            add(document(key=key, body=" ".join(doc)))

    def _reader(self) -> None:
        self.index.reload()
        self.searcher = self.index.searcher()

    def build(self, batches: Iterator[list[list[str]]], directory: Path) -> None:
        import tantivy

        path = directory / "tantivy"
        path.mkdir()
        self.schema = self._schema()
        self.index = tantivy.Index(self.schema, path=str(path))
        self.writer = self.index.writer(heap_size=self.HEAP_BYTES, num_threads=1)
        key = 0
        for docs in batches:
            self._add(key, docs)
            key += len(docs)
        self.writer.commit()
        self._reader()

    def search(self, query: list[str]) -> list[tuple[int, float]]:
        import tantivy

        should, term = tantivy.Occur.Should, tantivy.Query.term_query
        terms = [(should, term(self.schema, self.FIELD, t)) for t in query]
        hits = self.searcher.search(tantivy.Query.boolean_query(terms), 10, count=False).hits
        keys = self.searcher.fast_field_values("key", [address for _, address in hits])
        # The key field is an i64 fast field every document has: the values are ints.
        return [(cast(int, key), float(score)) for key, (score, _) in zip(keys, hits, strict=True)]

    def add(self, first_key: int, docs: list[list[str]]) -> None:
        self._add(first_key, docs)
        self.writer.commit()
        self._reader()

    def open(self, directory: Path) -> None:
        import tantivy

        self.index = tantivy.Index.open(str(directory / "tantivy"))
        self.schema = self.index.schema
        self.searcher = self.index.searcher()


_ENGINE_TYPES: dict[str, Callable[[], _Engine]] = {
    "techbrief": _Techbrief,
    "rank_bm25": _RankBM25,
    "bm25s": _BM25S,
    "tantivy": _Tantivy,
}


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(engine_name: str, n: int, directory: Path) -> dict[str, Any]:
    """Build, query and add in this process; print the figures as JSON."""
    engine = _ENGINE_TYPES[engine_name]()
    generating = [0.0]

    def timed_batches() -> Iterator[list[list[str]]]:
        # Generating the synthetic tokens is not the engine's work: keep it out of build_s.
        source = corpus_batches(n)
        while True:
            t0 = time.perf_counter()
            batch = next(source, None)
            generating[0] += time.perf_counter() - t0
            if batch is None:
                return
            yield batch

    started = time.perf_counter()
    engine.build(timed_batches(), directory)
    build_s = time.perf_counter() - started - generating[0]
    extra = next(corpus_batches(1000, stream=1))
    qs = queries()
    engine.search(qs[0])  # one warm-up query (lazy statistics)
    latencies: list[float] = []
    results: list[list[tuple[int, float]]] = []
    for query in qs:
        t0 = time.perf_counter()
        results.append(engine.search(query))
        latencies.append((time.perf_counter() - t0) * 1000)
    started = time.perf_counter()
    engine.add(n, extra)
    add_ms = (time.perf_counter() - started) * 1000
    return {
        "build_s": round(build_s, 3),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
        "p50_ms": round(float(np.percentile(latencies, 50)), 4),
        "p95_ms": round(float(np.percentile(latencies, 95)), 4),
        "add_1k_ms": round(add_ms, 2),
        "top10": results,
    }


def _cold(engine_name: str, directory: Path) -> dict[str, Any]:
    engine = _ENGINE_TYPES[engine_name]()
    engine.open(directory)
    hits = engine.search(queries()[0])
    return {"hits": len(hits)}


@dataclass
class BenchRow:
    engine: str
    passages: int
    build_s: float | None = None
    peak_rss_mib: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    add_1k_ms: float | None = None
    cold_start_s: float | None = None
    note: str = ""


def _run_child(args: Sequence[str], timeout: float) -> tuple[dict[str, Any] | None, float, str]:
    started = time.perf_counter()
    proc = subprocess.run(  # noqa: S603 - our own interpreter and module, fixed arguments
        [sys.executable, "-m", "retrieval.bench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        return None, elapsed, (proc.stderr.strip().splitlines() or ["failed"])[-1]
    return json.loads(proc.stdout.strip().splitlines()[-1]), elapsed, ""


def run_bench(
    sizes: Sequence[int],
    engines: Sequence[str],
    *,
    slow_limit: int = SLOW_LIMIT,
    timeout: float = 3600,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    rows: list[BenchRow] = []
    tops: dict[tuple[str, int], list[list[tuple[int, float]]]] = {}
    for n in sizes:
        for engine in engines:
            row = BenchRow(engine, n)
            rows.append(row)
            if engine == "rank_bm25" and n > slow_limit:
                row.note = f"skipped above {slow_limit:,} passages (--slow-limit)"
                progress(f"{engine} at {n:,}: {row.note}")
                continue
            if not _installed(engine):
                row.note = "not installed (pip install 'techbrief[bench]')"
                progress(f"{engine}: {row.note}")
                continue
            progress(f"{engine} at {n:,} passages ...")
            with tempfile.TemporaryDirectory(prefix="techbrief-bench-") as tmp:
                result, _, error = _run_child(["worker", engine, str(n), tmp], timeout)
                if result is None:
                    row.note = f"failed: {error}"
                    continue
                tops[(engine, n)] = result.pop("top10")
                for key, value in result.items():
                    setattr(row, key, value)
                cold, elapsed, error = _run_child(["cold", engine, tmp], timeout)
                row.cold_start_s = round(elapsed, 3) if cold is not None else None
                if cold is None:
                    row.note = f"cold start failed: {error}"
    parity = _parity(tops, sizes)
    return {
        "machine": _machine(),
        "parity_max_abs_diff": parity[0],
        "parity_top10_identical": parity[1],
        "results": [row.__dict__ for row in rows],
    }


def _installed(engine: str) -> bool:
    import importlib.util

    module = {
        "techbrief": "retrieval._kernel",
        "rank_bm25": "rank_bm25",
        "bm25s": "bm25s",
        "tantivy": "tantivy",
    }
    return importlib.util.find_spec(module[engine]) is not None


def _parity(
    tops: dict[tuple[str, int], list[list[tuple[int, float]]]], sizes: Sequence[int]
) -> tuple[float | None, float | None]:
    """Compare techbrief's top 10s with rank-bm25's at the smallest size both ran.

    Returns the largest score difference at equal ranks, and the share of
    queries whose top 10 hold the same documents apart from ties: documents
    whose scores equal the 10th score may differ, since equal sums computed
    in a different order can differ in the last bit.
    """
    for n in sorted(sizes):
        ours, theirs = tops.get(("techbrief", n)), tops.get(("rank_bm25", n))
        if ours is None or theirs is None:
            continue
        worst = 0.0
        same = 0
        for a_all, b_all in zip(ours, theirs, strict=True):
            # rank-bm25 pads a short result with passages that lack every query
            # term (score 0); techbrief never returns those.
            a = [hit for hit in a_all if hit[1] != 0]
            b = [hit for hit in b_all if hit[1] != 0]
            worst = max([worst, *(abs(x[1] - y[1]) for x, y in zip(a, b, strict=False))])
            if len(a) != len(b):
                worst = float("inf")
                continue
            floor = min((s for _, s in a), default=0.0) + 1e-9
            same += {d for d, s in a if s > floor} == {d for d, s in b if s > floor}
        return worst, same / len(ours)
    return None, None


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def format_table(report: dict[str, Any]) -> str:
    def fmt(value: float | None, digits: int) -> str:
        return "—" if value is None else f"{value:,.{digits}f}"

    m = report["machine"]
    lines = [
        f"machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}",
        "",
        f"{'engine':<10} {'passages':>10} {'build s':>8} {'peak MiB':>9} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'add 1k ms':>10} {'cold s':>7}  note",
    ]
    for r in report["results"]:
        lines.append(
            f"{r['engine']:<10} {r['passages']:>10,} {fmt(r['build_s'], 2):>8} "
            f"{fmt(r['peak_rss_mib'], 0):>9} {fmt(r['p50_ms'], 3):>8} {fmt(r['p95_ms'], 3):>8} "
            f"{fmt(r['add_1k_ms'], 1):>10} {fmt(r['cold_start_s'], 2):>7}  {r['note']}"
        )
    parity = report["parity_max_abs_diff"]
    if parity is not None:
        lines.append("")
        lines.append(
            f"parity with rank-bm25 (smallest size): max |score difference| in the top 10 = "
            f"{parity:.3g}; same top-10 documents (ties aside): "
            f"{report['parity_top10_identical']:.0%} of queries"
        )
    return "\n".join(lines)


def parse_sizes(raw: str) -> list[int]:
    sizes = []
    for part in raw.split(","):
        value = part.strip().lower().replace("_", "")
        factor = 1
        if value.endswith("k"):
            value, factor = value[:-1], 1000
        elif value.endswith("m"):
            value, factor = value[:-1], 1_000_000
        if not value.isdigit() or int(value) * factor < 1000:
            raise ValueError(f"{part!r} is not a passage count of at least 1000 (e.g. 10k, 1m)")
        sizes.append(int(value) * factor)
    return sizes


def parse_engines(raw: str) -> list[str]:
    engines = [e.strip() for e in raw.split(",") if e.strip()]
    unknown = [e for e in engines if e not in ENGINES]
    if unknown or not engines:
        raise ValueError(f"unknown engine {', '.join(unknown) or raw!r}; choose from {ENGINES}")
    return engines


def main(argv: Sequence[str] | None = None) -> int:
    """Child-process entry: ``worker ENGINE N DIR`` or ``cold ENGINE DIR``."""
    parser = argparse.ArgumentParser(prog="python -m retrieval.bench")
    sub = parser.add_subparsers(dest="role", required=True)
    worker = sub.add_parser("worker")
    worker.add_argument("engine", choices=ENGINES)
    worker.add_argument("n", type=int)
    worker.add_argument("directory", type=Path)
    cold = sub.add_parser("cold")
    cold.add_argument("engine", choices=ENGINES)
    cold.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    if args.role == "worker":
        result = _worker(args.engine, args.n, args.directory)
    else:
        result = _cold(args.engine, args.directory)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
