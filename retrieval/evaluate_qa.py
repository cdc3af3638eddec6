"""Answer quality on a question set: right passage, right sentence, right abstentions.

The set is a JSON Lines file (``tests/qa/questions.jsonl``, documented in
``tests/qa/README.md``): each line has ``id``, ``kind`` (``answerable``,
``near`` for unanswerable questions about the domain, ``off`` for off-topic
ones), ``question``, ``split`` (``dev`` or ``heldout``), ``tags`` and, for
answerable questions, ``passages`` (phrases, one of which the right passage
holds) and ``answers`` (phrases, one of which the best sentence must hold).

The answering system is a callable from the question text to an
:class:`Outcome`, so this module stays pure: the caller decides what corpus
answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.evaluate import EvaluationError

__all__ = [
    "KINDS",
    "SPLITS",
    "DistractorPassage",
    "Judgement",
    "Outcome",
    "QAQuestion",
    "QAReport",
    "SplitFigures",
    "distractor_passages",
    "evaluate_qa",
    "format_report",
    "judge",
    "read_questions",
]

KINDS = ("answerable", "near", "off")
SPLITS = ("dev", "heldout")


@dataclass(frozen=True, slots=True)
class QAQuestion:
    id: str
    kind: str
    question: str
    split: str
    passages: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the system did with a question.

    ``passage`` and ``sentence`` are those of the passage it leads with: the
    answer when it answered, the closest candidate when it abstained (``None``
    when it found nothing at all or refused the input).
    """

    abstained: bool
    passage: str | None = None
    sentence: str | None = None


@dataclass(frozen=True, slots=True)
class Judgement:
    question: QAQuestion
    outcome: Outcome
    passage_first: bool  # the passage led with is a right one (answered or not)
    correct: bool  # answerable: answered and the sentence holds the answer; else: abstained

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.question.id,
            "split": self.question.split,
            "kind": self.question.kind,
            "tags": list(self.question.tags),
            "question": self.question.question,
            "abstained": self.outcome.abstained,
            "passage_first": self.passage_first,
            "correct": self.correct,
            "sentence": self.outcome.sentence,
        }


@dataclass(frozen=True, slots=True)
class SplitFigures:
    """Counts for one split; rates are shares of the kind's questions."""

    split: str
    answerable: int = 0
    passage_first: int = 0
    sentence_holds_answer: int = 0
    wrongly_refused: int = 0
    wrong_sentence: int = 0  # answered, but the sentence does not hold the answer
    near: int = 0
    near_answered: int = 0
    off: int = 0
    off_answered: int = 0
    by_tag: dict[str, tuple[int, int]] = field(default_factory=dict)  # tag -> (correct, total)

    def rates(self) -> dict[str, float | None]:
        def share(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            "passage_first": share(self.passage_first, self.answerable),
            "sentence_holds_answer": share(self.sentence_holds_answer, self.answerable),
            "wrongly_refused": share(self.wrongly_refused, self.answerable),
            "near_abstained": share(self.near - self.near_answered, self.near),
            "off_abstained": share(self.off - self.off_answered, self.off),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "answerable": self.answerable,
            "passage_first": self.passage_first,
            "sentence_holds_answer": self.sentence_holds_answer,
            "wrongly_refused": self.wrongly_refused,
            "wrong_sentence": self.wrong_sentence,
            "near": self.near,
            "near_answered": self.near_answered,
            "off": self.off,
            "off_answered": self.off_answered,
            "rates": self.rates(),
            "by_tag": {tag: {"correct": c, "total": t} for tag, (c, t) in self.by_tag.items()},
        }


@dataclass(frozen=True, slots=True)
class QAReport:
    splits: dict[str, SplitFigures]
    judgements: tuple[Judgement, ...]

    def to_json(self, *, questions: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"splits": {name: f.to_json() for name, f in self.splits.items()}}
        if questions:
            out["questions"] = [j.to_json() for j in self.judgements]
        return out


