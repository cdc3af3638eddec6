from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.corpus import Corpus
from retrieval.analyze import ANALYZER_VERSION
from retrieval.index import IndexUnwritable
from storage import articles
from storage.articles import NewArticle, NewPassage
from storage.errors import DuplicateArticle
from storage.sources import add_source
from tests.conftest import NOW

STORY = (
    "Xiaomi delivered its ten thousandth SU7 electric sedan from the Beijing factory, "
    "the company said on Tuesday, and raised its annual delivery target for the car. "
    "The smartphone maker entered the car market only last year and now competes with "
    "Tesla and BYD on price, software and charging speed."
)


def _source(corpus: Corpus, title: str = "pasted") -> int:
    with corpus.db.atomic():
        return add_source(corpus.db, kind="text", title=title, now=NOW)


def test_first_open_loads_the_seed_articles_once(tmp_path: Path) -> None:
    first = Corpus.open(tmp_path / "t.db", NOW)
    assert (first.stats().articles, first.stats().passages) == (2, 25)
    first.close()
    again = Corpus.open(tmp_path / "t.db", NOW)
    assert (again.stats().articles, again.stats().passages) == (2, 25)
    seed_source = again.sources()[0]
    assert seed_source.kind == "seed"
    again.remove_source(seed_source.id)
    again.close()
    # An operator who removed the seed articles does not get them back.
    third = Corpus.open(tmp_path / "t.db", NOW)
    assert third.stats().articles == 0
    assert third.answer("What did BYD unveil?").abstained
    third.close()


def test_an_added_article_is_searchable_at_once(corpus: Corpus) -> None:
    assert corpus.answer("How many SU7 sedans has Xiaomi delivered?").abstained
    added = corpus.add_article(
        _source(corpus), NewArticle(title="Xiaomi SU7", body=STORY, publisher="Reuters"), NOW
    )
    assert added.passages == 1
    answer = corpus.answer("How many SU7 sedans has Xiaomi delivered?")
    assert not answer.abstained
    assert answer.hits[0].candidate.title == "Xiaomi SU7"
    assert "ten thousandth SU7" in answer.hits[0].sentence.text


def test_the_same_article_is_never_stored_twice(corpus: Corpus) -> None:
    source = _source(corpus)
    corpus.add_article(source, NewArticle(title="a", body=STORY), NOW)
    before = corpus.stats()
    with pytest.raises(DuplicateArticle):
        corpus.add_article(source, NewArticle(title="b", body=STORY.upper()), NOW)
    assert corpus.stats() == before


def test_removing_a_source_takes_its_passages_out_of_answers(corpus: Corpus) -> None:
    source = _source(corpus)
    corpus.add_article(source, NewArticle(title="Xiaomi SU7", body=STORY), NOW)
    removed = corpus.remove_source(source)
    assert removed is not None
    assert removed.title == "pasted"
    assert corpus.answer("How many SU7 sedans has Xiaomi delivered?").abstained
    assert corpus.remove_source(source) is None


def test_the_same_story_from_two_outlets_is_one_hit(corpus: Corpus) -> None:
    rewritten = STORY.replace("said on Tuesday", "announced on Tuesday").replace(
        "now competes", "today competes"
    )
    corpus.add_article(_source(corpus, "a"), NewArticle("SU7 (Reuters)", STORY, "Reuters"), NOW)
    corpus.add_article(_source(corpus, "b"), NewArticle("SU7 (AP)", rewritten, "AP"), NOW)
    answer = corpus.answer("Xiaomi SU7 deliveries from the Beijing factory")
    titles = [h.candidate.title for h in answer.hits]
    assert titles.count("SU7 (Reuters)") + titles.count("SU7 (AP)") == 1
    assert titles[0] == "SU7 (Reuters)"  # the better-scored copy stays


def test_untitled_articles_get_a_title_from_their_first_sentence(corpus: Corpus) -> None:
    added = corpus.add_article(_source(corpus), NewArticle(title="  ", body=STORY), NOW)
    assert added.title.startswith("Xiaomi delivered its ten thousandth SU7")


def _index_manifest(tmp_path: Path) -> Path:
    return tmp_path / "t.db.index" / "manifest.json"


def test_an_unreadable_index_is_rebuilt_from_the_database(tmp_path: Path) -> None:
    Corpus.open(tmp_path / "t.db", NOW).close()
    _index_manifest(tmp_path).write_text("{not json")
    reopened = Corpus.open(tmp_path / "t.db", NOW)
    try:
        assert len(reopened.index) == 25
        assert not reopened.answer("What did BYD unveil?").abstained
    finally:
        reopened.close()
    assert json.loads(_index_manifest(tmp_path).read_text())["live_docs"] == 25


