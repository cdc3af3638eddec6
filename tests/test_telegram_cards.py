"""Telegram's rules on what the bot renders: message size, valid HTML, callback data.

The HTML oracle is the Bot API test server's parser (tests/e2e/telegram_html.py),
written independently of the splitter under test.
"""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.service import AnswerPage, TechBrief
from bot.telegram.callbacks import (
    MAX_CALLBACK_BYTES,
    Button,
    ChangeTime,
    NextHit,
    SetTime,
    ShowSource,
    TypeTime,
    Unsubscribe,
    encode_callback,
    encode_subscription_callback,
    parse_callback,
    parse_subscription_callback,
    question_id,
)
from bot.telegram.cards import answer_reply, card_html, inline_articles
from bot.telegram.split import MAX_MESSAGE_UNITS, split_html, utf16_length, visible_text
from retrieval.answer import Answer, Candidate, Highlighted, Hit
from retrieval.query import Concept, Query
from tests.e2e.telegram_html import parse_html, utf16_units

# -- random Telegram HTML ---------------------------------------------------------------

_ELEMENTS = [
    ("b", ""),
    ("strong", ""),
    ("i", ""),
    ("u", ""),
    ("s", ""),
    ("tg-spoiler", ""),
    ("span", ' class="tg-spoiler"'),
    ("a", ' href="https://example.com/a?b=1&amp;c=2"'),
    ("blockquote", " expandable"),
    ("code", ""),
    ("pre", ""),
]
_ALPHABET = st.one_of(
    st.characters(exclude_categories=("Cs",)),
    st.sampled_from(
        ["\n", "\n\n", " ", ". ", "&", "<", ">", '"', "😀", "👍🏽", "e\u0301", "中文。"]
    ),
)
_TEXT = st.lists(_ALPHABET, max_size=40).map("".join)


@st.composite
def _markup(draw: st.DrawFn, depth: int = 0, inside: frozenset[str] = frozenset()) -> str:
    """Well-formed Telegram HTML: nothing inside code/pre, no nested links or quotes."""
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        allowed = [
            (n, a)
            for n, a in _ELEMENTS
            if not (inside & {"code", "pre"}) and not (n in ("a", "blockquote") and n in inside)
        ]
        if depth < 4 and allowed and draw(st.booleans()):
            name, attributes = draw(st.sampled_from(allowed))
            inner = draw(_markup(depth + 1, inside | {name}))
            parts.append(f"<{name}{attributes}>{inner}</{name}>")
        else:
            parts.append(html.escape(draw(_TEXT), quote=False))
    return "".join(parts)


def _check_chunks(markup: str, chunks: list[str], limit: int) -> None:
    original = parse_html(markup)
    position = 0
    for chunk in chunks:
        parsed = parse_html(chunk)  # raises if Telegram would refuse it
        assert parsed.text, "empty chunk"
        assert parsed.text == parsed.text.strip(), "whitespace at a chunk's edge"
        assert utf16_units(parsed.text) <= limit
        while original.text[position].isspace() and not parsed.text[0].isspace():
            position += 1
        end = position + len(parsed.text)
        assert original.text[position:end] == parsed.text
        # Every character keeps its formatting across the split.
        assert original.styles[position:end] == parsed.styles
        position = end
    assert original.text[position:].strip() == ""


@pytest.mark.slow
@settings(max_examples=400)
@given(markup=_markup(), limit=st.integers(2, 300))
def test_split_html_chunks_are_valid_small_and_lose_nothing(markup: str, limit: int) -> None:
    _check_chunks(markup, split_html(markup, limit), limit)


@settings(max_examples=30)
@given(
    paragraphs=st.lists(_markup(), min_size=1, max_size=60),
    filler=st.sampled_from(["word ", "长", "😀", "x"]),
    size=st.integers(0, 12_000),
)
def test_split_html_huge_text_fits_telegram(paragraphs: list[str], filler: str, size: int) -> None:
    markup = "\n\n".join(paragraphs) + f"<b>{filler * (size // len(filler))}</b>"
    chunks = split_html(markup)
    _check_chunks(markup, chunks, MAX_MESSAGE_UNITS)


def test_split_prefers_paragraphs_then_lines_then_sentences() -> None:
    assert split_html("aaaa\n\nbbbb\ncccc", 12) == ["aaaa", "bbbb\ncccc"]
    assert split_html("aaaa bbbb\ncccc dddd", 12) == ["aaaa bbbb", "cccc dddd"]
    assert split_html("One two. Three four five", 12) == ["One two.", "Three four", "five"]
    assert split_html("abcdefghij", 4) == ["abcd", "efgh", "ij"]


