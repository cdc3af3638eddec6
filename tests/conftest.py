"""Shared fixtures: real SQLite files in tmp dirs, the shipped seed corpus."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings

from bot.core.corpus import Corpus
from bot.core.service import TechBrief

# Timing varies on shared CI machines; correctness, not speed, is tested here.
settings.register_profile("techbrief", deadline=None, print_blob=True)
settings.load_profile("techbrief")

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def corpus(tmp_path: Path) -> Corpus:
    opened = Corpus.open(tmp_path / "techbrief.db", NOW)
    yield opened
    opened.close()


@pytest.fixture
def service(corpus: Corpus) -> TechBrief:
    return TechBrief(corpus)
