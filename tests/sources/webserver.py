"""A small web server on 127.0.0.1 for source tests: routes to canned or scripted responses.

Each route is a function of the request returning a :class:`Page` (status,
headers, body, an optional delay before answering or between chunks). Every
request is recorded with its headers, so tests see conditional GETs, the
User-Agent and the ``Host`` a pinned connection sent.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Page", "Request", "WebServer", "html_page"]


@dataclass
class Page:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before the status line
    chunk_delay: float = 0.0  # between chunks of an iterable body
    length: bool = True  # send Content-Length (bytes bodies only)


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


Route = Callable[[Request], Page]


def html_page(title: str, paragraphs: list[str], *, canonical: str | None = None,
              site: str = "Example News", date: str = "2025-04-17") -> bytes:  # fmt: skip
    """A news page with navigation and footer around the article."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        f"<!doctype html><html><head><title>{title} | {site}</title>{link}"
        f'<meta property="og:site_name" content="{site}">'
        f'<meta property="article:published_time" content="{date}T08:00:00Z">'
        "</head><body><nav><a href='/'>Home</a> | <a href='/tech'>Tech</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        "<footer>Copyright 2025 Example News. All rights reserved.</footer></body></html>"
    ).encode()


class WebServer:
    """``tls``: serve HTTPS with this server context."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self.scheme = "https" if tls else "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> WebServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(self, path: str, page: Page | Route) -> None:
        self.routes[path] = page if callable(page) else (lambda _r, p=page: p)

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, web: WebServer) -> None:
        self.web = web
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout, size cap) is expected


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        web = self.server.web
        request = Request(self.path, {k.lower(): v for k, v in self.headers.items()})
        with web._lock:
            web.requests.append(request)
        route = web.routes.get(self.path.split("?", 1)[0])
        page = route(request) if route else Page(404, b"<html><body>Not found</body></html>")
        if page.delay:
            time.sleep(page.delay)
        self.send_response(page.status)
        if page.content_type:
            self.send_header("Content-Type", page.content_type)
        for name, value in page.headers.items():
            self.send_header(name, value)
        if isinstance(page.body, bytes):
            if page.length:
                self.send_header("Content-Length", str(len(page.body)))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(page.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in page.body:
            if page.chunk_delay:
                time.sleep(page.chunk_delay)
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
