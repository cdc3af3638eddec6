"""Adding sources end to end against a web server on 127.0.0.1: pages, feeds, text, documents."""

from __future__ import annotations

import socket
from datetime import timedelta

import numpy as np
import pytest

from bot.core import render
from bot.core.ingest import DISABLE_AFTER, NOTIFY_AFTER, Ingestion
from bot.sources.fetch import Fetcher, FetchPolicy
from storage import activity, articles, sources
from tests.sources.conftest import Clock
from tests.sources.webserver import Page, Request, WebServer, html_page

M = render.console_markup(ansi=False)

BYD = [
    "BYD unveiled five new electric vehicle models at the Shanghai auto show on Wednesday, "
    "extending its lead over Tesla in the Chinese market as a price war drags on.",
    "The Shenzhen-based carmaker said its new flash-charging platform adds 400 kilometres of "
    "range in five minutes, a claim analysts called a milestone for battery makers.",
]
NIO = [
    "Nio opened its ten thousandth battery swap station in Hefei, the carmaker said, and plans "
    "to double the network by the end of next year with partners including CATL.",
    "Swapping a battery takes about three minutes, which Nio says removes the main reason "
    "drivers hesitate to buy an electric car in cities without home chargers.",
]
PONY = [
    "Pony.ai began charging fares for fully driverless robotaxi rides in Guangzhou's Nansha "
    "district, becoming the first company to win such a permit in the city.",
    "The robotaxi operator said its fleet of 300 cars would grow to 1,000 within a year as it "
    "expands to Shenzhen and Beijing under new municipal rules for autonomous driving.",
]


def rss(web: WebServer, items: list[tuple[str, str, str]], title: str = "China EV Wire") -> bytes:
    """RSS 2.0 with (path, title, description) items."""
    body = "".join(
        f"<item><title>{t}</title><link>{web.url(p)}</link>"
        f"<pubDate>Wed, 02 Apr 2025 10:00:00 GMT</pubDate><description>{d}</description></item>"
        for p, t, d in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>{web.url('/')}</link>{body}</channel></rss>"
    ).encode()


def atom(web: WebServer, items: list[tuple[str, str, str]]) -> bytes:
    body = "".join(
        f'<entry><title>{t}</title><link href="{web.url(p)}"/><id>{p}</id>'
        f'<updated>2025-04-03T00:00:00Z</updated><content type="html">{d}</content></entry>'
        for p, t, d in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Robotaxi Weekly</title><id>urn:x</id><updated>2025-04-03T00:00:00Z</updated>"
        f"{body}</feed>"
    ).encode()


def in_step(ingestion: Ingestion) -> bool:
    corpus = ingestion._corpus
    ids = np.asarray(articles.passage_ids(corpus.db), dtype=np.int64)
    return bool(np.array_equal(corpus.index.keys(), ids))


def answer_titles(ingestion: Ingestion, question: str) -> list[str]:
    answer = ingestion._corpus.answer(question)
    return [] if answer.abstained else [h.candidate.title for h in answer.hits]


def test_an_article_page_is_added_and_answers_at_once(web: WebServer, ingestion: Ingestion) -> None:
    web.route("/byd", Page(body=html_page("BYD unveils five new EVs", BYD)))
    assert answer_titles(ingestion, "How fast does BYD flash charging add range?") == []
    report = ingestion.add_url(web.url("/byd?utm_source=tg"))
    assert report.error is None
    [added] = report.added
    assert (added.title, added.publisher, added.published) == (
        "BYD unveils five new EVs",
        "Example News",
        "2025-04-17",
    )
    assert added.passages >= 1
    text = render.ingest_report(report, M)
    assert text.startswith(f"Added source #{report.source_id}: “BYD unveils five new EVs”")
    assert "Example News · 17 Apr 2025" in text
    titles = answer_titles(ingestion, "How fast does BYD flash charging add range?")
    assert titles[0] == "BYD unveils five new EVs"
    assert in_step(ingestion)
    # The same URL again is the same source; the same text elsewhere is the same article.
    again = ingestion.add_url(web.url("/byd?utm_source=tg"))
    assert again.existing
    assert render.ingest_report(again, M) == (
        f"Already stored in source #{report.source_id}: “BYD unveils five new EVs”. Nothing added."
    )
    web.route("/copy", Page(body=html_page("BYD unveils five new EVs", BYD, site="Mirror")))
    copy = ingestion.add_url(web.url("/copy"))
    assert copy.known == 1
    assert render.ingest_report(copy, M) == render.ingest_report(again, M)
    assert len(ingestion._corpus.sources()) == 2  # the seed and the page: no empty source


