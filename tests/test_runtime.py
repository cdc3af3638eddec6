"""The Telegram adapter's small in-memory state: recent questions and admin notices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.telegram.runtime import AdminNotices, RecentQuestions


def test_recent_questions_forget_the_least_recently_used() -> None:
    recent = RecentQuestions(capacity=3)
    for qid in "abc":
        recent.remember(qid, f"question {qid}")
    assert recent.get("a") == "question a"  # now the most recently used
    recent.remember("d", "question d")  # evicts "b", the least recently used
    assert len(recent) == 3
    assert recent.get("b") is None
    assert [recent.get(q) for q in "acd"] == ["question a", "question c", "question d"]


def test_remembering_again_refreshes_without_growing() -> None:
    recent = RecentQuestions(capacity=2)
    recent.remember("a", "old")
    recent.remember("b", "b")
    recent.remember("a", "new")
    recent.remember("c", "c")  # evicts "b": "a" was refreshed
    assert recent.get("a") == "new"
    assert recent.get("b") is None


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RecentQuestions(capacity=0)


def test_admin_notices_are_rate_limited_per_admin() -> None:
    notices = AdminNotices(interval=timedelta(minutes=10))
    start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert notices.due(1, start)
    assert not notices.due(1, start + timedelta(minutes=9))
    assert notices.due(2, start + timedelta(minutes=9))  # another admin: its own interval
    assert notices.due(1, start + timedelta(minutes=10))


def test_a_segmenter_that_fails_to_load_at_start_is_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The start-up preload runs on its own thread: a failure there must not print a
    traceback (threading's hook would), only say that it loads when needed."""
    from types import SimpleNamespace

    from bot.telegram.app import _load_segmenter

    def fail() -> None:
        raise OSError("no space left on device")

    corpus = SimpleNamespace(analyzer=SimpleNamespace(load_segmenter=fail))
    with caplog.at_level("WARNING"):
        _load_segmenter(corpus)  # type: ignore[arg-type]
    assert [r.getMessage() for r in caplog.records] == [
        "the Chinese segmenter did not load at start (no space left on device); "
        "it loads when needed"
    ]