def test_split_reopens_elements_across_the_cut() -> None:
    chunks = split_html("<blockquote expandable>one <b>two\n\nthree</b> four</blockquote>", 10)
    assert chunks == [
        "<blockquote expandable>one <b>two</b></blockquote>",
        "<blockquote expandable><b>three</b> four</blockquote>",
    ]


def test_split_never_cuts_an_entity_or_a_tag() -> None:
    markup = "&lt;" * 10 + '<a href="https://x.org/?a=1&amp;b=2">' + "&amp;" * 10 + "</a>"
    chunks = split_html(markup, 7)
    for chunk in chunks:
        parse_html(chunk)  # raises on a cut entity or an unbalanced tag
        assert utf16_length(visible_text(chunk)) <= 7
    assert "".join(visible_text(chunk) for chunk in chunks) == visible_text(markup)
    assert all('<a href="https://x.org/?a=1&amp;b=2">' in c for c in chunks if "&amp;" in c)


def test_split_keeps_a_character_with_its_combining_mark() -> None:
    chunks = split_html("abcde\u0301fgh", 5)
    assert chunks == ["abcd", "e\u0301fgh"]


def test_split_counts_utf16_units_like_telegram() -> None:
    assert utf16_length("😀") == 2
    chunks = split_html("😀" * 5, 4)
    assert chunks == ["😀😀", "😀😀", "😀"]


def test_whitespace_only_text_has_no_chunks() -> None:
    assert split_html(" \n\n <b> </b>") == []


# -- answer cards --------------------------------------------------------------------------


def _answer(sentence: str, passage: str, title: str = "A title", hits: int = 1) -> Answer:
    candidate = Candidate(
        passage_id=7, score=3.0, text=passage, heading="Heading", title=title, url="https://x.org/a"
    )
    hit = Hit(
        candidate,
        Highlighted(sentence, ((0, 3),)),
        Highlighted(passage, ((0, 3), (len(passage) - 3, len(passage)))),
        Highlighted("Heading"),
        1.0,
    )
    return Answer("question", Query("question", ()), (hit,) * hits)


