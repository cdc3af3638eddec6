"""``techbrief doctor`` on real database files: healthy, damaged, out of step, outdated.

The Telegram checks (getMe, getWebhookInfo) are in tests/e2e/test_doctor.py.
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.core.corpus import Corpus
from bot.doctor import index_settle_policy, run_doctor
from retrieval.passages import split_passages
from storage import articles, sources
from storage.articles import NewArticle, NewPassage
from tests.conftest import NOW
from tests.test_cli import run

STORY = (
    "Xiaomi delivered its ten thousandth SU7 electric sedan from the Beijing factory, "
    "the company said on Tuesday, and raised its annual delivery target for the car."
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "t.db"
    Corpus.open(path, NOW).close()
    return path


def _lines(stdout: str) -> dict[str, str]:
    """check name -> its status word, from the doctor's one line per check."""
    found = {}
    for line in stdout.splitlines()[:-1]:
        status, name, *_ = line.split()
        found[name] = status
    return found


def _fingerprint(path: Path) -> dict[str, str]:
    """Every file of the database and its index, with a hash of its content."""
    files = [path, *sorted(Path(f"{path}.index").rglob("*"))]
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.is_file()}


def _doctor(settings: Settings, sleeps: list[float] | None = None) -> tuple[int, str]:
    out = io.StringIO()
    settle = index_settle_policy(sleep=(sleeps if sleeps is not None else []).append)
    status = run_doctor(lambda: settings, quick=False, out=out, settle=settle)
    return status, out.getvalue()


def _settings(db: Path) -> Settings:
    return load_settings({"TECHBRIEF_DB": str(db)}, None)


def test_a_healthy_database_passes_every_check(db: Path, tmp_path: Path) -> None:
    before = _fingerprint(db)
    proc = run(tmp_path, "doctor", env={"TECHBRIEF_DB": str(db)})
    assert proc.returncode == 0, proc.stdout
    checks = _lines(proc.stdout)
    assert checks == {
        "configuration": "ok",
        "database": "ok",
        "migrations": "ok",
        "integrity": "ok",
        "index": "ok",
        "token": "skip",
        "webhook": "skip",
    }
    assert "integrity_check: ok" in proc.stdout
    assert "25 passages, in step with the database" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "doctor: no problem found (5 checks passed)"
    assert _fingerprint(db) == before  # read-only


def test_quick_mode_runs_quick_check(db: Path, tmp_path: Path) -> None:
    proc = run(tmp_path, "doctor", "--quick", env={"TECHBRIEF_DB": str(db)})
    assert proc.returncode == 0
    assert "quick_check: ok" in proc.stdout


def _damage_a_page(db: Path, table: str, whole: bool) -> None:
    """Zero a table's root page, as a bad sector would (``whole``), or garble its last bytes."""
    conn = sqlite3.connect(db)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    [root] = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?", [table]).fetchone()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with db.open("r+b") as file:
        if whole:
            file.seek((root - 1) * page_size)
            file.write(b"\0" * page_size)
        else:
            file.seek(root * page_size - 40)
            file.write(b"\x07" * 40)


@pytest.mark.parametrize("quick", [False, True])
@pytest.mark.parametrize(
    ("table", "whole", "says"),
    [
        ("passages", True, "database disk image is malformed"),
        ("articles_source_id", False, "cell 0: Extends off end of page"),
    ],
    ids=["zeroed-table-root", "garbled-index-cell"],
)
def test_a_damaged_page_fails_the_integrity_check_by_name(
    db: Path, tmp_path: Path, quick: bool, table: str, whole: bool, says: str
) -> None:
    _damage_a_page(db, table, whole)
    before = _fingerprint(db)
    args = ["doctor", "--quick"] if quick else ["doctor"]
    proc = run(tmp_path, *args, env={"TECHBRIEF_DB": str(db)})
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    checks = _lines(proc.stdout)
    assert checks["integrity"] == "FAIL"
    assert checks["index"] == "skip"
    [integrity] = [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]
    assert ("quick_check" if quick else "integrity_check") in integrity
    assert says in integrity
    assert proc.stdout.splitlines()[-1] == "doctor: 1 of 7 checks failed: integrity"
    assert _fingerprint(db) == before


def test_a_missing_index_is_reported_then_rebuilt_on_the_next_open(
    db: Path, tmp_path: Path
) -> None:
    index = Path(f"{db}.index")
    for file in sorted(index.rglob("*"), reverse=True):
        file.unlink() if file.is_file() else file.rmdir()
    index.rmdir()
    proc = run(tmp_path, "doctor", env={"TECHBRIEF_DB": str(db)})
    assert proc.returncode == 1
    assert _lines(proc.stdout)["index"] == "FAIL"
    assert "missing" in proc.stdout
    assert "rebuilds it from the database when it starts" in proc.stdout
    assert not index.exists()  # reported, not repaired
    # The bot's start opens the corpus the same way (tests/e2e/test_doctor.py starts the bot).
    Corpus.open(db, NOW).close()
    assert run(tmp_path, "doctor", env={"TECHBRIEF_DB": str(db)}).returncode == 0


