"""The ``techbrief`` command as a user runs it: a real process, a real database file."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]


def run(
    tmp_path: Path, *args: str | bytes, stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m bot ARGS`` in ``tmp_path`` with a fresh database and no stray config."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TECHBRIEF_", "TELEGRAM_"))}
    environ.update({"TECHBRIEF_DB": str(tmp_path / "t.db"), "PYTHONPATH": str(ROOT)})
    environ.update(env or {})
    proc = subprocess.run(
        # bytes, so that a test can pass argv that is not valid UTF-8
        [os.fsencode(sys.executable), b"-m", b"bot", *map(os.fsencode, args)],
        input=stdin,
        capture_output=True,
        cwd=tmp_path,
        env=environ,
        timeout=120,
        check=False,
    )
    return subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def test_ask_json_has_the_fixed_keys(tmp_path: Path) -> None:
    proc = run(
        tmp_path, "ask", "--json", "-k", "3", "Which robotaxi firms filed for Hong Kong IPOs?"
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["question"] == "Which robotaxi firms filed for Hong Kong IPOs?"
    assert out["abstained"] is False
    assert "Pony.ai and WeRide" in out["sentence"]
    assert 1 <= len(out["hits"]) <= 3
    hit = out["hits"][0]
    assert {"passage_id", "text", "score", "title", "publisher", "url", "published"} <= set(hit)
    assert hit["publisher"] == "WebProNews"
    assert out["sentence"] in hit["text"]
    assert [h["score"] for h in out["hits"]] == sorted(
        (h["score"] for h in out["hits"]), reverse=True
    )


def test_ask_json_abstains_with_null_sentence(tmp_path: Path) -> None:
    proc = run(tmp_path, "ask", "--json", "What is Tesla's market share in China?")
    out = json.loads(proc.stdout)
    assert out["abstained"] is True
    assert out["sentence"] is None
    # The closest candidate (the refusal quotes it) comes first among the weak ones.
    assert out["hits"]
    assert "yuan" in out["hits"][0]["text"]


def test_ask_prints_a_card(tmp_path: Path) -> None:
    proc = run(tmp_path, "ask", "How much does Baidu save with digital avatars?")
    assert proc.returncode == 0
    assert "80%" in proc.stdout
    assert "CNBC" in proc.stdout


@pytest.mark.parametrize(
    "question",
    ["", "   ", "x" * 10_000, "the of and what", "?!... 😀🚗", "<b></b>", b"\xff\xfe\xc3("],
    ids=["empty", "blank", "10k", "stopwords", "punct-emoji", "markup", "bad-utf8"],
)
def test_ask_bad_input_gets_one_short_line(tmp_path: Path, question: str | bytes) -> None:
    proc = run(tmp_path, "ask", question)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert len(proc.stdout.strip().splitlines()) == 1
    assert len(proc.stdout) < 300


def test_chat_over_a_pipe_with_invalid_utf8(tmp_path: Path) -> None:
    stdin = (
        b"How many EV models did BYD unveil?\n"
        b"\xff\xfe\x00 garbage \xc3\x28\n"
        b"<script>alert(1)</script>\n" + b"robotaxi " * 1500 + b"\n"
        b"more\n"
        b"/help\n"
    )
    proc = run(tmp_path, "chat", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    assert "**unveiled** five new **EV**" in proc.stdout
    assert "characters long" in proc.stdout
    assert "Commands" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_plain_techbrief_without_token_is_the_console_chat(tmp_path: Path) -> None:
    proc = run(tmp_path, stdin=b"Who approved the Pony.ai and WeRide IPO filings?\n")
    assert proc.returncode == 0, proc.stderr
    assert "China Securities Regulatory Commission" in proc.stdout


def test_sources_lists_the_seed(tmp_path: Path) -> None:
    proc = run(tmp_path, "sources")
    assert "#1 Seed articles shipped with techbrief" in proc.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TECHBRIEF_TZ", "Mars/Olympus"),
        ("TECHBRIEF_ADMINS", "12,alice"),
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("TECHBRIEF_ALLOW_PRIVATE_URLS", "maybe"),
        ("TELEGRAM_API_URL", "ftp://x"),
    ],
)
def test_bad_configuration_is_one_line_naming_the_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    proc = run(tmp_path, "ask", "BYD", env={variable: value})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert variable in lines[0]
    assert "not-a-token" not in proc.stderr


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TECHBRIEF_TZ=Nowhere/Land\n")
    proc = run(tmp_path, "sources")
    assert proc.returncode == 2
    assert "TECHBRIEF_TZ" in proc.stderr


def test_unusable_database_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.db").write_bytes(b"garbage" * 1000)
    proc = run(tmp_path, "sources", env={"TECHBRIEF_DB": str(tmp_path / "bad.db")})
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "not a database" in proc.stderr


def _beir(tmp_path: Path) -> Path:
    root = tmp_path / "beir"
    (root / "qrels").mkdir(parents=True)
    docs = [
        ("d1", "Robotaxi", "Pony.ai runs robotaxis in Guangzhou."),
        ("d2", "EV sales", "BYD sold more electric cars than ever."),
        ("d3", "Chips", "SMIC builds chips for Huawei."),
    ]
    (root / "corpus.jsonl").write_text(
        "\n".join(json.dumps({"_id": i, "title": t, "text": x}) for i, t, x in docs)
    )
    (root / "queries.jsonl").write_text(
        "\n".join(
            json.dumps({"_id": i, "text": t})
            for i, t in [("q1", "robotaxi in Guangzhou"), ("q2", "who makes Huawei chips")]
        )
    )
    (root / "qrels" / "test.tsv").write_bytes(
        b"query-id\tcorpus-id\tscore\r\nq1\td1\t1\r\nq2\td3\t1\r\n"
    )
    return root


def test_eval_json_on_a_small_beir_directory(tmp_path: Path) -> None:
    proc = run(tmp_path, "eval", str(_beir(tmp_path)), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) >= {"ndcg_at_10", "recall_at_100", "mrr_at_10", "queries", "seconds"}
    assert out["queries"] == 2
    assert out["ndcg_at_10"] == 1.0
    assert out["mrr_at_10"] == 1.0


@pytest.mark.parametrize("broken", ["missing-dir", "no-qrels", "bad-json"])
def test_eval_errors_are_one_line(tmp_path: Path, broken: str) -> None:
    root = _beir(tmp_path)
    if broken == "missing-dir":
        root = tmp_path / "nope"
    elif broken == "no-qrels":
        (root / "qrels" / "test.tsv").unlink()
    else:
        (root / "corpus.jsonl").write_text("{not json\n")
    proc = run(tmp_path, "eval", str(root))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "benchmarks" / "scifact").is_dir(), reason="needs ../shared")
def test_scifact_ndcg_at_10_reaches_the_best_published_bm25(tmp_path: Path) -> None:
    proc = run(tmp_path, "eval", str(SHARED / "benchmarks" / "scifact"), "--json")
    out = json.loads(proc.stdout)
    assert out["queries"] == 300
    assert out["ndcg_at_10"] >= 0.69
    assert out["recall_at_100"] >= 0.91


@pytest.mark.slow
def test_bench_json_compares_engines_in_their_own_processes(tmp_path: Path) -> None:
    # tantivy is in the test extra (one small wheel); bm25s is left out: its numba
    # compilation alone takes longer than this whole run.
    proc = run(
        tmp_path,
        "bench",
        "--passages",
        "2000",
        "--engines",
        "techbrief,rank_bm25,tantivy",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["machine"]["cores"] >= 1
    assert out["parity_max_abs_diff"] is not None
    assert out["parity_max_abs_diff"] <= 1e-9
    assert out["parity_top10_identical"] == 1.0
    rows = {row["engine"]: row for row in out["results"]}
    assert set(rows) == {"techbrief", "rank_bm25", "tantivy"}
    assert all(row["note"] == "" for row in rows.values()), rows
    for row in rows.values():
        assert row["passages"] == 2000
        for key in ("build_s", "peak_rss_mib", "p50_ms", "p95_ms", "add_1k_ms", "cold_start_s"):
            assert row[key] is not None
            assert row[key] > 0


@pytest.mark.parametrize(
    "args", [["--passages", "10x"], ["--passages", "5"], ["--engines", "lucene"]]
)
def test_bench_bad_arguments_are_one_line(tmp_path: Path, args: list[str]) -> None:
    proc = run(tmp_path, "bench", *args)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1


# -- a CLI that feels finished -------------------------------------------------------------


def _subcommands() -> list[str]:
    from bot.cli import _parser

    actions = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return list(actions[0].choices)


SUBCOMMANDS = _subcommands()


def test_stats_counts_the_seed(tmp_path: Path) -> None:
    proc = run(tmp_path, "stats")
    assert proc.returncode == 0, proc.stderr
    assert "2 articles from 1 source: 25 passages" in proc.stdout


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_a_description_and_an_example(tmp_path: Path, command: str) -> None:
    proc = run(tmp_path, command, "--help")
    assert proc.returncode == 0
    usage, description = proc.stdout.split("\n\n", 2)[:2]
    assert usage.startswith(f"usage: techbrief {command}")
    assert description.strip().endswith(".")
    _, _, example = proc.stdout.partition("\nexample:\n")
    assert f"techbrief {command}" in example


def test_eval_help_says_what_a_beir_folder_holds(tmp_path: Path) -> None:
    proc = run(tmp_path, "eval", "--help")
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/test.tsv"):
        assert name in proc.stdout


def test_every_subcommand_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert {"run", "chat", "ask", "eval", "sources", "stats", "bench"} <= set(SUBCOMMANDS)
    missing = [c for c in SUBCOMMANDS if f"`techbrief {c}" not in readme]
    assert not missing, f"not in the README's command table: {missing}"


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    # --help must answer at once: no numpy, SQLite layer, Telegram stack or segmenter.
    script = (
        "import sys\n"
        "import bot.cli\n"
        "try:\n    bot.cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('numpy', 'sqlite_utils', 'telegram', 'jieba', 'Stemmer', 'httpx')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    assert proc.stderr.strip() == "[]"


@pytest.mark.parametrize(
    "args", [["ask", "--json", "Chinese AI investment"], ["ask", "-k", "50", "AI"]]
)
def test_a_closed_pipe_ends_quietly(tmp_path: Path, args: list[str]) -> None:
    # `techbrief ask ... | head -1`: the reader is gone before the answer is written.
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TECHBRIEF_", "TELEGRAM_"))}
    environ.update({"TECHBRIEF_DB": str(tmp_path / "t.db"), "PYTHONPATH": str(ROOT)})
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            env=environ,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 141
    assert proc.stderr.decode() == ""


def test_the_first_chinese_question_says_the_segmenter_is_loading(tmp_path: Path) -> None:
    proc = run(tmp_path, "ask", "比亚迪发布了什么")
    assert "Loading the Chinese word segmenter" in proc.stderr
    proc = run(tmp_path, "ask", "What did BYD unveil?")
    assert "Loading" not in proc.stderr


# -- no token and no input; standard streams that are closed or full ---------------------------


@pytest.mark.parametrize("args", [["run"], []])
def test_no_token_and_empty_input_is_one_line_naming_the_token(
    tmp_path: Path, args: list[str]
) -> None:
    # systemd or compose with an empty TELEGRAM_BOT_TOKEN: stdin is /dev/null, and the
    # bot used to end at once with status 0 and nothing logged.
    with open(os.devnull, "rb") as devnull:
        proc = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            stdin=devnull,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=_environ(tmp_path),
            timeout=120,
            check=False,
        )
    assert proc.returncode == 2
    [line] = proc.stderr.splitlines()
    assert line.startswith("techbrief: TELEGRAM_BOT_TOKEN is not set")
    assert "standard input is empty" in line
    assert proc.stdout == ""
    assert not (tmp_path / "t.db").exists()  # said before anything was made


def test_no_token_and_closed_input_is_the_same_line(tmp_path: Path) -> None:
    proc = _shell(tmp_path, 'exec "$0" -m bot run <&-')
    assert proc.returncode == 2
    assert proc.stderr.startswith("techbrief: TELEGRAM_BOT_TOKEN is not set")
    assert "Traceback" not in proc.stderr


def test_chat_with_empty_input_still_ends_quietly(tmp_path: Path) -> None:
    # Only `run` needs a token or questions; `techbrief chat` was asked for the chat.
    proc = run(tmp_path, "chat")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_piped_questions_without_a_command_are_still_the_chat(tmp_path: Path) -> None:
    proc = run(tmp_path, "run", stdin=b"What did BYD unveil?\n")
    assert proc.returncode == 0, proc.stderr
    assert "BYD" in proc.stdout


def test_an_empty_db_option_is_one_line(tmp_path: Path) -> None:
    proc = run(tmp_path, "--db", "", "stats")
    assert proc.returncode == 2
    assert proc.stderr == "techbrief: --db: no file named; give a database file path\n"


def test_a_folder_as_db_option_or_variable_is_the_same_line(tmp_path: Path) -> None:
    by_option = run(tmp_path, "--db", str(tmp_path), "stats")
    by_variable = run(tmp_path, "stats", env={"TECHBRIEF_DB": str(tmp_path)})
    assert by_option.returncode == by_variable.returncode == 2
    assert by_option.stderr.replace("--db", "TECHBRIEF_DB") == by_variable.stderr
    assert len(by_option.stderr.splitlines()) == 1


@pytest.mark.parametrize("args", ["ask BYD", "stats", "--help", "ask --json BYD"])
def test_a_closed_stdout_is_one_line_and_a_failure(tmp_path: Path, args: str) -> None:
    proc = _shell(tmp_path, f'exec "$0" -m bot {args} >&-')
    assert proc.returncode == 2
    assert proc.stderr == "techbrief: cannot write the output: standard output is closed\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("args", ["stats", "sources", "ask BYD", "--help"])
def test_a_full_disk_on_stdout_is_one_line_and_a_failure(tmp_path: Path, args: str) -> None:
    proc = _shell(tmp_path, f'exec "$0" -m bot {args} > /dev/full')
    assert proc.returncode == 2
    assert proc.stderr == "techbrief: cannot write the output: No space left on device\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_stdout_and_stderr_both_full_is_a_failure_without_a_hang(tmp_path: Path) -> None:
    proc = _shell(tmp_path, 'exec "$0" -m bot stats > /dev/full 2>&1')
    assert proc.returncode == 2


def _environ(tmp_path: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TECHBRIEF_", "TELEGRAM_"))}
    environ.update({"TECHBRIEF_DB": str(tmp_path / "t.db"), "PYTHONPATH": str(ROOT)})
    return environ


def _shell(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    """``script`` run by sh with $0 the Python interpreter (for redirections like >&-)."""
    return subprocess.run(
        ["sh", "-c", script, sys.executable],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_environ(tmp_path),
        timeout=120,
        check=False,
    )


# -- the terminal chat: Ctrl-D and Ctrl-C -------------------------------------------------------


def _terminal_chat(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """``techbrief chat`` on a pseudo-terminal it controls (so Ctrl-C is SIGINT), and the
    terminal's other end."""
    import fcntl
    import termios

    controller, terminal = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=tmp_path,
        env={**_environ(tmp_path), "TERM": "dumb"},
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(terminal)
    return proc, controller


