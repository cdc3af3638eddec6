"""Answering speed in-process (a benchmark, not a test): the whole service per question.

    python -m tests.qa.answerbench [--passages 100000] [--db PATH] [--repeat 3]

Builds (once, reused after) the load benchmark's deterministic corpus of
synthetic articles mixing the seed articles' sentences with a Zipf vocabulary
(:func:`tests.e2e.loadbench.build_corpus`), opens it as the bot does, and
times :meth:`bot.core.service.TechBrief.ask` (clean_text, query
understanding, BM25, the answer decision, the refusal's topic) on one thread
for the questions of ``tests/qa/questions.jsonl`` and the load benchmark's
questions, printing p50 and p95 beside the target (5 ms p50 at 100k passages).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import platformdirs

from bot.core.corpus import Corpus
from bot.core.service import TechBrief
from retrieval.evaluate_qa import read_questions
from tests.e2e.loadbench import build_corpus, machine, questions

QUESTIONS = Path(__file__).resolve().parent / "questions.jsonl"
TARGET_P50_MS = 5.0


def timed(service: TechBrief, asks: Sequence[str], repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per question, each sorted. On a shared
    machine the thread's CPU time is the steadier figure: it leaves out the
    time spent waiting for a core."""
    for question in asks:  # first pass: caches as a running bot has them
        service.ask(question)
    wall, cpu = [], []
    for _ in range(repeat):
        for question in asks:
            started, started_cpu = time.perf_counter(), time.thread_time()
            service.ask(question)
            cpu.append((time.thread_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
    return sorted(wall), sorted(cpu)


def _p95(times: Sequence[float]) -> float:
    return times[int(0.95 * (len(times) - 1))]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.qa.answerbench", description=__doc__)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="corpus database (built if missing)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    db = args.db or Path(platformdirs.user_cache_dir("techbrief")) / (
        f"loadbench-{args.passages}.db"
    )
    build_corpus(db, args.passages)
    corpus = Corpus.open(db, datetime.now(UTC), index_path=db.with_name(db.name + ".index"))
    try:
        corpus.parser.warm(corpus.index)
        service = TechBrief(corpus)
        sets = {
            "tests/qa/questions.jsonl": [q.question for q in read_questions(QUESTIONS)],
            "load benchmark questions": questions(),
        }
        print(f"machine: {machine()}")
        print(f"corpus: {len(corpus.index):,} passages ({db})")
        print("\n| questions | asked | p50 ms | p95 ms | CPU p50 ms | CPU p95 ms | target p50 ms |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, asks in sets.items():
            wall, cpu = timed(service, asks, args.repeat)
            print(
                f"| {name} | {len(wall):,} | {statistics.median(wall):.2f} | {_p95(wall):.2f} "
                f"| {statistics.median(cpu):.2f} | {_p95(cpu):.2f} | {TARGET_P50_MS:.1f} |"
            )
    finally:
        corpus.close()


if __name__ == "__main__":
    main()
