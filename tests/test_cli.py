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
