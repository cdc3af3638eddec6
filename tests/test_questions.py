"""The seed question set: ranking, best sentence and abstention, question by question."""

from __future__ import annotations

import pytest

from bot.core.corpus import Corpus
from tests.questions import ANSWERABLE, UNANSWERABLE, Question

# Misses we know of, each a vocabulary gap BM25 cannot bridge (see README).
KNOWN_MISSES = {
    "Which EV makers are going global?": "'going global' vs 'extending their global ambitions'",
    "Are Chinese open-source AI models overtaking American ones?": (
        "'overtaking American' vs 'surpassing U.S. counterparts'"
    ),
    "What does winning the AI race take besides chips?": (
        "'take besides' unseen; 'chips' is glued to a mis-encoded dash in the text"
    ),
}


@pytest.fixture(scope="module")
def seed_corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    from tests.conftest import NOW

    corpus = Corpus.open(tmp_path_factory.mktemp("q") / "t.db", NOW)
    yield corpus
    corpus.close()


def _params() -> list[object]:
    out = []
    for question in ANSWERABLE:
        marks = []
        if question.text in KNOWN_MISSES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[question.text]))
        out.append(pytest.param(question, id=question.text, marks=marks))
    return out


def test_the_set_is_large_enough() -> None:
    assert len(ANSWERABLE) >= 30
    assert len(UNANSWERABLE) >= 10
    assert len({q.text for q in ANSWERABLE}) == len(ANSWERABLE)


@pytest.mark.parametrize("question", _params())
def test_answerable(seed_corpus: Corpus, question: Question) -> None:
    answer = seed_corpus.answer(question.text)
    assert not answer.abstained
    best = answer.hits[0]
    assert question.passage in best.candidate.text
    assert any(s in best.sentence.text for s in question.sentences), best.sentence.text


def test_expected_passages_are_unique(seed_corpus: Corpus) -> None:
    from storage.articles import iter_passages

    texts = [p.text for p in iter_passages(seed_corpus.db)]
    for question in ANSWERABLE:
        assert sum(question.passage in t for t in texts) == 1, question.passage


@pytest.mark.parametrize("text", UNANSWERABLE)
def test_unanswerable(seed_corpus: Corpus, text: str) -> None:
    assert seed_corpus.answer(text).abstained
