"""Load benchmark of the Telegram bot (not a test): answers per second and latency, end to end.

    python -m tests.e2e.loadbench [--passages 100000] [--users 1,10,50] [--seconds 20]
                                  [--db PATH] [--profile]

N simulated users each ask a question in their private chat, wait for the
answer card, and ask the next one (a closed loop), for ``--seconds`` per N.
The bot is the real Application (:func:`bot.telegram.app.build_application`, run by
:func:`bot.telegram.app.running`) in this process, polling the Bot API test server over
HTTP on 127.0.0.1; the server and the simulated users run in a child process,
so that they do not compete with the bot for this process's interpreter lock.
Latency is measured by the server: question injected -> answer card received.

The rate limiter has no ceiling here: Telegram's 30 messages/s is a limit of
Telegram's, and this measures what the bot itself can do (the goal is ten
times that ceiling, 300 answers/s). 429 retries stay on.

The corpus is synthetic and deterministic: articles whose paragraphs mix
sentences of the two seed articles with sentences of a Zipf-distributed
made-up vocabulary (fixed seed, no downloads), stored through the normal
:class:`~bot.core.corpus.Corpus` API into ``--db`` (built once, reused after).
Questions: the question set of ``tests/qa/questions.jsonl`` and made-up questions
of 3-5 words of the synthetic vocabulary.

``--profile`` also reports where the time goes: the corpus thread (service:
search, SQLite, answer composition) and the event loop (handlers, rendering,
python-telegram-bot, HTTP), each profiled with cProfile during the largest N.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import multiprocessing
import os
import platform
import pstats
import random
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import platformdirs
from telegram.ext import AIORateLimiter

from bot.config import Settings
from bot.core.corpus import Corpus
from bot.core.service import Refusal, TechBrief
from bot.telegram.app import build_application, running
from retrieval.answer import Answer
from retrieval.evaluate_qa import read_questions
from retrieval.passages import split_sentences
from retrieval.synthetic import Zipf, pronounceable_words
from storage import seed, sources
from storage.articles import NewArticle
from tests.e2e.botapi import TEST_TOKEN, BotApiServer

QUESTIONS = Path(__file__).resolve().parents[1] / "qa" / "questions.jsonl"

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SEED = 20261122
PASSAGES_PER_ARTICLE = 10
VOCABULARY = 30_000


# -- the corpus --------------------------------------------------------------------------


class Synthetic:
    """Deterministic made-up text: a Zipf vocabulary and the seed articles' sentences."""

    def __init__(self, seed_value: int = SEED) -> None:
        self.rng = random.Random(seed_value)
        self.words = pronounceable_words(VOCABULARY, seed_value)
        self.zipf = Zipf(self.words, seed=seed_value)
        self.draws = np.random.default_rng(seed_value)
        self.seed_sentences = [
            s.text
            for item in seed.read_seed_articles()
            for s in split_sentences(item.article.body.replace("\n", " "))
            if len(s.text.split()) >= 6
        ]

    def _words(self, n: int) -> list[str]:
        return self.zipf.sample(self.draws, n)

    def sentence(self) -> str:
        if self.rng.random() < 0.25:
            return self.rng.choice(self.seed_sentences)
        words = self._words(self.rng.randint(10, 18))
        return " ".join(words).capitalize() + "."

    def article(self, number: int) -> NewArticle:
        paragraphs = [
            " ".join(self.sentence() for _ in range(3)) for _ in range(PASSAGES_PER_ARTICLE)
        ]
        return NewArticle(
            title=" ".join(self._words(5)).title() + f" ({number})",
            body="\n\n".join(paragraphs),
            publisher=self.rng.choice(["CNBC", "Caixin", "SCMP", "Reuters", "Nikkei Asia"]),
            published=f"2025-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}",
            url=f"https://news.example.com/a/{number}",
        )

    def question(self) -> str:
        """A made-up question of 3-5 words from the middle of the vocabulary."""
        picks = [self.words[self.rng.randint(100, 10_000)] for _ in range(self.rng.randint(3, 5))]
        return "What about " + " ".join(picks) + "?"


