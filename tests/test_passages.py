from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from retrieval.passages import (
    MAX_WORDS,
    MIN_WORDS,
    count_words,
    derive_title,
    is_heading,
    split_passages,
    split_sentences,
)
from storage.seed import read_seed_articles
from tests.chinese import BYD_ZH, BYD_ZH_HEADING, SHORT_ZH


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
    assert len(title) <= 61  # short: a card may show it under its sentence
    assert derive_title("Short first sentence. Then more.") == "Short first sentence"


# -- Chinese: no spaces between words, sentences end with 。！？ ------------------------------


def test_chinese_words_are_counted_without_spaces() -> None:
    paragraph = BYD_ZH[0]  # 50 Han characters; jieba finds 27 words in it
    assert " " not in paragraph
    assert 22 <= count_words(paragraph) <= 32
    assert count_words("".join(BYD_ZH)) >= 4 * MIN_WORDS  # an article, not a stub
    assert count_words(SHORT_ZH) < 10
    assert count_words("BYD 的 U.S. 计划") == 4  # BYD, U.S., and the three Han characters
    assert count_words("Robotaxi fleets — in Wuhan") == 5  # text without Chinese: as split()


def test_chinese_paragraphs_are_passages_and_a_chinese_heading_is_context() -> None:
    text = "\n".join([BYD_ZH[0], BYD_ZH[1], BYD_ZH_HEADING, BYD_ZH[2], BYD_ZH[3]])
    passages = split_passages(text)
    assert [p.text for p in passages] == BYD_ZH  # each about 30 words: none is merged
    assert [p.heading for p in passages] == [None, None, BYD_ZH_HEADING, BYD_ZH_HEADING]
    assert not is_heading(BYD_ZH[0])
    assert is_heading(BYD_ZH_HEADING)


def test_a_long_chinese_paragraph_is_cut_at_its_sentence_ends() -> None:
    sentences = [s.rstrip("。") + "。" for p in BYD_ZH for s in p.split("，")]
    paragraph = "".join(sentences * 3)  # about 660 characters, no spaces
    assert count_words(paragraph) > MAX_WORDS
    passages = split_passages(paragraph)
    assert len(passages) > 1
    for p in passages:
        assert count_words(p.text) <= MAX_WORDS
        assert p.text.endswith("。")
        assert " " not in p.text
    assert "".join(p.text for p in passages) == paragraph  # nothing lost, nothing added


def test_short_chinese_paragraphs_merge_without_spaces() -> None:
    passages = split_passages("\n".join([SHORT_ZH, "蔚来也有计划。", BYD_ZH[1]]))
    assert [p.text for p in passages] == [SHORT_ZH + "蔚来也有计划。" + BYD_ZH[1]]


def test_derive_title_of_chinese_text() -> None:
    assert derive_title(SHORT_ZH + BYD_ZH[1]) == "比亚迪发布了新车"
    long_title = derive_title("".join(BYD_ZH))
    assert long_title.startswith("比亚迪周三在上海车展上发布了")
    assert long_title.endswith("…")
    assert len(long_title) <= 31  # a Chinese character is as wide as two Latin letters
    assert derive_title("Short first sentence. Then more.") == "Short first sentence"


chinese_paragraph = st.lists(
    st.sampled_from(["比亚迪", "电动汽车", "芯片", "上市", "政策", "增长", "。", "，", "EV"]),
    min_size=1,
    max_size=150,
).map("".join)


@given(st.lists(chinese_paragraph, max_size=8))
def test_no_chinese_characters_are_lost_or_repeated(paragraphs: list[str]) -> None:
    passages = split_passages("\n".join(paragraphs))
    content = [p for p in paragraphs if p.strip() and not is_heading(p.strip())]
    assert "".join(p.text for p in passages).replace(" ", "") == "".join(content)
    for p in passages:
        assert p.text
        assert p.text.strip() == p.text


def test_list_items_are_text_not_headings() -> None:
    # trafilatura writes list items as "- item"; short ones do not end like sentences.
    text = "\n".join(
        ["Unitree in numbers", "- Revenue passed 1 billion yuan", "• G1 at 99,000 yuan"]
    )
    assert is_heading("Unitree in numbers")
    assert not is_heading("- Revenue passed 1 billion yuan")
    [passage] = split_passages(text)
    assert passage.heading == "Unitree in numbers"
    assert passage.text == "- Revenue passed 1 billion yuan • G1 at 99,000 yuan"