def test_the_canonical_url_makes_two_addresses_one_article(
    web: WebServer, ingestion: Ingestion
) -> None:
    canonical = "https://example.com/news/nio-swap"
    web.route("/a", Page(body=html_page("Nio swaps", NIO, canonical=canonical)))
    web.route("/b", Page(body=html_page("Nio swaps", [*NIO, "An update."], canonical=canonical)))
    assert ingestion.add_url(web.url("/a")).added
    assert ingestion.add_url(web.url("/b")).known == 1


def test_a_wrongly_declared_charset_is_survived(web: WebServer, ingestion: Ingestion) -> None:
    # UTF-8 declared as Latin-1, and Windows-1252 declared as UTF-8.
    page = html_page("比亚迪 unveils EVs — €25,000 models", BYD)
    web.route("/latin", Page(body=page, content_type="text/html; charset=iso-8859-1"))
    nio = [p.replace("Nio", "Nio café") for p in NIO]
    cp1252 = html_page("Café chains in Shenzhen", nio).decode().encode("cp1252")
    web.route("/cp", Page(body=cp1252, content_type="text/html; charset=utf-8"))
    first = ingestion.add_url(web.url("/latin"))
    assert first.added[0].title == "比亚迪 unveils EVs — €25,000 models"
    second = ingestion.add_url(web.url("/cp"))
    assert second.added[0].title == "Café chains in Shenzhen"
    passage = ingestion._corpus.answer("Nio café swap stations Hefei").hits[0].candidate.text
    assert "Nio café opened" in passage


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 99, "(image/png)"),
        ("application/json", b'{"a": 1}', "(application/json)"),
        ("text/html", b"<html><body><p>Log in to read.</p></body></html>", "no article text"),
    ],
)  # fmt: skip
def test_content_that_is_no_article_gets_one_reason(
    web: WebServer, ingestion: Ingestion, content_type: str, body: bytes, reason: str
) -> None:
    web.route("/x", Page(body=body, content_type=content_type))
    before = ingestion._corpus.stats()
    report = ingestion.add_url(web.url("/x"))
    line = render.ingest_report(report, M)
    assert line.startswith(f"Could not add {web.url('/x')}: ")
    assert reason in line
    assert "\n" not in line
    assert ingestion._corpus.stats() == before  # nothing half-stored
    assert activity.recent_errors(ingestion._corpus.db)[0].url == web.url("/x")


def test_failures_are_one_clear_line(web: WebServer, ingestion: Ingestion) -> None:
    web.route("/loop", Page(302, b"", headers={"Location": "/loop2"}))
    web.route("/loop2", Page(302, b"", headers={"Location": "/loop"}))
    cases = {
        "ftp://example.com/x": "only http:// and https:// links",
        web.url("/missing"): "HTTP 404 (not found)",
        web.url("/loop"): "it redirects in a loop",
    }
    for url, reason in cases.items():
        line = render.ingest_report(ingestion.add_url(url), M)
        assert reason in line
        assert "\n" not in line


def test_an_address_without_a_scheme_is_fetched(web: WebServer, ingestion: Ingestion) -> None:
    # Trial rough edge 9: "127.0.0.1:8765/news/x.html" was refused (no scheme). An IP
    # address or localhost gets http://, a host name https:// (failed before the fix).
    web.route("/byd", Page(body=html_page("BYD unveils five new EVs", BYD)))
    report = ingestion.add_url(f"127.0.0.1:{web.port}/byd")
    assert report.error is None, report.error
    assert report.what == web.url("/byd")
    [source] = [s for s in ingestion._corpus.sources() if s.id == report.source_id]
    assert source.url == web.url("/byd")


def test_a_host_that_does_not_exist_is_one_line_at_once(ingestion: Ingestion) -> None:
    waits: list[float] = []

    def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    fetcher = Fetcher(FetchPolicy(), resolve=resolve, sleep=waits.append)
    with fetcher:
        report = Ingestion(ingestion._corpus, fetcher, clock=Clock()).add_url("news.invalid/a")
    assert report.what == "https://news.invalid/a"
    assert render.ingest_report(report, M) == (
        "Could not add https://news.invalid/a: the host news.invalid was not found "
        "(check the address)."
    )
    assert waits == []


