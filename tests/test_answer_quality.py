"""Answer quality on the held-out questions, against the issue's targets.

The whole service (clean_text, query understanding, BM25, the answer decision)
answers every question of ``tests/qa/questions.jsonl`` over a fresh seed
corpus, and again with 5,000 SciFact passages added (skipped without
``../shared``). The targets are checked as they are; figures below them fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.quality import run_eval_qa
from retrieval.evaluate_qa import QAReport, SplitFigures
from tests.conftest import NOW, SHARED

QUESTIONS = Path(__file__).resolve().parent / "qa" / "questions.jsonl"
SCIFACT = SHARED / "benchmarks" / "scifact"

SENTENCE_TARGET = 0.92  # answerable: the best sentence holds the answer
NEAR_TARGET = 0.85  # near-topic unanswerable: abstained
OFF_TARGET = 1.0  # off-topic: abstained
MAX_DROP = 0.03  # with 5,000 distractor passages


def rates(figures: SplitFigures) -> dict[str, float]:
    return {
        "sentence": figures.sentence_holds_answer / figures.answerable,
        "near": (figures.near - figures.near_answered) / figures.near,
        "off": (figures.off - figures.off_answered) / figures.off,
    }


@pytest.fixture(scope="module")
def seed_report() -> QAReport:
    report, passages = run_eval_qa(QUESTIONS, NOW)
    assert passages == 25
    return report


@pytest.fixture(scope="module")
def distractor_report() -> QAReport:
    if not (SCIFACT / "corpus.jsonl").is_file():
        pytest.skip("needs ../shared/benchmarks/scifact")
    report, passages = run_eval_qa(QUESTIONS, NOW, distractors=SCIFACT, limit=5_000)
    assert passages == 5_025
    return report


def test_held_out_abstentions_meet_the_targets(seed_report: QAReport) -> None:
    held_out = rates(seed_report.splits["heldout"])
    assert held_out["near"] >= NEAR_TARGET
    assert held_out["off"] >= OFF_TARGET


def test_held_out_answers_meet_the_target(seed_report: QAReport) -> None:
    assert rates(seed_report.splits["heldout"])["sentence"] >= SENTENCE_TARGET


def test_fresh_answers_do_not_regress(seed_report: QAReport) -> None:
    """The fresh split (never tuned on) keeps what it reached: 86/102 best sentences,
    35/38 near-topic and 12/12 off-topic questions abstained."""
    fresh = seed_report.splits["fresh"]
    assert fresh.sentence_holds_answer >= 86
    assert fresh.near - fresh.near_answered >= 35
    assert fresh.off_answered == 0


def test_figures_hold_with_5000_distractor_passages(
    seed_report: QAReport, distractor_report: QAReport
) -> None:
    seed = rates(seed_report.splits["heldout"])
    grown = rates(distractor_report.splits["heldout"])
    for key in ("sentence", "near", "off"):
        assert grown[key] >= seed[key] - MAX_DROP, key


def test_the_dev_split_is_not_worse_than_what_it_was_tuned_to(seed_report: QAReport) -> None:
    """Dev figures guard against regressions while the lexicon grows."""
    dev = rates(seed_report.splits["dev"])
    assert dev["sentence"] >= 0.9
    assert dev["near"] >= 0.9
    assert dev["off"] == 1.0


NEWS = QUESTIONS.parent / "news.jsonl"
TRIAL = QUESTIONS.parent / "trial.jsonl"


def test_articles_admins_add_keep_what_they_reached() -> None:
    """Questions about 18 articles like those admins add (``tests/qa/news``, written
    blind by another hand) and about the articles of a user trial (``tests/qa/trial``):
    floors at what they reached (the code before read 36/73 held-out, 38/73 dev and
    7/25 trial questions right), and no off-topic answer."""
    report, passages = run_eval_qa(NEWS, NOW)
    assert passages > 25  # the news articles were added to the seed
    held_out, dev = report.splits["heldout"], report.splits["dev"]
    assert held_out.sentence_holds_answer >= 46
    assert dev.sentence_holds_answer >= 48
    assert held_out.near - held_out.near_answered >= 11
    assert held_out.off_answered == dev.off_answered == 0
    trial, _ = run_eval_qa(TRIAL, NOW)
    assert trial.splits["dev"].sentence_holds_answer >= 24
