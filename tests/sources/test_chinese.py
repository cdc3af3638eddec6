"""Chinese articles: a GBK page, pasted text and a .txt file are added and answer Chinese questions.

Regression tests for the trial's bug 1: the 20-word minimum counted words
between spaces, and Chinese has none, so no Chinese article could be added.
"""

from __future__ import annotations

from bot.core import render
from bot.core.ingest import Ingestion
from tests.chinese import BYD_ZH, BYD_ZH_HEADING, BYD_ZH_TITLE, SHORT_ZH
from tests.sources.webserver import Page, WebServer

M = render.console_markup(ansi=False)
QUESTION = "比亚迪的闪充平台五分钟能增加多少续航？"


def gbk_page() -> bytes:
    """A Chinese news page as many Chinese sites still serve it: GBK, declared in <meta>."""
    paragraphs = "".join(f"<p>{p}</p>" for p in BYD_ZH[:2])
    rest = "".join(f"<p>{p}</p>" for p in BYD_ZH[2:])
    html = (
        '<!doctype html><html><head><meta http-equiv="Content-Type" '
        'content="text/html; charset=gbk">'
        f"<title>{BYD_ZH_TITLE}_汽车频道_中国科技网</title>"
        '<meta property="og:site_name" content="中国科技网">'
        '<meta property="article:published_time" content="2025-04-23T08:00:00+08:00">'
        "</head><body><nav><a href='/'>首页</a> | <a href='/auto'>汽车</a></nav>"
        f"<article><h1>{BYD_ZH_TITLE}</h1>{paragraphs}<h2>{BYD_ZH_HEADING}</h2>{rest}</article>"
        "<footer>版权所有 中国科技网</footer></body></html>"
    )
    return html.encode("gbk")


def best_title(ingestion: Ingestion, question: str) -> str | None:
    answer = ingestion._corpus.answer(question)
    return None if answer.abstained else answer.hits[0].candidate.title


def test_a_gbk_chinese_page_is_added_and_answers_a_chinese_question(
    web: WebServer, ingestion: Ingestion
) -> None:
    web.route("/byd-zh.html", Page(body=gbk_page(), content_type="text/html"))
    assert best_title(ingestion, QUESTION) is None
    report = ingestion.add_url(web.url("/byd-zh.html"))
    assert report.error is None, report.error
    [added] = report.added
    assert added.title == BYD_ZH_TITLE
    assert added.publisher == "中国科技网"
    assert added.passages >= 2
    assert best_title(ingestion, QUESTION) == BYD_ZH_TITLE
    hit = ingestion._corpus.answer(QUESTION).hits[0]
    assert "四百公里" in hit.sentence.text


def test_pasted_chinese_text_is_added_with_its_first_sentence_as_title(
    ingestion: Ingestion,
) -> None:
    report = ingestion.add_text("\n".join(BYD_ZH))
    assert report.error is None, report.error
    title = report.added[0].title
    assert title.startswith("比亚迪周三在上海车展上发布了五款新的电动汽车，")
    assert title.endswith("…")
    assert best_title(ingestion, QUESTION) == report.added[0].title


def test_a_chinese_txt_file_is_added(ingestion: Ingestion) -> None:
    data = ("\n\n".join(BYD_ZH)).encode("utf-8")
    report = ingestion.add_document("byd-zh.txt", data)
    assert report.error is None, report.error
    assert report.added[0].passages == 4
    assert best_title(ingestion, QUESTION) == report.added[0].title


def test_a_chinese_stub_is_still_too_short(ingestion: Ingestion) -> None:
    report = ingestion.add_text(SHORT_ZH * 2)
    assert report.error == "that is too short for an article (at least 20 words, please)"