def build_corpus(path: Path, passages: int) -> None:
    """Store about ``passages`` synthetic passages (plus the seed) through the Corpus API."""
    done = path.with_name(path.name + ".complete")
    if done.exists():
        return
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    index = path.with_name(path.name + ".index")
    if index.exists():
        shutil.rmtree(index)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = Synthetic()
    corpus = Corpus.open(path, NOW, index_path=index)
    started = time.perf_counter()
    try:
        with corpus.db.atomic():
            source = sources.add_source(corpus.db, kind="feed", title="Synthetic news", now=NOW)
        articles = (passages + PASSAGES_PER_ARTICLE - 1) // PASSAGES_PER_ARTICLE
        for number in range(articles):
            corpus.add_article(source, text.article(number), NOW)
            if number and number % 500 == 0:
                rate = number / (time.perf_counter() - started)
                print(f"  {number * PASSAGES_PER_ARTICLE:,} passages ({rate:.0f} articles/s)")
        stats = corpus.stats()
    finally:
        corpus.close()
    done.write_text(f"{stats.passages}\n")
    print(f"built {stats.passages:,} passages in {time.perf_counter() - started:.0f} s: {path}")


def questions(stored: int = 250, made_up: int = 100) -> list[str]:
    """The questions of tests/qa/questions.jsonl, questions on words of stored passages
    (answerable: regenerated from the corpus seed), and made-up ones (mostly not)."""
    rng = random.Random(SEED)
    corpus_text = Synthetic()  # the same sequence build_corpus stored
    on_stored = []
    for number in range(stored):
        paragraph = rng.choice(corpus_text.article(number).body.split("\n\n"))
        words = [w.strip(".,;:'\"") for w in paragraph.split()]
        start = rng.randrange(max(1, len(words) - 4))
        on_stored.append("What about " + " ".join(words[start : start + rng.randint(3, 4)]) + "?")
    other = Synthetic(SEED + 1)
    mixed = (
        [q.question for q in read_questions(QUESTIONS)]
        + on_stored
        + [other.question() for _ in range(made_up)]
    )
    rng.shuffle(mixed)
    return mixed


# -- the load (child process: server and users) ------------------------------------------


@dataclass(frozen=True)
class Phase:
    users: int
    answers: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    server_cpu_s: float  # CPU time of the server and the simulated users (their process)
    loop_cpu_s: float = 0.0  # CPU time of the bot's event loop thread
    corpus_cpu_s: float = 0.0  # CPU time of the bot's corpus thread


def _user(
    api: BotApiServer,
    user_id: int,
    asks: list[str],
    stop_at: float,
    latencies: list[float],
) -> None:
    """One reader: ask, wait for the card, ask again, until ``stop_at``."""
    rng = random.Random(user_id)
    while time.monotonic() < stop_at:
        known = len(api.sent(user_id))
        started = time.monotonic()
        api.private_message(user_id, rng.choice(asks))
        with api.lock:
            while len(api.sent(user_id)) <= known:
                if not api.lock.wait(timeout=30):
                    raise RuntimeError(f"user {user_id}: no answer within 30 s")
        latencies.append(time.monotonic() - started)


def _run_phase(api: BotApiServer, users: int, seconds: float, asks: list[str]) -> Phase:
    latencies: list[float] = []
    first = 1_000_000 * users
    cpu = time.process_time()
    started = time.monotonic()
    stop_at = started + seconds
    threads = [
        threading.Thread(target=_user, args=(api, first + n, asks, stop_at, latencies))
        for n in range(users)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    cpu = time.process_time() - cpu
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return Phase(users, len(ordered), elapsed, pct(0.50), pct(0.95), pct(0.99), cpu)


def _load_process(conn: Connection, users: list[int], seconds: float, asks: list[str]) -> None:
    with BotApiServer() as api:
        conn.send(api.base_url)
        if conn.recv() != "go":
            return
        # Warm-up: caches, connections, the first compositions.
        _run_phase(api, min(users), 2.0, asks)
        for n in users:
            conn.send(("phase", n))
            if conn.recv() != "go":
                return
            conn.send(_run_phase(api, n, seconds, asks))
        conn.recv()  # the bot has stopped


# -- the bot (this process) ----------------------------------------------------------------


class _Profiles:
    """cProfile of the event loop thread and of the corpus thread."""

    def __init__(self) -> None:
        self.loop = cProfile.Profile()
        self.corpus = cProfile.Profile()

    async def start(self, executor: Any) -> None:
        await asyncio.get_running_loop().run_in_executor(executor, self.corpus.enable)
        self.loop.enable()

    async def stop(self, executor: Any) -> None:
        self.loop.disable()
        await asyncio.get_running_loop().run_in_executor(executor, self.corpus.disable)


class _Canned(TechBrief):
    """The service answering every question with one precomputed answer: transport cost only."""

    def __init__(self, service: TechBrief) -> None:
        super().__init__(service.corpus)
        self.canned = service.ask("Which robotaxi firms filed for Hong Kong IPOs?")

    def ask(self, raw_question: str, k: int = 10) -> Answer | Refusal:
        return self.canned


async def _bot(
    db: Path, users: list[int], seconds: float, profile: bool, transport_only: bool
) -> list[Phase]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_load_process, args=(child, users, seconds, questions()), daemon=True
    )
    process.start()
    loop = asyncio.get_running_loop()
    base_url = await loop.run_in_executor(None, parent.recv)
    settings = Settings(
        token=TEST_TOKEN,
        api_url=base_url,
        admins=frozenset(),
        db_path=db,
        timezone=ZoneInfo("UTC"),
        allow_private_urls=False,
    )
    unlimited = AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=3)
    application = build_application(settings, rate_limiter=unlimited)
    phases: list[Phase] = []
    profiles = _Profiles()
    async with running(application):
        if transport_only:
            runtime = application.runtime
            runtime.opened = await runtime.run(_Canned, runtime.service)
        parent.send("go")
        for n in users:
            await loop.run_in_executor(None, parent.recv)
            profiling = profile and n == max(users)
            if profiling:
                await profiles.start(application.runtime.executor)
            executor = application.runtime.executor
            loop_cpu = time.thread_time()
            corpus_cpu = await loop.run_in_executor(executor, time.thread_time)
            parent.send("go")
            phase = await loop.run_in_executor(None, parent.recv)
            loop_cpu = time.thread_time() - loop_cpu
            corpus_cpu = await loop.run_in_executor(executor, time.thread_time) - corpus_cpu
            phases.append(replace(phase, loop_cpu_s=loop_cpu, corpus_cpu_s=corpus_cpu))
            if profiling:
                await profiles.stop(application.runtime.executor)
    parent.send("done")
    process.join(timeout=30)
    if profile:
        _report_profiles(profiles, phases[-1])
    return phases