def test_an_rss_feed_adds_its_entries(web: WebServer, ingestion: Ingestion) -> None:
    web.route("/byd", Page(body=html_page("BYD unveils five new EVs", BYD)))
    web.route("/nio", Page(body=html_page("Nio opens its 10,000th swap station", NIO)))
    items = [("/byd", "BYD unveils EVs", "BYD news"), ("/nio", "Nio swaps", "Nio news")]
    web.route("/feed.xml", Page(body=rss(web, items), content_type="application/rss+xml"))
    report = ingestion.add_url(web.url("/feed.xml"))
    assert report.kind == "feed"
    assert [a.title for a in report.added] == ["BYD unveils EVs", "Nio swaps"]
    text = render.ingest_report(report, M)
    assert text.startswith(f"Added feed #{report.source_id}: China EV Wire\n2 entries: 2 added")
    source = sources.get_source(ingestion._corpus.db, report.source_id or 0)
    assert source is not None
    assert (source.kind, source.articles) == ("feed", 2)
    assert answer_titles(ingestion, "Nio battery swap stations in Hefei")[0] == "Nio swaps"
    # Adding the feed again refreshes it: the entries are known, no page is fetched again.
    again = ingestion.add_url(web.url("/feed.xml"))
    assert again.existing
    assert again.known == 2
    assert not again.added
    assert len(web.hits("/byd")) == 1


def test_an_atom_feed_served_as_xml(web: WebServer, ingestion: Ingestion) -> None:
    web.route("/pony", Page(body=html_page("Pony.ai charges robotaxi fares", PONY)))
    items = [("/pony", "Pony.ai fares", "&lt;p&gt;Pony&lt;/p&gt;")]
    web.route("/atom", Page(body=atom(web, items), content_type="text/xml"))
    report = ingestion.add_url(web.url("/atom"))
    assert report.source_title == "Robotaxi Weekly"
    assert [a.title for a in report.added] == ["Pony.ai fares"]


def test_entry_pages_404_and_500_fall_back_or_retry(
    web: WebServer, ingestion: Ingestion, waits: list[float]
) -> None:
    flaky = iter([Page(500, b"oops"), Page(body=html_page("Pony.ai charges fares", PONY))])
    web.route("/pony", lambda _r: next(flaky))
    # /gone 404s: its entry has enough text of its own; /thin 404s with a one-line summary.
    items = [
        ("/pony", "Pony.ai fares", "Pony summary"),
        ("/gone", "Nio swaps", "&lt;p&gt;" + " ".join(NIO) + "&lt;/p&gt;"),
        ("/thin", "Thin entry", "Too short to be an article."),
    ]
    web.route("/feed", Page(body=rss(web, items), content_type="application/rss+xml"))
    report = ingestion.add_url(web.url("/feed"))
    assert [a.title for a in report.added] == ["Pony.ai fares", "Nio swaps"]
    assert [(f.what, f.reason) for f in report.failed] == [
        ("Thin entry", "the site answered HTTP 404 (not found); not tried again")
    ]
    assert waits == [1.0]  # the 500 was retried once, the wait recorded, not slept
    assert "✗ Thin entry: the site answered HTTP 404 (not found)" in render.ingest_report(report, M)
    hit = ingestion._corpus.answer("Nio swap station Hefei").hits[0].candidate
    assert (hit.title, hit.publisher) == ("Nio swaps", "China EV Wire")


