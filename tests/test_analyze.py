from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retrieval.analyze import Analyzer

A = Analyzer()
OTHER = Analyzer()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("China's", ["china"]),
        ("China’s chips", ["china", "chip"]),
        ("Pony.ai", ["poni", "ai", "pony.ai"]),
        ("5G networks", ["5g", "network"]),
        ("cuts costs by 80%", ["cut", "cost", "80%"]),
        ("payouts of up to $690,000", ["payout", "$690,000"]),
        ("U.S. chip restrictions", ["us", "chip", "restrict"]),
        ("e-commerce", ["e", "commerc", "ecommerc"]),
        ("1,000 passages", ["1,000", "passag"]),
        ("ＡＩ　ＭＯＤＥＬＳ", ["ai", "model"]),  # full-width forms fold (NFKC)
        ("didn’t exist", ["exist"]),
        ("what is the", []),
        ("?!… 😀 🚗", []),
    ],
)
def test_terms(text: str, expected: list[str]) -> None:
    assert A.terms(text) == expected


def test_question_and_passage_spellings_meet() -> None:
    passage = set(A.terms("AI-driven content creation for e-commerce in the U.S."))
    for question in ("ecommerce", "e commerce", "AI driven", "US"):
        assert set(A.terms(question)) & passage, question


def test_chinese_text_is_segmented_into_words() -> None:
    terms = A.terms("比亚迪发布了五款新车型")
    assert "比亚迪" in terms
    assert "发布" in terms
    assert "了" not in terms  # a function word


def test_mixed_scripts_keep_both() -> None:
    terms = A.terms("小马智行 Pony.ai 发布 robotaxi")
    assert "pony.ai" in terms
    assert "robotaxi" in terms
    assert "发布" in terms


def test_spans_point_at_the_surface_words() -> None:
    text = "BYD unveiled five new EV models in the U.S."
    spans = list(A.spans(text))
    surfaces = [text[s.start : s.end] for s in spans]
    assert surfaces == ["BYD", "unveiled", "five", "new", "EV", "models", "U.S"]
    assert spans[1].terms == ("unveil",)


@given(st.text(max_size=300))
def test_terms_are_nonempty_and_spans_well_formed(text: str) -> None:
    terms = A.terms(text)
    assert all(t and not any(c.isspace() for c in t) for t in terms)
    previous_end = 0
    for span in A.spans(text):
        assert 0 <= span.start < span.end <= len(text)
        assert span.start >= previous_end or span.end <= previous_end  # Han words may nest
        previous_end = max(previous_end, span.end)
        assert span.terms


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_analysis_is_deterministic(text: str) -> None:
    assert OTHER.terms(text) == A.terms(text)
    assert list(A.spans(text)) == list(OTHER.spans(text))


def test_a_character_nfkc_spells_as_words_is_one_term() -> None:
    """Found by the property test above: NFKC turns "ﷺ" into four Arabic words."""
    terms = A.terms("ﷺ")
    assert terms
    assert all(not any(c.isspace() for c in t) for t in terms)
