"""``techbrief backup PATH``: an online copy while another process writes, and restoring it."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.corpus import Corpus
from storage import articles
from storage.backup import backup_database
from storage.errors import StorageError
from tests.conftest import NOW
from tests.test_cli import ROOT, run

PASSAGES_PER_ARTICLE = 3

WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from bot.core.corpus import Corpus
    from storage import sources
    from storage.articles import NewArticle

    db, stop = Path(sys.argv[1]), Path(sys.argv[2])
    now = datetime(2026, 11, 22, tzinfo=UTC)
    corpus = Corpus.open(db, now)
    with corpus.db.atomic():
        source = sources.add_source(corpus.db, kind="text", title="writer", now=now)
    i = 0
    while not stop.exists():
        i += 1
        # Three paragraphs of over 25 words each: three passages, stored in one transaction.
        body = "\\n\\n".join(
            f"The Quarvex{i} battery plant in Hefei, part {part}, was described in a report "
            f"published on day {i}, which said that the plant would supply cells to several "
            f"carmakers and that its output would double within two years of its opening."
            for part in ("one", "two", "three")
        )
        corpus.add_article(source, NewArticle(title=f"Quarvex{i} plant", body=body), now)
        print(i, flush=True)
    corpus.close()
    """
)


def _eventually(probe: Callable[[], bool], within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not probe():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _articles_and_passages(path: Path) -> tuple[int, list[int]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        [integrity] = conn.execute("PRAGMA integrity_check").fetchone()
        assert integrity == "ok"
        counts = [
            n
            for (n,) in conn.execute(
                "SELECT COUNT(p.id) FROM articles a JOIN sources s ON s.id = a.source_id"
                " LEFT JOIN passages p ON p.article_id = a.id WHERE s.title = 'writer'"
                " GROUP BY a.id"
            )
        ]
        return len(counts), counts
    finally:
        conn.close()


def test_a_backup_taken_while_another_process_writes_restores_and_answers(
    tmp_path: Path,
) -> None:
    live = tmp_path / "live" / "techbrief.db"
    live.parent.mkdir()
    Corpus.open(live, NOW).close()
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(live), str(stop)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _eventually(lambda: _articles_and_passages(live)[0] >= 5)  # well under way
        before, _ = _articles_and_passages(live)
        copy = tmp_path / "backups" / "techbrief.db"
        copy.parent.mkdir()
        proc = run(tmp_path, "backup", str(copy), env={"TECHBRIEF_DB": str(live)})
        after, _ = _articles_and_passages(live)
        _eventually(lambda: _articles_and_passages(live)[0] > after)  # and goes on writing
    finally:
        stop.touch()
        _, errors = writer.communicate(timeout=60)
    assert writer.returncode == 0, errors
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"backup: {copy} ({copy.stat().st_size / 1e6:.1f} MB), a consistent copy of {live}",
        "The search index is not in the backup: techbrief rebuilds it from the database.",
    ]
    backed_up, per_article = _articles_and_passages(copy)
    # The writer wrote before, during and after the backup, which holds a state in between.
    assert 5 <= before <= backed_up <= after
    assert before < after
    # A consistent snapshot: no article without all of its passages.
    assert set(per_article) == {PASSAGES_PER_ARTICLE}
    assert not Path(f"{copy}.index").exists()
    assert not list(copy.parent.glob(".*.tmp"))

    # Restore, as the README says: stop, copy the file back, start. The index is rebuilt.
    restored = tmp_path / "restored" / "techbrief.db"
    restored.parent.mkdir()
    shutil.copyfile(copy, restored)
    corpus = Corpus.open(restored, datetime.now(UTC))
    try:
        assert len(corpus.index) == len(articles.passage_ids(corpus.db))
        answer = corpus.answer("Which battery plant is Quarvex3?")
        assert not answer.abstained
        assert answer.hits[0].candidate.title == "Quarvex3 plant"
        assert not corpus.answer("How many EV models did BYD unveil?").abstained  # the seed
    finally:
        corpus.close()


def test_a_directory_gets_a_timestamped_file(tmp_path: Path) -> None:
    live = tmp_path / "techbrief.db"
    Corpus.open(live, NOW).close()
    target = tmp_path / "backups"
    target.mkdir()
    done = backup_database(live, target, datetime(2026, 11, 22, 8, 30, 5, tzinfo=UTC))
    assert done.path == target / "techbrief-20261122T083005Z.db"
    assert _articles_and_passages(done.path) == (0, [])
    assert done.bytes == done.path.stat().st_size
    # A second backup under the same name replaces the first.
    again = backup_database(live, done.path, NOW)
    assert again.path == done.path


@pytest.mark.parametrize("target", ["itself", "wal", "missing-dir"])
def test_bad_targets_are_one_line(tmp_path: Path, target: str) -> None:
    live = tmp_path / "techbrief.db"
    Corpus.open(live, NOW).close()
    path = {
        "itself": live,
        "wal": Path(f"{live}-wal"),
        "missing-dir": tmp_path / "nowhere" / "copy.db",
    }[target]
    before = live.read_bytes()
    proc = run(tmp_path, "backup", str(path), env={"TECHBRIEF_DB": str(live)})
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
    assert live.read_bytes() == before


def test_no_database_is_one_line_and_none_is_created(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    proc = run(tmp_path, "backup", str(tmp_path / "copy.db"), env={"TECHBRIEF_DB": str(missing)})
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"techbrief: no database at {missing}"
    assert not missing.exists()
    assert not (tmp_path / "copy.db").exists()


def test_a_copy_that_fails_its_check_never_replaces_the_target(tmp_path: Path) -> None:
    live = tmp_path / "techbrief.db"
    Corpus.open(live, NOW).close()
    conn = sqlite3.connect(live)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    [root] = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'passages'").fetchone()
    conn.close()
    with live.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\0" * page_size)
    target = tmp_path / "copy.db"
    target.write_bytes(b"yesterday's backup")
    with pytest.raises(StorageError, match="the copy fails its check"):
        backup_database(live, target, NOW)
    assert target.read_bytes() == b"yesterday's backup"
    assert not list(tmp_path.glob(".*.tmp"))


def test_backup_waits_for_no_writer(tmp_path: Path) -> None:
    """A writer holding a write transaction open does not stop the backup (WAL)."""
    live = tmp_path / "techbrief.db"
    Corpus.open(live, NOW).close()
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO meta (key, value) VALUES ('uncommitted', 'x')")
    try:
        started = time.monotonic()
        done = backup_database(live, tmp_path / "copy.db", NOW)
        assert time.monotonic() - started < 5  # busy_timeout is 5 s: it never waited
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    conn = sqlite3.connect(done.path)
    assert conn.execute("SELECT COUNT(*) FROM meta WHERE key = 'uncommitted'").fetchone() == (0,)
    conn.close()


def test_a_path_ending_in_a_slash_is_a_directory_made_if_missing(tmp_path: Path) -> None:
    live = tmp_path / "techbrief.db"
    Corpus.open(live, NOW).close()
    target = tmp_path / "backups" / "daily"
    proc = run(tmp_path, "backup", f"{target}/", env={"TECHBRIEF_DB": str(live)})
    assert proc.returncode == 0, proc.stderr
    [copy] = target.iterdir()
    assert re.fullmatch(r"techbrief-\d{8}T\d{6}Z\.db", copy.name)
    assert f"backup: {copy} " in proc.stdout
