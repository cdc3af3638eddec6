"""Growing the corpus: an article URL or a feed, pasted text, a document; polling feeds.

:class:`Ingestion` ties the network edge (:mod:`bot.sources`) to the corpus:
fetch -> detect feed or page -> extract -> :meth:`Corpus.add_article` (one
transaction per article, indexed at once) -> a report of what was added,
already known or failed, each failure with one reason in words.

Threads: an :class:`Ingestion` runs on a thread that may wait on the network
(a fetch worker in the Telegram adapter; the caller's thread in the CLI and
the console). It touches the corpus only through ``on_corpus``, which runs a
function on the corpus thread and waits for it, so the corpus thread is never
held during a fetch and answers go on while a long feed is read.

Atomicity: every article is stored with its passages in one transaction, or
not at all; a lone article and its new source too. A feed is registered
first and its entries stored one by one; its conditional-GET validators are
saved only when every entry was processed, so an interrupted feed is fetched
whole again by the next poll or ``ingest`` and the entries it lacks are added
(those stored already are skipped by URL before any page is fetched).
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePath
from typing import TYPE_CHECKING, Protocol, TypeVar

from bot.core import texts
from bot.core.corpus import Corpus
from bot.sources import errors
from bot.sources.extract import (
    MIN_WORDS,
    decode,
    extract_article,
    host_name,
    looks_like_html,
    looks_like_markdown,
    markdown_article,
    tidy_text,
)
from bot.sources.feeds import (
    FeedEntry,
    ParsedFeed,
    advertised_feeds,
    looks_like_feed,
    parse_feed,
)
from bot.sources.fetch import (
    Fetched,
    Fetcher,
    check_url,
    find_urls,
    normalize_url,
    with_scheme,
)
from retrieval.passages import count_words, derive_title
from storage import activity, sources
from storage.articles import NewArticle
from storage.errors import DuplicateArticle
from storage.sources import FeedState

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = [
    "DISABLE_AFTER",
    "DOCUMENT_TYPES",
    "ENTRY_GIVE_UP",
    "MAX_DOCUMENT_BYTES",
    "MAX_TEXT_CHARS",
    "MAX_TITLE_CHARS",
    "MAX_URLS",
    "NOTIFY_AFTER",
    "FailedEntry",
    "IngestReport",
    "Ingestion",
    "OnCorpus",
    "PollReport",
    "Progress",
    "StoredArticle",
    "build_ingestion",
    "check_document",
    "check_text",
    "check_title",
    "reason",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

NOTIFY_AFTER = 3
"""Admins are told once when a feed has failed this many polls in a row."""
DISABLE_AFTER = 10
"""A feed that failed this many polls in a row is disabled until /refresh."""
MAX_BACKOFF = timedelta(hours=24)
ENTRY_WORKERS = 4
"""Entry pages fetched and extracted at once (the network waits overlap)."""
ENTRY_BATCH = 16
"""Entries stored and then indexed together: one index commit per batch, not per article."""
ENTRY_GIVE_UP = 3
"""A feed entry whose page failed for a temporary reason (a timeout, a 5xx) this many polls
in a row is given up like one that failed for good (a 404, no article text) at once."""
MAX_URLS = 5
"""Web addresses one /addsource adds at most."""
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
MAX_TEXT_CHARS = 200_000
MAX_TITLE_CHARS = 200
DOCUMENT_TYPES = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
}
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", ""})
_SNIFFED_TYPES = frozenset({"text/plain", "application/octet-stream"})
"""Types some servers send HTML pages as (raw GitHub: text/plain); the body decides."""


class OnCorpus(Protocol):
    """Runs ``fn`` on the corpus thread and returns its result (or raises its error)."""

    def __call__(self, fn: Callable[[], T], /) -> T: ...


def _direct(fn: Callable[[], T], /) -> T:
    return fn()


class Progress(Protocol):
    """Told how far a feed's entries have got (a progress bar on a terminal)."""

    def start(self, total: int, label: str) -> None: ...
    def advance(self) -> None: ...
    def finish(self) -> None: ...


@dataclass(frozen=True, slots=True)
class StoredArticle:
    title: str
    publisher: str | None
    published: str | None
    passages: int


