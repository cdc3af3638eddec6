"""The index stays consistent with the database when the process dies between the writes.

A child process performs the database write of an operation and is killed
(SIGKILL) before the index write; the next open must repair the index.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from bot.core.corpus import Corpus
from storage import articles
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[1]

STORY = (
    "Xiaomi delivered its ten thousandth SU7 electric sedan from the Beijing factory, "
    "the company said on Tuesday, and raised its annual delivery target for the car. "
    "The smartphone maker entered the car market only last year."
)


def run_and_kill(script: str, db: Path) -> None:
    """Run ``script`` in a child with ``corpus`` opened on ``db``; it must die by SIGKILL."""
    code = (
        textwrap.dedent(
            f"""
        import os, signal
        from datetime import UTC, datetime
        from bot.core.corpus import Corpus
        from storage import articles, sources
        from storage.articles import NewArticle, NewPassage
        from retrieval.passages import split_passages
        now = datetime(2026, 11, 22, tzinfo=UTC)
        corpus = Corpus.open({str(db)!r}, now)
        """
        )
        + textwrap.dedent(script)
        + "\nos.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()


def assert_in_step(corpus: Corpus) -> None:
    ids = np.asarray(articles.passage_ids(corpus.db), dtype=np.int64)
    assert np.array_equal(corpus.index.keys(), ids)


def test_killed_after_storing_before_indexing(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    run_and_kill(
        f"""
        with corpus.db.atomic():
            source = sources.add_source(corpus.db, kind="text", title="t", now=now)
        body = {STORY!r}
        articles.add_article(
            corpus.db, source_id=source, now=now,
            article=NewArticle(title="Xiaomi SU7", body=body),
            passages=[NewPassage(p.text, p.heading) for p in split_passages(body)],
        )
        """,
        db,
    )
    corpus = Corpus.open(db, NOW)
    assert_in_step(corpus)
    answer = corpus.answer("How many SU7 sedans has Xiaomi delivered?")
    assert not answer.abstained
    assert answer.hits[0].candidate.title == "Xiaomi SU7"
    corpus.close()


def test_killed_after_deleting_before_unindexing(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    first = Corpus.open(db, NOW)
    assert not first.answer("How many EV models did BYD unveil?").abstained
    first.close()
    run_and_kill("sources.delete_source(corpus.db, corpus.sources()[0].id)", db)
    corpus = Corpus.open(db, NOW)
    assert_in_step(corpus)
    assert len(corpus.index) == 0
    assert corpus.answer("How many EV models did BYD unveil?").abstained
    corpus.close()


def test_killed_in_the_middle_of_an_index_commit(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    # Die when the index is about to switch its manifest: segment files and the
    # vocabulary append are written, the commit point is not.
    run_and_kill(
        f"""
        real_replace = os.replace
        def dying_replace(src, dst):
            if str(dst).endswith("manifest.json"):
                os.kill(os.getpid(), signal.SIGKILL)
            return real_replace(src, dst)
        os.replace = dying_replace
        with corpus.db.atomic():
            source = sources.add_source(corpus.db, kind="text", title="t", now=now)
        corpus.add_article(source, NewArticle(title="Xiaomi SU7", body={STORY!r}), now)
        """,
        db,
    )
    corpus = Corpus.open(db, NOW)
    assert_in_step(corpus)
    assert not corpus.answer("Xiaomi SU7 deliveries").abstained
    corpus.close()


def test_unreadable_or_stale_index_is_rebuilt(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    Corpus.open(db, NOW).close()
    (tmp_path / "t.db.index" / "manifest.json").write_text("{not json")
    corpus = Corpus.open(db, NOW)
    assert_in_step(corpus)
    assert not corpus.answer("How many EV models did BYD unveil?").abstained
    corpus.index.meta["analyzer"] = "an older analyzer"
    corpus.index.compact()  # persists the changed meta
    corpus.close()
    rebuilt = Corpus.open(db, NOW)
    assert rebuilt.index.meta["analyzer"] != "an older analyzer"
    assert_in_step(rebuilt)
    rebuilt.close()


def test_a_clean_reopen_reuses_the_index(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    Corpus.open(db, NOW).close()
    corpus = Corpus.open(db, NOW)
    assert corpus.reconcile() == (0, 0)
    assert isinstance(corpus.index._segments[0].docs, np.memmap)
    corpus.close()