def _service_alone(db: Path, asks: list[str], seconds: float = 10.0) -> float:
    """Answers per second of the service by itself, on one thread (the corpus thread's bound)."""
    corpus = Corpus.open(db, NOW, index_path=db.with_name(db.name + ".index"))
    service = TechBrief(corpus)
    try:
        for question in asks[:50]:
            service.ask(question)
        done = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            service.ask(asks[done % len(asks)])
            done += 1
        return done / (time.perf_counter() - started)
    finally:
        corpus.close()


def _report_profiles(profiles: _Profiles, phase: Phase) -> None:
    for name, profile in (("corpus thread", profiles.corpus), ("event loop", profiles.loop)):
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        total = sum(t for (_, _, t, _, _) in stats.stats.values())  # type: ignore[attr-defined]
        print(f"\n== {name}: {total:.1f} s of CPU in the profile, {phase.answers} answers ==")
        stats.sort_stats(os.environ.get("LOADBENCH_SORT", "cumulative")).print_stats(25)
        print("\n".join(out.getvalue().splitlines()[:60]))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.loadbench", description=__doc__)
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--users", default="1,10,50", help="concurrent users per phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--db", type=Path, help="corpus database (built if missing)")
    parser.add_argument("--profile", action="store_true", help="profile the largest phase")
    parser.add_argument(
        "--transport-only",
        action="store_true",
        help="answer every question with one precomputed answer (measures all but the search)",
    )
    args = parser.parse_args(argv)
    users = [int(u) for u in args.users.split(",")]
    db = args.db or Path(platformdirs.user_cache_dir("techbrief")) / (
        f"loadbench-{args.passages}.db"
    )
    build_corpus(db, args.passages)
    asks = questions()
    service_rate = _service_alone(db, asks)
    phases = asyncio.run(_bot(db, users, args.seconds, args.profile, args.transport_only))
    print(f"\nmachine: {machine()}")
    print(f"corpus: {db} ({(db.with_name(db.name + '.complete')).read_text().strip()} passages)")
    print(f"service alone, one thread: {service_rate:.0f} answers/s")
    if args.transport_only:
        print("transport only: every question gets one precomputed answer card")
    print(
        "\nCPU per answer: the bot's event loop thread (handlers, rendering, python-telegram-bot,"
        "\nhttpx), its corpus thread (search, SQLite, answer composition), and the test server"
        "\nwith the simulated users (another process)."
    )
    print(
        "\n| users | answers | answers/s | p50 ms | p95 ms | p99 ms "
        "| loop CPU ms | corpus CPU ms | server CPU ms |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for p in phases:
        per = 1000 / p.answers
        print(
            f"| {p.users} | {p.answers:,} | {p.answers / p.seconds:.0f} | {p.p50_ms:.1f} "
            f"| {p.p95_ms:.1f} | {p.p99_ms:.1f} | {p.loop_cpu_s * per:.2f} "
            f"| {p.corpus_cpu_s * per:.2f} | {p.server_cpu_s * per:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
