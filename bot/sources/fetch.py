"""Fetching a source URL safely: address guard on every hop, size and redirect caps, retries.

* Only ``http`` and ``https``. Every hop, redirects included, is followed by
  hand (at most :attr:`FetchPolicy.max_redirects`), so each is checked.
* The host of every connection is resolved once, every address is checked
  (loopback, private, link-local, multicast, reserved and unspecified
  addresses are refused unless ``allow_private``), and the connection goes to
  the checked address: a custom httpcore network backend connects to the IP
  while the request keeps its ``Host`` header and TLS keeps the host name for
  SNI and certificate checks. There is no second DNS lookup to race.
* Environment proxies are ignored (a proxy would connect on our behalf,
  unchecked).
* Connect and read timeouts, and a deadline for the whole download; the body
  is capped while it streams (and by ``Content-Length`` before).
* One tenacity policy retries timeouts, connection errors, 5xx and 429,
  honouring ``Retry-After`` up to a cap; its ``sleep`` is injectable so tests
  record waits instead of waiting. A host name DNS says does not exist is
  not retried (a temporary DNS failure is).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import unquote_plus, urldefrag, urljoin, urlsplit, urlunsplit

import httpcore
import httpx
import tenacity

from bot.sources.errors import (
    BadCertificate,
    BadUrl,
    BlockedAddress,
    FetchFailed,
    HttpStatus,
    Timeout,
    TooLarge,
    TooManyRedirects,
    TransientStatus,
    UnknownHost,
)

__all__ = [
    "MAX_BYTES",
    "USER_AGENT",
    "FetchPolicy",
    "Fetched",
    "Fetcher",
    "Resolver",
    "check_address",
    "check_url",
    "find_urls",
    "looks_like_url",
    "normalize_url",
    "system_resolver",
    "with_scheme",
]

MAX_BYTES = 5 * 1024 * 1024
USER_AGENT = "techbrief/0.1 (news bot; fetches pages and feeds its admins add)"

Resolver = Callable[[str, int], list[str]]
"""(host, port) -> the IP addresses to connect to."""

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
    "application/xml;q=0.9,text/xml;q=0.9,text/plain;q=0.8,*/*;q=0.5"
)


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Limits of one fetch. ``attempts`` counts the first try."""

    allow_private: bool = False
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_bytes: int = MAX_BYTES
    max_redirects: int = 5
    attempts: int = 3
    max_retry_after: float = 30.0
    backoff_max: float = 10.0
    allowed_networks: tuple[str, ...] = ()
    """Networks allowed even when private (CIDR), e.g. one intranet host; tests use it."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A response: the final URL after redirects, its media type, charset and body."""

    url: str
    status: int
    content_type: str
    charset: str | None
    body: bytes
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host`` (raises OSError when none)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_address(
    host: str, address: str, allow_private: bool, allowed_networks: tuple[str, ...] = ()
) -> None:
    """Refuse ``address`` (of ``host``) unless it is a public unicast address."""
    if allow_private:
        return
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in ipaddress.ip_network(net) for net in allowed_networks):
        return
    if (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    ):
        raise BlockedAddress(host, address)


