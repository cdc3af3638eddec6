"""Several processes on one database: concurrent first starts, and the bot beside a command.

Real processes, real files. Eight first starts at once must create one
database with one seed source and no "database is locked". A long-running
process (as the bot is) must answer from an article another process added,
without a restart; two writers at once must leave an index in step with the
database, with no rebuild.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlite_utils

from bot.core.corpus import Corpus
from storage.db import MIGRATIONS
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = textwrap.dedent(
    """
    import json, sys
    from datetime import UTC, datetime
    from bot.core.corpus import Corpus
    from storage import sources
    from storage.articles import NewArticle
    now = datetime(2026, 11, 22, tzinfo=UTC)
    """
)

STORY = (
    "Xiaomi delivered its ten thousandth SU7 electric sedan from the Beijing factory, "
    "the company said on Tuesday, and raised its annual delivery target for the car."
)


def _environ() -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TECHBRIEF_", "TELEGRAM_"))}
    environ["PYTHONPATH"] = str(ROOT)
    return environ


def _python(code: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        cwd=ROOT,
        env=_environ(),
        text=True,
        **kwargs,
    )


def test_concurrent_first_starts_seed_once(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    environ = {**_environ(), "TECHBRIEF_DB": str(db)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "ask", "--json", "What did BYD unveil?"],
            cwd=tmp_path,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert "locked" not in err
        assert json.loads(out)["abstained"] is False
    with sqlite3.connect(db) as conn:
        kinds = [r[0] for r in conn.execute("SELECT kind FROM sources")]
        articles = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        applied = conn.execute("SELECT COUNT(*) FROM _sqlite_migrations").fetchone()[0]
    conn.close()
    assert kinds == ["seed"]
    assert articles == 2
    assert applied == len(MIGRATIONS.pending(sqlite_utils.Database(memory=True)))
    corpus = Corpus.open(db, NOW)
    try:
        assert corpus.reconcile() == (0, 0)
        assert len(corpus.index) == 25
    finally:
        corpus.close()


SERVER = """
corpus = Corpus.open(sys.argv[1], now)
print("ready", flush=True)
for line in sys.stdin:
    answer = corpus.answer(line.strip())
    hit = answer.hits[0].candidate.title if answer.hits else None
    print(json.dumps({"abstained": answer.abstained, "title": hit}), flush=True)
"""

ADD = """
corpus = Corpus.open(sys.argv[1], now)
with corpus.db.atomic():
    source = sources.add_source(corpus.db, kind="text", title=sys.argv[2], now=now)
corpus.add_article(source, NewArticle(title=sys.argv[2], body=sys.argv[3]), now)
corpus.close()
"""

REMOVE = """
corpus = Corpus.open(sys.argv[1], now)
for source in corpus.sources():
    if source.title == sys.argv[2]:
        corpus.remove_source(source.id)
corpus.close()
"""


def _run(code: str, *args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code), *args],
        cwd=ROOT,
        env=_environ(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_a_running_process_answers_from_an_article_another_process_added(tmp_path: Path) -> None:
    db = str(tmp_path / "t.db")
    server = _python(
        SERVER.replace("sys.argv[1]", repr(db)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert server.stdin is not None
    assert server.stdout is not None

    def ask(question: str) -> dict[str, object]:
        assert server.stdin is not None
        assert server.stdout is not None
        server.stdin.write(question + "\n")
        server.stdin.flush()
        answer: dict[str, object] = json.loads(server.stdout.readline())
        return answer

    try:
        assert server.stdout.readline().strip() == "ready"
        question = "How many SU7 sedans has Xiaomi delivered?"
        assert ask(question)["abstained"] is True
        _run(ADD, db, "Xiaomi SU7", STORY)  # another process, while this one runs
        answer = ask(question)
        assert answer == {"abstained": False, "title": "Xiaomi SU7"}
        _run(REMOVE, db, "Xiaomi SU7")
        assert ask(question)["abstained"] is True
        assert ask("What did BYD unveil?")["abstained"] is False
    finally:
        _, err = server.communicate(timeout=60)  # closes stdin: the server's loop ends
    assert server.returncode == 0, err
    corpus = Corpus.open(db, NOW)
    try:
        assert corpus.reconcile() == (0, 0)  # every process left the index in step
    finally:
        corpus.close()


WRITER = """
corpus = Corpus.open(sys.argv[1], now)
with corpus.db.atomic():
    source = sources.add_source(corpus.db, kind="text", title=sys.argv[2], now=now)
for i in range(int(sys.argv[3])):
    body = f"Writer {sys.argv[2]} filed report {i} about battery plant zz{sys.argv[2]}{i} in Hefei."
    corpus.add_article(source, NewArticle(title=f"{sys.argv[2]} {i}", body=body), now)
corpus.close()
"""


@pytest.mark.parametrize("writers", [2, 3])
def test_writers_in_several_processes_leave_the_index_in_step(tmp_path: Path, writers: int) -> None:
    db = str(tmp_path / "t.db")
    Corpus.open(db, NOW).close()
    started = time.monotonic()
    processes = [
        _python(
            WRITER.replace("sys.argv[1]", repr(db))
            .replace("sys.argv[2]", repr(f"w{n}"))
            .replace("sys.argv[3]", "12"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n in range(writers)
    ]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        assert "rebuilt" not in err, err
        assert "out of order" not in err, err
    assert time.monotonic() - started < 300
    corpus = Corpus.open(db, NOW)
    try:
        assert corpus.reconcile() == (0, 0)
        assert len(corpus.index) == 25 + 12 * writers
        for n in range(writers):
            for i in (0, 11):
                answer = corpus.answer(f"battery plant zzw{n}{i}")
                assert answer.hits[0].candidate.title == f"w{n} {i}"
    finally:
        corpus.close()


def test_a_running_process_s_digest_includes_an_article_another_process_added(
    tmp_path: Path,
) -> None:
    from zoneinfo import ZoneInfo

    from bot.core.digests import Digests, TopicChoice

    db = tmp_path / "t.db"
    serving = Corpus.open(db, NOW)
    try:
        digests = Digests(serving, ZoneInfo("UTC"))
        topic = digests.choose_topic("Xiaomi SU7 deliveries")
        assert isinstance(topic, TopicChoice)
        watermark = int(serving.index.keys().max())
        assert digests.compose(topic, watermark).empty
        _run(ADD, str(db), "Xiaomi SU7", STORY)  # another process, while this one runs
        digest = digests.compose(topic, watermark)
        assert [a.candidate.title for a in digest.articles] == ["Xiaomi SU7"]
        assert digest.upto > watermark
    finally:
        serving.close()