@dataclass(frozen=True, slots=True)
class FailedEntry:
    what: str  # the entry's title or link
    reason: str


@dataclass(slots=True)
class IngestReport:
    """What one source gave: articles added, already known, failed; or why it gave nothing."""

    kind: str  # article, feed, text, file
    what: str  # the URL or file name as given
    source_id: int | None = None
    source_title: str = ""
    added: list[StoredArticle] = field(default_factory=list)
    known: int = 0
    known_title: str | None = None  # a single article stored already
    known_source: int | None = None  # ... in this source
    skipped: int = 0  # feed entries given up before (not fetched again)
    failed: list[FailedEntry] = field(default_factory=list)
    error: str | None = None  # the source as a whole failed
    existing: bool = False  # the URL was a source already (a feed is refreshed)
    not_modified: bool = False  # a feed answered 304
    via: str | None = None  # the page that named this feed (it had no article text)

    @property
    def passages(self) -> int:
        return sum(a.passages for a in self.added)


@dataclass(slots=True)
class PollReport:
    reports: list[IngestReport] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # for the admins


def reason(exc: errors.SourceError) -> str:
    """One short reason, in words, for a failed source."""
    match exc:
        case errors.BadUrl():
            return texts.reason_bad_url()
        case errors.BlockedAddress(host=host, address=address):
            return texts.reason_blocked(host, address)
        case errors.Timeout():
            return texts.reason_timeout()
        case errors.BadCertificate():
            return texts.reason_certificate()
        case errors.UnknownHost(host=host):
            return texts.reason_unknown_host(host)
        case errors.FetchFailed():
            return texts.reason_unreachable()
        case errors.HttpStatus(status=status):
            return texts.reason_http(status)
        case errors.TooLarge(limit=limit):
            return texts.reason_too_large(limit)
        case errors.TooManyRedirects(limit=limit, loop=loop):
            return texts.reason_redirects(limit, loop)
        case errors.UnsupportedContent(content_type=content_type):
            return texts.reason_unsupported(content_type)
        case errors.NotAFeed():
            return texts.reason_not_a_feed()
        case errors.NoText():
            return texts.reason_no_text()
        case errors.BadDocument(why=why):
            return texts.reason_document(why)
    return str(exc)


def check_title(raw: str) -> tuple[str | None, str | None]:
    """(title, None) or (None, why not) for a title typed by an admin."""
    from bot.core.service import clean_text

    title = clean_text(raw)
    if len(title) > MAX_TITLE_CHARS:
        return None, texts.title_too_long(MAX_TITLE_CHARS)
    return title, None


def check_text(text: str) -> str | None:
    """Why pasted text cannot be an article (too long or too short), or None; cheap enough
    to ask before the title is asked for."""
    if len(text) > MAX_TEXT_CHARS:
        return texts.text_too_long(MAX_TEXT_CHARS)
    if count_words(tidy_text(text)) < MIN_WORDS:
        return texts.text_too_short(MIN_WORDS)
    return None


def check_document(name: str, size: int | None) -> str | None:
    """Why a document cannot be added (by its name and size), or None."""
    if PurePath(name).suffix.lower() not in DOCUMENT_TYPES:
        return texts.document_wrong_type(name)
    if size is not None and size > MAX_DOCUMENT_BYTES:
        return texts.document_too_large(MAX_DOCUMENT_BYTES)
    return None