def read_questions(path: Path) -> list[QAQuestion]:
    """The question set in ``path``; :class:`EvaluationError` names the first bad line."""
    if not path.is_file():
        raise EvaluationError(f"{path} is not a file")
    out: list[QAQuestion] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path.name} line {number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvaluationError(f"{where}: not JSON ({exc.msg})") from None
            question = _question(row, where)
            if question.id in seen:
                raise EvaluationError(f"{where}: id {question.id!r} used twice")
            seen.add(question.id)
            out.append(question)
    if not out:
        raise EvaluationError(f"{path} holds no questions")
    return out


def _question(row: object, where: str) -> QAQuestion:
    if not isinstance(row, dict):
        raise EvaluationError(f"{where}: expected an object")
    for key in ("id", "kind", "question", "split"):
        if not isinstance(row.get(key), str) or not row[key]:
            raise EvaluationError(f"{where}: {key!r} must be a non-empty string")
    if row["kind"] not in KINDS:
        raise EvaluationError(f"{where}: kind must be one of {', '.join(KINDS)}")
    if row["split"] not in SPLITS:
        raise EvaluationError(f"{where}: split must be one of {', '.join(SPLITS)}")
    lists = {}
    for key in ("passages", "answers", "tags"):
        value = row.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise EvaluationError(f"{where}: {key!r} must be a list of strings")
        lists[key] = tuple(value)
    if row["kind"] == "answerable" and not (lists["passages"] and lists["answers"]):
        raise EvaluationError(f"{where}: an answerable question needs passages and answers")
    return QAQuestion(
        id=row["id"],
        kind=row["kind"],
        question=row["question"],
        split=row["split"],
        passages=lists["passages"],
        answers=lists["answers"],
        tags=lists["tags"],
    )


def judge(question: QAQuestion, outcome: Outcome) -> Judgement:
    passage_first = outcome.passage is not None and any(
        phrase in outcome.passage for phrase in question.passages
    )
    if question.kind == "answerable":
        correct = (
            not outcome.abstained
            and outcome.sentence is not None
            and any(phrase in outcome.sentence for phrase in question.answers)
        )
    else:
        correct = outcome.abstained
    return Judgement(question, outcome, passage_first, correct)


def evaluate_qa(questions: Iterable[QAQuestion], ask: Callable[[str], Outcome]) -> QAReport:
    """Ask every question and count, per split, what went right and wrong."""
    judgements = tuple(judge(q, ask(q.question)) for q in questions)
    splits = {
        name: _figures(name, [j for j in judgements if j.question.split == name]) for name in SPLITS
    }
    return QAReport(
        {k: v for k, v in splits.items() if v.answerable or v.near or v.off}, judgements
    )


def _figures(split: str, judgements: Sequence[Judgement]) -> SplitFigures:
    answerable = [j for j in judgements if j.question.kind == "answerable"]
    near = [j for j in judgements if j.question.kind == "near"]
    off = [j for j in judgements if j.question.kind == "off"]
    tags: dict[str, tuple[int, int]] = {}
    for j in judgements:
        for tag in j.question.tags:
            correct, total = tags.get(tag, (0, 0))
            tags[tag] = (correct + j.correct, total + 1)
    return SplitFigures(
        split=split,
        answerable=len(answerable),
        passage_first=sum(j.passage_first for j in answerable),
        sentence_holds_answer=sum(j.correct for j in answerable),
        wrongly_refused=sum(j.outcome.abstained for j in answerable),
        wrong_sentence=sum(not j.outcome.abstained and not j.correct for j in answerable),
        near=len(near),
        near_answered=sum(not j.correct for j in near),
        off=len(off),
        off_answered=sum(not j.correct for j in off),
        by_tag=dict(sorted(tags.items())),
    )


def format_report(report: QAReport, *, questions: bool = False) -> str:
    """A table per split, then (with ``questions``) one line per question."""
    lines: list[str] = []
    for name, f in report.splits.items():
        lines.append(f"{name}: {f.answerable} answerable, {f.near} near-topic, {f.off} off-topic")
        lines.append(f"  right passage first          {_frac(f.passage_first, f.answerable)}")
        lines.append(
            f"  best sentence holds answer   {_frac(f.sentence_holds_answer, f.answerable)}"
        )
        lines.append(f"  wrongly refused              {_frac(f.wrongly_refused, f.answerable)}")
        lines.append(f"  answered, wrong sentence     {_frac(f.wrong_sentence, f.answerable)}")
        lines.append(f"  near-topic answered (should abstain)  {_frac(f.near_answered, f.near)}")
        lines.append(f"  off-topic answered (should abstain)   {_frac(f.off_answered, f.off)}")
        if f.by_tag:
            tags = ", ".join(f"{tag} {c}/{t}" for tag, (c, t) in f.by_tag.items())
            lines.append(f"  correct by tag: {tags}")
    if questions:
        lines.append("")
        for j in report.judgements:
            mark = "ok  " if j.correct else "MISS"
            what = "abstained" if j.outcome.abstained else f"answered: {j.outcome.sentence}"
            lines.append(
                f"{mark} {j.question.split:7} {j.question.kind:10} {j.question.id} "
                f"{j.question.question!r} -> {what}"
            )
    return "\n".join(lines)


def _frac(part: int, whole: int) -> str:
    if not whole:
        return "-"
    return f"{part:4d}/{whole:<4d} {100 * part / whole:5.1f}%"


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"“])")


@dataclass(frozen=True, slots=True)
class DistractorPassage:
    """A passage of unrelated text, with its sentence spans, to grow a test corpus."""

    title: str
    text: str
    sentences: tuple[tuple[int, int], ...]


def distractor_passages(path: Path, limit: int, *, words: int = 80) -> Iterator[DistractorPassage]:
    """Up to ``limit`` passages cut from a BEIR ``corpus.jsonl`` (e.g. SciFact abstracts).

    Each document is cut at sentence ends (a plain regular expression: this is
    test text, not ingestion) into passages of about ``words`` words, the size
    of news passages, so that a corpus grown with them looks like one grown
    with articles.
    """
    if not path.is_file():
        raise EvaluationError(f"{path} is not a file")
    produced = 0
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if produced >= limit:
                return
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvaluationError(f"{path.name} line {number}: not JSON ({exc.msg})") from None
            text = str(row.get("text") or "").strip() if isinstance(row, dict) else ""
            if not text:
                continue
            title = str(row.get("title") or "").strip() or text[:90]
            for passage in _cut(text, words):
                yield DistractorPassage(title, *passage)
                produced += 1
                if produced >= limit:
                    return


def _cut(text: str, words: int) -> Iterator[tuple[str, tuple[tuple[int, int], ...]]]:
    starts = [0, *(m.end() for m in _SENTENCE_END.finditer(text))]
    bounds = [(s, e) for s, e in zip(starts, [*starts[1:], len(text)], strict=True)]
    group: list[tuple[int, int]] = []
    count = 0
    for start, end in bounds:
        group.append((start, end))
        count += len(text[start:end].split())
        if count >= words:
            yield _passage(text, group)
            group, count = [], 0
    if group:
        yield _passage(text, group)


def _passage(text: str, group: list[tuple[int, int]]) -> tuple[str, tuple[tuple[int, int], ...]]:
    first = group[0][0]
    body = text[first : group[-1][1]].rstrip()
    spans = tuple((s - first, min(e - first, len(body))) for s, e in group)
    spans = tuple((s, len(text[first + s : first + e].rstrip()) + s) for s, e in spans)
    return body, spans
