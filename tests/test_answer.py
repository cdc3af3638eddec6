from __future__ import annotations

from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.analyze import Analyzer
from retrieval.answer import (
    DUPLICATE_JACCARD,
    Candidate,
    _near_duplicate,
    _shingles,
    compose,
    term_weight,
)

A = Analyzer()
N = 25  # the size of the seed corpus the threshold was calibrated on
DF = {"byd": 2, "unveil": 1, "model": 5, "ev": 10, "ceo": 0, "robotaxi": 3}


def weigh(term: str) -> float:
    return term_weight(DF.get(term, 0), N)


def cand(pid: int, text: str, heading: str | None = None, score: float = 1.0) -> Candidate:
    return Candidate(pid, score, text, heading, title=f"t{pid}", publisher="P")


PASSAGE = (
    "In April alone, several major milestones underscored this shift. "
    "BYD unveiled five new EV models, while Pony.ai revealed cost-slashing robotaxis. "
    "Huawei enabled valet-style auto-parking."
)


def test_best_sentence_and_bold_terms() -> None:
    answer = compose("What EV models did BYD unveil?", [cand(1, PASSAGE)], A, weigh)
    assert not answer.abstained
    hit = answer.hits[0]
    assert hit.sentence.text.startswith("BYD unveiled five new EV models")
    bold = [hit.sentence.text[s:e] for s, e in hit.sentence.spans]
    assert bold == ["BYD", "unveiled", "EV", "models"]
    assert [PASSAGE[s:e] for s, e in hit.passage.spans] == bold
    assert hit.support == 1.0


def test_unsupported_question_abstains_but_keeps_weak_candidates() -> None:
    answer = compose("Who is the CEO of BYD?", [cand(1, PASSAGE)], A, weigh)
    assert answer.abstained
    assert answer.hits == ()
    assert len(answer.weak) == 1
    assert 0 < answer.weak[0].support < 0.5


def test_no_candidates_abstains() -> None:
    assert compose("robotaxis", [], A, weigh).abstained


def test_heading_counts_as_context() -> None:
    answer = compose(
        "robotaxi",
        [cand(1, "Fleets grew in Wuhan and Beijing this year.", "Robotaxi boom")],
        A,
        weigh,
    )
    assert not answer.abstained
    assert answer.hits[0].heading is not None
    assert answer.hits[0].heading.spans == ((0, 8),)


def test_near_duplicates_collapse_keeping_the_first() -> None:
    copy = PASSAGE.replace("In April alone", "In April")
    other = "Robotaxi operators in Wuhan expanded their fleets, and BYD unveiled models."
    answer = compose(
        "BYD unveil models",
        [cand(1, PASSAGE, score=3), cand(2, copy, score=2), cand(3, other)],
        A,
        weigh,
    )
    assert [h.candidate.passage_id for h in answer.hits] == [1, 3]


def test_limit_caps_hits() -> None:
    texts = [f"BYD unveiled model number {i} in city {i}." for i in range(20)]
    answer = compose(
        "BYD unveil model", [cand(i, t) for i, t in enumerate(texts)], A, weigh, limit=4
    )
    assert len(answer.hits) == 4


def test_repeated_question_words_count_once() -> None:
    once = compose("BYD robotaxi", [cand(1, PASSAGE)], A, weigh).hits[0].support
    twice = compose("BYD BYD robotaxi byd", [cand(1, PASSAGE)], A, weigh).hits[0].support
    assert once == twice


def test_candidates_are_read_only_until_the_hits_are_found() -> None:
    texts = [f"BYD unveiled model number {i} in city {i}." for i in range(20)]
    pulled: list[int] = []

    def ranked() -> Iterator[Candidate]:
        for i, t in enumerate(texts):
            pulled.append(i)
            yield cand(i, t)

    answer = compose("BYD unveil model", ranked(), A, weigh, limit=3)
    assert len(answer.hits) == 3
    assert pulled == [0, 1, 2]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from("abcdef"), max_size=12),
    st.lists(st.sampled_from("abcdef"), max_size=12),
)
def test_near_duplicate_is_trigram_jaccard_at_the_threshold(a: list[str], b: list[str]) -> None:
    sa, sb = _shingles(a), _shingles(b)
    union = sa | sb
    exact = bool(sa) and bool(sb) and len(sa & sb) / len(union) >= DUPLICATE_JACCARD
    assert _near_duplicate(sa, sb) == exact
