from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from retrieval.passages import (
    MAX_WORDS,
    MIN_WORDS,
    derive_title,
    is_heading,
    split_passages,
    split_sentences,
)
from storage.seed import read_seed_articles


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def test_seed_article_headings_become_context() -> None:
    cnbc = read_seed_articles()[0].article
    passages = split_passages(cnbc.body)
    assert passages[0].heading is None
    assert passages[0].text.startswith("While global attention fixates")
    policy = [p for p in passages if p.heading == "Policy As Catalyst, Not Crutch"]
    assert [p.text[:20] for p in policy] == ["Unlike past cycles w", "DeepSeek’s release o"]
    assert all(p.heading != p.text for p in passages)
    assert not any(p.text == "Generative AI Becomes A Strategic Pillar" for p in passages)


def test_long_paragraph_is_cut_at_sentence_boundaries() -> None:
    sentence = "Robotaxi fleets in Wuhan grew quickly over the last year of testing. "
    text = sentence * 40  # 480 words in one paragraph
    passages = split_passages(text)
    assert len(passages) > 1
    for p in passages:
        assert len(p.text.split()) <= MAX_WORDS
        assert p.text.endswith(".")
    assert sum(len(p.text.split()) for p in passages) == len(text.split())


def test_tiny_paragraphs_are_merged() -> None:
    text = "BYD sells cars abroad now.\nNio too has plans.\n" + "Zeekr grows fast. " * 10
    passages = split_passages(text)
    assert len(passages) == 1
    assert passages[0].text.startswith("BYD sells cars abroad now. Nio too has plans.")


def test_short_trailing_paragraph_joins_the_previous_one() -> None:
    text = ("Huawei supplies vehicle software to carmakers across China. " * 5) + "\nThat is all."
    passages = split_passages(text)
    assert len(passages) == 1
    assert passages[0].text.endswith("That is all.")
    assert len(passages[0].text.split()) >= MIN_WORDS


def test_sentences_survive_abbreviations_and_numbers() -> None:
    text = "U.S. chip rules did not stop Pony.ai. It cut costs by 80% to $690,000 in 2025."
    assert [s.text for s in split_sentences(text)] == [
        "U.S. chip rules did not stop Pony.ai.",
        "It cut costs by 80% to $690,000 in 2025.",
    ]


@given(st.text(max_size=400))
def test_sentence_offsets_match_text(text: str) -> None:
    for s in split_sentences(text):
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip()


paragraph = st.lists(
    st.sampled_from(
        ["China", "BYD", "robotaxi", "chips", "IPO", "policy", "grew", "fast.", "Beijing", "said"]
    ),
    min_size=1,
    max_size=60,
).map(" ".join)


@given(st.lists(paragraph, max_size=12))
def test_no_words_are_lost_or_repeated(paragraphs: list[str]) -> None:
    passages = split_passages("\n".join(paragraphs))
    content = [p for p in paragraphs if p.strip() and not is_heading(p.strip())]
    assert _words(" ".join(p.text for p in passages)) == _words(" ".join(content))
    for p in passages:
        assert p.text
        assert p.text.strip() == p.text
        assert p.heading is None or is_heading(p.heading.split(" — ")[-1])


def test_derive_title_uses_the_first_sentence() -> None:
    body = read_seed_articles()[1].article.body
    title = derive_title(body)
    assert title.startswith("In a bold move to bolster its position")
    assert title.endswith("…")
    assert len(title) <= 91
    assert derive_title("Short first sentence. Then more.") == "Short first sentence"
