"""A crash mid fan-out: ``techbrief`` is SIGKILLed while sending digests, then restarted.

Forty chats subscribe; the test server carries out the first nine sends, carries
out the tenth but never answers it (the process dies before it learns the
message went out), and holds every later one unanswered. Once the nine are
recorded the process is killed. After the restart: the nine get nothing more,
the thirty that never got theirs get one each, and the tenth - the window
between Telegram accepting a message and the record being written, which the
README names - gets it a second time. Nobody else gets a duplicate.
"""

from __future__ import annotations

import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.corpus import Corpus
from storage import deliveries, sources, subscriptions
from storage.db import open_database
from tests.e2e.botapi import BotApiServer
from tests.e2e.test_cli_telegram import eventually, techbrief
from tests.e2e.test_digests import EV_STORY

CHATS = list(range(2001, 2041))


def _prepare(db: Path) -> None:
    """Forty subscriptions to "ev" at 00:00 UTC made yesterday, and a new EV article."""
    yesterday = datetime.now(UTC) - timedelta(days=1)
    corpus = Corpus.open(db, yesterday)
    try:
        for chat in CHATS:
            subscriptions.add_subscription(
                corpus.db,
                chat_id=chat,
                topic="ev",
                topic_key="ev",
                local_time="00:00",
                timezone="UTC",
                now=yesterday,
            )
        with corpus.db.atomic():
            source = sources.add_source(corpus.db, kind="article", title="x", now=yesterday)
        corpus.add_article(source, EV_STORY, yesterday)
    finally:
        corpus.close()


def _sent(db: Path) -> set[int]:
    """Chats whose digest is recorded as sent."""
    conn = open_database(db)
    try:
        return {d.chat_id for d in deliveries.list_deliveries(conn) if d.status == "sent"}
    finally:
        conn.close()


def _received(api: BotApiServer) -> Counter[int]:
    return Counter({chat: len(api.sent(chat)) for chat in CHATS if api.sent(chat)})


def test_a_crash_mid_fan_out_resends_only_the_one_in_flight(
    api: BotApiServer, tmp_path: Path
) -> None:
    db = tmp_path / "t.db"
    _prepare(db)
    for chat in CHATS:
        api.add_private_chat(chat)
    api.hold("sendMessage", 10)
    process = techbrief(tmp_path, api.base_url)
    try:
        eventually(lambda: len(_sent(db)) >= 9 or None, within=60)
        eventually(lambda: sum(_received(api).values()) >= 10 or None)
        process.kill()
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)
    recorded = _sent(db)
    before = _received(api)
    window = set(before) - recorded
    assert len(recorded) == 9
    assert len(window) == 1  # sent, but the process died before it heard so
    api.release()

    restarted = techbrief(tmp_path, api.base_url)
    try:
        eventually(lambda: len(_sent(db)) == len(CHATS) or None, within=60)
        restarted.send_signal(signal.SIGTERM)
        _, stderr = restarted.communicate(timeout=30)
        assert restarted.returncode == 0, stderr.decode()
    finally:
        if restarted.poll() is None:
            restarted.kill()
            restarted.communicate(timeout=30)
    after = _received(api)
    assert set(after) == set(CHATS)  # everyone got it
    assert {chat for chat, n in after.items() if n > 1} == window  # only the one in flight twice
    assert after[next(iter(window))] == 2
    for chat in recorded:
        assert after[chat] == 1