_HOST_PORT = re.compile(r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<host>[^\s/:?#@\[\]]+))(?::\d+)?")


def with_scheme(url: str) -> str:
    """``url`` with ``https://`` put in front when it has no scheme ("example.com/news"),
    ``http://`` when its host is an IP address or ``localhost`` (a local server seldom has TLS).

    Anything else (a URL with a scheme, a word that is no host) is returned as it is.
    """
    if "://" in url or url.startswith("//"):
        return url
    match = _HOST_PORT.fullmatch(re.split(r"[/?#]", url, maxsplit=1)[0])
    if match is None:
        return url
    host = match["ipv6"] or match["host"]
    try:
        ipaddress.ip_address(host)
        local = True
    except ValueError:
        local = host.lower() == "localhost"
        if not local and "." not in host.strip("."):
            return url  # one word: no host name
    return ("http://" if local else "https://") + url


_OPENERS = "<\"'“‘«(["
_CLOSERS = ">\"'”’»)]"
_TRAILING = ".,;:!?。，；：！？"


def _unwrap(token: str) -> str:
    """A token without the brackets, quotes and sentence punctuation around it:
    ``<http://x/a.html>``, ``"http://x/a.html"``, ``http://x/a.html.`` -> ``http://x/a.html``.

    A closing bracket stays when the URL opened it (``…/Foo_(bar)``).
    """
    token = token.lstrip(_OPENERS)
    while token:
        last = token[-1]
        unopened = last in ")]" and token.count("(" if last == ")" else "[") < token.count(last)
        if not (last in _TRAILING or last in "\"'”’»>" or unopened):
            break
        token = token[:-1]
    return token


def looks_like_url(token: str) -> bool:
    """Whether a word is meant as a web address: it has a scheme (``http://``, even
    one we cannot fetch), or without one a host with a top-level domain of two
    letters or more, an IP address or ``localhost`` ("e.g." and "U.S." are no hosts)."""
    if "://" in token:
        return True
    full = with_scheme(token)
    if full == token:
        return False
    host = urlsplit(full).hostname or ""
    if host == "localhost" or ":" in host:
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        tld = host.rstrip(".").rsplit(".", 1)[-1]
        return len(tld) >= 2 and tld.isalpha()
    return True


def find_urls(text: str) -> list[str]:
    """The web addresses in a line an admin typed (``/addsource <url> please``), in
    order, without brackets, quotes or trailing punctuation around them; a word
    that is no address is left out. Nothing found: an empty list."""
    found = []
    for word in text.split():
        token = _unwrap(word)
        if token and looks_like_url(token):
            found.append(token)
    return list(dict.fromkeys(found))


_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "mtm_", "_hs")
_TRACKING_NAMES = frozenset(
    {"fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "igshid", "igsh",
     "mkt_tok", "_ga", "_gl", "spm", "share_token", "wt.mc_id", "at_medium", "at_campaign"}
)  # fmt: skip


def normalize_url(url: str) -> str:
    """``url`` as a source is stored and compared: scheme and host in lower case, no
    default port, no fragment, an empty path as ``/``, and no tracking parameters
    (``utm_*``, ``fbclid``, ``spm`` and the like; other parameters stay, in order).

    courlan (trafilatura's) also drops ``ref``, ``source``, ``keyword`` and
    ``session`` parameters, which select what some feeds and pages hold.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    if parts.username or parts.password:
        host = parts.netloc.rsplit("@", 1)[0] + "@" + host
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair
        and not (name := unquote_plus(pair.split("=", 1)[0]).lower()).startswith(_TRACKING_PREFIXES)
        and name not in _TRACKING_NAMES
    )
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


def check_url(url: str) -> str:
    """``url`` without its fragment, if it is an http(s) URL with a host; else BadUrl."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadUrl(url, f"not a valid URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise BadUrl(url, "only http and https URLs can be fetched")
    if not parts.hostname:
        raise BadUrl(url, "the URL has no host")
    if port == 0:
        raise BadUrl(url, "port 0")
    return urldefrag(url)[0]


# getaddrinfo's answers that the name does not exist (EAI_AGAIN, a temporary failure, is
# not one of them: it is retried like any connection error).
_NO_SUCH_NAME = frozenset(
    code for code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)) if code is not None
)


class _NoSuchHost(httpcore.ConnectError):
    """The resolver said the host name does not exist (raised through httpx as its cause)."""