class Ingestion:
    """Adds sources to a corpus; see the module doc for threads and atomicity."""

    def __init__(
        self,
        corpus: Corpus,
        fetcher: Fetcher,
        *,
        clock: Callable[[], datetime],
        poll_interval: timedelta = timedelta(minutes=30),
        on_corpus: OnCorpus = _direct,
    ) -> None:
        self._corpus = corpus
        self.fetcher = fetcher
        self._clock = clock
        self.poll_interval = poll_interval
        self._on_corpus = on_corpus
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Stop between entries (shutdown): what is stored stays, the rest waits for a rerun."""
        self._stopping.set()

    # -- URLs ------------------------------------------------------------------------

    def add_urls(self, text: str) -> list[IngestReport] | str:
        """Each web address in a line an admin typed (``/addsource <url> [<url>...]``);
        words that are no address are left out. A string says why nothing was tried."""
        urls = find_urls(text)
        if len(urls) > MAX_URLS:
            return texts.too_many_urls(len(urls), MAX_URLS)
        if not urls:
            return [self.add_url(text.split()[0])] if text.split() else texts.ADDSOURCE_USAGE
        return [self.add_url(url) for url in urls]

    def add_url(
        self,
        raw_url: str,
        *,
        feed: bool | None = None,
        progress: Progress | None = None,
        title: str = "",
        discover: bool = True,
    ) -> IngestReport:
        """Add an article page or a feed (``feed``: force one or the other; None: detect).

        ``title`` replaces an article page's own (a feed is refused with one); a page
        without article text that names its feed adds that feed instead (``discover``).
        """
        found = find_urls(raw_url)  # brackets, quotes and a sentence's full stop go
        given = with_scheme(found[0] if len(found) == 1 else raw_url.strip())
        try:
            fetchable = check_url(given)  # "example.com/x": https://, "127.0.0.1/x": http://
        except errors.BadUrl as exc:
            return IngestReport("article", given, error=reason(exc))
        url = normalize_url(fetchable)  # no utm_* and the like, no fragment
        existing = self._stored_source(url, fetchable)
        if existing is not None:
            return self._existing(existing, url, title, progress)
        now = self._clock()
        try:
            fetched = self.fetcher.fetch(url)
            if feed or (feed is None and looks_like_feed(fetched.content_type, fetched.body)):
                try:
                    parsed = parse_feed(fetched.body, fetched.url)
                except errors.NotAFeed:
                    followed = self._named_feed(url, fetched, progress, title, discover)
                    if followed is None:
                        raise
                    return followed
            else:
                try:
                    return self._add_page(url, fetched, now, title)
                except errors.NoText:
                    followed = self._named_feed(url, fetched, progress, title, discover)
                    if followed is None:
                        raise
                    return followed
        except errors.SourceError as exc:
            return self._failed("article" if feed is None else "feed", url, exc, now)
        known = self._same_feed(parsed, fetched)
        if known is not None:
            return self._existing(known, url, title, progress)
        if title:
            return IngestReport("feed", url, error=texts.reason_title_for_feed())
        return self._add_feed(url, fetched, parsed, now, progress)

    def _same_feed(self, parsed: ParsedFeed, fetched: Fetched) -> sources.Source | None:
        """A stored feed that ``parsed`` is under another address (localhost for
        127.0.0.1, a redirect, a query that changes nothing): the one at the address the
        feed gives for itself or was fetched from, else one with the same title holding
        most of its entries."""
        for alias in (parsed.self_url, fetched.url):
            known = self._stored_source(*_variants(alias)) if alias else None
            if known is not None and known.kind == "feed":
                return known
        links = list({e.link for e in parsed.entries if e.link})
        if not links:
            return None
        db = self._corpus.db
        holding = self._on_corpus(lambda: sources.feeds_holding(db, links))
        for source_id, count in sorted(holding.items(), key=lambda item: -item[1]):
            if count * 2 <= len(links):
                break
            source = self._on_corpus(lambda s=source_id: sources.get_source(db, s))  # type: ignore[misc]
            if source is not None and source.title == parsed.title:
                return source
        return None

    def _stored_source(self, *urls: str) -> sources.Source | None:
        """The source stored under one of ``urls`` (normalised first; older sources were
        stored as typed)."""
        db = self._corpus.db
        for candidate in dict.fromkeys(urls):
            found = self._on_corpus(lambda c=candidate: sources.find_source_by_url(db, c))  # type: ignore[misc]
            if found is not None:
                return found
        return None

    def _existing(
        self, existing: sources.Source, url: str, title: str, progress: Progress | None
    ) -> IngestReport:
        """A URL that is a source already: a feed is refreshed, an article is reported
        as stored (like the same article found under another address)."""
        db = self._corpus.db
        if existing.kind == "feed":
            if title:
                return IngestReport("feed", url, error=texts.reason_title_for_feed())
            state = self._on_corpus(lambda: sources.feed_state(db, existing.id))
            if state is not None:
                return self._poll(state, force=True, progress=progress)[0]
        return IngestReport(
            existing.kind,
            url,
            source_id=existing.id,
            source_title=existing.title,
            existing=True,
            known=1,
            known_title=existing.title,
            known_source=existing.id,
        )

    def _named_feed(
        self,
        url: str,
        fetched: Fetched,
        progress: Progress | None,
        title: str,
        discover: bool,
    ) -> IngestReport | None:
        """The feed a page without article text names, added; None when it names none."""
        if not discover or fetched.content_type not in _HTML_TYPES | _SNIFFED_TYPES:
            return None
        html = decode(fetched.body, fetched.charset)
        named = advertised_feeds(html, fetched.url)
        if not named:
            return None
        report = self.add_url(named[0], feed=True, progress=progress, title=title, discover=False)
        report.via = url
        return report

    def _failed(self, kind: str, url: str, exc: errors.SourceError, now: datetime) -> IngestReport:
        why = reason(exc)
        log.info("source %s failed: %s", url, exc)
        self._on_corpus(lambda: activity.record_error(self._corpus.db, now, why, url=url))
        return IngestReport(kind, url, error=why)

    def _add_page(self, url: str, fetched: Fetched, now: datetime, title: str = "") -> IngestReport:
        article = _titled(self._page_article(url, fetched))
        if title:
            article = dataclasses.replace(article, title=title)
        if article.publisher is None:
            article = dataclasses.replace(article, publisher=host_name(fetched.url))
        try:
            source_id, added = self._on_corpus(
                lambda: self._corpus.add_source_article(
                    kind="article", source_title=article.title, url=url, article=article, now=now
                )
            )
        except DuplicateArticle as exc:
            return _known("article", url, exc)
        stored = StoredArticle(added.title, article.publisher, article.published, added.passages)
        return IngestReport(
            "article", url, source_id=source_id, source_title=added.title, added=[stored]
        )

    def _page_article(self, url: str, fetched: Fetched) -> NewArticle:
        """The article in a fetched page (raises UnsupportedContent or NoText); its
        publisher is the site name the page gives, or None."""
        media = fetched.content_type
        if media in _SNIFFED_TYPES and looks_like_html(fetched.body):
            media = "text/html"
        text = decode(fetched.body, fetched.charset)
        if media == "text/plain":
            body = tidy_text(text)
            if count_words(body) < MIN_WORDS:
                raise errors.NoText(url)
            return NewArticle(title="", body=body, url=url, canonical_url=fetched.url)
        if media not in _HTML_TYPES:
            raise errors.UnsupportedContent(url, media)
        page = extract_article(text, fetched.url)
        return NewArticle(
            title=page.title,
            body=page.text,
            publisher=page.publisher,
            published=page.published,
            url=url,
            canonical_url=page.canonical_url or fetched.url,
        )

    # -- feeds -----------------------------------------------------------------------

    def _add_feed(
        self,
        url: str,
        fetched: Fetched,
        parsed: ParsedFeed,
        now: datetime,
        progress: Progress | None,
    ) -> IngestReport:
        db = self._corpus.db
        # Validators are saved only once every entry is in (see the module doc).
        source_id = self._on_corpus(
            lambda: sources.add_feed(
                db, url=url, title=parsed.title, now=now, next_poll=now + self.poll_interval
            )
        )
        report = IngestReport("feed", url, source_id=source_id, source_title=parsed.title)
        self._ingest_entries(report, parsed, now, progress)
        self._on_corpus(
            lambda: sources.record_success(
                db,
                source_id,
                now,
                next_poll=now + self.poll_interval,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
            )
        )
        return report

    def _ingest_entries(
        self, report: IngestReport, feed: ParsedFeed, now: datetime, progress: Progress | None
    ) -> None:
        """Add a feed's new entries: pages fetched and extracted a few at a time in
        parallel, then each batch stored (one transaction per article) and indexed
        together on the corpus thread."""
        assert report.source_id is not None
        source_id = report.source_id
        db = self._corpus.db
        links = [e.link for e in feed.entries if e.link]
        known = self._on_corpus(lambda: sources.known_urls(db, links))
        given_up = self._on_corpus(lambda: sources.given_up_entries(db, source_id))
        if progress is not None:
            progress.start(len(feed.entries), feed.title)
        fresh = [e for e in feed.entries if e.link not in known and e.link not in given_up]
        skipped = sum(1 for e in feed.entries if e.link in given_up and e.link not in known)
        report.skipped += skipped
        report.known += len(feed.entries) - len(fresh) - skipped
        if progress is not None:
            for _ in range(len(feed.entries) - len(fresh)):
                progress.advance()
        try:
            with ThreadPoolExecutor(ENTRY_WORKERS, thread_name_prefix="techbrief-entry") as pool:
                for start in range(0, len(fresh), ENTRY_BATCH):
                    if self._stopping.is_set():
                        break
                    batch = fresh[start : start + ENTRY_BATCH]
                    prepared = list(pool.map(lambda e: self._entry_article(e, feed.name), batch))
                    ready: list[NewArticle] = []
                    failures: list[tuple[FeedEntry, str, bool]] = []
                    for entry, (article, failure, transient) in zip(batch, prepared, strict=True):
                        if article is None:
                            failures.append((entry, failure, transient))
                        else:
                            ready.append(article)
                    for entry, failure, gave_up in self._remember_failures(
                        source_id, failures, now
                    ):
                        what = entry.title or entry.link or "?"
                        why = texts.entry_given_up(failure) if gave_up else failure
                        report.failed.append(FailedEntry(what, why))
                    results = self._on_corpus(
                        lambda ready=ready: self._corpus.add_articles(source_id, ready, now)  # type: ignore[misc]
                    )
                    read = [a.url for a in ready if a.url]
                    self._on_corpus(
                        lambda read=read: sources.clear_entry_failures(db, source_id, read)  # type: ignore[misc]
                    )
                    for article, result in zip(ready, results, strict=True):
                        if isinstance(result, DuplicateArticle):
                            report.known += 1
                        else:
                            report.added.append(
                                StoredArticle(
                                    result.title,
                                    article.publisher,
                                    article.published,
                                    result.passages,
                                )
                            )
                    if progress is not None:
                        for _ in batch:
                            progress.advance()
        except sqlite3.IntegrityError:
            # The feed was removed while its entries were read: stop, store nothing more.
            log.info("feed #%s was removed while being read", source_id)
        finally:
            if progress is not None:
                progress.finish()

    def _remember_failures(
        self, source_id: int, failures: list[tuple[FeedEntry, str, bool]], now: datetime
    ) -> list[tuple[FeedEntry, str, bool]]:
        """Record each failed entry (by its link); returns (entry, reason, given up now).

        A permanent failure is given up at once, a temporary one after
        :data:`ENTRY_GIVE_UP` polls in a row; either way it is reported once more,
        then skipped by later polls instead of being fetched and reported again.
        """
        db = self._corpus.db

        def record() -> list[tuple[FeedEntry, str, bool]]:
            out = []
            for entry, failure, transient in failures:
                gave_up = entry.link is not None and sources.record_entry_failure(
                    db,
                    source_id,
                    entry.link,
                    failure,
                    now,
                    give_up_after=ENTRY_GIVE_UP if transient else 1,
                )
                out.append((entry, failure, gave_up))
            return out

        return self._on_corpus(record) if failures else []

    def _entry_article(
        self, entry: FeedEntry, feed_name: str | None
    ) -> tuple[NewArticle | None, str, bool]:
        """The entry's linked page, or its own content when the page fails; else None,
        why, and whether the failure was temporary (a timeout, a 5xx: worth a retry).

        Its publisher: the site name its page gives, else the feed's title, else the host.
        """
        failure = texts.ENTRY_EMPTY
        transient = False
        publisher = feed_name or host_name(entry.link)
        if entry.link:
            try:
                page = self._page_article(entry.link, self.fetcher.fetch(entry.link))
            except errors.SourceError as exc:
                failure = reason(exc)
                transient = isinstance(exc, errors.FetchFailed | errors.TransientStatus)
                log.info("feed entry %s: %s; falling back to its own text", entry.link, exc)
            else:
                return (
                    NewArticle(
                        title=entry.title or page.title,
                        body=page.body,
                        publisher=page.publisher or publisher,
                        published=page.published or entry.published,
                        url=entry.link,
                        canonical_url=page.canonical_url,
                    ),
                    "",
                    False,
                )
        if count_words(entry.text) >= MIN_WORDS:
            article = NewArticle(
                title=entry.title,
                body=entry.text,
                publisher=publisher,
                published=entry.published,
                url=entry.link,
                canonical_url=entry.link,
            )
            return article, "", False
        return None, failure, transient

    def _poll(
        self, state: FeedState, *, force: bool, progress: Progress | None = None
    ) -> tuple[IngestReport, str | None]:
        """Fetch a feed (conditionally unless ``force``) and add its new entries.

        Returns the report and, after repeated failures, a notice for the admins.
        """
        db = self._corpus.db
        source_id = state.source_id
        now = self._clock()
        failures = state.failures
        if force and (state.disabled or failures):
            self._on_corpus(
                lambda: sources.set_feed_state(db, source_id, next_poll=now, enable=True)
            )
            failures = 0
        source = self._on_corpus(lambda: sources.get_source(db, source_id))
        title = source.title if source is not None else state.url
        report = IngestReport(
            "feed", state.url, source_id=source_id, source_title=title, existing=True
        )
        try:
            fetched = self.fetcher.fetch(
                state.url,
                etag=None if force else state.etag,
                last_modified=None if force else state.last_modified,
            )
            if fetched.not_modified:
                report.not_modified = True
                parsed = None
            else:
                parsed = parse_feed(fetched.body, fetched.url)
        except errors.SourceError as exc:
            why = reason(exc)
            report.error = why
            delay = min(self.poll_interval * 2 ** (failures + 1), MAX_BACKOFF)
            new_state, tell = self._on_corpus(
                lambda: self._record_failure(source_id, state.url, now, why, now + delay)
            )
            notice = None
            if tell and new_state is not None:
                notice = texts.feed_failing(
                    source_id, title, new_state.failures, why, new_state.disabled
                )
            return report, notice
        if parsed is not None:
            self._ingest_entries(report, parsed, now, progress)
        self._on_corpus(
            lambda: sources.record_success(
                db,
                source_id,
                now,
                next_poll=now + self.poll_interval,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
            )
        )
        return report, None

    def _record_failure(
        self, source_id: int, url: str, now: datetime, why: str, next_poll: datetime
    ) -> tuple[FeedState | None, bool]:
        db = self._corpus.db
        activity.record_error(db, now, why, url=url, source_id=source_id)
        return sources.record_failure(
            db,
            source_id,
            now,
            why,
            next_poll=next_poll,
            disable_after=DISABLE_AFTER,
            notify_after=NOTIFY_AFTER,
        )

    def poll_due(self, progress: Progress | None = None) -> PollReport:
        """Poll every enabled feed that is due now (conditional GET)."""
        now = self._clock()
        due = self._on_corpus(lambda: sources.due_feeds(self._corpus.db, now))
        result = PollReport()
        for state in due:
            report, notice = self._poll(state, force=False, progress=progress)
            result.reports.append(report)
            if notice:
                result.notices.append(notice)
        return result

    def refresh(
        self,
        source_id: int | None = None,
        progress: Progress | None = None,
        *,
        listing: str = "/sources",
    ) -> list[IngestReport] | str:
        """Poll one feed now (re-enabling it), or every feed; a string says why not
        (``listing``: the command that lists the sources, named when the id is unknown)."""
        db = self._corpus.db
        if source_id is None:
            states: Sequence[FeedState] = self._on_corpus(lambda: sources.list_feeds(db))
            if not states:
                return texts.NO_FEEDS
        else:
            source = self._on_corpus(lambda: sources.get_source(db, source_id))
            if source is None:
                return texts.no_such_source(source_id, listing)
            state = self._on_corpus(lambda: sources.feed_state(db, source_id))
            if state is None:
                return texts.not_a_feed_source(source_id, source.kind)
            states = [state]
        return [self._poll(s, force=True, progress=progress)[0] for s in states]

    # -- text and documents ------------------------------------------------------------

    def add_text(
        self, text: str, title: str = "", *, kind: str = "text", name: str | None = None
    ) -> IngestReport:
        """Pasted text (or a text file's) as one article; ``title`` empty: its first sentence."""
        what = name or texts.PASTED_TEXT
        problem = check_text(text)
        if problem is not None:
            return IngestReport(kind, what, error=problem)
        if looks_like_markdown(text):  # rendered like an uploaded .md file
            return self._add_markdown(kind, what, text, title, name)
        body = tidy_text(text)
        return self._store_single(kind, what, NewArticle(title=title.strip(), body=body), name)

    def _add_markdown(
        self, kind: str, what: str, text: str, title: str, name: str | None
    ) -> IngestReport:
        page = markdown_article(text)
        if len(page.text) > MAX_TEXT_CHARS:
            return IngestReport(kind, what, error=texts.text_too_long(MAX_TEXT_CHARS))
        if count_words(page.text) < MIN_WORDS:
            return IngestReport(kind, what, error=texts.text_too_short(MIN_WORDS))
        article = NewArticle(
            title=title.strip() or page.title, body=page.text, published=page.published
        )
        return self._store_single(kind, what, article, name)

    def add_document(self, name: str, data: bytes, title: str = "") -> IngestReport:
        """An uploaded or local .txt, .md or .html file as one article."""
        name = PurePath(name).name or "document"
        problem = check_document(name, len(data))
        if problem is not None:
            return IngestReport("file", name, error=problem)
        text = decode(data)
        if "\x00" in text[:65536]:
            return IngestReport("file", name, error=texts.document_not_text())
        flavour = DOCUMENT_TYPES[PurePath(name).suffix.lower()]
        if flavour == "text" and looks_like_html(data):
            flavour = "html"  # a page saved as .txt, as a server sends one as text/plain
        if flavour == "html":
            try:
                page = extract_article(text)
            except errors.NoText as exc:
                return IngestReport("file", name, error=reason(exc))
            article = NewArticle(
                title=title.strip() or page.title,
                body=page.text,
                publisher=page.publisher,
                published=page.published,
                canonical_url=page.canonical_url,
            )
            return self._store_single("file", name, article, name)
        if flavour == "markdown":
            return self._add_markdown("file", name, text, title, name)
        body = tidy_text(text)
        if len(body) > MAX_TEXT_CHARS:
            return IngestReport("file", name, error=texts.text_too_long(MAX_TEXT_CHARS))
        if count_words(body) < MIN_WORDS:
            return IngestReport("file", name, error=texts.text_too_short(MIN_WORDS))
        article = NewArticle(title=title.strip(), body=body)
        return self._store_single("file", name, article, name)

    def _store_single(
        self, kind: str, what: str, article: NewArticle, name: str | None
    ) -> IngestReport:
        now = self._clock()
        article = _titled(article)
        try:
            source_id, added = self._on_corpus(
                lambda: self._corpus.add_source_article(
                    kind=kind,
                    source_title=name or article.title,
                    url=None,
                    article=article,
                    now=now,
                )
            )
        except DuplicateArticle as exc:
            return _known(kind, what, exc)
        stored = StoredArticle(added.title, article.publisher, article.published, added.passages)
        return IngestReport(
            kind, what, source_id=source_id, source_title=name or added.title, added=[stored]
        )


def _titled(article: NewArticle) -> NewArticle:
    """The article with its title, derived from its text when it has none (its first
    sentence, cut short); derived here rather than by the corpus so that a new source
    gets the same title."""
    if article.title.strip():
        return article
    return dataclasses.replace(article, title=derive_title(article.body))


def _known(kind: str, what: str, exc: DuplicateArticle) -> IngestReport:
    """The report of an article stored already (under another address, or the same text)."""
    return IngestReport(kind, what, known=1, known_title=exc.title, known_source=exc.source_id)


def _variants(url: str) -> tuple[str, ...]:
    """A URL as sources are stored (normalised) and as it was given."""
    try:
        return normalize_url(check_url(url)), url
    except errors.BadUrl:
        return (url,)


def build_ingestion(
    settings: Settings,
    corpus: Corpus,
    *,
    clock: Callable[[], datetime],
    on_corpus: OnCorpus = _direct,
) -> Ingestion:
    """An :class:`Ingestion` configured from settings (private URLs, poll interval)."""
    from bot.sources.fetch import FetchPolicy

    return Ingestion(
        corpus,
        Fetcher(FetchPolicy(allow_private=settings.allow_private_urls)),
        clock=clock,
        poll_interval=timedelta(minutes=settings.feed_poll_minutes),
        on_corpus=on_corpus,
    )
