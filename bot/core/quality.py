"""Answer quality, measured the way users meet it: the whole service over a fresh seed corpus.

``techbrief eval-qa`` and the quality tests use this: a new in-memory
database holding the shipped seed articles, optionally grown with distractor
passages (unrelated text, e.g. SciFact abstracts) to check that answers and
abstentions hold when the corpus is much larger.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from bot.core.corpus import Corpus
from bot.core.service import Refusal, TechBrief
from retrieval.evaluate_qa import (
    DistractorPassage,
    Outcome,
    QAReport,
    distractor_passages,
    evaluate_qa,
    read_questions,
)
from storage import articles, seed, sources
from storage.articles import NewArticle, NewPassage
from storage.errors import DuplicateArticle

__all__ = [
    "DEFAULT_DISTRACTORS",
    "add_articles",
    "add_distractors",
    "evaluation_corpus",
    "outcome",
    "run_eval_qa",
]

DEFAULT_DISTRACTORS = 5_000


def outcome(service: TechBrief, question: str) -> Outcome:
    """What the service does with ``question``: the passage and sentence it leads with."""
    result = service.ask(question)
    if isinstance(result, Refusal):
        return Outcome(abstained=True)
    lead = (result.hits or result.weak)[:1]
    if not lead:
        return Outcome(abstained=result.abstained)
    return Outcome(result.abstained, lead[0].candidate.text, lead[0].sentence.text)


def add_articles(corpus: Corpus, folder: Path, now: datetime) -> int:
    """Add the articles listed in ``folder``'s manifest as one text source; returns how
    many were added."""
    items = seed.read_articles(folder)
    source_id = sources.add_source(corpus.db, kind="text", title=folder.name, now=now)
    results = corpus.add_articles(source_id, [item.article for item in items], now)
    return sum(1 for r in results if not isinstance(r, DuplicateArticle))


def add_distractors(corpus: Corpus, passages: Iterable[DistractorPassage], now: datetime) -> int:
    """Store passages of unrelated text (one article per title) and index them; returns
    how many passages were added."""
    added = 0
    by_title: dict[str, list[DistractorPassage]] = {}
    for passage in passages:
        by_title.setdefault(passage.title, []).append(passage)
    with corpus.db.atomic():
        source_id = sources.add_source(corpus.db, kind="text", title="Distractors", now=now)
        for title, group in by_title.items():
            body = "\n".join(p.text for p in group)
            with contextlib.suppress(DuplicateArticle):
                articles.add_article(
                    corpus.db,
                    source_id=source_id,
                    article=NewArticle(title=title, body=body, publisher="distractor"),
                    passages=[NewPassage(p.text, None, p.sentences) for p in group],
                    now=now,
                )
                added += len(group)
    corpus.reconcile()  # indexes what the database now holds beyond the index
    return added


def evaluation_corpus(
    now: datetime,
    distractors: Path | None = None,
    limit: int = DEFAULT_DISTRACTORS,
    articles_dir: Path | None = None,
) -> Corpus:
    """A fresh in-memory corpus of the seed articles, plus the articles of
    ``articles_dir`` (a folder with a seed-style ``manifest.json``, added as an admin
    adds text) and ``limit`` distractor passages cut from the BEIR ``corpus.jsonl`` at
    ``distractors`` (a file or its directory)."""
    corpus = Corpus.open(":memory:", now)
    if articles_dir is not None:
        add_articles(corpus, articles_dir, now)
    if distractors is not None:
        path = distractors / "corpus.jsonl" if distractors.is_dir() else distractors
        add_distractors(corpus, distractor_passages(path, limit), now)
    return corpus


def run_eval_qa(
    questions_file: Path,
    now: datetime,
    *,
    distractors: Path | None = None,
    limit: int = DEFAULT_DISTRACTORS,
    min_support: float | None = None,
    articles_dir: Path | None = None,
) -> tuple[QAReport, int]:
    """Evaluate the question set; returns the report and the corpus size in passages.

    ``min_support`` replaces the answer threshold (to measure the trade-off).
    ``articles_dir`` defaults to the folder beside the file named like it
    (``news.jsonl`` → ``news/``) when that folder has a ``manifest.json``."""
    questions = read_questions(questions_file)
    if articles_dir is None:
        beside = questions_file.with_suffix("")
        articles_dir = beside if (beside / "manifest.json").is_file() else None
    corpus = evaluation_corpus(now, distractors, limit, articles_dir)
    if min_support is not None:
        corpus.min_support = min_support
    try:
        service = TechBrief(corpus)
        report = evaluate_qa(questions, lambda text: outcome(service, text))
        return report, len(corpus.index)
    finally:
        corpus.close()
