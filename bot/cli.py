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
import contextlib
import errno
import io
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core.ingest import Ingestion
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
    parser.add_argument("--db", metavar="PATH", help="database file (default: $TECHBRIEF_DB)")
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
    eval_qa = _command(
        commands,
        "eval-qa",
        "Answer quality on a question set, per split, over a fresh seed corpus.",
        "techbrief eval-qa tests/qa/questions.jsonl --distractors ../shared/benchmarks/scifact",
        "Reports, for the dev and held-out splits: right passage first, best sentence\n"
        "holds the answer, wrongly refused, near-topic and off-topic questions answered.\n"
        "The question file is JSON Lines (see the README, Answer quality). The user's\n"
        "database is not touched.",
    )
    eval_qa.add_argument("file", type=Path, metavar="FILE", help="questions, JSON Lines")
    eval_qa.add_argument("--json", action="store_true", help="machine-readable output")
    eval_qa.add_argument("--list", action="store_true", help="list every question and outcome")
    eval_qa.add_argument(
        "--distractors",
        type=Path,
        metavar="PATH",
        help="grow the corpus with passages cut from a BEIR corpus.jsonl (or its directory)",
    )
    eval_qa.add_argument(
        "--limit", type=int, default=5_000, metavar="N", help="distractor passages (5,000)"
    )
    eval_qa.add_argument(
        "--articles",
        type=Path,
        metavar="DIR",
        help="add the articles of DIR (manifest.json + text files) to the seed; default: "
        "the folder named like FILE beside it, if any (tests/qa/news.jsonl -> tests/qa/news)",
    )
    eval_qa.add_argument(
        "--min-support", type=float, metavar="X", help="answer threshold to try (default: 0.4)"
    )
    ingest = _command(
        commands,
        "ingest",
        "Add an article page, an RSS/Atom feed or a local .txt/.md/.html file.",
        "techbrief ingest https://example.com/china-tech/feed.xml --feed",
        "A URL is fetched (http/https only, public addresses unless\n"
        "TECHBRIEF_ALLOW_PRIVATE_URLS=1) and recognised as a feed or a page; a feed's\n"
        "entries are added one by one (a progress bar on a terminal) and it is polled\n"
        "from then on by the bot. A path is read as a document. Exits 1 when nothing\n"
        "could be added.",
    )
    ingest.add_argument("target", metavar="URL|PATH", help="an http(s) URL or a file path")
    ingest.add_argument("--feed", action="store_true", help="the URL must be a feed")
    ingest.add_argument("--title", default="", help="title for a file (default: from the file)")
    _command(
        commands,
        "sources",
        "List the sources with their #id, kind, articles, last fetch and last error.",
        "techbrief sources",
    )
    remove = _command(
        commands,
        "remove-source",
        "Remove a source with its articles and passages (its #id from techbrief sources).",
        "techbrief remove-source 3",
    )
    remove.add_argument("source_id", type=_source_id, metavar="ID", help="the source's #id")
    refresh = _command(
        commands,
        "refresh",
        "Poll one feed now (re-enabling it if it was disabled), or every feed.",
        "techbrief refresh 3",
    )
    refresh.add_argument(
        "source_id", type=_source_id, nargs="?", metavar="ID", help="the feed's #id"
    )
    _command(
        commands,
        "stats",
        "Show how much is stored: sources, articles, passages, indexed terms.",
        "techbrief stats",
    )
    digest = _command(
        commands,
        "digest",
        "Preview a topic's digest, or list the subscriptions whose digest is due now.",
        "techbrief digest ev --hours 48",
        "TOPIC is a built-in topic (techbrief chat, /topics) or any words; the preview lists\n"
        "what a digest would show for the passages stored in the last --hours (24).\n"
        "--due lists the subscriptions whose digest is due now (chat, topic, time, zone, how\n"
        "many articles it holds); it sends and records nothing.",
    )
    digest.add_argument("topic", nargs="*", metavar="TOPIC", help="a topic (built-in or words)")
    digest.add_argument("--due", action="store_true", help="list the digests due now")
    digest.add_argument(
        "--hours", type=_hours, default=24, metavar="N", help="preview window in hours (24)"
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
    doctor = _command(
        commands,
        "doctor",
        "Check that the bot can run: configuration, database, index, token, webhook.",
        "techbrief doctor --quick",
        "One line per check and a summary; exits 1 when any check fails. Read-only:\n"
        "it repairs nothing, so it can run beside the bot (the container's health check\n"
        "runs --quick). The token is checked with getMe, the webhook with getWebhookInfo.",
    )
    doctor.add_argument(
        "--quick",
        action="store_true",
        help="SQLite's quick_check instead of the full integrity_check",
    )
    backup = _command(
        commands,
        "backup",
        "Copy the database to PATH while the bot runs (SQLite's online backup).",
        "techbrief backup /var/backups/techbrief/",
        "PATH is a file, or a directory to put techbrief-<UTC time>.db in (a PATH ending\n"
        "in / is made if missing). The copy is a consistent snapshot, checked before it\n"
        "replaces PATH. The search index is not copied: techbrief rebuilds it from the\n"
        "database when it opens the copy. To restore: stop the bot, copy the backup over\n"
        "TECHBRIEF_DB (removing its -wal and -shm files), start it.",
    )
    backup.add_argument("path", metavar="PATH", help="backup file, or directory (ending in /)")
    return parser


def _source_id(raw: str) -> int:
    value = raw.strip().lstrip("#")
    if not value.isascii() or not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a source id (a number from /sources)")
    return int(value)


def _results(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if not 1 <= value <= 50:
        raise argparse.ArgumentTypeError("choose between 1 and 50")
    return value


def _hours(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if not 1 <= value <= 24 * 365:
        raise argparse.ArgumentTypeError("choose between 1 and 8760")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    from bot.telegram.redaction import Redactor, install_redaction

    _standard_streams()
    logging.basicConfig(level=logging.WARNING, format="techbrief: %(levelname)s: %(message)s")
    if hasattr(sys.stderr, "reconfigure"):  # as stdout: emoji in a message on a C locale
        sys.stderr.reconfigure(errors="replace")
    # Secrets join it as the settings are read; the logs are guarded from the start.
    redactor = install_redaction(Redactor())
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:  # --help, or a usage error: argparse has printed it
        status = done.code if isinstance(done.code, int) else _EXIT_FAILURE
        return _flushed(status, redactor)
    try:
        status = _dispatch(args, redactor)
    except BrokenPipeError:
        return _broken_pipe()
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the one place every error passes before it is printed
        if isinstance(exc, _OutputError):
            return _output_failed(exc, redactor)
        line, status = _failure(exc)
        log.debug("failure", exc_info=exc)  # the traceback, for whoever turns on DEBUG
        _say(f"techbrief: {redactor(line)}")
        return status
    return _flushed(status, redactor)


class _OutputError(OSError):
    """Writing standard output failed (a full disk, a closed stream): not the database's
    or a source's error, whose own files are named."""


class _Output:
    """Standard output, whose failed writes are told apart (:class:`_OutputError`);
    everything else is the stream's own."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        # The first failure, kept for the exit status: argparse, printing --help,
        # swallows write errors.
        self.failure: _OutputError | None = None

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise  # the reader went away: quiet, status 141
        except OSError as exc:
            raise self._failed(exc) from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise  # the reader went away: quiet, status 141
        except OSError as exc:
            raise self._failed(exc) from exc

    def _failed(self, exc: OSError) -> _OutputError:
        self.failure = self.failure or _OutputError(exc.errno, exc.strerror or str(exc))
        return self.failure

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _ClosedOutput(io.TextIOBase):
    """Standard output when there is none (``techbrief ask BYD >&-``): printing fails
    with one line and a non-zero status, as on a full disk."""

    written = False  # something was to be printed: flush() fails too, so the status says so

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.written = True
        raise OSError(errno.EBADF, "standard output is closed")

    def flush(self) -> None:
        if self.written:
            raise OSError(errno.EBADF, "standard output is closed")

    def isatty(self) -> bool:
        return False


def _standard_streams() -> None:
    """Descriptors 0-2 are always open (a closed one is /dev/null, so that no file the
    command opens later can take its number and receive stray output); a closed stdin
    reads as empty, a closed stdout makes printing fail (:class:`_ClosedOutput`)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            devnull = os.open(os.devnull, os.O_RDWR)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
    if sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - for the whole run
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the whole run
    if hasattr(sys.stdout, "reconfigure"):
        # Never die on output the terminal cannot encode (emoji on a C locale, say).
        sys.stdout.reconfigure(errors="replace")
    stdout = sys.stdout if sys.stdout is not None else cast(TextIO, _ClosedOutput())
    sys.stdout = cast(TextIO, _Output(stdout))


def _flushed(status: int, redactor: Redactor) -> int:
    """``status``, once what was printed has reached standard output: a write that fails
    (a full disk) is an exit status here, not a complaint from Python as it exits."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return _broken_pipe()
    except OSError as exc:
        return _output_failed(exc, redactor)
    failure = getattr(sys.stdout, "failure", None)
    if failure is not None:
        return _output_failed(failure, redactor)
    return status


def _output_failed(exc: OSError, redactor: Redactor) -> int:
    """One line, as GNU tools say it (``write error: No space left on device``)."""
    _discard_output()
    _say(f"techbrief: cannot write the output: {redactor(exc.strerror or str(exc))}")
    return _EXIT_FAILURE


def _broken_pipe() -> int:
    """The reader went away (`techbrief ask ... | head -1`): stop quietly, as Unix tools
    do, and keep Python from complaining when it flushes stdout."""
    _discard_output()
    return _EXIT_BROKEN_PIPE


def _discard_output() -> None:
    """What is still buffered for stdout goes nowhere: Python flushes it as it exits."""
    stream = getattr(sys.stdout, "_stream", sys.stdout)
    if isinstance(stream, _ClosedOutput):
        stream.written = False
        return
    try:
        fd = stream.fileno()
    except (OSError, ValueError):  # no descriptor: nothing to redirect
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _say(line: str) -> None:
    """One line on stderr; nothing when stderr cannot be written either."""
    with contextlib.suppress(OSError):
        print(line, file=sys.stderr, flush=True)


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
    if args.command == "eval-qa":
        return _eval_qa(args)
    if args.command == "eval":
        return _eval(args.corpus_dir, as_json=args.json)
    if args.command == "bench":
        return _bench(args)
    if args.command == "doctor":
        return _doctor(args, redactor)
    return _with_settings(args, redactor)


def _settings(args: argparse.Namespace, redactor: Redactor) -> Settings:
    from bot.config import load_settings
    from bot.telegram.redaction import register_settings

    settings = load_settings(db_path=args.db)
    # Every output from here on masks the settings' secrets (the token, the webhook secret).
    register_settings(redactor, settings)
    return settings


def _with_settings(args: argparse.Namespace, redactor: Redactor) -> int:
    settings = _settings(args, redactor)
    command = args.command or "run"
    if command in _OPERATOR_COMMANDS:
        return _OPERATOR_COMMANDS[command](settings, args)
    if command == "run" and settings.token:
        # Imported here: the console chat and the other commands need no Telegram stack.
        from bot.telegram.app import run_telegram

        return run_telegram(settings)
    if command == "run" and _no_input():
        # A service started with an empty token (systemd, compose): say why it stops.
        from bot.config import ConfigError

        raise ConfigError(_NOTHING_TO_RUN)
    args.settings = settings
    return _with_service(settings, _SERVICE_COMMANDS.get(command, _chat), args)


_NOTHING_TO_RUN = (
    "TELEGRAM_BOT_TOKEN is not set, so this is the console chat, and standard input is "
    "empty: set TELEGRAM_BOT_TOKEN (the token from @BotFather) to run the Telegram bot, "
    "or give the chat questions (a terminal, or lines on standard input)"
)


def _no_input() -> bool:
    """Standard input is no terminal and ends at once (/dev/null, an empty pipe, closed).

    A pipe is waited on until its first byte or its end; what is read stays buffered
    for the chat.
    """
    if sys.stdin.isatty():
        return False
    buffer = getattr(sys.stdin, "buffer", None)
    if not isinstance(buffer, io.BufferedReader):
        return False
    try:
        return buffer.peek(1) == b""
    except OSError:  # unreadable (a directory): the chat says so when it reads
        return False


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
            return command(TechBrief(corpus, timezone=settings.timezone), args)
        finally:
            corpus.close()
    except sqlite3.Error as exc:  # found damaged after opening (a query read a bad page)
        raise StorageError(f"cannot use database {settings.db_path}: {exc}") from exc


def _ingestion(service: TechBrief, args: argparse.Namespace) -> Ingestion:
    """Adding sources from the terminal: fetches and stores on this one thread."""
    from bot.core.ingest import build_ingestion

    return build_ingestion(args.settings, service.corpus, clock=service.clock)


def _chat(service: TechBrief, args: argparse.Namespace) -> int:
    from bot.console import console_lines, run_console, terminal_lines

    ingestion = _ingestion(service, args)
    try:
        if sys.stdin.isatty():
            return run_console(
                service,
                terminal_lines(),
                sys.stdout,
                ansi=sys.stdout.isatty(),
                greeting=True,
                ingestion=ingestion,
            )
        return run_console(
            service, console_lines(sys.stdin.buffer), sys.stdout, ingestion=ingestion
        )
    finally:
        ingestion.fetcher.close()


class _ProgressBar:
    """A tqdm bar on stderr for a feed's entries, only when stderr is a terminal."""

    def __init__(self) -> None:
        self._bar: Any = None

    def start(self, total: int, label: str) -> None:
        if not sys.stderr.isatty() or total < 2:
            return
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=label[:40], unit="entry", file=sys.stderr)

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _ingest(service: TechBrief, args: argparse.Namespace) -> int:
    from bot.core import render

    target: str = args.target
    ingestion = _ingestion(service, args)
    try:
        if "://" in target:
            report = ingestion.add_url(
                target, feed=True if args.feed else None, progress=_ProgressBar()
            )
        else:
            path = Path(target)
            try:
                data = path.read_bytes()
            except OSError as exc:
                print(f"techbrief ingest: cannot read {target}: {exc.strerror}", file=sys.stderr)
                return 1
            report = ingestion.add_document(path.name, data, title=args.title)
    finally:
        ingestion.fetcher.close()
    print(render.ingest_report(report, render.console_markup(ansi=False)))
    return 0 if report.added or report.known or (report.existing and not report.error) else 1


def _remove_source(service: TechBrief, args: argparse.Namespace) -> int:
    from bot.core import texts

    source = service.remove_source(args.source_id)
    if source is None:
        print(texts.no_such_source(args.source_id))
        return 1
    print(texts.removed_source(source.id, source.title, source.articles, source.passages))
    return 0


def _refresh(service: TechBrief, args: argparse.Namespace) -> int:
    from bot.core import render

    ingestion = _ingestion(service, args)
    try:
        reports = ingestion.refresh(args.source_id, progress=_ProgressBar())
    finally:
        ingestion.fetcher.close()
    if isinstance(reports, str):
        print(reports)
        return 1
    for report in reports:
        print(render.ingest_report(report, render.console_markup(ansi=False)))
    return 0 if all(r.error is None for r in reports) else 1


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


def _sources(service: TechBrief, args: argparse.Namespace) -> int:
    from bot.core import render

    print(render.sources_list(service.sources(), render.console_markup(ansi=False)))
    return 0


def _stats(service: TechBrief, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from bot.core import render

    markup = render.console_markup(ansi=False)
    print(render.stats_report(service.stats_report(), markup))
    print(render.subscription_stats(service.digests.stats(datetime.now(UTC)), markup))
    return 0


def _digest(service: TechBrief, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from bot.core import render
    from bot.core.schedule import zone_label
    from bot.core.service import Refusal

    now = datetime.now(UTC)
    markup = render.console_markup(sys.stdout.isatty())
    if args.due:
        due = service.digests.due(now)
        if not due:
            print("No digest is due.")
        for d in due:
            s = d.subscription
            held = len(d.view.digest.articles)
            what = f"{held} article{'s' if held != 1 else ''}" if held else "nothing new"
            print(
                f"chat {s.chat_id} · {s.topic} · {s.local_time} {zone_label(s.timezone)}"
                f" · due for {d.local_date} · {what}"
            )
        return 0
    if not args.topic:
        print("techbrief digest: name a TOPIC, or --due", file=sys.stderr)
        return 2
    view = service.digests.preview_topic(
        " ".join(args.topic), now - timedelta(hours=args.hours), service.timezone
    )
    if isinstance(view, Refusal):
        print(view.message)
        return 1
    print(render.digest_card(view, markup))
    return 0


_SERVICE_COMMANDS: dict[str, Callable[[TechBrief, argparse.Namespace], int]] = {
    "chat": _chat,
    "run": _chat,
    "ask": _ask,
    "sources": _sources,
    "stats": _stats,
    "digest": _digest,
    "ingest": _ingest,
    "remove-source": _remove_source,
    "refresh": _refresh,
}
"""Commands that work on the stored corpus, by name (``run`` without a token is the chat)."""


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from storage.backup import backup_database
    from storage.errors import StorageError

    if not args.path.strip():  # Path("") is the current directory: never guess
        raise StorageError("the backup PATH is empty; give a file, or a directory ending in /")
    target = Path(args.path)
    if args.path.endswith("/") and settings.db_path.is_file():  # a directory, as with cp
        try:
            target.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot make the backup directory {target}: {exc}") from exc
    done = backup_database(settings.db_path, target, datetime.now(UTC))
    print(
        f"backup: {done.path} ({done.bytes / 1e6:.1f} MB), a consistent copy of {settings.db_path}"
    )
    print("The search index is not in the backup: techbrief rebuilds it from the database.")
    return 0


_OPERATOR_COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "backup": _backup,
}
"""Commands on the database file, not the corpus (the corpus is not opened for them)."""


def _doctor(args: argparse.Namespace, redactor: Redactor) -> int:
    from bot.doctor import run_doctor

    # The doctor reads the configuration itself: a bad variable is its first failed check.
    return run_doctor(lambda: _settings(args, redactor), quick=args.quick, out=sys.stdout)


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


def _eval_qa(args: argparse.Namespace) -> int:
    import time
    from datetime import UTC, datetime

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
        articles_dir=args.articles,
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
