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
from bot.sources.extract import MIN_WORDS, decode, extract_article, tidy_text
from bot.sources.feeds import FeedEntry, ParsedFeed, looks_like_feed, parse_feed
from bot.sources.fetch import Fetched, Fetcher, check_url
from storage import activity, sources
from storage.articles import NewArticle
from storage.errors import DuplicateArticle
from storage.sources import FeedState

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = [
    "DISABLE_AFTER",
    "DOCUMENT_TYPES",
    "MAX_DOCUMENT_BYTES",
    "MAX_TEXT_CHARS",
    "MAX_TITLE_CHARS",
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
    failed: list[FailedEntry] = field(default_factory=list)
    error: str | None = None  # the source as a whole failed
    existing: bool = False  # the URL was a source already (a feed is refreshed)
    not_modified: bool = False  # a feed answered 304

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

    def add_url(
        self, raw_url: str, *, feed: bool | None = None, progress: Progress | None = None
    ) -> IngestReport:
        """Add an article page or a feed (``feed``: force one or the other; None: detect)."""
        given = raw_url.strip()
        try:
            url = check_url(given)
        except errors.BadUrl as exc:
            return IngestReport("article", given, error=reason(exc))
        db = self._corpus.db
        existing = self._on_corpus(lambda: sources.find_source_by_url(db, url))
        if existing is not None:
            if existing.kind == "feed":
                state = self._on_corpus(lambda: sources.feed_state(db, existing.id))
                if state is not None:
                    return self._poll(state, force=True, progress=progress)[0]
            return IngestReport(
                existing.kind,
                url,
                source_id=existing.id,
                source_title=existing.title,
                existing=True,
                error=texts.source_exists(existing.id, existing.title),
            )
        now = self._clock()
        try:
            fetched = self.fetcher.fetch(url)
            if feed or (feed is None and looks_like_feed(fetched.content_type, fetched.body)):
                parsed = parse_feed(fetched.body, fetched.url)
            else:
                return self._add_page(url, fetched, now)
        except errors.SourceError as exc:
            return self._failed("article" if feed is None else "feed", url, exc, now)
        return self._add_feed(url, fetched, parsed, now, progress)

    def _failed(self, kind: str, url: str, exc: errors.SourceError, now: datetime) -> IngestReport:
        why = reason(exc)
        log.info("source %s failed: %s", url, exc)
        self._on_corpus(lambda: activity.record_error(self._corpus.db, now, why, url=url))
        return IngestReport(kind, url, error=why)

    def _add_page(self, url: str, fetched: Fetched, now: datetime) -> IngestReport:
        article = self._page_article(url, fetched)
        try:
            source_id, added = self._on_corpus(
                lambda: self._corpus.add_source_article(
                    kind="article", source_title=article.title, url=url, article=article, now=now
                )
            )
        except DuplicateArticle as exc:
            return IngestReport("article", url, known=1, known_title=exc.title)
        stored = StoredArticle(added.title, article.publisher, article.published, added.passages)
        return IngestReport(
            "article", url, source_id=source_id, source_title=added.title, added=[stored]
        )

    def _page_article(self, url: str, fetched: Fetched) -> NewArticle:
        """The article in a fetched page (raises UnsupportedContent or NoText)."""
        media = fetched.content_type
        text = decode(fetched.body, fetched.charset)
        if media == "text/plain":
            body = tidy_text(text)
            if len(body.split()) < MIN_WORDS:
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
        if progress is not None:
            progress.start(len(feed.entries), feed.title)
        fresh = [e for e in feed.entries if e.link not in known]
        report.known += len(feed.entries) - len(fresh)
        if progress is not None:
            for _ in range(len(feed.entries) - len(fresh)):
                progress.advance()
        try:
            with ThreadPoolExecutor(ENTRY_WORKERS, thread_name_prefix="techbrief-entry") as pool:
                for start in range(0, len(fresh), ENTRY_BATCH):
                    if self._stopping.is_set():
                        break
                    batch = fresh[start : start + ENTRY_BATCH]
                    prepared = list(pool.map(lambda e: self._entry_article(e, feed.title), batch))
                    ready: list[NewArticle] = []
                    for entry, (article, failure) in zip(batch, prepared, strict=True):
                        if article is None:
                            what = entry.title or entry.link or "?"
                            report.failed.append(FailedEntry(what, failure))
                        else:
                            ready.append(article)
                    results = self._on_corpus(
                        lambda ready=ready: self._corpus.add_articles(source_id, ready, now)  # type: ignore[misc]
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

    def _entry_article(self, entry: FeedEntry, feed_title: str) -> tuple[NewArticle | None, str]:
        """The entry's linked page, or its own content when the page fails."""
        failure = texts.ENTRY_EMPTY
        if entry.link:
            try:
                page = self._page_article(entry.link, self.fetcher.fetch(entry.link))
            except errors.SourceError as exc:
                failure = reason(exc)
                log.info("feed entry %s: %s; falling back to its own text", entry.link, exc)
            else:
                return (
                    NewArticle(
                        title=entry.title or page.title,
                        body=page.body,
                        publisher=page.publisher or feed_title,
                        published=page.published or entry.published,
                        url=entry.link,
                        canonical_url=page.canonical_url,
                    ),
                    "",
                )
        if len(entry.text.split()) >= MIN_WORDS:
            article = NewArticle(
                title=entry.title,
                body=entry.text,
                publisher=feed_title,
                published=entry.published,
                url=entry.link,
                canonical_url=entry.link,
            )
            return article, ""
        return None, failure

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
        self, source_id: int | None = None, progress: Progress | None = None
    ) -> list[IngestReport] | str:
        """Poll one feed now (re-enabling it), or every feed; a string says why not."""
        db = self._corpus.db
        if source_id is None:
            states: Sequence[FeedState] = self._on_corpus(lambda: sources.list_feeds(db))
            if not states:
                return texts.NO_FEEDS
        else:
            source = self._on_corpus(lambda: sources.get_source(db, source_id))
            if source is None:
                return texts.no_such_source(source_id)
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
        what = name or "the text"
        if len(text) > MAX_TEXT_CHARS:
            return IngestReport(kind, what, error=texts.text_too_long(MAX_TEXT_CHARS))
        body = tidy_text(text)
        if len(body.split()) < MIN_WORDS:
            return IngestReport(kind, what, error=texts.text_too_short(MIN_WORDS))
        return self._store_single(kind, what, NewArticle(title=title.strip(), body=body), name)

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
            lines = [line for line in text.splitlines() if line.strip()]
            if lines and lines[0].lstrip().startswith("#"):
                # The leading heading is the title, not part of the body (whatever the title).
                title = title or lines[0].lstrip().lstrip("#").strip()
                text = text.split(lines[0], 1)[1]
            body = tidy_text(text, markdown=True)
        else:
            body = tidy_text(text)
        if len(body) > MAX_TEXT_CHARS:
            return IngestReport("file", name, error=texts.text_too_long(MAX_TEXT_CHARS))
        if len(body.split()) < MIN_WORDS:
            return IngestReport("file", name, error=texts.text_too_short(MIN_WORDS))
        return self._store_single("file", name, NewArticle(title=title.strip(), body=body), name)

    def _store_single(
        self, kind: str, what: str, article: NewArticle, name: str | None
    ) -> IngestReport:
        now = self._clock()
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
            return IngestReport(kind, what, known=1, known_title=exc.title)
        stored = StoredArticle(added.title, article.publisher, article.published, added.passages)
        return IngestReport(
            kind, what, source_id=source_id, source_title=name or added.title, added=[stored]
        )


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
