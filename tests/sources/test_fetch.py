"""Fetching against a real HTTP server on 127.0.0.1: caps, redirects, retries, the address guard."""

from __future__ import annotations

import ssl

import pytest
import trustme

from bot.sources import errors
from bot.sources.fetch import USER_AGENT, Fetcher, FetchPolicy, check_address, system_resolver
from tests.sources.webserver import Page, Request, WebServer, html_page

ARTICLE = html_page("BYD unveils five new EVs", ["BYD unveiled five new models."] * 3)


def test_fetches_a_page_with_our_user_agent(web: WebServer, fetcher: Fetcher) -> None:
    web.route("/a", Page(body=ARTICLE, headers={"ETag": '"v1"', "Last-Modified": "Tue, 01 Apr"}))
    fetched = fetcher.fetch(web.url("/a#comments"))
    assert fetched.status == 200
    assert fetched.body == ARTICLE
    assert fetched.content_type == "text/html"
    assert fetched.charset == "utf-8"
    assert (fetched.etag, fetched.last_modified) == ('"v1"', "Tue, 01 Apr")
    [request] = web.hits("/a")
    assert request.headers["user-agent"] == USER_AGENT


def test_a_conditional_get_answered_304(web: WebServer, fetcher: Fetcher) -> None:
    def conditional(request: Request) -> Page:
        if request.headers.get("if-none-match") == '"v1"':
            return Page(304, b"", content_type=None)
        return Page(body=ARTICLE, headers={"ETag": '"v1"'})

    web.route("/feed", conditional)
    assert not fetcher.fetch(web.url("/feed")).not_modified
    again = fetcher.fetch(web.url("/feed"), etag='"v1"', last_modified="Tue, 01 Apr 2025")
    assert again.not_modified
    assert again.body == b""
    assert web.hits("/feed")[1].headers["if-modified-since"] == "Tue, 01 Apr 2025"


def test_500_then_success_is_retried_with_recorded_waits(
    web: WebServer, fetcher: Fetcher, waits: list[float]
) -> None:
    answers = iter([Page(500, b"oops"), Page(502, b"bad gateway"), Page(body=ARTICLE)])
    web.route("/flaky", lambda _r: next(answers))
    assert fetcher.fetch(web.url("/flaky")).body == ARTICLE
    assert len(web.hits("/flaky")) == 3
    assert waits == [1.0, 2.0]  # exponential backoff, recorded instead of slept


def test_429_honours_retry_after_with_a_cap(
    web: WebServer, fetcher: Fetcher, waits: list[float]
) -> None:
    answers = iter(
        [
            Page(429, b"slow down", headers={"Retry-After": "7"}),
            Page(503, b"busy", headers={"Retry-After": "86400"}),
            Page(body=ARTICLE),
        ]
    )
    web.route("/busy", lambda _r: next(answers))
    assert fetcher.fetch(web.url("/busy")).body == ARTICLE
    assert waits == [7.0, 30.0]


def test_persistent_5xx_gives_up_after_three_attempts(
    web: WebServer, fetcher: Fetcher, waits: list[float]
) -> None:
    web.route("/down", Page(503, b"down"))
    with pytest.raises(errors.HttpStatus) as caught:
        fetcher.fetch(web.url("/down"))
    assert caught.value.status == 503
    assert len(web.hits("/down")) == 3
    assert len(waits) == 2


def test_404_is_not_retried(web: WebServer, fetcher: Fetcher, waits: list[float]) -> None:
    with pytest.raises(errors.HttpStatus) as caught:
        fetcher.fetch(web.url("/missing"))
    assert caught.value.status == 404
    assert waits == []


def test_a_slow_server_times_out(web: WebServer, waits: list[float]) -> None:
    web.route("/slow", Page(body=ARTICLE, delay=1.0))
    policy = FetchPolicy(allow_private=True, read_timeout=0.2, attempts=2)
    with Fetcher(policy, sleep=waits.append) as fetcher, pytest.raises(errors.Timeout):
        fetcher.fetch(web.url("/slow"))
    assert len(waits) == 1  # a timeout is transient: retried once, then given up


def test_a_trickling_body_hits_the_total_deadline(web: WebServer, waits: list[float]) -> None:
    web.route("/trickle", Page(body=[b"<p>x</p>"] * 50, chunk_delay=0.05))
    policy = FetchPolicy(allow_private=True, total_timeout=0.5, attempts=1)
    with Fetcher(policy, sleep=waits.append) as fetcher, pytest.raises(errors.Timeout):
        fetcher.fetch(web.url("/trickle"))


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_huge_body_is_cut_off_at_the_cap(
    web: WebServer, fetcher: Fetcher, declared: bool
) -> None:
    chunk = b"x" * 65536
    body: bytes | list[bytes] = chunk * 100 if declared else [chunk] * 100  # 6.25 MiB
    web.route("/huge", Page(body=body))
    with pytest.raises(errors.TooLarge):
        fetcher.fetch(web.url("/huge"))


def test_a_redirect_loop_is_refused(web: WebServer, fetcher: Fetcher) -> None:
    web.route("/a", Page(302, b"", headers={"Location": "/b"}))
    web.route("/b", Page(301, b"", headers={"Location": web.url("/a")}))
    with pytest.raises(errors.TooManyRedirects) as caught:
        fetcher.fetch(web.url("/a"))
    assert caught.value.loop


