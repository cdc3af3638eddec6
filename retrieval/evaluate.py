"""Retrieval quality on a BEIR-format directory: nDCG@10, Recall@100, MRR@10.

The directory holds ``corpus.jsonl`` (``_id``, ``title``, ``text``),
``queries.jsonl`` (``_id``, ``text``) and ``qrels/test.tsv`` (``query-id``,
``corpus-id``, ``score`` with a header line). Each document is indexed whole as
``title + " " + text`` with techbrief's analyzer and BM25 index; only the
queries that have judgements are run. Metrics follow BEIR (pytrec_eval):
graded gains, log2 discounts, ideal ranking from the judgements.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.analyze import Analyzer
from retrieval.index import BM25Index

__all__ = ["EvaluationError", "EvaluationResult", "evaluate_beir", "ndcg_at", "read_qrels"]


class EvaluationError(ValueError):
    """The directory is not a usable BEIR dataset; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    ndcg_at_10: float
    recall_at_100: float
    mrr_at_10: float
    queries: int
    documents: int


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        raise EvaluationError(f"{path.name} not found in {path.parent}")
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvaluationError(f"{path.name} line {number}: not JSON ({exc.msg})") from None
            if not isinstance(row, dict) or "_id" not in row:
                raise EvaluationError(f"{path.name} line {number}: no _id")
            yield row


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Judgements by query id; tolerates CRLF line endings and a header line."""
    if not path.is_file():
        raise EvaluationError(f"qrels/{path.name} not found in {path.parent.parent}")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), 1):
            if not row or (number == 1 and row[0].strip() == "query-id"):
                continue
            if len(row) < 3:
                raise EvaluationError(f"qrels/{path.name} line {number}: expected 3 columns")
            try:
                score = int(row[2].strip())
            except ValueError:
                raise EvaluationError(
                    f"qrels/{path.name} line {number}: score {row[2]!r} is not an integer"
                ) from None
            qrels.setdefault(row[0].strip(), {})[row[1].strip()] = score
    return qrels


def evaluate_beir(directory: Path, analyzer: Analyzer | None = None) -> EvaluationResult:
    """Index the corpus, run the judged queries, and average the metrics."""
    analyzer = analyzer or Analyzer()
    if not directory.is_dir():
        raise EvaluationError(f"{directory} is not a directory")
    qrels = read_qrels(directory / "qrels" / "test.tsv")
    doc_ids: list[str] = []
    index = BM25Index()
    keys: list[int] = []
    docs: list[list[str]] = []
    for row in _jsonl(directory / "corpus.jsonl"):
        keys.append(len(doc_ids))
        doc_ids.append(str(row["_id"]))
        docs.append(analyzer.terms(f"{row.get('title') or ''} {row.get('text') or ''}"))
        if len(keys) == 10_000:
            index.add(keys, docs)
            keys, docs = [], []
    index.add(keys, docs)
    if not doc_ids:
        raise EvaluationError("corpus.jsonl holds no documents")
    queries = {str(r["_id"]): str(r.get("text") or "") for r in _jsonl(directory / "queries.jsonl")}

    ndcg = recall = mrr = 0.0
    judged = [q for q in qrels if q in queries]
    if not judged:
        raise EvaluationError("no query in qrels/test.tsv appears in queries.jsonl")
    for query_id in judged:
        relevant = qrels[query_id]
        hits = index.search(analyzer.terms(queries[query_id]), k=100)
        ranked = [doc_ids[h.key] for h in hits]
        ndcg += ndcg_at(ranked, relevant, 10)
        positives = {d for d, g in relevant.items() if g > 0}
        if positives:
            recall += len(positives.intersection(ranked)) / len(positives)
        first = next((i for i, d in enumerate(ranked[:10]) if d in positives), None)
        mrr += 0.0 if first is None else 1.0 / (first + 1)
    n = len(judged)
    return EvaluationResult(ndcg / n, recall / n, mrr / n, n, len(doc_ids))
