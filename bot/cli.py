"""The ``techbrief`` command: a thin adapter that turns library errors into one-line messages."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import ConfigError, Settings, load_settings
from bot.console import console_lines, run_console, terminal_lines
from bot.core import render
from bot.core.corpus import Corpus
from bot.core.service import AnswerPage, Refusal, TechBrief, clean_text
from retrieval.answer import Hit
from retrieval.bench import ENGINES, SLOW_LIMIT, format_table, parse_engines, parse_sizes, run_bench
from retrieval.evaluate import EvaluationError, evaluate_beir
from storage.errors import StorageError

__all__ = ["main"]

log = logging.getLogger("techbrief")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="techbrief",
        description="Answers questions about Chinese tech from stored news articles. "
        "Without a command: the Telegram bot when TELEGRAM_BOT_TOKEN is set, "
        "else the console chat.",
    )
    parser.add_argument("--db", type=Path, help="database file (default: $TECHBRIEF_DB)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the bot (Telegram if a token is set, else console)")
    commands.add_parser("chat", help="chat in the terminal (reads stdin when not a terminal)")
    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question", nargs="+", help="the question")
    ask.add_argument("--json", action="store_true", help="machine-readable output")
    ask.add_argument("-k", type=_positive, default=5, metavar="N", help="results to list (5)")
    evaluate = commands.add_parser("eval", help="retrieval quality on a BEIR directory")
    evaluate.add_argument("corpus_dir", type=Path, metavar="CORPUS_DIR")
    evaluate.add_argument("--json", action="store_true", help="machine-readable output")
    _eval_qa_parser(commands)
    commands.add_parser("sources", help="list the sources of the stored articles")
    bench = commands.add_parser(
        "bench", help="retrieval benchmark: techbrief's index beside reference engines"
    )
    bench.add_argument(
        "--passages", default="10k,100k,1m", metavar="N[,N...]", help="sizes (10k,100k,1m)"
    )
    bench.add_argument(
        "--engines", default=",".join(ENGINES), metavar="E[,E...]", help=f"from {ENGINES}"
    )
    bench.add_argument(
        "--slow-limit",
        type=int,
        default=SLOW_LIMIT,
        metavar="N",
        help=f"skip rank_bm25 above N passages ({SLOW_LIMIT:,})",
    )
    bench.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _positive(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if not 1 <= value <= 50:
        raise argparse.ArgumentTypeError("choose between 1 and 50")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="techbrief: %(levelname)s: %(message)s")
    # Never die on output the terminal cannot encode (emoji on a C locale, say).
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except (ConfigError, StorageError, EvaluationError) as exc:
        print(f"techbrief: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "eval-qa":
        return _eval_qa(args)
    if args.command == "eval":
        return _eval(args.corpus_dir, as_json=args.json)
    if args.command == "bench":
        return _bench(args)
    settings = load_settings()
    if args.db is not None:
        settings = _with_db(settings, args.db)
    command = args.command or "run"
    if command == "run" and settings.token:
        # Imported here: the console chat and the other commands need no Telegram stack.
        from bot.telegram.app import run_telegram

        return run_telegram(settings)
    corpus = Corpus.open(settings.db_path, datetime.now(UTC))
    try:
        service = TechBrief(corpus)
        if command == "ask":
            return _ask(service, " ".join(args.question), k=args.k, as_json=args.json)
        if command == "sources":
            print(render.sources_list(service.sources(), render.console_markup(ansi=False)))
            return 0
        return _chat(service)
    finally:
        corpus.close()


def _with_db(settings: Settings, db: Path) -> Settings:
    return replace(settings, db_path=db)


def _chat(service: TechBrief) -> int:
    if sys.stdin.isatty():
        return run_console(
            service, terminal_lines(), sys.stdout, ansi=sys.stdout.isatty(), greeting=True
        )
    return run_console(service, console_lines(sys.stdin.buffer), sys.stdout)


def _ask(service: TechBrief, question: str, *, k: int, as_json: bool) -> int:
    result = service.ask(question, k=k)
    if isinstance(result, Refusal):
        if as_json:
            _print_json(
                {
                    "question": clean_text(question),
                    "abstained": True,
                    "sentence": None,
                    "hits": [],
                    "error": result.message,
                }
            )
        else:
            print(result.message)
        return 1
    if as_json:
        # Abstaining, the weak candidates are listed, the closest one (shown as
        # "the closest I found") first.
        closest = result.closest
        weak = [h for h in result.weak if h is not closest]
        hits = result.hits or ([closest] if closest else []) + weak
        _print_json(
            {
                "question": result.question,
                "abstained": result.abstained,
                "sentence": None if result.abstained else result.hits[0].sentence.text,
                "hits": [_hit_json(h) for h in hits[:k]],
            }
        )
        return 0
    page = AnswerPage(result)
    markup = render.console_markup(sys.stdout.isatty())
    print(render.answer_card(page, markup))
    others = render.other_hits(page, markup, limit=k)
    if others:
        print(f"\nMore results:\n{others}")
    return 0


def _hit_json(hit: Hit) -> dict[str, Any]:
    c = hit.candidate
    return {
        "passage_id": c.passage_id,
        "text": c.text,
        "score": c.score,
        "title": c.title,
        "publisher": c.publisher,
        "url": c.url,
        "published": c.published,
        "heading": c.heading,
        "sentence": hit.sentence.text,
        "support": round(hit.support, 4),
    }


def _eval(directory: Path, *, as_json: bool) -> int:
    started = time.perf_counter()
    result = evaluate_beir(directory)
    seconds = time.perf_counter() - started
    if as_json:
        _print_json(
            {
                "ndcg_at_10": result.ndcg_at_10,
                "recall_at_100": result.recall_at_100,
                "mrr_at_10": result.mrr_at_10,
                "queries": result.queries,
                "seconds": round(seconds, 3),
            }
        )
    else:
        print(f"{directory}: {result.queries} queries over {result.documents:,} documents")
        print(f"  nDCG@10     {result.ndcg_at_10:.4f}")
        print(f"  Recall@100  {result.recall_at_100:.4f}")
        print(f"  MRR@10      {result.mrr_at_10:.4f}")
        print(f"  time        {seconds:.1f} s (index and search)")
    return 0


def _eval_qa_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "eval-qa", help="answer quality on a question set (tests/qa/questions.jsonl)"
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="questions, JSON Lines")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--list", action="store_true", help="list every question and outcome")
    parser.add_argument(
        "--distractors",
        type=Path,
        metavar="PATH",
        help="grow the corpus with passages cut from a BEIR corpus.jsonl (or its directory)",
    )
    parser.add_argument(
        "--limit", type=int, default=5_000, metavar="N", help="distractor passages (5,000)"
    )
    parser.add_argument(
        "--min-support", type=float, metavar="X", help="answer threshold to try (default: 0.4)"
    )


def _eval_qa(args: argparse.Namespace) -> int:
    # A fresh in-memory corpus of the seed articles: the user's database is not touched.
    from bot.core.quality import run_eval_qa
    from retrieval.evaluate_qa import format_report

    started = time.perf_counter()
    report, passages = run_eval_qa(
        args.file,
        datetime.now(UTC),
        distractors=args.distractors,
        limit=args.limit,
        min_support=args.min_support,
    )
    seconds = time.perf_counter() - started
    if args.json:
        payload = report.to_json(questions=args.list)
        _print_json({"passages": passages, "seconds": round(seconds, 3), **payload})
    else:
        print(f"{args.file}: corpus of {passages:,} passages, {seconds:.1f} s")
        print(format_report(report, questions=args.list))
    return 0


def _bench(args: argparse.Namespace) -> int:
    try:
        sizes = parse_sizes(args.passages)
        engines = parse_engines(args.engines)
    except ValueError as exc:
        print(f"techbrief bench: {exc}", file=sys.stderr)
        return 2
    report = run_bench(
        sizes,
        engines,
        slow_limit=args.slow_limit,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    if args.json:
        _print_json(report)
    else:
        print(format_table(report))
    return 0


def _print_json(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2))