def bare_page(title: str, paragraphs: list[str]) -> bytes:
    """A page that names no site (no og:site_name, a title without a site part)."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    head = f"<head><title>{title}</title></head>"
    return f"<html>{head}<body><article>{body}</article></body></html>".encode()


def test_the_publisher_is_the_site_name_else_the_feed_title_else_the_host(
    web: WebServer, ingestion: Ingestion
) -> None:
    # Trial rough edge 6: an entry whose page loaded got "127.0.0.1:8765" as publisher,
    # one stored from the feed's own text got the feed's title.
    web.route("/byd", Page(body=bare_page("BYD unveils five new EVs", BYD)))
    web.route("/pony", Page(body=html_page("Pony.ai fares", PONY, site="Robotaxi Daily")))
    items = [
        ("/byd", "BYD unveils EVs", "BYD news"),  # the page names no site
        ("/gone", "Nio swaps", "&lt;p&gt;" + " ".join(NIO) + "&lt;/p&gt;"),  # 404: own text
        ("/pony", "Pony.ai fares", "Pony news"),  # the page names its site
    ]
    web.route("/feed.xml", Page(body=rss(web, items), content_type="application/rss+xml"))
    report = ingestion.add_url(web.url("/feed.xml"))
    assert [(a.title, a.publisher) for a in report.added] == [
        ("BYD unveils EVs", "China EV Wire"),
        ("Nio swaps", "China EV Wire"),
        ("Pony.ai fares", "Robotaxi Daily"),
    ]
    # A lone page that names no site: its host, without the port.
    web.route("/nio", Page(body=bare_page("Nio opens its 10,000th swap station", NIO[::-1])))
    [page] = ingestion.add_url(web.url("/nio")).added
    assert page.publisher == "127.0.0.1"
    # A feed without a title: its entries' publisher is the host too.
    web.route("/byd2", Page(body=bare_page("BYD again", [*BYD, "A second look."])))
    untitled = rss(web, [("/byd2", "BYD again", "x")]).replace(b"<title>China EV Wire</title>", b"")
    web.route("/untitled.xml", Page(body=untitled, content_type="application/rss+xml"))
    [entry] = ingestion.add_url(web.url("/untitled.xml")).added
    assert entry.publisher == "127.0.0.1"


def test_polling_uses_conditional_get_and_adds_new_entries(
    web: WebServer, ingestion: Ingestion, clock: Clock
) -> None:
    web.route("/byd", Page(body=html_page("BYD unveils five new EVs", BYD)))
    web.route("/nio", Page(body=html_page("Nio swaps", NIO)))
    feed = {"items": [("/byd", "BYD", "b")], "etag": '"1"'}

    def serve(request: Request) -> Page:
        if request.headers.get("if-none-match") == feed["etag"]:
            return Page(304, b"", content_type=None)
        return Page(body=rss(web, feed["items"]), headers={"ETag": str(feed["etag"])})  # type: ignore[arg-type]

    web.route("/feed", serve)
    added = ingestion.add_url(web.url("/feed"), feed=True)
    assert len(added.added) == 1
    assert ingestion.poll_due().reports == []  # not due for 30 minutes
    clock.advance(timedelta(minutes=31))
    [report] = ingestion.poll_due().reports
    assert report.not_modified
    assert web.hits("/feed")[-1].headers["if-none-match"] == '"1"'
    feed["items"] = [("/nio", "Nio", "n"), ("/byd", "BYD", "b")]
    feed["etag"] = '"2"'
    clock.advance(timedelta(minutes=31))
    [report] = ingestion.poll_due().reports
    assert ([a.title for a in report.added], report.known) == (["Nio"], 1)


def test_a_failing_feed_backs_off_tells_admins_once_and_is_disabled(
    web: WebServer, ingestion: Ingestion, clock: Clock
) -> None:
    healthy = {"up": True}
    web.route("/byd", Page(body=html_page("BYD", BYD)))
    web.route(
        "/feed",
        lambda _r: (
            Page(body=rss(web, [("/byd", "BYD", "b")])) if healthy["up"] else Page(404, b"gone")
        ),
    )
    source_id = ingestion.add_url(web.url("/feed")).source_id
    assert source_id is not None
    db = ingestion._corpus.db
    healthy["up"] = False
    notices: list[str] = []
    gaps: list[timedelta] = []
    for _ in range(DISABLE_AFTER + 2):
        state = sources.feed_state(db, source_id)
        assert state is not None
        if state.disabled:
            break
        clock.now = max(clock.now, _parse(state.next_poll))
        result = ingestion.poll_due()
        notices += result.notices
        after = sources.feed_state(db, source_id)
        assert after is not None
        gaps.append(_parse(after.next_poll) - clock.now)
    state = sources.feed_state(db, source_id)
    assert state is not None
    assert state.disabled
    assert state.failures == DISABLE_AFTER
    assert gaps[:4] == [timedelta(hours=h) for h in (1, 2, 4, 8)]  # exponential
    assert max(gaps) == timedelta(hours=24)  # capped
    assert len(notices) == 2  # once at NOTIFY_AFTER failures, once when disabled
    assert f"failed {NOTIFY_AFTER} times in a row" in notices[0]
    assert "is disabled. /refresh" in notices[1]
    clock.advance(timedelta(days=30))
    assert ingestion.poll_due().reports == []  # disabled feeds are not polled
    source = sources.get_source(db, source_id)
    assert source is not None
    assert source.last_error == "the site answered HTTP 404 (not found)"
    assert "disabled" in render.sources_list([source], M)
    # /refresh re-enables it; it works again.
    healthy["up"] = True
    [report] = ingestion.refresh(source_id)  # type: ignore[misc]
    assert report.error is None
    assert report.known == 1
    state = sources.feed_state(db, source_id)
    assert state is not None
    assert not state.disabled
    assert state.failures == 0
    assert ingestion.refresh(999) == "There is no source #999. /sources lists them."
    assert ingestion.refresh(1) == "Source #1 is a seed; only feeds are refreshed."


def _parse(iso: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(iso)


def test_removing_a_feed_takes_its_passages_out_of_the_answers(
    web: WebServer, ingestion: Ingestion
) -> None:
    web.route("/nio", Page(body=html_page("Nio swaps", NIO)))
    web.route("/feed", Page(body=rss(web, [("/nio", "Nio swaps", "n")])))
    report = ingestion.add_url(web.url("/feed"))
    assert answer_titles(ingestion, "Nio battery swap stations Hefei")
    removed = ingestion._corpus.remove_source(report.source_id or 0)
    assert removed is not None
    assert removed.articles == 1
    assert answer_titles(ingestion, "Nio battery swap stations Hefei") == []
    assert in_step(ingestion)


# -- pasted text and documents ------------------------------------------------------------


def test_pasted_text_becomes_an_article(ingestion: Ingestion) -> None:
    report = ingestion.add_text("\n\n".join(PONY), "Pony.ai in Nansha")
    assert report.added[0].title == "Pony.ai in Nansha"
    assert answer_titles(ingestion, "Where does Pony.ai charge robotaxi fares?")[0] == (
        "Pony.ai in Nansha"
    )
    assert ingestion.add_text("\n".join(PONY)).known == 1  # same words: same article
    short = ingestion.add_text("Too short.")
    assert short.error == "that is too short for an article (at least 20 words, please)"


def test_text_without_a_title_gives_its_source_the_derived_title(ingestion: Ingestion) -> None:
    # Trial bug 6: /skip stored the source with an empty title.
    report = ingestion.add_text("\n".join(PONY))
    title = report.added[0].title
    assert title == "Pony.ai began charging fares for fully driverless robotaxi…"
    assert report.source_title == title
    assert report.source_id is not None
    stored = sources.get_source(ingestion._corpus.db, report.source_id)
    assert stored is not None
    assert stored.title == title
    removed = ingestion._corpus.remove_source(report.source_id)
    assert removed is not None
    assert removed.title == title


@pytest.mark.parametrize(
    ("name", "data", "title"),
    [
        ("nio.txt", "\n".join(NIO).encode("utf-16"), "Nio opened its ten thousandth battery swap"),
        ("nio.md", ("# Nio swap stations\n\n" + "\n\n".join(NIO)).encode(), "Nio swap stations"),
        ("nio.html", html_page("Nio opens 10,000 stations", NIO), "Nio opens 10,000 stations"),
    ],
)
def test_documents_become_articles(
    ingestion: Ingestion, name: str, data: bytes, title: str
) -> None:
    report = ingestion.add_document(name, data)
    assert report.error is None
    assert report.added[0].title.startswith(title)
    assert report.source_title == name


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("photo.jpg", b"\xff\xd8\xff" + b"x" * 100, "photo.jpg is not a .txt, .md or .html file"),
        ("fake.txt", b"\x89PNG\r\n\x1a\n\0\0\0" * 50, "the file is not text (it looks binary)"),
        ("big.txt", b"word " * 500_000, "the file is larger than 2 MB"),
        ("empty.md", b"", "that is too short for an article"),
    ],
)  # fmt: skip
def test_bad_documents_get_one_reason(
    ingestion: Ingestion, name: str, data: bytes, reason: str
) -> None:
    before = ingestion._corpus.stats()
    report = ingestion.add_document(name, data)
    assert report.error is not None
    assert report.error.startswith(reason)
    assert render.ingest_report(report, M) == f"Could not add {name}: {report.error}."
    assert ingestion._corpus.stats() == before