def _read_until(controller: int, wanted: bytes, proc: subprocess.Popen[bytes]) -> bytes:
    """What the terminal shows until ``wanted`` appears, or the chat ends."""
    import select

    seen = b""
    while wanted not in seen:
        ready, _, _ = select.select([controller], [], [], 60)
        assert ready, f"the chat showed nothing for 60 s: {seen!r}"
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: the chat ended and closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    return seen


def _rest(controller: int, proc: subprocess.Popen[bytes]) -> bytes:
    proc.wait(timeout=60)
    return _read_until(controller, b"\0never\0", proc)


@pytest.mark.skipif(sys.platform != "linux", reason="pseudo-terminals as on Linux")
def test_ctrl_d_in_the_terminal_chat_ends_the_prompt_line(tmp_path: Path) -> None:
    proc, controller = _terminal_chat(tmp_path)
    try:
        _read_until(controller, "› ".encode(), proc)
        os.write(controller, b"\x04")  # Ctrl-D on an empty line: end of input
        shown = _rest(controller, proc)
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert shown.endswith(b"\r\n"), shown  # the shell's prompt starts on its own line


@pytest.mark.skipif(sys.platform != "linux", reason="pseudo-terminals as on Linux")
def test_ctrl_c_in_the_terminal_chat_exits_130_quietly(tmp_path: Path) -> None:
    proc, controller = _terminal_chat(tmp_path)
    try:
        _read_until(controller, "› ".encode(), proc)
        # Ctrl-C: SIGINT to the chat. One that lands between the prompt and the moment
        # Python's readline starts waiting for a key is noticed only at the next signal
        # (a race in CPython's readline loop, not a person's pace): press it again then.
        for _ in range(20):
            os.write(controller, b"\x03")
            try:
                proc.wait(timeout=3)
                break
            except subprocess.TimeoutExpired:
                continue
        shown = _rest(controller, proc)
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert b"Traceback" not in shown
    assert shown.endswith(b"\r\n"), shown


def test_the_console_s_help_lists_the_admin_commands_under_their_heading(tmp_path: Path) -> None:
    # The terminal is the operator's: the console user is an admin.
    proc = run(tmp_path, "chat", stdin=b"/help\n")
    everyone, admin = proc.stdout.split("Admin commands:")
    assert "/subscribe <topic>" in everyone
    assert "/quit" in everyone
    for command in ("/addsource", "/addtext", "/sources", "/removesource", "/refresh", "/stats"):
        assert command in admin
        assert command not in everyone


def test_the_console_chat_keeps_the_configured_time_zone(tmp_path: Path) -> None:
    # Spelt as /timezone takes it: any case.
    stdin = b"/subscribe ev\n/timezone\n"
    proc = run(tmp_path, "chat", stdin=stdin, env={"TECHBRIEF_TZ": "asia/shanghai"})
    assert proc.returncode == 0, proc.stderr
    assert "daily at 08:00 (Asia/Shanghai)" in proc.stdout
    assert "This chat's time zone is Asia/Shanghai." in proc.stdout
