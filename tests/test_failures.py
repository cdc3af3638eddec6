"""Failure behaviour of the ``techbrief`` command: one line naming the cause, exit status 2.

Each case is a real process on real files: damaged or foreign databases, a
newer schema, index folders that are not techbrief's, a read-only index
folder, a full disk (``ulimit -f``), bad settings. Nothing techbrief did not
create is removed or changed, and no output holds a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.corpus import Corpus
from storage.articles import NewArticle
from storage.sources import add_source
from tests.conftest import NOW
from tests.test_cli import ROOT, run

COMMANDS = [["ask", "BYD robotaxi"], ["stats"], ["sources"], ["chat"]]
CHAT_INPUT = b"What did BYD unveil?\n"


def _one_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The one error line of a failed command (and that there is exactly one)."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("techbrief: ")
    assert "internal error" not in lines[0]  # a named cause, not the catch-all
    return lines[0]


def _run(tmp_path: Path, command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    stdin = CHAT_INPUT if command == ["chat"] else b""
    return run(tmp_path, *command, stdin=stdin, **kwargs)  # type: ignore[arg-type]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): _digest(p) for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def made(tmp_path: Path) -> Path:
    """A database and index made by a first run (``t.db`` and ``t.db.index``)."""
    proc = run(tmp_path, "stats")
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "t.db"


# -- 1. never delete what is not ours --------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_folder_techbrief_did_not_make_is_left_alone(tmp_path: Path, command: list[str]) -> None:
    folder = tmp_path / "t.db.index"
    (folder / "sub").mkdir(parents=True)
    (folder / "important.txt").write_text("precious")
    (folder / "sub" / "notes.md").write_text("also precious")
    before = _tree(folder)
    line = _one_line(_run(tmp_path, command))
    assert str(folder) in line
    assert _tree(folder) == before
    assert sorted(p.name for p in folder.iterdir()) == ["important.txt", "sub"]


def test_an_index_path_that_is_a_file_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "t.db.index").write_text("precious")
    line = _one_line(run(tmp_path, "ask", "BYD"))
    assert str(tmp_path / "t.db.index") in line
    assert (tmp_path / "t.db.index").read_text() == "precious"


def test_an_empty_folder_at_the_index_path_is_used(tmp_path: Path) -> None:
    (tmp_path / "t.db.index").mkdir()
    proc = run(tmp_path, "ask", "What did BYD unveil?")
    assert proc.returncode == 0, proc.stderr
    assert "BYD" in proc.stdout


def test_a_rebuild_removes_only_techbrief_s_own_files(made: Path) -> None:
    folder = made.with_name("t.db.index")
    (folder / "operator-notes.txt").write_text("keep me")
    (folder / "manifest.json").write_text("{broken")
    proc = run(made.parent, "ask", "What did BYD unveil?")
    assert proc.returncode == 0, proc.stderr
    assert (folder / "operator-notes.txt").read_text() == "keep me"
    assert json.loads((folder / "manifest.json").read_text())["live_docs"] == 25


# -- 4. one line, exit 2: the database -------------------------------------------------------


@pytest.mark.parametrize("pages", [(3, 18), (9, 19), (13, 19)], ids=lambda p: f"{p[0]}-{p[1]}")
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_random_bytes_over_database_pages_are_one_line(
    made: Path, command: list[str], pages: tuple[int, int]
) -> None:
    data = bytearray(made.read_bytes())
    page = 4096
    assert len(data) >= 19 * page, len(data)
    noise = random.Random(7)
    for number in range(pages[0], pages[1] + 1):  # pages are numbered from 1
        start = (number - 1) * page
        data[start : start + page] = noise.randbytes(page)
    made.write_bytes(bytes(data))
    line = _one_line(_run(made.parent, command))
    assert str(made) in line


def test_a_database_from_a_newer_techbrief_is_refused_untouched(made: Path) -> None:
    with sqlite3.connect(made) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('techbrief', '0099_from_the_future', '2030-01-01')"
        )
        conn.execute("ALTER TABLE passages RENAME COLUMN sentences TO sentence_spans")
    conn.close()
    before = _digest(made)
    for command in COMMANDS:
        line = _one_line(_run(made.parent, command))
        assert "newer techbrief" in line
        assert "0099_from_the_future" in line
    assert _digest(made) == before


def test_another_application_s_database_is_refused_before_any_change(tmp_path: Path) -> None:
    other = tmp_path / "notes.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('mine')")
    conn.close()
    before = _digest(other)
    line = _one_line(run(tmp_path, "sources", env={"TECHBRIEF_DB": str(other)}))
    assert str(other) in line
    assert "not a techbrief database" in line
    assert _digest(other) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite"]  # no -wal, no index
    with sqlite3.connect(other) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert names == {"notes"}


# -- 4. one line, exit 2: the index -------------------------------------------------------------


@pytest.mark.parametrize(
    "manifest",
    ["[1, 2]", "null", '"a string"', "42", "meta-list", "segments-dict"],
)
def test_a_manifest_of_the_wrong_shape_is_rebuilt_not_a_crash(made: Path, manifest: str) -> None:
    path = made.with_name("t.db.index") / "manifest.json"
    real = json.loads(path.read_text())
    if manifest == "meta-list":
        real["meta"] = []
        manifest = json.dumps(real)
    elif manifest == "segments-dict":
        real["segments"] = {"a": 1}
        manifest = json.dumps(real)
    path.write_text(manifest)
    for _ in range(2):  # rebuilt the first time, in order the second
        proc = run(made.parent, "ask", "What did BYD unveil?")
        assert proc.returncode == 0, proc.stderr
        assert "unveiled" in proc.stdout
        assert "Traceback" not in proc.stderr


def _read_only(folder: Path) -> list[str]:
    """A command prefix that runs the command with ``folder`` read-only.

    Root ignores file modes, so as root the folder is bind-mounted read-only in
    a private mount namespace; otherwise its mode is enough.
    """
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    if shutil.which("unshare") is None:
        pytest.skip("running as root without unshare: cannot make a folder read-only")
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount --bind -o ro '{folder}' '{folder}'"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot bind-mount read-only here: {probe.stderr.decode().strip()}")
    return [
        "unshare",
        "-m",
        "sh",
        "-c",
        f'mount --bind -o ro "{folder}" "{folder}" && exec "$@"',
        "-",
    ]


def _run_wrapped(
    cwd: Path, prefix: list[str], *args: str, env: dict[str, str] | None = None, **kw: object
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TECHBRIEF_", "TELEGRAM_"))}
    environ.update({"TECHBRIEF_DB": str(cwd / "t.db"), "PYTHONPATH": str(ROOT)})
    environ.update(env or {})
    return subprocess.run(
        [*prefix, sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ,
        timeout=120,
        check=False,
        **kw,  # type: ignore[call-overload]
    )


def test_a_read_only_index_folder_that_needs_a_repair_is_one_line(made: Path) -> None:
    folder = made.with_name("t.db.index")
    (folder / "manifest.json").write_text("{broken")
    prefix = _read_only(folder)
    try:
        line = _one_line(_run_wrapped(made.parent, prefix, "ask", "What did BYD unveil?"))
    finally:
        folder.chmod(0o755)
    assert str(folder) in line


def test_a_read_only_index_folder_in_order_still_answers(made: Path) -> None:
    folder = made.with_name("t.db.index")
    prefix = _read_only(folder)
    try:
        proc = _run_wrapped(made.parent, prefix, "ask", "What did BYD unveil?")
    finally:
        folder.chmod(0o755)
    assert proc.returncode == 0, proc.stderr
    assert "unveiled" in proc.stdout


def _small_files(blocks: int) -> None:
    # ulimit -f: a write past the limit fails with EFBIG (Python ignores SIGXFSZ).
    resource.setrlimit(resource.RLIMIT_FSIZE, (blocks * 512, blocks * 512))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_full_disk_on_first_start_is_one_line(tmp_path: Path, command: list[str]) -> None:
    # 40 KiB: the database cannot take the seed articles.
    stdin = CHAT_INPUT.decode() if command == ["chat"] else ""
    proc = _run_wrapped(tmp_path, [], *command, input=stdin, preexec_fn=lambda: _small_files(80))
    line = _one_line(proc)
    assert str(tmp_path / "t.db") in line
    assert "disk" in line.replace(str(tmp_path), "")
    again = _run(tmp_path, command)  # space again: the first start completes, seeded once
    assert again.returncode == 0, again.stderr
    assert run(tmp_path, "sources").stdout.count("Seed articles") == 1


def test_a_full_disk_during_an_index_rebuild_is_one_line_and_loses_nothing(made: Path) -> None:
    # An article of 6,000 distinct words: the rebuilt index's vocabulary alone is over
    # 40 KiB, the limit below (SQLite's shared-memory file needs 32 KiB).
    corpus = Corpus.open(made, NOW)
    with corpus.db.atomic():
        source = add_source(corpus.db, kind="text", title="wordy", now=NOW)
    words = [f"zq{i}x" for i in range(6000)]
    body = "\n\n".join(" ".join(words[i : i + 100]) + "." for i in range(0, 6000, 100))
    corpus.add_article(source, NewArticle(title="Wordy", body=body), NOW)
    corpus.close()
    folder = made.with_name("t.db.index")
    (folder / "manifest.json").write_text("{broken")
    stored = _digest(made)
    proc = _run_wrapped(
        made.parent, [], "ask", "What did BYD unveil?", preexec_fn=lambda: _small_files(80)
    )
    line = _one_line(proc)
    assert str(folder) in line
    assert _digest(made) == stored
    again = run(made.parent, "ask", "What did BYD unveil?")
    assert again.returncode == 0, again.stderr
    assert "unveiled" in again.stdout


# -- 4. one line, exit 2: settings ---------------------------------------------------------------


@pytest.mark.parametrize("command", [*COMMANDS, ["run"]], ids=lambda c: c[0])
def test_a_time_zone_that_is_a_folder_is_one_line(tmp_path: Path, command: list[str]) -> None:
    line = _one_line(_run(tmp_path, command, env={"TECHBRIEF_TZ": "Europe"}))
    assert "TECHBRIEF_TZ" in line


@pytest.mark.parametrize("admins", ["--5", "12,\u00b2", "\u0661\u0662\u0663"])
def test_admin_ids_that_int_would_take_or_choke_on_are_one_line(
    tmp_path: Path, admins: str
) -> None:
    # "--5" and "12,²" were ValueError tracebacks; Arabic-Indic digits were accepted as an id.
    line = _one_line(_run(tmp_path, ["ask", "BYD robotaxi"], env={"TECHBRIEF_ADMINS": admins}))
    assert "TECHBRIEF_ADMINS" in line


def test_db_option_naming_a_folder_says_what_the_variable_says(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    by_option = _one_line(run(tmp_path, "--db", str(folder), "stats"))
    by_variable = _one_line(run(tmp_path, "stats", env={"TECHBRIEF_DB": str(folder)}))
    assert "is a directory; give a file path" in by_option
    assert by_option.replace("--db", "TECHBRIEF_DB") == by_variable


def test_eval_on_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    root = tmp_path / "beir"
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").mkdir()  # a folder where a file should be
    (root / "queries.jsonl").write_text("")
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n")
    line = _one_line(run(tmp_path, "eval", str(root)))
    assert "corpus.jsonl" in line


def test_bench_with_a_full_disk_is_one_line(tmp_path: Path) -> None:
    proc = _run_wrapped(
        tmp_path,
        [],
        "bench",
        "--passages",
        "2000",
        "--engines",
        "techbrief",
        preexec_fn=lambda: _small_files(8),
    )
    # Progress lines come first on stderr (a long command says what it does); the
    # failure is the one last line, after the table of what did run.
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("techbrief: bench: techbrief at 2,000 passages: failed")
    assert "File too large" in last
