"""The ``techbrief`` command: a thin adapter that turns library errors into one-line messages.

Only ``argparse`` is imported up front, so ``techbrief --help`` answers at
once; each command imports what it needs when it runs.

Every error passes :func:`main` before it is printed: there it becomes one
line on stderr, with every secret of the settings masked (the redaction that
also guards the logs), and exit status 2; an error nobody foresaw (a bug) is
one line too, with status 70. Never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core.service import TechBrief
    from bot.telegram.redaction import Redactor
    from retrieval.answer import Hit

__all__ = ["main"]

log = logging.getLogger("techbrief")

_EXIT_FAILURE = 2  # configuration, database, index, file system, Bot API: the cause is named
_EXIT_BUG = 70  # EX_SOFTWARE: an error nobody foresaw
_EXIT_BROKEN_PIPE = 141  # what a shell reports for a program stopped by SIGPIPE (128 + 13)


class _Help(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples printed as written."""


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    example: str,
    details: str = "",
) -> argparse.ArgumentParser:
    """A subcommand with a one-line summary, optional details and an example."""
    description = f"{summary}\n\n{details}".rstrip() if details else summary
    return commands.add_parser(
        name,
        help=summary[:1].lower() + summary[1:].rstrip("."),
        description=description,
        epilog=f"example:\n  {example}",
        formatter_class=_Help,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="techbrief",
        description="Answers questions about Chinese tech from stored news articles. "
        "Without a command: the Telegram bot when TELEGRAM_BOT_TOKEN is set, "
        "else the console chat.",
        epilog='example:\n  techbrief ask "What did BYD unveil?"',
        formatter_class=_Help,
    )
    parser.add_argument("--db", type=Path, help="database file (default: $TECHBRIEF_DB)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _command(
        commands,
        "run",
        "Run the bot: Telegram when TELEGRAM_BOT_TOKEN is set, else the console chat.",
        "TELEGRAM_BOT_TOKEN=123456789:AA... techbrief run",
    )
    _command(
        commands,
        "chat",
        "Chat in the terminal, with the same commands as in Telegram.",
        "echo 'What did BYD unveil?' | techbrief chat",
        "Reads standard input line by line when it is not a terminal.",
    )
    ask = _command(
        commands,
        "ask",
        "Answer one question from the stored articles.",
        'techbrief ask --json -k 3 "Which robotaxi firms filed for Hong Kong IPOs?"',
        "Prints the answer card and further results; exits 1 when the question cannot be\n"
        "searched (empty, too long, only common words). --json prints question,\n"
        "abstained, sentence and hits[] (passage_id, text, score, title, publisher, url,\n"
        "published, heading, sentence, support).",
    )
    ask.add_argument("question", nargs="+", help="the question")
    ask.add_argument("--json", action="store_true", help="machine-readable output")
    ask.add_argument("-k", type=_results, default=5, metavar="N", help="results to list (1-50, 5)")
    evaluate = _command(
        commands,
        "eval",
        "Retrieval quality on a BEIR-format directory: nDCG@10, Recall@100, MRR@10, time.",
        "techbrief eval ../shared/benchmarks/scifact",
        "The directory holds corpus.jsonl (_id, title, text), queries.jsonl (_id, text)\n"
        "and qrels/test.tsv (query-id, corpus-id, score; a header line). Documents are\n"
        "indexed in memory; the database is not touched.",
    )
    evaluate.add_argument("corpus_dir", type=Path, metavar="CORPUS_DIR")
    evaluate.add_argument("--json", action="store_true", help="machine-readable output")
    _command(
        commands,
        "sources",
        "List the sources of the stored articles, with the #id remove-source takes.",
        "techbrief sources",
    )
    _command(
        commands,
        "stats",
        "Show how much is stored: sources, articles, passages, indexed terms.",
        "techbrief stats",
    )
    bench = _command(
        commands,
        "bench",
        "Retrieval benchmark: techbrief's index beside reference BM25 engines.",
        "techbrief bench --passages 10k,100k --engines techbrief,bm25s",
        "Builds a deterministic synthetic corpus (no downloads) and measures, per engine\n"
        "and size, each in its own process: build time, peak memory, query p50/p95, adding\n"
        "1,000 passages and cold start. Reference engines come with the 'bench' extra.",
    )
    bench.add_argument(
        "--passages", default="10k,100k,1m", metavar="N[,N...]", help="sizes (10k,100k,1m)"
    )
    bench.add_argument(
        "--engines",
        default=None,
        metavar="E[,E...]",
        help="engines, comma-separated (default: all: techbrief, rank_bm25, bm25s, tantivy)",
    )
    bench.add_argument(
        "--slow-limit",
        type=int,
        default=None,
        metavar="N",
        help="skip rank_bm25 above N passages (100,000)",
    )
    bench.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _results(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if not 1 <= value <= 50:
        raise argparse.ArgumentTypeError("choose between 1 and 50")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    from bot.telegram.redaction import Redactor, install_redaction

    logging.basicConfig(level=logging.WARNING, format="techbrief: %(levelname)s: %(message)s")
    # Never die on output the terminal cannot encode (emoji on a C locale, say).
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    # Secrets join it as the settings are read; the logs are guarded from the start.
    redactor = install_redaction(Redactor())
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args, redactor)
    except BrokenPipeError:
        # The reader went away (`techbrief ask ... | head -1`): stop quietly, as
        # Unix tools do, and keep Python from complaining when it flushes stdout.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return _EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the one place every error passes before it is printed
        line, status = _failure(exc)
        log.debug("failure", exc_info=exc)  # the traceback, for whoever turns on DEBUG
        print(f"techbrief: {redactor(line)}", file=sys.stderr)
        return status


