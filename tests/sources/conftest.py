"""Fixtures for source tests: a web server on 127.0.0.1 and fetchers that record their waits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.core.corpus import Corpus
from bot.core.ingest import Ingestion
from bot.sources.fetch import Fetcher, FetchPolicy
from tests.conftest import NOW
from tests.sources.webserver import WebServer


@pytest.fixture
def web() -> Iterator[WebServer]:
    with WebServer() as server:
        yield server


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def fetcher(waits: list[float]) -> Iterator[Fetcher]:
    # The allow flag is on for the tests that are not about it: the server is on 127.0.0.1.
    policy = FetchPolicy(allow_private=True, read_timeout=2.0, connect_timeout=2.0)
    with Fetcher(policy, sleep=waits.append) as f:
        yield f


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ingestion(tmp_path: Path, fetcher: Fetcher, clock: Clock) -> Iterator[Ingestion]:
    corpus = Corpus.open(tmp_path / "techbrief.db", NOW)
    yield Ingestion(corpus, fetcher, clock=clock, poll_interval=timedelta(minutes=30))
    corpus.close()
