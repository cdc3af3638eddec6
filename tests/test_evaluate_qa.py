"""The answer-quality evaluation: reading the set, judging outcomes, distractor text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.analyze import Analyzer
from retrieval.evaluate import EvaluationError
from retrieval.evaluate_qa import (
    Outcome,
    QAQuestion,
    distractor_passages,
    evaluate_qa,
    format_report,
    read_questions,
)
from retrieval.passages import split_passages, split_sentences
from storage.seed import read_seed_articles

QUESTIONS = Path(__file__).resolve().parent / "qa" / "questions.jsonl"


def _write(tmp_path: Path, *rows: object) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_the_shipped_set_is_large_and_varied() -> None:
    questions = read_questions(QUESTIONS)
    answerable = [q for q in questions if q.kind == "answerable"]
    near = [q for q in questions if q.kind == "near"]
    off = [q for q in questions if q.kind == "off"]
    assert len(answerable) >= 150
    assert len(near) + len(off) >= 60
    assert len(near) >= 40
    for tag in ("typo", "markup", "chinese"):
        assert sum(tag in q.tags for q in questions) >= 5, tag
    assert {q.split for q in questions} == {"dev", "heldout"}
    assert len({q.question for q in questions}) == len(questions)


def test_gold_phrases_are_in_the_seed_articles_and_questions_use_their_own_words() -> None:
    """Every gold phrase exists; every answerable question has a word its gold
    sentence lacks (questions were not written by copying the text)."""
    analyzer = Analyzer()
    bodies = [item.article.body for item in read_seed_articles()]
    passages = [p.text for body in bodies for p in split_passages(body)]
    sentences = [s.text for text in passages for s in split_sentences(text)]
    for q in read_questions(QUESTIONS):
        if q.kind != "answerable":
            continue
        for phrase in q.passages:
            assert sum(body.count(phrase) for body in bodies) == 1, (q.id, phrase)
        own_words = set(analyzer.terms(q.question))
        holding = [s for s in sentences if any(a in s for a in q.answers)]
        assert holding, (q.id, q.answers)
        assert any(own_words - set(analyzer.terms(s)) for s in holding), q.id


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"id": "x", "kind": "maybe", "question": "q", "split": "dev"}, "kind must be"),
        ({"id": "x", "kind": "off", "question": "q", "split": "test"}, "split must be"),
        ({"id": "x", "kind": "answerable", "question": "q", "split": "dev"}, "needs passages"),
        ({"id": "x", "kind": "off", "question": "", "split": "dev"}, "'question' must be"),
        ({"id": "x", "kind": "off", "question": "q", "split": "dev", "tags": "typo"}, "'tags'"),
        ([1, 2], "expected an object"),
    ],
)
def test_bad_lines_are_named(tmp_path: Path, row: object, message: str) -> None:
    with pytest.raises(EvaluationError, match=message) as info:
        read_questions(_write(tmp_path, row))
    assert "line 1" in str(info.value)


def test_missing_file_and_duplicate_ids(tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="not a file"):
        read_questions(tmp_path / "nope.jsonl")
    row = {"id": "x", "kind": "off", "question": "q", "split": "dev"}
    with pytest.raises(EvaluationError, match="used twice"):
        read_questions(_write(tmp_path, row, row))


def test_judging_counts_each_kind_of_miss() -> None:
    def q(id_: str, kind: str, split: str = "heldout") -> QAQuestion:
        extra = {"passages": ("P1",), "answers": ("gold",)} if kind == "answerable" else {}
        return QAQuestion(id_, kind, id_, split, **extra)  # type: ignore[arg-type]

    outcomes = {
        "right": Outcome(False, "P1 text", "the gold sentence"),
        "wrong-sentence": Outcome(False, "P1 text", "another sentence"),
        "refused-right-passage": Outcome(True, "P1 text", "the gold sentence"),
        "refused-nothing": Outcome(True),
        "near-answered": Outcome(False, "P2", "s"),
        "near-abstained": Outcome(True, "P2", "s"),
        "off-abstained": Outcome(True),
    }
    kinds = {"near-answered": "near", "near-abstained": "near", "off-abstained": "off"}
    questions = [q(name, kinds.get(name, "answerable")) for name in outcomes]
    report = evaluate_qa(questions, lambda text: outcomes[text])
    f = report.splits["heldout"]
    assert (f.answerable, f.passage_first, f.sentence_holds_answer) == (4, 3, 1)
    assert (f.wrongly_refused, f.wrong_sentence) == (2, 1)
    assert (f.near, f.near_answered, f.off, f.off_answered) == (2, 1, 1, 0)
    assert f.rates()["near_abstained"] == 0.5
    assert "dev" not in report.splits
    text = format_report(report, questions=True)
    assert "best sentence holds answer" in text
    assert "MISS" in text
    assert "'near-answered'" in text
    listed = report.to_json(questions=True)["questions"]
    assert [j["correct"] for j in listed] == [True, False, False, False, False, True, True]


def test_distractor_passages_are_cut_at_sentences(tmp_path: Path) -> None:
    sentence = "Cells divide when the signal arrives and nothing else happens today. "
    docs = [
        {"_id": "1", "title": "T1", "text": sentence * 20},
        {"_id": "2", "title": "", "text": "Short text. Two sentences."},
        {"_id": "3", "title": "Empty", "text": ""},
    ]
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in docs), encoding="utf-8")
    passages = list(distractor_passages(path, limit=100, words=40))
    assert [p.title for p in passages].count("T1") == 5
    assert passages[-1].title == "Short text. Two sentences."
    for p in passages:
        assert p.sentences[0][0] == 0
        assert p.sentences[-1][1] == len(p.text)
        for start, end in p.sentences:
            assert p.text[start:end].strip() == p.text[start:end]
            assert p.text[start:end].endswith(".")
    assert len(list(distractor_passages(path, limit=3, words=40))) == 3


def test_eval_qa_command_reports_each_split(tmp_path: Path) -> None:
    from tests.test_cli import run

    rows = [
        {
            "id": "a1",
            "kind": "answerable",
            "question": "How many electric cars did BYD launch?",
            "passages": ["BYD unveiled five new EV models"],
            "answers": ["BYD unveiled five new EV models"],
            "split": "heldout",
            "tags": ["synonym"],
        },
        {"id": "u1", "kind": "off", "question": "Who painted the Mona Lisa?", "split": "dev"},
    ]
    path = _write(tmp_path, *rows)
    proc = run(tmp_path, "eval-qa", str(path), "--json", "--list")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["passages"] == 25
    held = out["splits"]["heldout"]
    assert held["answerable"] == 1
    assert set(held["rates"]) == {
        "passage_first",
        "sentence_holds_answer",
        "wrongly_refused",
        "near_abstained",
        "off_abstained",
    }
    assert out["splits"]["dev"]["off"] == 1
    assert [q["id"] for q in out["questions"]] == ["a1", "u1"]
    text = run(tmp_path, "eval-qa", str(path))
    assert "heldout: 1 answerable" in text.stdout
    assert "best sentence holds answer" in text.stdout


def test_eval_qa_command_names_a_bad_file(tmp_path: Path) -> None:
    from tests.test_cli import run

    path = tmp_path / "bad.jsonl"
    path.write_text("{not json\n", encoding="utf-8")
    proc = run(tmp_path, "eval-qa", str(path))
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("techbrief: bad.jsonl line 1: not JSON (")
    assert len(proc.stderr.strip().splitlines()) == 1