def test_redirects_are_followed_up_to_five(web: WebServer, fetcher: Fetcher) -> None:
    for n in range(7):
        web.route(f"/r{n}", Page(307, b"", headers={"Location": f"/r{n + 1}"}))
    web.route("/r7", Page(body=ARTICLE))
    assert fetcher.fetch(web.url("/r2")).url == web.url("/r7")  # five hops
    with pytest.raises(errors.TooManyRedirects) as caught:
        fetcher.fetch(web.url("/r1"))  # six hops
    assert not caught.value.loop


@pytest.mark.parametrize(
    "url", ["ftp://example.com/feed", "javascript:alert(1)", "file:///etc/passwd", "http://", "x"]
)
def test_only_http_and_https_urls(fetcher: Fetcher, url: str) -> None:
    with pytest.raises(errors.BadUrl):
        fetcher.fetch(url)


# -- the address guard (allow flag off) ------------------------------------------------------


def test_loopback_is_refused_without_the_flag(web: WebServer, waits: list[float]) -> None:
    web.route("/a", Page(body=ARTICLE))
    with Fetcher(FetchPolicy(), sleep=waits.append) as fetcher:
        with pytest.raises(errors.BlockedAddress):
            fetcher.fetch(web.url("/a"))
        with pytest.raises(errors.BlockedAddress):
            fetcher.fetch(web.url("/a", host="localhost"))
    assert web.hits("/a") == []  # nothing connected
    assert waits == []  # a refusal is not retried


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",  # link-local: cloud metadata
        "http://10.0.0.7/admin",
        "http://127.0.0.2/",
        "http://[::1]/",
        "http://[::ffff:192.168.1.1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://internal.test/",  # a name resolving to a private address
    ],
)
def test_a_redirect_to_a_private_address_is_refused(
    web: WebServer, waits: list[float], target: str
) -> None:
    # Only the test server's own address is let through; every other private one is not.
    web.route("/go", Page(302, b"", headers={"Location": target}))

    def resolve(host: str, port: int) -> list[str]:
        return ["10.1.2.3"] if host == "internal.test" else system_resolver(host, port)

    policy = FetchPolicy(allowed_networks=("127.0.0.1/32",))
    fetcher = Fetcher(policy, resolve=resolve, sleep=waits.append)
    with fetcher, pytest.raises(errors.BlockedAddress):
        fetcher.fetch(web.url("/go"))
    assert len(web.hits("/go")) == 1


def test_the_connection_goes_to_the_checked_address(web: WebServer) -> None:
    # "news.test" exists only in this resolver: the system resolver is never asked
    # again, and the server still sees the name in Host.
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    web.route("/a", Page(body=ARTICLE))
    with Fetcher(FetchPolicy(allowed_networks=("127.0.0.1/32",)), resolve=resolve) as fetcher:
        assert fetcher.fetch(web.url("/a", host="news.test")).body == ARTICLE
    assert asked == ["news.test"]
    assert web.hits("/a")[0].headers["host"] == f"news.test:{web.port}"


def test_every_resolved_address_must_be_public() -> None:
    # A name that resolves to a public and a private address is refused outright.
    def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "192.168.0.10"]

    with Fetcher(FetchPolicy(), resolve=resolve) as fetcher, pytest.raises(errors.BlockedAddress):
        fetcher.fetch("http://mixed.test/")


@pytest.mark.parametrize(
    ("address", "public"),
    [("8.8.8.8", True), ("2001:4860:4860::8888", True), ("100.64.0.1", False),
     ("fe80::1", False), ("fc00::1", False), ("192.0.2.1", False), ("240.0.0.1", False)],
)  # fmt: skip
def test_check_address(address: str, public: bool) -> None:
    if public:
        check_address("h", address, allow_private=False)
    else:
        with pytest.raises(errors.BlockedAddress):
            check_address("h", address, allow_private=False)
    check_address("h", address, allow_private=True)  # the flag allows everything


def test_tls_keeps_the_host_name_for_sni_and_the_certificate(waits: list[float]) -> None:
    # The socket goes to the checked 127.0.0.1, yet TLS names "news.test" (SNI) and
    # checks the certificate against that name, not against the address.
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("news.test").configure_cert(server_tls)
    names: list[str | None] = []
    server_tls.sni_callback = lambda _sock, name, _ctx: names.append(name)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    policy = FetchPolicy(allowed_networks=("127.0.0.1/32",))
    with WebServer(tls=server_tls) as web:
        web.route("/a", Page(body=ARTICLE))
        fetcher = Fetcher(
            policy, resolve=lambda _h, _p: ["127.0.0.1"], ssl_context=client_tls, sleep=waits.append
        )
        with fetcher:
            assert fetcher.fetch(web.url("/a", host="news.test")).body == ARTICLE
            assert names == ["news.test"]
            assert web.hits("/a")[0].headers["host"] == f"news.test:{web.port}"
            with pytest.raises(errors.BadCertificate):
                fetcher.fetch(web.url("/a", host="other.test"))  # a name the cert lacks
        assert waits == []  # a bad certificate is not retried