@pytest.mark.parametrize("size", [100, 4_000, 20_000, 200_000])
def test_a_card_is_always_one_valid_message(size: int) -> None:
    passage = ("The <robotaxi> & its fleet. " * (size // 28 + 1))[:size]
    page = AnswerPage(_answer(passage[:size], passage, title="T" * size))
    card = card_html(page)
    parsed = parse_html(card)
    assert 0 < utf16_units(parsed.text.strip()) <= MAX_MESSAGE_UNITS
    assert "&lt;robotaxi&gt; &amp;" in card


def test_a_card_that_fits_is_not_shortened() -> None:
    page = AnswerPage(_answer("Short sentence.", "Short sentence. And its passage."))
    assert "Short sentence. And its passage." in visible_text(card_html(page))


def test_answer_reply_buttons(service: TechBrief) -> None:
    answer = service.ask("DeepSeek AI model")
    assert isinstance(answer, Answer)
    qid = question_id(answer.question)
    first = answer_reply(AnswerPage(answer, 0), qid)
    last = answer_reply(AnswerPage(answer, len(answer.hits) - 1), qid)
    assert [b.label for b in first.keyboard[0]] == ["More", "Source"]
    assert first.keyboard[0][0].callback_data == f"m:{qid}:1"
    assert [b.label for b in last.keyboard[0]] == ["Source"]


def test_the_abstention_has_no_buttons() -> None:
    reply = answer_reply(AnswerPage(Answer("q", Query("q", ()), ())), question_id("q"))
    assert reply.keyboard == ()
    assert "I don't have an answer" in visible_text(reply.chunks[0])


def _refusal(question: str, untranslated: bool = False, closest: bool = True) -> Answer:
    concepts = (
        (Concept("天气", 0, 2, ((frozenset({"天气"}),),), ("天气",), 3.0, foreign=True),)
        if untranslated
        else ()
    )
    weak = _answer("Pony.ai & WeRide <filed>.", "Pony.ai & WeRide <filed>.").hits
    return Answer(question, Query(question, concepts), (), weak if closest else (), topic="ipo")


def test_the_refusal_offers_the_closest_passage_and_a_question_from_the_nearest_topic() -> None:
    reply = answer_reply(AnswerPage(_refusal("How much did Pony.ai raise?")), question_id("q"))
    [chunk] = reply.chunks
    parse_html(chunk)  # Telegram's rules: only its tags, entities escaped
    text = visible_text(chunk)
    assert text.startswith("I don't have an answer to that in my articles.")
    # Marked as not an answer, quoted, escaped, with its source.
    assert "The closest I found (not an answer to your question):" in text
    assert "Pony.ai & WeRide <filed>." in text
    assert "&amp; WeRide &lt;filed&gt;" in chunk
    assert "📰 A title" in text
    # The suggestion comes from the nearest topic (IPOs here), not always the first one.
    assert text.endswith("Try: Why is China fast-tracking tech IPOs?")
    assert "None of my articles says" not in text
    assert reply.keyboard == ()


def test_the_refusal_of_unmapped_chinese_says_the_articles_are_in_english() -> None:
    reply = answer_reply(AnswerPage(_refusal("天气", untranslated=True)), question_id("q"))
    text = visible_text(reply.chunks[0])
    assert "None of my articles says 天气." in text


def test_a_refusal_with_nothing_close_lists_the_topics() -> None:
    reply = answer_reply(AnswerPage(_refusal("Who won?", closest=False)), question_id("q"))
    text = visible_text(reply.chunks[0])
    assert "I can answer questions about AI models, electric vehicles" in text
    assert "The closest I found" not in text


def test_inline_articles_are_at_most_ten_with_plain_descriptions() -> None:
    articles = inline_articles(_answer("The <b> sentence & more.", "Passage.", hits=12))
    assert len(articles) == 10
    assert len({a.result_id for a in articles}) == 10
    assert all(len(a.result_id.encode()) <= 64 for a in articles)
    assert articles[0].description == "The <b> sentence & more."
    assert articles[0].source_url == "https://x.org/a"
    parse_html(articles[0].message_html)


def test_inline_articles_leave_out_links_telegram_would_refuse() -> None:
    answer = _answer("s", "p")
    bad = Answer(
        "q",
        (),
        (
            Hit(
                Candidate(1, 1.0, "p", None, "t", url="javascript:alert(1)"),
                answer.hits[0].sentence,
                answer.hits[0].passage,
                None,
                1.0,
            ),
        ),
    )
    assert inline_articles(bad)[0].source_url is None


# -- callback data -------------------------------------------------------------------------


def test_question_ids_are_short_and_stable() -> None:
    assert question_id("Who makes chips?") == question_id("Who makes chips?")
    assert question_id("Who makes chips?") != question_id("Who makes chips")
    assert len(question_id("x" * 10_000)) == 12


@given(question=st.text(), index=st.integers(0, 999), passage=st.integers(1, 10**17))
def test_callback_data_round_trips_within_64_bytes(question: str, index: int, passage: int) -> None:
    for action in (NextHit(question_id(question), index), ShowSource(passage)):
        data = encode_callback(action)
        assert len(data.encode()) <= MAX_CALLBACK_BYTES
        assert parse_callback(data) == action


@given(
    subscription=st.integers(1, 10**18 - 1),
    card=st.booleans(),
    message=st.one_of(st.none(), st.integers(1, 10**18 - 1)),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
)
def test_subscription_callback_data_round_trips_within_64_bytes(
    subscription: int, card: bool, message: int | None, hour: int, minute: int
) -> None:
    # A /subscriptions card's buttons and its picker's say which card to edit.
    for action in (
        Unsubscribe(subscription, card),
        ChangeTime(subscription, card),
        SetTime(subscription, f"{hour:02d}:{minute:02d}", message),
        TypeTime(subscription, message),
    ):
        data = encode_subscription_callback(action)
        assert len(data.encode()) <= MAX_CALLBACK_BYTES
        assert parse_subscription_callback(data) == action


@pytest.mark.parametrize(
    "data", ["u:1:d", "u:1:c:c", "t:1:cc", "h:1:0700:0", "h:1:0700:c", "y:1:", "y:1:-5"]
)
def test_forged_subscription_callback_data_is_refused(data: str) -> None:
    assert parse_subscription_callback(data) is None


@given(data=st.one_of(st.text(), st.binary().map(lambda b: b.decode("latin-1"))))
def test_any_other_callback_data_is_not_ours(data: str) -> None:
    action = parse_callback(data)
    assert action is None or encode_callback(action) == data


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "m:",
        "m:short:1",
        "m:AAAAAAAAAAAA:-1",
        "m:AAAAAAAAAAAA:1000",
        "m:AAAAAAAAAAAA:01",
        "s:0",
        "s:-5",
        "s:99999999999999999999",
        "x:AAAAAAAAAAAA:1",
        "m:AAAAAAAAAAAA:1\n",
        "S:12",
        "{'action': 'more'}",
        "m:AAAAAAAAAAAA:1" + " " * 60,
    ],
)
def test_forged_callback_data_is_refused(data: str | None) -> None:
    assert parse_callback(data) is None


def test_buttons_refuse_oversized_callback_data() -> None:
    with pytest.raises(ValueError, match="64"):
        Button("More", callback_data="x" * 65)
    with pytest.raises(ValueError, match="64"):
        Button("More", callback_data="é" * 33)
    with pytest.raises(ValueError, match="either"):
        Button("Source")
    assert Button("More", callback_data="x" * 64).callback_data == "x" * 64
