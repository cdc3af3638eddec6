"""Regression tests for the second admin trial (adding sources), against a web server on
127.0.0.1: headline and publisher, dates a page does not state, HTML sent as text/plain,
charsets that disagree, addresses typed with words, brackets and tracking parameters,
the same feed under another address, a page that names its feed, and feed entries that
fail on every poll."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core import render
from bot.core.ingest import Ingestion
from storage import articles, sources
from tests.sources.conftest import Clock
from tests.sources.test_ingest import BYD, NIO, PONY, answer_titles, atom, rss
from tests.sources.webserver import Page, WebServer, html_page

M = render.console_markup(ansi=False)

JD = [
    "JD.com said on Tuesday it would spend 10 billion yuan on subsidies for its new food "
    "delivery service over the next year, intensifying competition with Meituan.",
    "Richard Liu, JD's founder, said the company had signed up 150,000 restaurants in the "
    "first month and would pay full-time riders social insurance.",
]


def plain_page(title: str, paragraphs: list[str], head: str = "") -> bytes:
    """A page with only a <title> (no og:, no h1, no date) and its text in <div>s."""
    body = "".join(f"<div><p>{p}</p></div>" for p in paragraphs)
    return f"<html><head><title>{title}</title>{head}</head><body>{body}</body></html>".encode()


def passages_of(ingestion: Ingestion, source_id: int | None) -> list[articles.StoredPassage]:
    assert source_id is not None
    return articles.source_passages(ingestion._corpus.db, source_id)


# -- 1. headline and publisher ---------------------------------------------------------


@pytest.mark.parametrize(
    ("page_title", "headline", "publisher"),
    [
        (
            "JD.com launches food delivery subsidies worth 10 billion yuan | Retail Watch",
            "JD.com launches food delivery subsidies worth 10 billion yuan",
            "Retail Watch",
        ),
        (
            "Pony.ai expands robotaxi fleet in Guangzhou - Robo Wire",
            "Pony.ai expands robotaxi fleet in Guangzhou",
            "Robo Wire",
        ),
        (
            "Robo Wire | Baidu expands its robotaxi fleet",
            "Baidu expands its robotaxi fleet",
            "Robo Wire",
        ),
        (
            "JD.com launches food delivery subsidies",
            "JD.com launches food delivery subsidies",
            None,
        ),
    ],
)
def test_a_dotted_name_in_the_headline_keeps_headline_and_publisher_apart(
    web: WebServer, ingestion: Ingestion, page_title: str, headline: str, publisher: str | None
) -> None:
    # Trial bug 1: the title was "Retail Watch" and the publisher "JD.com launches …"
    # (trafilatura takes the part of <title> with a dot for the site name). Failed before.
    web.route("/jd.html", Page(body=plain_page(page_title, JD)))
    report = ingestion.add_url(web.url("/jd.html"))
    [added] = report.added
    assert added.title == headline
    assert added.publisher == (publisher or "127.0.0.1")  # no site name: the host
    assert render.ingest_report(report, M).startswith(f"Added source #2: “{headline}”")


def test_an_h1_headline_with_a_dotted_title_tag_gets_the_site_name_as_publisher(
    web: WebServer, ingestion: Ingestion
) -> None:
    page = plain_page(
        "JD.com launches food delivery subsidies worth 10 billion yuan | Retail Watch",
        ["<h1>JD.com launches subsidies</h1>", *JD],
    )
    web.route("/jd.html", Page(body=page))
    [added] = ingestion.add_url(web.url("/jd.html")).added
    assert (added.title, added.publisher) == ("JD.com launches subsidies", "Retail Watch")


# -- 2. dates ----------------------------------------------------------------------------

LI = [
    "Li Auto said on Friday it would recall 11,411 MEGA minivans made before December 2024 "
    "because of a coolant problem that could cause fires, after one of the vehicles caught "
    "fire on a Shanghai highway.",
    "The company's shares fell 5 percent in Hong Kong, and sales of the minivan in 2025 are "
    "expected to suffer, analysts said.",
]


def test_a_page_without_a_date_gets_none_from_a_year_in_its_text(
    web: WebServer, ingestion: Ingestion
) -> None:
    # Trial bug 2: "made before December 2024" became "1 Jan 2024", shown as exact. Failed before.
    web.route("/li.html", Page(body=plain_page("Li Auto’s MEGA recall", LI)))
    report = ingestion.add_url(web.url("/li.html"))
    [added] = report.added
    assert added.published is None
    assert "2024" not in render.ingest_report(report, M).splitlines()[0]


def test_a_stated_date_is_still_taken(web: WebServer, ingestion: Ingestion) -> None:
    time = '<time datetime="2025-04-18T09:00:00+08:00">18 April 2025</time>'
    meta = '<meta property="article:published_time" content="2025-04-17T08:00:00Z">'
    web.route("/time.html", Page(body=plain_page("Li Auto recalls MEGA", [time, *LI])))
    web.route("/meta.html", Page(body=plain_page("Nio swaps", NIO, head=meta)))
    web.route("/2025/03/09/pony.html", Page(body=plain_page("Pony fares", PONY)))
    assert ingestion.add_url(web.url("/time.html")).added[0].published == "2025-04-18"
    assert ingestion.add_url(web.url("/meta.html")).added[0].published == "2025-04-17"
    assert ingestion.add_url(web.url("/2025/03/09/pony.html")).added[0].published == "2025-03-09"


def test_a_feed_entry_without_dates_has_none_and_one_with_a_date_keeps_the_feeds(
    web: WebServer, ingestion: Ingestion
) -> None:
    web.route("/li.html", Page(body=plain_page("Li Auto’s MEGA recall", LI)))
    web.route("/nio.html", Page(body=plain_page("Nio swaps", NIO)))
    undated = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        f"<item><title>Li recall</title><link>{web.url('/li.html')}</link></item>"
        f"<item><title>Nio swaps</title><link>{web.url('/nio.html')}</link>"
        "<pubDate>Wed, 02 Apr 2025 10:00:00 GMT</pubDate></item></channel></rss>"
    ).encode()
    web.route("/feed.xml", Page(body=undated, content_type="application/rss+xml"))
    report = ingestion.add_url(web.url("/feed.xml"))
    assert {a.title: a.published for a in report.added} == {
        "Li recall": None,
        "Nio swaps": "2025-04-02",
    }


# -- 3. HTML sent as text/plain ------------------------------------------------------------


def test_html_sent_as_text_plain_is_extracted_as_a_page(
    web: WebServer, ingestion: Ingestion
) -> None:
    # Trial bug 3: stored as raw markup ("“<!” · 127.0.0.1", passages of tags). Failed before.
    page = html_page("BYD unveils five new EVs", BYD).replace(
        b"</article>", b"</article><!-- comments --><section id='comments'>great car!!!</section>"
    )
    web.route("/raw/byd.html", Page(body=page, content_type="text/plain; charset=utf-8"))
    web.route("/byd.html", Page(body=page))
    report = ingestion.add_url(web.url("/raw/byd.html"))
    [added] = report.added
    assert (added.title, added.publisher) == ("BYD unveils five new EVs", "Example News")
    text = "\n".join(p.text for p in passages_of(ingestion, report.source_id))
    assert "<" not in text
    assert "great car" not in text
    assert ingestion.add_url(web.url("/byd.html")).known == 1  # the same article


def test_plain_text_with_a_few_angle_brackets_stays_text(
    web: WebServer, ingestion: Ingestion
) -> None:
    body = "\n\n".join([*NIO, "Prices rose <5% in March, and a <b> tag is no page."]).encode()
    web.route("/nio.txt", Page(body=body, content_type="text/plain"))
    report = ingestion.add_url(web.url("/nio.txt"))
    text = "\n".join(p.text for p in passages_of(ingestion, report.source_id))
    assert "<5%" in text


# -- 11. a charset header that contradicts the page -------------------------------------------

ZH = (
    "华为周五在深圳发布了新一代人工智能芯片昇腾910C，公司表示其训练算力比上一代提升约一倍。"
    "该芯片由中芯国际采用七纳米工艺代工生产，预计今年第三季度开始大规模出货。"
)


def test_a_latin1_header_with_a_gbk_meta_tag_is_read_as_gbk(
    web: WebServer, ingestion: Ingestion
) -> None:
    # Trial rough edge 16: Latin-1 decodes any bytes, so the header always "decoded
    # cleanly" into mojibake, and the page had "no article text". Failed before.
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">'
        f"<title>华为发布昇腾910C芯片</title></head><body><article><h1>华为发布昇腾910C芯片</h1>"
        f"<p>{ZH}</p></article></body></html>"
    )
    web.route(
        "/gbk.html", Page(body=html.encode("gbk"), content_type="text/html; charset=iso-8859-1")
    )
    report = ingestion.add_url(web.url("/gbk.html"))
    assert report.error is None, report.error
    assert report.added[0].title == "华为发布昇腾910C芯片"
    assert "昇腾910C" in passages_of(ingestion, report.source_id)[0].text


# -- 6. what an admin types after /addsource ---------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "urls"),
    [
        ("http://a.example/x.html please", ["http://a.example/x.html"]),
        (
            "http://a.example/x.html http://b.example/y",
            ["http://a.example/x.html", "http://b.example/y"],
        ),
        ("see http://a.example/x.html.", ["http://a.example/x.html"]),
        ("<http://a.example/x>", ["http://a.example/x"]),
        ('"http://a.example/x"', ["http://a.example/x"]),
        ("“https://a.example/x”,", ["https://a.example/x"]),
        (
            "(https://en.wikipedia.org/wiki/BYD_(company))",
            ["https://en.wikipedia.org/wiki/BYD_(company)"],
        ),
        ("e.g. the U.S. one", []),
        ("127.0.0.1:8765/x.html", ["127.0.0.1:8765/x.html"]),
    ],
)
def test_addresses_are_found_in_what_an_admin_types(typed: str, urls: list[str]) -> None:
    from bot.sources.fetch import find_urls

    assert find_urls(typed) == urls


def test_words_brackets_and_a_full_stop_around_the_address_are_not_fetched(
    web: WebServer, ingestion: Ingestion
) -> None:
    # Trial bug 7: "/addsource URL please" fetched "/page.html%20please", two URLs became
    # one request, a full stop was fetched, and <URL> or "URL" were refused. Failed before.
    web.route("/nio.html", Page(body=html_page("Nio swaps", NIO)))
    web.route("/pony.html", Page(body=html_page("Pony.ai fares", PONY)))
    web.route("/byd.html", Page(body=html_page("BYD unveils five new EVs", BYD)))
    reports = ingestion.add_urls(f"{web.url('/nio.html')} please")
    assert isinstance(reports, list)
    assert [r.added[0].title for r in reports] == ["Nio swaps"]
    reports = ingestion.add_urls(f"<{web.url('/pony.html')}> and “{web.url('/byd.html')}”.")
    assert isinstance(reports, list)
    assert [r.added[0].title for r in reports] == ["Pony.ai fares", "BYD unveils five new EVs"]
    assert [r.path for r in web.requests] == ["/nio.html", "/pony.html", "/byd.html"]
    again = ingestion.add_url(f"{web.url('/nio.html')}.")
    assert again.known == 1
    assert len(web.requests) == 3  # known by its address: not fetched again
    many = " ".join(web.url(f"/{n}.html") for n in range(6))
    assert ingestion.add_urls(many) == "That is 6 web addresses; I add at most 5 at a time."
    [bad] = ingestion.add_urls("please")  # type: ignore[misc]
    assert bad.error == "that is not a web address I can fetch (only http:// and https:// links)"


# -- 7. the same feed under another address ------------------------------------------------


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("http://127.0.0.1:8765/atom.xml?utm_source=tg", "http://127.0.0.1:8765/atom.xml"),
        ("HTTP://News.Example:80/a?id=3&utm_medium=x&fbclid=1#top", "http://news.example/a?id=3"),
        ("https://news.example", "https://news.example/"),
        ("https://news.example/rss?keyword=byd&spm=a1.b2", "https://news.example/rss?keyword=byd"),
    ],
)
def test_urls_are_normalised(url: str, normal: str) -> None:
    from bot.sources.fetch import normalize_url

    assert normalize_url(url) == normal


def test_the_same_feed_under_a_tracking_query_or_another_host_name_is_the_same_source(
    web: WebServer, ingestion: Ingestion
) -> None:
    # Trial bug 8: ?utm_source=tg and localhost each added the feed again. Failed before.
    web.route("/pony.html", Page(body=html_page("Pony.ai fares", PONY)))
    feed = atom(web, [("/pony.html", "Pony.ai fares", "p")]).replace(
        b"<title>", f'<link rel="self" href="{web.url("/atom.xml")}"/><title>'.encode(), 1
    )
    web.route("/atom.xml", Page(body=feed, content_type="application/atom+xml"))
    first = ingestion.add_url(web.url("/atom.xml"))
    assert first.source_id is not None
    for variant in (web.url("/atom.xml?utm_source=tg"), web.url("/atom.xml", host="localhost")):
        report = ingestion.add_url(variant)
        assert (report.source_id, report.existing, report.error) == (first.source_id, True, None)
        assert render.ingest_report(report, M).startswith(
            f"Refreshed feed #{first.source_id}: Robotaxi Weekly"
        )
    assert [s.id for s in ingestion._corpus.sources() if s.kind == "feed"] == [first.source_id]


def test_the_same_feed_without_a_self_link_is_known_by_its_title_and_entries(
    web: WebServer, ingestion: Ingestion
) -> None:
    web.route("/nio.html", Page(body=html_page("Nio swaps", NIO)))
    web.route("/pony.html", Page(body=html_page("Pony.ai fares", PONY)))
    items = [("/nio.html", "Nio swaps", "n"), ("/pony.html", "Pony.ai fares", "p")]
    web.route("/rss.xml", Page(body=rss(web, items), content_type="application/rss+xml"))
    first = ingestion.add_url(web.url("/rss.xml"))
    again = ingestion.add_url(web.url("/rss.xml?x=1"))
    assert (again.source_id, again.existing) == (first.source_id, True)
    # Another feed of the same site, with other entries or another title, is a new feed.
    web.route("/other.xml", Page(body=rss(web, items, title="China EV Wire: Robotaxis")))
    assert ingestion.add_url(web.url("/other.xml")).source_id != first.source_id


# -- 8. a page that names its feed -------------------------------------------------------------


def test_a_page_without_article_text_that_names_its_feed_adds_the_feed(
    web: WebServer, ingestion: Ingestion
) -> None:
    # Trial rough edge 10: "no article text could be found in it". Failed before.
    web.route("/nio.html", Page(body=html_page("Nio swaps", NIO)))
    web.route(
        "/rss.xml",
        Page(body=rss(web, [("/nio.html", "Nio swaps", "n")]), content_type="application/rss+xml"),
    )
    home = (
        b'<html><head><title>Feed News home</title><link rel="alternate" '
        b'type="application/rss+xml" title="RSS" href="/rss.xml"></head><body><ul>'
        b'<li><a href="/nio.html">Nio swaps</a></li></ul></body></html>'
    )
    web.route("/", Page(body=home))
    for forced in (None, True):  # detected as a page, or --feed given for it
        report = ingestion.add_url(web.url("/"), feed=forced)
        assert report.error is None, report.error
        assert report.kind == "feed"
        assert report.via == web.url("/")
        text = render.ingest_report(report, M)
        assert text.startswith(
            f"{web.url('/')} has no article text, but it names its feed {web.url('/rss.xml')}:\n"
        )
    feeds = [s for s in ingestion._corpus.sources() if s.kind == "feed"]
    assert [s.url for s in feeds] == [web.url("/rss.xml")]  # the second time: refreshed
    assert answer_titles(ingestion, "Where did Nio open its ten thousandth swap station?")


def test_a_page_that_names_no_feed_still_has_no_article_text(
    web: WebServer, ingestion: Ingestion
) -> None:
    web.route("/", Page(body=b"<html><head><title>Home</title></head><body>Hi</body></html>"))
    report = ingestion.add_url(web.url("/"))
    assert report.error == "no article text could be found in it"


# -- 5. failing feeds and entries ----------------------------------------------------------


def test_a_failing_feed_is_named_when_refreshed(web: WebServer, ingestion: Ingestion) -> None:
    # Trial bug 6: "/refresh" printed a bare "the site answered HTTP 404". Failed before.
    web.route("/nio.html", Page(body=html_page("Nio swaps", NIO)))
    web.route("/feed.xml", Page(body=rss(web, [("/nio.html", "Nio swaps", "n")])))
    source_id = ingestion.add_url(web.url("/feed.xml")).source_id
    del web.routes["/feed.xml"]
    for reports in (ingestion.refresh(), ingestion.refresh(source_id)):
        assert isinstance(reports, list)
        [report] = [r for r in reports if r.source_id == source_id]
        assert render.ingest_report(report, M) == (
            f"Could not refresh feed #{source_id} (China EV Wire, {web.url('/feed.xml')}): "
            "the site answered HTTP 404 (not found)."
        )


def test_a_dead_entry_link_is_reported_once_then_skipped(
    web: WebServer, ingestion: Ingestion, clock: Clock, waits: list[float]
) -> None:
    # Trial rough edge 18: an entry whose page 404s (and whose summary is too short) was
    # fetched and reported again on every poll for ever. Failed before.
    web.route("/nio.html", Page(body=html_page("Nio swaps", NIO)))
    items = [("/nio.html", "Nio swaps", "n"), ("/gone.html", "Short summary", "Too short.")]
    web.route("/feed.xml", Page(body=rss(web, items)))
    first = ingestion.add_url(web.url("/feed.xml"))
    assert [(f.what, f.reason) for f in first.failed] == [
        ("Short summary", "the site answered HTTP 404 (not found); not tried again")
    ]
    for _ in range(3):
        clock.advance(timedelta(minutes=31))
        [report] = ingestion.poll_due().reports
        assert (report.known, report.failed, report.skipped) == (1, [], 1)
    assert len(web.hits("/gone.html")) == 1
    assert render.ingest_report(report, M).splitlines()[1] == (
        "2 entries: 0 added (0 passages), 1 already known, 0 failed, 1 skipped (failed before)."
    )
    # A feed removed and added again starts afresh.
    assert report.source_id is not None
    ingestion._corpus.remove_source(report.source_id)
    assert ingestion.add_url(web.url("/feed.xml")).failed
    assert len(web.hits("/gone.html")) == 2


def test_an_entry_failing_for_a_temporary_reason_is_retried_then_given_up(
    web: WebServer, ingestion: Ingestion, clock: Clock, waits: list[float]
) -> None:
    from bot.core.ingest import ENTRY_GIVE_UP

    outage = {"on": True}
    web.route(
        "/flaky.html",
        lambda _r: Page(503, b"busy") if outage["on"] else Page(body=html_page("Pony", PONY)),
    )
    web.route("/down.html", Page(503, b"busy"))
    items = [("/flaky.html", "Flaky", "f"), ("/down.html", "Down", "d")]
    web.route("/feed.xml", Page(body=rss(web, items)))
    report = ingestion.add_url(web.url("/feed.xml"))
    assert [f.reason for f in report.failed] == ["the site answered HTTP 503"] * 2
    outage["on"] = False
    for poll in range(2, ENTRY_GIVE_UP + 2):
        clock.advance(timedelta(minutes=31))
        [report] = ingestion.poll_due().reports
        if poll == 2:
            assert [a.title for a in report.added] == ["Flaky"]
        if poll < ENTRY_GIVE_UP:
            assert [f.reason for f in report.failed] == ["the site answered HTTP 503"]
        elif poll == ENTRY_GIVE_UP:
            assert [f.reason for f in report.failed] == [
                "the site answered HTTP 503; not tried again"
            ]
        else:
            assert (report.failed, report.skipped) == ([], 1)
    db = ingestion._corpus.db
    assert report.source_id is not None
    assert sources.given_up_entries(db, report.source_id) == {web.url("/down.html")}


# -- 9. one answer for a duplicate -------------------------------------------------------------


def test_a_source_stored_already_is_reported_alike_under_any_address(
    web: WebServer, ingestion: Ingestion
) -> None:
    # Trial rough edge 11: the same URL was an error ("That URL is source #2 already"),
    # a variant "Already stored … Nothing added." Failed before.
    web.route("/nio.html", Page(body=html_page("Nio swaps", NIO)))
    web.route("/copy.html", Page(body=html_page("Nio swaps", NIO)))
    first = ingestion.add_url(web.url("/nio.html"))
    expected = f"Already stored in source #{first.source_id}: “Nio swaps”. Nothing added."
    for again in (web.url("/nio.html"), web.url("/nio.html?utm_source=x"), web.url("/copy.html")):
        report = ingestion.add_url(again)
        assert (report.error, report.known) == (None, 1)
        assert render.ingest_report(report, M) == expected


# -- 4. and 10. pasted text -------------------------------------------------------------------


def test_pasted_markdown_is_rendered_like_a_markdown_file(ingestion: Ingestion) -> None:
    # Trial rough edge 13: pasted text kept **, * and [Shenzhen](http://x). Failed before.
    text = (
        "**Markdown** text about *BYD*: the carmaker based in [Shenzhen](http://x.example) "
        "unveiled five new electric models at the Shanghai auto show on Wednesday.\n\n"
        + "\n\n".join(BYD)
    )
    report = ingestion.add_text(text)
    assert report.error is None, report.error
    body = "\n".join(p.text for p in passages_of(ingestion, report.source_id))
    assert body.startswith("Markdown text about BYD: the carmaker based in Shenzhen unveiled")
    for mark in ("**", "*BYD", "](", "http://x"):
        assert mark not in body


def test_an_untitled_text_names_itself_on_its_answer_cards(ingestion: Ingestion) -> None:
    # Trial rough edge 12: text added with /skip showed "📰 untitled" on every card.
    report = ingestion.add_text("\n".join(PONY))
    answer = ingestion._corpus.answer("Where did Pony.ai begin charging robotaxi fares?")
    assert not answer.abstained
    from bot.core.service import AnswerPage

    card = render.answer_card(AnswerPage(answer), M)
    credit = next(line for line in card.splitlines() if line.startswith("📰"))
    assert credit == f"📰 {report.added[0].title}"
    assert report.added[0].title == "Pony.ai began charging fares for fully driverless robotaxi…"