def _failure(exc: Exception) -> tuple[str, int]:
    """One line naming the cause of a failure, and the exit status."""
    if isinstance(exc, _named_failures()):
        return " ".join(str(exc).split()), _EXIT_FAILURE
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}", _EXIT_FAILURE
    if isinstance(exc, MemoryError):
        return "out of memory", _EXIT_FAILURE
    detail = " ".join(str(exc).split())[:300]
    return f"internal error ({type(exc).__name__}: {detail}); please report it", _EXIT_BUG


def _named_failures() -> tuple[type[BaseException], ...]:
    """Error types whose message is one line naming the cause (configuration, database,
    index, evaluation data, Bot API at start-up). Looked up only among the modules this
    run imported: an error of a module never imported cannot have happened."""
    names = (
        ("bot.config", "ConfigError"),
        ("storage.errors", "StorageError"),
        ("retrieval.index.errors", "IndexError_"),
        ("retrieval.evaluate", "EvaluationError"),
        ("bot.telegram.app", "BotUnavailable"),
    )
    found: list[type[BaseException]] = []
    for module, name in names:
        if module in sys.modules:
            found.append(getattr(sys.modules[module], name))
    return tuple(found)


def _dispatch(args: argparse.Namespace, redactor: Redactor) -> int:
    if args.command == "eval":
        return _eval(args.corpus_dir, as_json=args.json)
    if args.command == "bench":
        return _bench(args)
    return _with_settings(args, redactor)


def _with_settings(args: argparse.Namespace, redactor: Redactor) -> int:
    from bot.config import load_settings

    settings = load_settings(db_path=args.db)
    redactor.register(*settings.secrets)
    command = args.command or "run"
    if command == "run" and settings.token:
        # Imported here: the console chat and the other commands need no Telegram stack.
        from bot.telegram.app import run_telegram

        return run_telegram(settings)
    return _with_service(settings, _SERVICE_COMMANDS.get(command, _chat), args)


def _with_service(
    settings: Settings,
    command: Callable[[TechBrief, argparse.Namespace], int],
    args: argparse.Namespace,
) -> int:
    import sqlite3
    from datetime import UTC, datetime

    from bot.core.corpus import Corpus
    from bot.core.service import TechBrief
    from storage.errors import StorageError

    try:
        corpus = Corpus.open(settings.db_path, datetime.now(UTC), index_path=settings.index_path)
        try:
            return command(TechBrief(corpus), args)
        finally:
            corpus.close()
    except sqlite3.Error as exc:  # found damaged after opening (a query read a bad page)
        raise StorageError(f"cannot use database {settings.db_path}: {exc}") from exc


def _chat(service: TechBrief, args: argparse.Namespace) -> int:
    from bot.console import console_lines, run_console, terminal_lines

    if sys.stdin.isatty():
        return run_console(
            service, terminal_lines(), sys.stdout, ansi=sys.stdout.isatty(), greeting=True
        )
    return run_console(service, console_lines(sys.stdin.buffer), sys.stdout)


def _ask(service: TechBrief, args: argparse.Namespace) -> int:
    from bot.console import loading_notice
    from bot.core import render
    from bot.core.service import AnswerPage, Refusal, clean_text

    question, k = " ".join(args.question), args.k
    notice = loading_notice(service, question)
    if notice:
        print(notice, file=sys.stderr, flush=True)
    result = service.ask(question, k=k)
    if isinstance(result, Refusal):
        if args.json:
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
    if args.json:
        hits = result.hits or result.weak
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


def _sources(service: TechBrief, args: argparse.Namespace) -> int:
    from bot.core import render

    print(render.sources_list(service.sources(), render.console_markup(ansi=False)))
    return 0


def _stats(service: TechBrief, args: argparse.Namespace) -> int:
    from bot.core import render

    print(render.stats_card(service.stats(), render.console_markup(ansi=False)))
    return 0


_SERVICE_COMMANDS: dict[str, Callable[[TechBrief, argparse.Namespace], int]] = {
    "chat": _chat,
    "run": _chat,
    "ask": _ask,
    "sources": _sources,
    "stats": _stats,
}
"""Commands that work on the stored corpus, by name (``run`` without a token is the chat)."""


def _eval(directory: Path, *, as_json: bool) -> int:
    import time

    from retrieval.evaluate import evaluate_beir

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


def _bench(args: argparse.Namespace) -> int:
    from retrieval.bench import (
        ENGINES,
        SLOW_LIMIT,
        format_table,
        parse_engines,
        parse_sizes,
        run_bench,
    )

    try:
        sizes = parse_sizes(args.passages)
        engines = parse_engines(args.engines or ",".join(ENGINES))
    except ValueError as exc:
        print(f"techbrief bench: {exc}", file=sys.stderr)
        return 2
    report = run_bench(
        sizes,
        engines,
        slow_limit=SLOW_LIMIT if args.slow_limit is None else args.slow_limit,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    if args.json:
        _print_json(report)
    else:
        print(format_table(report))
    failed = [r for r in report["results"] if "failed" in str(r.get("note") or "")]
    if failed:  # the figures that came out are printed; the failure is one line and status 2
        first = failed[0]
        print(
            f"techbrief: bench: {first['engine']} at {first['passages']:,} passages: "
            f"{first['note']}" + (f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""),
            file=sys.stderr,
        )
        return _EXIT_FAILURE
    return 0


def _print_json(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2))