def test_an_index_from_another_analyzer_version_is_rebuilt(tmp_path: Path) -> None:
    Corpus.open(tmp_path / "t.db", NOW).close()
    manifest = json.loads(_index_manifest(tmp_path).read_text())
    manifest["meta"]["analyzer"] = "0-older"
    _index_manifest(tmp_path).write_text(json.dumps(manifest))
    reopened = Corpus.open(tmp_path / "t.db", NOW)
    try:
        assert reopened.index.meta["analyzer"] == ANALYZER_VERSION
        assert len(reopened.index) == 25
        assert not reopened.answer("What did BYD unveil?").abstained
    finally:
        reopened.close()


def test_passages_missing_below_the_index_s_largest_key_force_a_rebuild(tmp_path: Path) -> None:
    corpus = Corpus.open(tmp_path / "t.db", NOW)
    first_id = int(corpus.index.keys()[0])
    corpus.index.remove([first_id])  # the index lost an old passage the database still has
    corpus.close()
    reopened = Corpus.open(tmp_path / "t.db", NOW)
    try:
        assert first_id in reopened.index
        assert len(reopened.index) == 25
    finally:
        reopened.close()


def _block_index_writes(tmp_path: Path) -> Path:
    """Make the index folder refuse commits: its lock file becomes a folder."""
    lock = tmp_path / "t.db.index" / ".lock"
    lock.unlink(missing_ok=True)
    lock.mkdir()
    return lock


def test_an_article_stored_when_the_index_cannot_be_written_is_kept(tmp_path: Path) -> None:
    corpus = Corpus.open(tmp_path / "t.db", NOW)
    lock = _block_index_writes(tmp_path)
    with pytest.raises(IndexUnwritable, match=str(tmp_path / "t.db.index")):
        corpus.add_article(_source(corpus), NewArticle(title="Xiaomi SU7", body=STORY), NOW)
    # Stored, and this process answers from it already.
    assert corpus.stats().articles == 3
    assert not corpus.answer("How many SU7 sedans has Xiaomi delivered?").abstained
    corpus.close()
    lock.rmdir()
    reopened = Corpus.open(tmp_path / "t.db", NOW)
    try:
        assert reopened.reconcile() == (0, 0)
        assert len(reopened.index) == 26
        assert not reopened.answer("How many SU7 sedans has Xiaomi delivered?").abstained
    finally:
        reopened.close()


def test_a_running_corpus_that_cannot_write_the_index_reports_and_keeps_serving(
    tmp_path: Path,
) -> None:
    serving = Corpus.open(tmp_path / "t.db", NOW)
    problems: list[str] = []
    serving.on_problem = problems.append
    # Another process stored an article and died before indexing it.
    other = Corpus.open(tmp_path / "t.db", NOW)
    with other.db.atomic():
        source = add_source(other.db, kind="text", title="pasted", now=NOW)
    articles.add_article(
        other.db,
        source_id=source,
        article=NewArticle(title="Xiaomi SU7", body=STORY),
        passages=[NewPassage(STORY)],
        now=NOW,
    )
    other.close()
    _block_index_writes(tmp_path)
    try:
        answer = serving.answer("How many SU7 sedans has Xiaomi delivered?")
        assert answer.hits[0].candidate.title == "Xiaomi SU7"  # served from memory
        assert len(problems) == 1
        assert "cannot write the search index" in problems[0]
        assert not serving.answer("What did BYD unveil?").abstained
        assert len(problems) == 1  # told once, not on every question
    finally:
        serving.close()


def test_the_seed_is_loaded_in_the_transaction_that_creates_the_database(tmp_path: Path) -> None:
    # A first start that dies while seeding leaves no half-made database behind:
    # the next start seeds it whole.
    db = tmp_path / "t.db"
    code = (
        "import os, signal\n"
        "from datetime import UTC, datetime\n"
        "import storage.seed\n"
        "def dying(db, now):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "storage.seed.mark_seeded = dying\n"
        "from bot.core.corpus import Corpus\n"
        f"Corpus.open({str(db)!r}, datetime(2026, 1, 1, tzinfo=UTC))\n"
    )
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    corpus = Corpus.open(db, NOW)
    try:
        assert [s.kind for s in corpus.sources()] == ["seed"]
        assert corpus.stats().articles == 2
    finally:
        corpus.close()
