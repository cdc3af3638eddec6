"""Why a source could not be fetched or read.

SourceError                 the base: every failure of a URL, a feed or a document
├── BadUrl                  not an http(s) URL with a host
├── BlockedAddress          the host resolves to a loopback/private/link-local/... address
├── FetchFailed             the server could not be reached or did not answer in time
│   └── Timeout             connect or read timeout, or the whole download took too long
├── BadCertificate          the TLS certificate is not valid for the host (not retried)
├── HttpStatus              the final answer was an HTTP error (4xx, 5xx)
│   └── TransientStatus     5xx or 429: retried (honouring Retry-After) before giving up
├── TooLarge                the body exceeds the size cap
├── TooManyRedirects        more redirects than allowed, or a redirect loop
├── UnsupportedContent      neither a web page, a feed nor text (a PDF, an image, JSON...)
├── NotAFeed                ``--feed`` was asked for and the URL is no RSS/Atom feed
├── NoText                  no article text could be extracted
└── BadDocument             an uploaded or local file of the wrong type, size or encoding

The core (:mod:`bot.core.ingest`) turns each into one sentence from :mod:`bot.core.texts`.
"""

from __future__ import annotations

__all__ = [
    "BadCertificate",
    "BadDocument",
    "BadUrl",
    "BlockedAddress",
    "FetchFailed",
    "HttpStatus",
    "NoText",
    "NotAFeed",
    "SourceError",
    "Timeout",
    "TooLarge",
    "TooManyRedirects",
    "TransientStatus",
    "UnsupportedContent",
]


class SourceError(Exception):
    """A source failed; ``str(exc)`` is a short technical reason (for logs)."""


class BadUrl(SourceError):
    def __init__(self, url: str, why: str) -> None:
        super().__init__(f"{url!r}: {why}")
        self.url = url
        self.why = why


class BlockedAddress(SourceError):
    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to {address}, a non-public address")
        self.host = host
        self.address = address


class FetchFailed(SourceError):
    def __init__(self, url: str, why: str) -> None:
        super().__init__(f"{url}: {why}")
        self.url = url
        self.why = why


class Timeout(FetchFailed):
    pass


class BadCertificate(SourceError):
    def __init__(self, url: str, why: str) -> None:
        super().__init__(f"{url}: {why}")
        self.url = url
        self.why = why


class HttpStatus(SourceError):
    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"{url}: HTTP {status}")
        self.url = url
        self.status = status


class TransientStatus(HttpStatus):
    def __init__(self, url: str, status: int, retry_after: float | None) -> None:
        super().__init__(url, status)
        self.retry_after = retry_after


class TooLarge(SourceError):
    def __init__(self, url: str, limit: int) -> None:
        super().__init__(f"{url}: larger than {limit} bytes")
        self.url = url
        self.limit = limit


class TooManyRedirects(SourceError):
    def __init__(self, url: str, limit: int, loop: bool) -> None:
        super().__init__(f"{url}: {'a redirect loop' if loop else f'over {limit} redirects'}")
        self.url = url
        self.limit = limit
        self.loop = loop


class UnsupportedContent(SourceError):
    def __init__(self, url: str, content_type: str) -> None:
        super().__init__(f"{url}: unsupported content type {content_type or 'unknown'}")
        self.url = url
        self.content_type = content_type


class NotAFeed(SourceError):
    def __init__(self, url: str) -> None:
        super().__init__(f"{url}: not an RSS or Atom feed")
        self.url = url


class NoText(SourceError):
    def __init__(self, where: str) -> None:
        super().__init__(f"{where}: no article text found")
        self.where = where


class BadDocument(SourceError):
    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"{name}: {why}")
        self.name = name
        self.why = why