class _PinnedBackend(httpcore.NetworkBackend):
    """httpcore's sync backend, connecting only to addresses that passed the check.

    The host is resolved here, once; the socket connects to the checked IP.
    httpcore still sends ``Host`` and does TLS with the origin's host name.
    """

    def __init__(self, resolve: Resolver, policy: FetchPolicy) -> None:
        self._resolve = resolve
        self._policy = policy
        self._sync = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self._resolve(host, port)
        except socket.gaierror as exc:
            if exc.errno in _NO_SUCH_NAME:
                raise _NoSuchHost(f"{host} does not resolve: {exc}") from None
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}")
        for address in addresses:  # every one: a round-robin answer must not sneak one in
            check_address(host, address, self._policy.allow_private, self._policy.allowed_networks)
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return self._sync.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not sources")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _PinnedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool using :class:`_PinnedBackend`.

    httpx 0.28 has no parameter for a network backend (encode/httpx#3749), so the
    pool it builds is replaced by one with the same TLS context and ours.
    """

    def __init__(self, backend: _PinnedBackend, ssl_context: ssl.SSLContext | None) -> None:
        super().__init__(trust_env=False, retries=0)
        ssl_context = ssl_context or httpx.create_ssl_context(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=10,
            max_keepalive_connections=5,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
            network_backend=backend,
        )


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``kind`` is in the chain of causes of ``exc`` (httpx wraps httpcore wraps ssl)."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, FetchFailed | TransientStatus)


class Fetcher:
    """Fetches URLs under one :class:`FetchPolicy`. Thread-safe (one httpx client)."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        resolve: Resolver = system_resolver,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """``ssl_context``: the certificates to trust (default: certifi's, as httpx)."""
        self.policy = policy or FetchPolicy()
        self._clock = clock
        self._wall_clock = wall_clock
        transport = _PinnedTransport(_PinnedBackend(resolve, self.policy), ssl_context)
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(self.policy.read_timeout, connect=self.policy.connect_timeout),
            headers={"User-Agent": USER_AGENT, "Accept": _ACCEPT},
            follow_redirects=False,
            trust_env=False,
        )
        backoff = tenacity.wait_exponential(multiplier=1, max=self.policy.backoff_max)
        cap = self.policy.max_retry_after

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, TransientStatus) and exc.retry_after is not None:
                return min(exc.retry_after, cap)
            return float(backoff(state))

        self.retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_transient),
            stop=tenacity.stop_after_attempt(self.policy.attempts),
            wait=wait,
            sleep=sleep,
            reraise=True,
        )
        """The one retry policy of this edge (tests read its ``statistics``)."""

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched:
        """GET ``url`` (conditionally when validators are given); see the module doc.

        Raises a :class:`~bot.sources.errors.SourceError`; a 304 is returned,
        with an empty body, as :attr:`Fetched.not_modified`.
        """
        start = check_url(url.strip())
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        fetched: Fetched = self.retrying(self._follow, start, headers)
        return fetched

    def _follow(self, url: str, headers: dict[str, str]) -> Fetched:
        seen = {url}
        current = url
        for _hop in range(self.policy.max_redirects + 1):
            result = self._get(current, headers)
            if isinstance(result, Fetched):
                return result
            following = check_url(urljoin(current, result))
            if following in seen:
                raise TooManyRedirects(url, self.policy.max_redirects, loop=True)
            seen.add(following)
            current = following
        raise TooManyRedirects(url, self.policy.max_redirects, loop=False)

    def _get(self, url: str, headers: dict[str, str]) -> Fetched | str:
        """One request: the response, or the ``Location`` of a redirect."""
        started = self._clock()
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                location: str | None = response.headers.get("location")
                if status in _REDIRECTS and location:
                    return location
                if status == 304:
                    return self._fetched(url, response, b"")
                if status == 429 or status >= 500:
                    after = _retry_after(response.headers.get("retry-after"), self._wall_clock())
                    raise TransientStatus(url, status, after)
                if status >= 400 or status < 200:
                    raise HttpStatus(url, status)
                return self._fetched(url, response, self._read(url, response, started))
        except httpx.TimeoutException:
            raise Timeout(url, "timed out") from None
        except (httpx.TransportError, httpx.StreamError) as exc:
            if _caused_by(exc, ssl.SSLCertVerificationError):
                raise BadCertificate(url, str(exc)) from None  # retrying will not fix it
            if _caused_by(exc, _NoSuchHost):
                raise UnknownHost(url, urlsplit(url).hostname or url) from None  # nor this
            raise FetchFailed(url, str(exc) or type(exc).__name__) from None

    def _read(self, url: str, response: httpx.Response, started: float) -> bytes:
        limit = self.policy.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TooLarge(url, limit)
        body = bytearray()
        # Decoded bytes are counted: a small gzip body cannot expand past the cap.
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > limit:
                raise TooLarge(url, limit)
            if self._clock() - started > self.policy.total_timeout:
                raise Timeout(url, f"took over {self.policy.total_timeout:.0f} s")
        return bytes(body)

    def _fetched(self, url: str, response: httpx.Response, body: bytes) -> Fetched:
        media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return Fetched(
            url=url,
            status=response.status_code,
            content_type=media,
            charset=response.charset_encoding,
            body=body,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        )
