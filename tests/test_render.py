"""Stored text reaches readers safely: links only to http(s), no terminal escapes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core import render
from bot.core.corpus import Corpus
from bot.core.service import AnswerPage
from bot.telegram.cards import card_html, source_reply
from retrieval.answer import Answer, Candidate, Highlighted, Hit
from storage.articles import NewArticle
from storage.sources import add_source, list_sources
from tests.conftest import NOW
from tests.e2e.telegram_html import parse_html
from tests.test_cli import run

HOSTILE = "\x1b[31mRED\x1b[0m \x1b]0;owned\x07 bell\x07 back\rspace \u202eevil\u202c \x9b2J x\x00y"


def _page(url: str | None, text: str = "BYD unveiled five new EV models.") -> AnswerPage:
    candidate = Candidate(
        passage_id=1, score=2.0, text=text, heading=text, title=text, url=url, publisher=text
    )
    hit = Hit(candidate, Highlighted(text, ((0, 3),)), Highlighted(text), Highlighted(text), 1.0)
    return AnswerPage(Answer("q", (), (hit, hit)))


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "//evil.example/x",
        "/relative/path",
        "ftp://files.example/x",
        "http:///no-host",
        "https://x.org/a b",
        "https://x.org/\x00",
        "tg://resolve?domain=x",
    ],
)
def test_a_stored_url_without_http_s_never_becomes_a_link(url: str) -> None:
    page = _page(url)
    for markup in (card_html(page), *source_reply(page.answer.hits[0].candidate).chunks):
        assert "<a " not in markup
        parsed = parse_html(markup)  # still valid Telegram HTML
        assert "BYD unveiled" in parsed.text


@pytest.mark.parametrize("url", ["https://x.org/a?b=1&c=<2>", "HTTP://EXAMPLE.COM/", "http://x"])
def test_http_s_urls_are_links_with_the_url_escaped(url: str) -> None:
    markup = card_html(_page(url))
    assert re.search(r'<a href="http', markup, re.IGNORECASE)
    assert "<2>" not in markup
    parse_html(markup)


@pytest.mark.parametrize("ansi", [False, True])
def test_the_console_prints_no_control_characters_of_stored_text(ansi: bool) -> None:
    markup = render.console_markup(ansi)
    page = _page(f"https://x.org/{HOSTILE}", HOSTILE)
    candidate = page.answer.hits[0].candidate
    out = "\n".join(
        [
            render.answer_card(page, markup),
            render.other_hits(page, markup, limit=5),
            render.source_card(candidate, markup),
        ]
    )
    ours = re.compile(r"\x1b\[[013]m")  # the bold and italic the console itself adds
    leftover = ours.sub("", out) if ansi else out
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", leftover), repr(leftover)
    assert "RED" in out
    assert "owned" not in out  # a terminal title sequence goes whole
    assert ("\x1b[1m" in out) is ansi


def test_techbrief_ask_prints_hostile_article_text_harmlessly(tmp_path: Path) -> None:
    corpus = Corpus.open(tmp_path / "t.db", NOW)
    with corpus.db.atomic():
        source = add_source(
            corpus.db, kind="text", title=f"Feed {HOSTILE}", now=NOW, url="javascript:x"
        )
    body = (
        f"Zeekr \x1b[2J\x1b[Hwiped the screen while announcing {HOSTILE} its new 001 FR "
        "hypercar with four motors and a 1,265 horsepower drivetrain in Ningbo."
    )
    corpus.add_article(source, NewArticle(title=f"Zeekr {HOSTILE}", body=body), NOW)
    assert len(list_sources(corpus.db)) == 2
    corpus.close()
    for args in (("ask", "Zeekr hypercar motors"), ("sources",)):
        proc = run(tmp_path, *args)
        assert proc.returncode == 0, proc.stderr
        assert "Zeekr" in proc.stdout or "Feed" in proc.stdout
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", proc.stdout)


ONE_SENTENCE = (
    "Pony.ai began charging fares for fully driverless robotaxi rides in Guangzhou's Nansha "
    "district, becoming the first company to win such a permit in the city."
)


@pytest.mark.parametrize("url", [None, "https://news.example/pony"])
def test_a_one_sentence_article_shows_its_sentence_once(corpus: Corpus, url: str | None) -> None:
    # Trial rough edge 5: the best sentence, the quoted passage and the title derived from
    # it were the same sentence three times (failed before the fix: three times).
    with corpus.db.atomic():
        source = add_source(corpus.db, kind="text", title="", now=NOW, url=url)
    corpus.add_article(source, NewArticle(title="", body=ONE_SENTENCE, url=url), NOW)
    answer = corpus.answer("Which company began charging fares for driverless robotaxi rides?")
    assert not answer.abstained
    assert answer.hits[0].candidate.title.startswith("Pony.ai began charging fares")
    card = render.answer_card(AnswerPage(answer), render.console_markup(ansi=False))
    assert card.count("win such a permit") == 1
    assert card.count("Nansha") == 1
    credit = next(line for line in card.splitlines() if line.startswith("📰"))
    # Without a publisher or a link the short title names it, never "untitled" (admin trial
    # 2, rough edge 12: "📰 untitled" on every card of a text added with /skip).
    untitled = "📰 Pony.ai began charging fares for fully driverless robotaxi…"
    assert credit == ("📰 news.example <https://news.example/pony>" if url else untitled)


def test_a_real_title_stays_on_the_card(corpus: Corpus) -> None:
    with corpus.db.atomic():
        source = add_source(corpus.db, kind="text", title="", now=NOW)
    article = NewArticle(title="Pony.ai's Nansha fares", body=ONE_SENTENCE, publisher="Wire")
    corpus.add_article(source, article, NOW)
    answer = corpus.answer("Which company began charging fares for driverless robotaxi rides?")
    card = render.answer_card(AnswerPage(answer), render.console_markup(ansi=False))
    assert "📰 Pony.ai's Nansha fares · Wire" in card
    assert card.count("win such a permit") == 1


def test_chinese_words_matched_in_parts_are_bold_as_one() -> None:
    """Spans that touch or overlap are one bold run (a user trial saw "**比亚**迪" and
    "**台積****電****董事**長": the segmenter's overlapping parts were bolded apart)."""
    text = "台積電董事長魏哲家表示，公司 and BYD EVs"
    spans = ((0, 2), (2, 3), (3, 5), (3, 6), (19, 22), (23, 26))
    shown = render._highlighted(Highlighted(text, spans), render.console_markup(ansi=False))
    assert shown == "**台積電董事長**魏哲家表示，公司 and **BYD** **EVs**"