def _store_without_indexing(db: Path) -> None:
    """The database write of an add, without its index write (a crash between the two)."""
    corpus = Corpus.open(db, NOW)
    with corpus.db.atomic():
        source = sources.add_source(corpus.db, kind="text", title="t", now=NOW)
    articles.add_article(
        corpus.db,
        source_id=source,
        now=NOW,
        article=NewArticle(title="Xiaomi SU7", body=STORY),
        passages=[NewPassage(p.text, p.heading) for p in split_passages(STORY)],
    )
    corpus.close()


def test_an_index_out_of_step_fails_after_looking_again(db: Path) -> None:
    _store_without_indexing(db)
    sleeps: list[float] = []
    status, out = _doctor(_settings(db), sleeps)
    assert status == 1
    assert "FAIL  index" in out
    assert "1 passages not indexed, 0 indexed but deleted" in out
    assert sleeps == [0.5, 0.5, 0.5]  # four looks: a write in progress would have settled


def test_a_write_in_progress_settles_and_passes(db: Path) -> None:
    _store_without_indexing(db)
    sleeps: list[float] = []

    def bot_finishes_its_index_write(seconds: float) -> None:
        sleeps.append(seconds)
        Corpus.open(db, NOW).close()  # reconciles, as the writer's index commit would

    settle = index_settle_policy(sleep=bot_finishes_its_index_write)
    out = io.StringIO()
    assert run_doctor(lambda: _settings(db), quick=True, out=out, settle=settle) == 0
    assert sleeps == [0.5]
    assert "ok    index" in out.getvalue()


def test_the_doctor_sweeps_nothing_from_the_index(db: Path) -> None:
    # A file of an older generation, which an index opened for writing would delete.
    stale = Path(f"{db}.index") / "df-0.npy"
    stale.write_bytes(b"older generation")
    before = _fingerprint(db)
    assert _doctor(_settings(db))[0] == 0
    assert stale.exists()
    assert _fingerprint(db) == before


def test_pending_migrations_warn_and_unknown_ones_fail(db: Path) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0002_passage_sentences'")
    conn.close()
    status, out = _doctor(_settings(db))
    assert status == 0
    assert "warn  migrations     1 pending (0002_passage_sentences)" in out
    assert out.splitlines()[-1].endswith("warnings: migrations)")
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('techbrief', '0099_from_the_future', '2030-01-01')"
        )
    conn.close()
    status, out = _doctor(_settings(db))
    assert status == 1
    assert "FAIL  migrations     applied by a newer techbrief: 0099_from_the_future" in out


def test_no_database_yet_is_a_warning_and_none_is_created(tmp_path: Path) -> None:
    missing = tmp_path / "new" / "t.db"
    status, out = _doctor(_settings(missing))
    assert status == 0
    assert "warn  database       none yet at" in out
    assert not missing.exists()
    assert not missing.parent.exists()


def test_a_file_that_is_no_database_fails(tmp_path: Path) -> None:
    junk = tmp_path / "t.db"
    junk.write_bytes(b"garbage" * 1000)
    status, out = _doctor(_settings(junk))
    assert status == 1
    assert "FAIL  database" in out
    assert "not a database" in out


def test_bad_configuration_is_the_first_failed_check(tmp_path: Path) -> None:
    proc = run(tmp_path, "doctor", env={"TECHBRIEF_TZ": "Mars/Olympus"})
    assert proc.returncode == 1
    first, summary = proc.stdout.splitlines()
    assert first.startswith("FAIL  configuration  TECHBRIEF_TZ: unknown time zone")
    assert summary == "doctor: 1 of 1 checks failed: configuration"
    assert proc.stderr == ""


def test_the_readme_example_is_what_the_doctor_prints(db: Path, tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    example = readme.split("$ techbrief doctor\n", 1)[1].split("```", 1)[0].splitlines()
    proc = run(tmp_path, "doctor", env={"TECHBRIEF_DB": str(db)})
    printed = proc.stdout.splitlines()
    # Same checks in the same order; the lines that do not depend on the machine agree.
    assert [line.split()[1] for line in example[:-1]] == [line.split()[1] for line in printed[:-1]]
    for name in ("migrations", "integrity", "index"):
        [shown] = [line for line in example if line.split()[1] == name]
        assert shown in printed, f"README shows {shown!r}; the doctor prints {printed}"
