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


def timed(service: TechBrief, asks: Sequence[str], repeat: int) -> list[float]:
    for question in asks:  # first pass: caches as a running bot has them
        service.ask(question)
    times = []
    for _ in range(repeat):
        for question in asks:
            started = time.perf_counter()
            service.ask(question)
            times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


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
        print("\n| questions | asked | p50 ms | p95 ms | target p50 ms |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for name, asks in sets.items():
            times = timed(service, asks, args.repeat)
            p50 = statistics.median(times)
            p95 = times[int(0.95 * (len(times) - 1))]
            print(f"| {name} | {len(times):,} | {p50:.2f} | {p95:.2f} | {TARGET_P50_MS:.1f} |")
    finally:
        corpus.close()


if __name__ == "__main__":
    main()
