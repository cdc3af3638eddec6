"""The conversation core and the console chat on top of it, without subprocesses."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.console import ConsoleChat, console_lines, run_console
from bot.core import render, texts
from bot.core.service import (
    MAX_QUESTION_CHARS,
    AnswerPage,
    Conversation,
    Refusal,
    TechBrief,
    asks_for_more,
    clean_text,
    small_talk,
)
from retrieval.topics import TOPICS

BAD_INPUTS = {
    "empty": "",
    "blank": "   \t  ",
    "huge": "robotaxi " * 1200,
    "stopwords": "what is the of and to",
    "punctuation": "?!?!... ;;; --- ***",
    "emoji": "😀🚗🤖🇨🇳",
    "markup only": "<b></b><i></i>",
    "surrogates": "\udcff\udcfe\udc80",
    "control": "\x00\x01\x1b[31m\x07",
}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_gets_a_short_clear_refusal(service: TechBrief, name: str) -> None:
    result = service.ask(BAD_INPUTS[name])
    assert isinstance(result, Refusal)
    assert 20 < len(result.message) < 300
    assert "Traceback" not in result.message


def test_huge_question_says_how_long_it_was(service: TechBrief) -> None:
    result = service.ask("x" * 10_000)
    assert isinstance(result, Refusal)
    assert "10,000 characters" in result.message
    assert f"{MAX_QUESTION_CHARS:,}" in result.message


def test_html_in_a_question_is_read_as_text(service: TechBrief) -> None:
    result = service.ask("<b>BYD</b> <script>alert(1)</script> EV models &amp; unveil")
    assert not isinstance(result, Refusal)
    assert not result.abstained
    assert "BYD unveiled" in result.hits[0].sentence.text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<script>alert(1)</script>Which EV makers?", "Which EV makers?"),
        ("<SCRIPT type='x'>steal()</SCRIPT >BYD", "BYD"),
        ("<style>body { color: red }</style>Baidu avatars", "Baidu avatars"),
        ("&lt;script&gt;alert(2)&lt;/script&gt;Huawei", "Huawei"),
        ("<b>How many</b> EV models?", "How many EV models?"),
        ("<script>never closed", "never closed"),
        ("a < b and c > d", "a < b and c > d"),
    ],
)
def test_markup_leaves_no_words_behind(raw: str, clean: str) -> None:
    """Script and style contents go with their tags: "alert" is no word of the question."""
    assert clean_text(raw) == clean


def test_clean_text() -> None:
    assert clean_text(" a\x00b\u2028c <i>d</i> &lt;e&gt; \udcff ") == "a b c d"


def test_more_pages_to_the_end(service: TechBrief) -> None:
    chat = Conversation(service)
    assert isinstance(chat.more(), Refusal)  # nothing asked yet
    first = chat.ask("AI investment in China")
    assert isinstance(first, AnswerPage)
    assert first.hit is not None
    seen = [first.hit.candidate.passage_id]
    page = first
    while page.has_more:
        nxt = chat.more()
        assert isinstance(nxt, AnswerPage)
        assert nxt.hit is not None
        seen.append(nxt.hit.candidate.passage_id)
        page = nxt
    assert len(seen) == len(first.answer.hits) >= 2
    assert len(set(seen)) == len(seen)
    end = chat.more()
    assert isinstance(end, Refusal)
    assert "No more results" in end.message


def test_console_chat_transcript(service: TechBrief) -> None:
    chat = ConsoleChat(service, render.console_markup(ansi=False))
    assert "Commands" in (chat.reply("/help") or "")
    answer = chat.reply("How many EV models did BYD unveil?") or ""
    assert "**BYD**" in answer
    assert "**unveiled**" in answer
    assert "CNBC" in answer
    assert "Apr 2025 (approx.)" in answer
    assert "Usage: /ask" in (chat.reply("/ask") or "")
    assert "Unknown command /nope" in (chat.reply("/nope") or "")
    assert "I don't have an answer" in (chat.reply("Who won the World Cup?") or "")
    assert "#1 Seed articles" in (chat.reply("/sources") or "")
    assert "25 passages" in (chat.reply("/stats") or "")
    assert chat.reply("/quit") is None


def test_console_reads_invalid_utf8_and_keeps_going(service: TechBrief) -> None:
    stdin = io.BytesIO(b"\xff\xfe\xfd\n\xc3\x28 BYD models\nmore\n/quit\nnever read\n")
    out = io.StringIO()
    assert run_console(service, console_lines(stdin), out) == 0
    text = out.getvalue()
    assert "unveiled five new EV" in text
    assert "never read" not in text
    assert "Traceback" not in text


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=2000))
def test_any_text_gets_a_reply(service: TechBrief, text: str) -> None:
    chat = ConsoleChat(service, render.console_markup(ansi=False))
    reply = chat.reply(text)
    command = text.strip().split(" ", 1)[0].lower()
    if not text.strip():
        assert reply == ""
    elif command in ("/quit", "/exit") or text.strip().lower() in ("quit", "exit"):
        assert reply is None
    else:
        # Every other text gets a non-empty answer, refusal or help: never silence.
        assert reply is not None
        assert reply.strip()


def test_quit_with_words_after_it_still_quits(service: TechBrief) -> None:
    chat = ConsoleChat(service, render.console_markup(ansi=False))
    assert chat.reply("/quit now") is None
    assert chat.reply("quit smoking in China?") is not None  # a question, not a command


def test_questions_are_counted_per_day_for_stats(service: TechBrief) -> None:
    assert service.stats_report().questions_today == 0
    service.ask("How many EV models did BYD unveil?")
    service.ask("the of and")  # refused: not a question asked of the corpus
    service.page("How many EV models did BYD unveil?", 1)  # "More": the same question
    service.ask("Which robotaxi firms filed for Hong Kong IPOs?")
    report = service.stats_report()
    assert report.questions_today == 2
    assert report.corpus.index_bytes > 0
    assert report.corpus.database_bytes > 0
    assert "Questions today: 2" in render.stats_report(report, render.console_markup(False))


@pytest.mark.parametrize(
    ("question", "closest", "suggested"),
    [
        ("How much did Pony.ai raise in its IPO?", "Pony.ai and WeRide", "fast-tracking tech IPOs"),
        ("Who is the CEO of Baidu?", "Baidu says", None),
        ("比亚迪的天气怎么样?", "BYD", "EV models did BYD unveil"),
    ],
)
def test_refusals_quote_the_closest_passage_and_suggest_from_the_nearest_topic(
    service: TechBrief, question: str, closest: str, suggested: str | None
) -> None:
    answer = service.ask(question)
    assert not isinstance(answer, Refusal)
    assert answer.abstained
    text = render.answer_card(AnswerPage(answer), render.console_markup(ansi=False))
    assert text.startswith("I don't have an answer to that in my articles.")
    quoted = text.split("The closest I found (not an answer to your question):\n")[1]
    assert closest in quoted.replace("**", "")
    if suggested:
        assert suggested in text.splitlines()[-1]
    assert ("None of my articles says" in text) is question.startswith("比亚迪")


# -- small talk and "more" (user trial: greetings got "I don't have an answer") ----------

SMALL_TALK = {
    "hello": texts.greeting(TOPICS[1].example),
    "Hi!": texts.greeting(TOPICS[1].example),
    "hey there 👋": texts.greeting(TOPICS[1].example),
    "你好": texts.greeting(TOPICS[1].example),
    "thanks!": texts.THANKS_REPLY,
    "Thank you": texts.THANKS_REPLY,
    "thanks, bot": texts.THANKS_REPLY,
    "谢谢！": texts.THANKS_REPLY,
    "ok": texts.ACKNOWLEDGED,
    "lol": texts.ACKNOWLEDGED,
    "bye": texts.FAREWELL,
}


@pytest.mark.parametrize("said", SMALL_TALK)
def test_small_talk_gets_a_short_friendly_reply(service: TechBrief, said: str) -> None:
    talk = small_talk(said)
    assert talk is not None
    assert talk.message == SMALL_TALK[said]
    assert "\n" not in talk.message
    assert len(talk.message) < 120
    # The console says the same, never the refusal; no question is counted.
    chat = ConsoleChat(service, render.console_markup(ansi=False))
    assert chat.reply(said) == SMALL_TALK[said]
    assert service.stats_report().questions_today == 0


@pytest.mark.parametrize(
    "question",
    [
        "hello kitty EV sales?",
        "thanks to what did BYD grow?",
        "OK, what did BYD unveil?",
        "great wall motor",
        "你好，比亚迪发布了什么？",
        "more EV models?",
        "next BYD model",
    ],
)
def test_questions_that_start_like_small_talk_are_questions(question: str) -> None:
    assert small_talk(question) is None
    assert not asks_for_more(question)


@pytest.mark.parametrize("said", ["more", "More.", "next", "more results", "next result", "更多"])
def test_words_asking_for_the_next_result(said: str) -> None:
    assert asks_for_more(said)
    assert small_talk(said) is None


def test_console_more_words_page_like_more(service: TechBrief) -> None:
    chat = ConsoleChat(service, render.console_markup(ansi=False))
    assert (chat.reply("AI model") or "").rstrip().endswith('(type "more" for the next result)')
    assert "Result 2 of 5" in (chat.reply("more results") or "")
    assert "Result 3 of 5" in (chat.reply("Next.") or "")
    assert "Result 4 of 5" in (chat.reply("/ask more") or "")


def test_text_without_searchable_words_is_marked_so(service: TechBrief) -> None:
    for text in ("", "the of and", "?", "😀"):
        result = service.ask(text)
        assert isinstance(result, Refusal)
        assert result.unsearchable
    result = service.ask("x" * 2000)
    assert isinstance(result, Refusal)
    assert not result.unsearchable
