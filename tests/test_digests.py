"""Subscriptions and digests below the transports: storage, selection, the core, the console."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.console import ConsoleChat, run_console
from bot.core import render
from bot.core.corpus import Corpus
from bot.core.digests import (
    CONSOLE_CHAT,
    MAX_SUBSCRIPTIONS,
    Subscribed,
    TimezoneSet,
    TopicChoice,
    topic_of,
)
from bot.core.service import Refusal, TechBrief
from retrieval.analyze import Analyzer
from retrieval.answer import Candidate
from retrieval.digest import MAX_ARTICLES, MIN_RELEVANCE, Digest, TopicScorer, select_digest
from retrieval.index import BM25Index
from retrieval.query import QueryParser
from retrieval.topics import find_topic, understand_topic
from storage import deliveries, sources, subscriptions
from storage.articles import NewArticle
from storage.deliveries import AlreadyDelivered
from tests import digest_calibration
from tests.conftest import NOW

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def _article(corpus: Corpus, title: str, body: str, now: datetime = T0, **kw: str) -> int:
    with corpus.db.atomic():
        source = sources.add_source(corpus.db, kind="text", title=title, now=now)
    return corpus.add_article(source, NewArticle(title=title, body=body, **kw), now).article_id


EV_BODY = (
    "BYD unveiled a battery charging system that adds 400 km of range to its electric "
    "vehicles in five minutes, the carmaker said on Monday."
)


# -- storage ---------------------------------------------------------------------------------


def test_a_day_is_recorded_once_and_the_watermark_never_moves_back(corpus: Corpus) -> None:
    db = corpus.db
    sid = subscriptions.add_subscription(
        db, chat_id=7, topic="ev", topic_key="ev", local_time="08:00", timezone="UTC", now=T0
    )
    assert subscriptions.get_subscription(db, sid).watermark == 25  # the newest passage
    deliveries.record_delivery(
        db, subscription_id=sid, local_date="2026-11-23", status="sent", articles=1, upto=40, now=T0
    )
    with pytest.raises(AlreadyDelivered):
        deliveries.record_delivery(
            db,
            subscription_id=sid,
            local_date="2026-11-23",
            status="sent",
            articles=1,
            upto=50,
            now=T0,
        )
    deliveries.record_delivery(
        db,
        subscription_id=sid,
        local_date="2026-11-24",
        status="empty",
        articles=0,
        upto=30,
        now=T0,
    )
    found = subscriptions.get_subscription(db, sid)
    assert found is not None
    assert (found.watermark, found.last_date) == (40, "2026-11-24")
    assert [d.status for d in deliveries.list_deliveries(db, 7)] == ["sent", "empty"]
    assert deliveries.count_sent_since(db, T0 - timedelta(hours=1)) == 1


def test_unsubscribing_keeps_the_delivery_history(corpus: Corpus) -> None:
    db = corpus.db
    sid = subscriptions.add_subscription(
        db, chat_id=7, topic="ev", topic_key="ev", local_time="08:00", timezone="UTC", now=T0
    )
    deliveries.record_delivery(
        db, subscription_id=sid, local_date="2026-11-23", status="sent", articles=1, upto=26, now=T0
    )
    assert subscriptions.remove_subscriptions(db, 7, [sid]) == 1
    [kept] = deliveries.list_deliveries(db, 7)
    assert (kept.subscription_id, kept.topic) == (None, "ev")


def test_a_migrated_group_keeps_its_subscriptions_and_settings(corpus: Corpus) -> None:
    db = corpus.db
    for topic in ("ev", "ai"):
        subscriptions.add_subscription(
            db, chat_id=-5, topic=topic, topic_key=topic, local_time="08:00", timezone="UTC", now=T0
        )
    subscriptions.set_chat_timezone(db, -5, "Asia/Shanghai", T0)
    # The supergroup already subscribed to "ai" (a second migration message, say).
    subscriptions.add_subscription(
        db, chat_id=-1005, topic="ai", topic_key="ai", local_time="09:00", timezone="UTC", now=T0
    )
    assert subscriptions.migrate_chat(db, -5, -1005) == 1
    assert subscriptions.migrate_chat(db, -5, -1005) == 0  # idempotent
    moved = subscriptions.list_subscriptions(db, -1005)
    assert sorted((s.topic, s.local_time) for s in moved) == [("ai", "09:00"), ("ev", "08:00")]
    assert subscriptions.list_subscriptions(db, -5) == []
    assert subscriptions.chat_timezone(db, -1005) == "Asia/Shanghai"


def test_pausing_and_resuming_a_chat(corpus: Corpus) -> None:
    db = corpus.db
    subscriptions.add_subscription(
        db, chat_id=7, topic="ev", topic_key="ev", local_time="08:00", timezone="UTC", now=T0
    )
    assert subscriptions.set_active(db, 7, False, T0) == 1
    assert subscriptions.list_active(db) == []
    assert subscriptions.set_active(db, 7, False, T0) == 0
    assert subscriptions.set_active(db, 7, True, T0) == 1
    assert [s.chat_id for s in subscriptions.list_active(db)] == [7]


# -- selection -------------------------------------------------------------------------------


def test_scores_after_equal_scores_restricted_to_newer_keys() -> None:
    rng = random.Random(7)
    index = BM25Index()
    words = [f"w{i}" for i in range(40)]
    key = 0
    for _ in range(6):  # several segments
        keys, docs = [], []
        for _ in range(200):
            key += rng.randint(1, 3)
            keys.append(key)
            docs.append([rng.choice(words) for _ in range(rng.randint(1, 30))])
        index.add(keys, docs)
    index.remove(keys[:50:3])
    query = ["w1", "w2", "w2", "w39", "unseen"]
    every = index.scores(query)
    for after in (0, 1, 100, 700, key - 3, key, key + 10):
        assert index.scores_after(query, after) == {k: s for k, s in every.items() if k > after}


@settings(max_examples=60)
@given(
    docs=st.lists(
        st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=0, max_size=8),
        min_size=1,
        max_size=40,
    ),
    query=st.lists(st.sampled_from(["a", "b", "c", "x"]), min_size=1, max_size=4),
    cut=st.integers(0, 45),
    batch=st.integers(1, 10),
)
def test_scores_after_property(
    docs: list[list[str]], query: list[str], cut: int, batch: int
) -> None:
    index = BM25Index()
    keys = list(range(1, len(docs) + 1))
    for i in range(0, len(docs), batch):
        index.add(keys[i : i + batch], docs[i : i + batch])
    every = index.scores(query)
    assert index.scores_after(query, cut) == {k: s for k, s in every.items() if k > cut}


@settings(max_examples=60, deadline=None)
@given(
    docs=st.lists(
        st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=0, max_size=8),
        min_size=1,
        max_size=30,
    ),
    cut=st.integers(0, 35),
)
def test_saturations_after_are_the_scores_without_idf(docs: list[list[str]], cut: int) -> None:
    index = BM25Index()
    index.add(list(range(1, len(docs) + 1)), docs)
    saturations = index.saturations_after(["a", "c", "x"], cut)
    for term in ("a", "c"):
        scores = index.scores_after([term], cut)
        found = saturations.get(term, {})
        assert found.keys() == scores.keys()
        for key, value in found.items():
            assert 0 < value < 1
            assert value * index.idf(term) * (index.k1 + 1) == pytest.approx(scores[key])
    assert "x" not in saturations


def _candidate(pid: int, article: int, score: float, text: str, title: str = "") -> Candidate:
    return Candidate(
        passage_id=pid,
        score=score,
        text=text,
        heading=None,
        title=title or f"Article {article}",
        publisher="Example",
        url=f"https://example.com/{article}",
        article_id=article,
    )


def _scorer(topic: str) -> TopicScorer:
    """A free-text topic, every slot weighing 1."""
    understood = understand_topic(QueryParser(Analyzer()), BM25Index(), topic)
    return TopicScorer(understood, lambda term: 1.0)


def _select(candidates: list[Candidate], **kw: int) -> tuple[list[int], list[int]]:
    analyzer = Analyzer()
    digest = select_digest(
        _scorer("electric vehicle EV BYD battery charging"),
        candidates,
        analyzer,
        upto=99,
        **kw,
    )
    return [a.candidate.article_id for a in digest.articles], [
        a.duplicates for a in digest.articles
    ]


def test_digest_groups_by_article_keeps_the_best_passage_and_caps_at_five() -> None:
    # Seven different stories of two passages each; the better passage speaks for its article.
    candidates = [
        _candidate(
            pid,
            article=pid // 2,
            score=20.0 - pid,
            text=" ".join(f"story{pid // 2}word{j}" for j in range(12)) + f" BYD battery {pid}",
        )
        for pid in range(14)
    ]
    analyzer = Analyzer()
    digest = select_digest(_scorer("BYD battery"), candidates, analyzer, upto=13)
    assert [a.candidate.article_id for a in digest.articles] == [0, 1, 2, 3, 4]
    assert [a.candidate.passage_id for a in digest.articles] == [0, 2, 4, 6, 8]
    assert [a.passages for a in digest.articles] == [2] * MAX_ARTICLES
    assert (digest.matched, digest.passages, digest.upto) == (7, 14, 13)


def test_digest_drops_what_is_below_the_threshold() -> None:
    strong = _candidate(1, 1, 5.0, EV_BODY)
    weak = _candidate(2, 2, MIN_RELEVANCE * 0.99, "BYD said the battery of a phone.")
    articles, _ = _select([strong, weak])
    assert articles == [1]


def test_digest_collapses_the_same_story_from_two_outlets() -> None:
    one = _candidate(1, 1, 5.0, EV_BODY, title="BYD's five-minute charger")
    two = _candidate(2, 2, 4.0, EV_BODY.replace("on Monday", "on Tuesday"), title="Fast charging")
    same_title = _candidate(
        3, 3, 3.0, "Different words entirely about BYD.", "BYD's Five-Minute Charger!"
    )
    other = _candidate(4, 4, 2.0, "Nio opened battery swap stations to Zeekr drivers in Shanghai.")
    articles, duplicates = _select([one, two, same_title, other])
    assert articles == [1, 4]
    assert duplicates == [2, 0]


def test_digest_best_sentence_marks_topic_words() -> None:
    text = "Shares fell on Monday. BYD unveiled a battery that charges in five minutes."
    analyzer = Analyzer()
    digest = select_digest(_scorer("BYD battery"), [_candidate(1, 1, 5.0, text)], analyzer, upto=1)
    [item] = digest.articles
    assert item.sentence.text == "BYD unveiled a battery that charges in five minutes."
    marked = [item.sentence.text[a:b] for a, b in item.sentence.spans]
    assert marked == ["BYD", "battery"]


def test_the_relevance_threshold_holds_on_the_labelled_passages() -> None:
    judged = digest_calibration.judgements()
    chosen = digest_calibration.score(judged, MIN_RELEVANCE)
    # Calibrated by `python -m tests.digest_calibration` (the README has the table):
    # the threshold with the best F1.
    assert chosen.precision >= 0.85
    assert chosen.recall >= 0.85
    for step in range(1, 21):
        assert digest_calibration.score(judged, step / 100).f1 <= chosen.f1 + 1e-9


# -- the core --------------------------------------------------------------------------------


@pytest.fixture
def brief(tmp_path: Path) -> TechBrief:
    corpus = Corpus.open(tmp_path / "t.db", NOW)
    yield TechBrief(corpus)
    corpus.close()


@pytest.mark.parametrize(
    ("raw", "topic", "local_time"),
    [
        ("ev", "ev", "08:00"),
        ("EV 7:30", "ev", "07:30"),
        ("  robotaxi   06.15 ", "robotaxi", "06:15"),
        ("Xiaomi SU7 21:00", "Xiaomi SU7", "21:00"),
        ("<b>Pony.ai</b> &amp; WeRide", "Pony.ai & WeRide", "08:00"),
        ("DeepSeek R2 launch 9h05", "DeepSeek R2 launch", "09:05"),
        # Trial rough edge 1: these became free-text topics ("chips 7pm", "ev 8"...).
        ("chips 7pm", "chips", "19:00"),
        ("chips 7 pm", "chips", "19:00"),
        ("ai 7:30 p.m.", "ai", "19:30"),
        ("ai 12am", "ai", "00:00"),
        ("ev 8", "ev", "08:00"),
        ("ev 19", "ev", "19:00"),
        ("ai 0800", "ai", "08:00"),
        ("ai 2130", "ai", "21:30"),
        ("ev 19:30", "ev", "19:30"),
        # Numbers that are no time, and years, stay in the topic.
        ("Huawei Mate 60", "Huawei Mate 60", "08:00"),
        ("Honor 200", "Honor 200", "08:00"),
        ("Made in China 2025", "Made in China 2025", "08:00"),
        ("Xiaomi 15 8:00", "Xiaomi 15", "08:00"),
        # A built-in topic by the names people use (these were free-text topics).
        ("EVs", "ev", "08:00"),
        ("Electric vehicles 7pm", "ev", "19:00"),
        ("robotaxis", "robotaxi", "08:00"),
        ("Self-Driving 06:30", "robotaxi", "06:30"),
        ("semiconductors", "chips", "08:00"),
        ("AI models", "ai", "08:00"),
        ("IPOs", "ipo", "08:00"),
        ("electric vehicles and batteries", "electric vehicles and batteries", "08:00"),
        # Second trial: these became free-text topics at 08:00 ("ipo noon", "chips at"...).
        ("ipo noon", "ipo", "12:00"),
        ("ipo 12 noon", "ipo", "12:00"),
        ("energy midnight", "energy", "00:00"),
        ("ipo 19h", "ipo", "19:00"),
        ("ev 0800h", "ev", "08:00"),
        ("chips at 7pm", "chips", "19:00"),
        ("chips at 7 pm", "chips", "19:00"),
        ("huawei at 9", "huawei", "09:00"),
        ("ev 7pm daily", "ev", "19:00"),
        ("ev 7pm every day", "ev", "19:00"),
        # A zone after the time that is the chat's own (this chat is on UTC).
        ("ev 20:00 UTC", "ev", "20:00"),
        ("ev 20:00 GMT", "ev", "20:00"),
        ("ev 8 pm (UTC)", "ev", "20:00"),
    ],
)
def test_subscribe_reads_topic_and_time(
    brief: TechBrief, raw: str, topic: str, local_time: str
) -> None:
    result = brief.digests.subscribe(42, raw, T0)
    assert isinstance(result, Subscribed)
    assert (result.subscription.topic, result.subscription.local_time) == (topic, local_time)


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("", "Usage: /subscribe"),
        ("7:30", "Usage: /subscribe"),
        ("ev 25:00", "25:00 is not a time of day"),
        ("ev 7:61", "7:61 is not a time of day"),
        ("ev 13pm", "13pm is not a time of day"),
        ("8 pm", "Usage: /subscribe"),
        ("x" * 101, "101 characters long"),
        ("the of and", "a few meaningful words"),
        ("😀🚗", "a few meaningful words"),
        ("\x00\x1b[31m", "Usage: /subscribe"),
        # Second trial: words after the time became part of a free-text topic.
        ("energy 7am tomorrow", "I don't understand “tomorrow” after the time 7am"),
        ("ev 7pm news", "I don't understand “news” after the time 7pm"),
        ("7pm ev", "/subscribe ev 19:00"),
        ("ev 9am 10am", "I don't understand “10am”"),
        ("ev 25:00 UTC", "25:00 is not a time of day"),
        ("ev 6:00 Beijing time", "6:00 Beijing time is 22:00 there. Send /subscribe ev 22:00"),
        ("ev 6:00 Beijing time", "/timezone Asia/Shanghai"),
        ("ev 9am New York", "9am New York is 14:00 there"),
        ("ev 9am EST", "9am EST is 14:00 there"),
        ("ev 7pm UTC+8", "/timezone UTC+08:00"),
        ("chips 8pm CST", "CST may be Asia/Shanghai or America/Chicago"),
        ("chips 8pm US", "US may be America/New_York"),
        ("7pm UTC+8", "Usage: /subscribe"),
    ],
)
def test_subscribe_refuses_clearly(brief: TechBrief, raw: str, says: str) -> None:
    result = brief.digests.subscribe(42, raw, T0)
    assert isinstance(result, Refusal)
    assert says in result.message
    assert brief.digests.subscriptions(42) == []


def test_a_number_read_as_the_time_says_how_to_keep_it_in_the_topic(brief: TechBrief) -> None:
    result = brief.digests.subscribe(42, "Xiaomi 15", T0)
    assert isinstance(result, Subscribed)
    assert (result.subscription.topic, result.subscription.local_time) == ("Xiaomi", "15:00")
    assert result.number_topic == "Xiaomi 15"
    said = render.subscribed(result, T0, render.console_markup(ansi=False))
    assert said.endswith("(For the topic “Xiaomi 15”: /subscribe Xiaomi 15 15:00)")
    clear = brief.digests.subscribe(42, "ev 19:30", T0)
    assert isinstance(clear, Subscribed)
    assert clear.number_topic is None  # a clock time needs no such hint


@pytest.mark.parametrize("raw", ["robotaxi 0700", "byd 0700", "huawei at 9", "ai at 19"])
def test_four_digits_or_a_number_after_at_is_plainly_a_time(brief: TechBrief, raw: str) -> None:
    # Second trial: "/subscribe robotaxi 0700" said "(For the topic “robotaxi 0700”: ...)".
    result = brief.digests.subscribe(42, raw, T0)
    assert isinstance(result, Subscribed)
    assert result.number_topic is None
    assert "For the topic" not in render.subscribed(result, T0, render.console_markup(False))


def test_a_zone_after_the_time_must_be_the_chats(brief: TechBrief) -> None:
    digests = brief.digests
    assert isinstance(digests.set_timezone(42, "Asia/Shanghai", T0), TimezoneSet)
    for raw in ("policy 9am Beijing time", "ai 20:00 HKT", "chips 7pm in Shanghai", "ev 7pm 北京"):
        result = digests.subscribe(42, raw, T0)
        assert isinstance(result, Subscribed), raw
        assert result.subscription.timezone == "Asia/Shanghai"
    times = {s.topic: s.local_time for s in digests.subscriptions(42)}
    assert times == {"policy": "09:00", "ai": "20:00", "chips": "19:00", "ev": "19:00"}
    other = digests.subscribe(42, "ev 20:00 UTC", T0)
    assert isinstance(other, Refusal)
    assert other.message == (
        "Digest times are in this chat's time zone, Asia/Shanghai: 20:00 UTC is 04:00 there. "
        "Send /subscribe ev 04:00, or first move the chat (and its subscriptions) to that "
        "zone with /timezone UTC. Nothing was subscribed."
    )
    assert digests.subscriptions(42)[3].local_time == "19:00"  # unchanged


def test_zones_of_an_offset_are_shown_as_their_offset(brief: TechBrief) -> None:
    # Second trial: "daily at 19:00 (Etc/GMT-8)", read as UTC-8.
    digests, m = brief.digests, render.console_markup(False)
    zone = digests.set_timezone(42, "UTC+8", T0)
    assert isinstance(zone, TimezoneSet)
    assert zone.zone == "Etc/GMT-8"  # stored as tzdata names it
    assert render.timezone_set(zone, m) == "Time zone set to UTC+08:00."
    result = digests.subscribe(42, "ev 7pm", T0)
    assert isinstance(result, Subscribed)
    assert result.subscription.timezone == "Etc/GMT-8"
    said = render.subscribed(result, T0, m)
    assert "daily at 19:00 (UTC+08:00)" in said
    card = render.subscription_card(result.subscription, topic_of(result.subscription), T0, m)
    assert "daily at 19:00 (UTC+08:00)" in card
    usage = digests.set_timezone(42, "", T0)
    assert isinstance(usage, Refusal)
    assert usage.message.startswith("This chat's time zone is UTC+08:00.")
    assert "Etc/GMT" not in said + card + usage.message


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("US", "US has several time zones: America/New_York, America/Chicago, America/Denver, "),
        ("United States", "America/Adak or Pacific/Honolulu. Send the one you mean"),
        ("Australia", "Australia/Sydney, Australia/Adelaide, Australia/Brisbane"),
        ("CST", "CST may be Asia/Shanghai or America/Chicago."),
        ("Asia", "Asia spans many time zones. Send a city or a country"),
        ("Russia", "and 3 more"),
        ("Mars", "I don't know the time zone Mars."),
    ],
)
def test_timezone_says_what_a_name_of_several_zones_may_be(
    brief: TechBrief, raw: str, says: str
) -> None:
    result = brief.digests.set_timezone(42, raw, T0)
    assert isinstance(result, Refusal)
    assert says in result.message
    assert brief.digests.zone_of(42).key == "UTC"  # unchanged


@pytest.mark.parametrize(
    ("raw", "zone"),
    [
        ("US Virgin Islands", "America/St_Thomas"),
        ("PST", "America/Los_Angeles"),
        ("北京", "Asia/Shanghai"),
    ],
)
def test_timezone_sets_what_it_names(brief: TechBrief, raw: str, zone: str) -> None:
    result = brief.digests.set_timezone(42, raw, T0)
    assert isinstance(result, TimezoneSet)
    assert result.zone == zone


def test_a_zone_stored_under_tzdatas_fixed_name_keeps_its_meaning(brief: TechBrief) -> None:
    # "EST" typed now means New York's clocks; a chat that stored tzdata's fixed EST keeps it.
    subscriptions.set_chat_timezone(brief.corpus.db, 42, "EST", T0, {})
    assert brief.digests.zone_of(42).key == "EST"


def test_subscribing_again_changes_the_time_and_a_chat_has_at_most_ten(brief: TechBrief) -> None:
    digests = brief.digests
    assert isinstance(digests.subscribe(42, "ev", T0), Subscribed)
    again = digests.subscribe(42, "EV", T0)
    assert isinstance(again, Subscribed)
    assert not again.created
    assert not again.time_changed
    moved = digests.subscribe(42, "ev 06:00", T0)
    assert isinstance(moved, Subscribed)
    assert moved.time_changed
    assert moved.subscription.local_time == "06:00"
    for n in range(MAX_SUBSCRIPTIONS - 1):
        assert isinstance(digests.subscribe(42, f"topic number {n} 08:00", T0), Subscribed)
    refused = digests.subscribe(42, "one too many", T0)
    assert isinstance(refused, Refusal)
    assert "10 subscriptions" in refused.message


def test_new_subscriptions_take_the_chats_time_zone(brief: TechBrief) -> None:
    digests = brief.digests
    unknown = digests.set_timezone(42, "Asia/Shangai", T0)
    assert isinstance(unknown, Refusal)
    assert "Asia/Shanghai" in unknown.message
    digests.set_timezone(42, "Asia/Shanghai", T0)
    result = digests.subscribe(42, "ev", T0)
    assert isinstance(result, Subscribed)
    assert result.subscription.timezone == "Asia/Shanghai"


def test_due_digests_share_one_composition_and_cover_only_new_passages(brief: TechBrief) -> None:
    digests = brief.digests
    for chat in (1, 2, 3):
        digests.subscribe(chat, "ev", T0)
    digests.subscribe(4, "chips", T0)
    _article(brief.corpus, "BYD's charger", EV_BODY, T0 + timedelta(minutes=5))
    due = digests.due(datetime(2026, 11, 23, 8, 0, 1, tzinfo=UTC))
    assert sorted(d.subscription.chat_id for d in due) == [1, 2, 3, 4]
    ev = [d for d in due if d.subscription.topic == "ev"]
    assert len({id(d.view.digest) for d in ev}) == 1  # composed once
    [item] = ev[0].view.digest.articles
    assert item.candidate.title == "BYD's charger"
    [chips] = [d for d in due if d.subscription.topic == "chips"]
    assert chips.view.digest.empty  # the seed's chip passages are older than the subscription
    # Recorded: not due again today, and the watermark moved.
    for d in due:
        assert digests.record(d, "sent" if not d.view.digest.empty else "empty", T0)
    assert not digests.record(due[0], "sent", T0)  # a second record is refused, harmlessly
    assert digests.due(datetime(2026, 11, 23, 20, 0, tzinfo=UTC)) == []
    assert digests.due(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))[0].view.digest.empty


def test_the_console_chat_is_never_in_the_telegram_fan_out(brief: TechBrief) -> None:
    brief.digests.subscribe(CONSOLE_CHAT, "ev", T0)
    brief.digests.subscribe(9, "ev", T0)
    at = datetime(2026, 11, 23, 8, 1, tzinfo=UTC)
    assert [d.subscription.chat_id for d in brief.digests.due(at)] == [9]
    assert [d.subscription.chat_id for d in brief.digests.due(at, chats=(CONSOLE_CHAT,))] == [
        CONSOLE_CHAT
    ]


def test_preview_of_an_unsubscribed_topic_covers_the_last_day(brief: TechBrief) -> None:
    _article(brief.corpus, "Old BYD news", EV_BODY, T0 - timedelta(days=2))
    _article(brief.corpus, "Nio swaps", "Nio opened battery swap stations to Zeekr EV drivers.", T0)
    [view] = brief.digests.preview(42, "ev", T0 + timedelta(hours=1))
    assert [a.candidate.title for a in view.digest.articles] == ["Nio swaps"]
    assert view.subscription is None
    assert render.digest_card(view, render.console_markup(False)).startswith(
        "📬 Preview · **electric vehicles** — 1 new article since 22 Nov 2026 08:00"
    )


def test_stats_count_active_subscriptions_and_digests_sent_today(brief: TechBrief) -> None:
    digests = brief.digests
    digests.subscribe(1, "ev", T0)
    digests.subscribe(2, "ev", T0)
    digests.subscribe(2, "ai", T0)
    digests.pause_chat(1, T0)
    stats = digests.stats(T0)
    assert (stats.subscriptions, stats.chats, stats.sent_today) == (2, 1, 0)


# -- the console -----------------------------------------------------------------------------


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_console_subscribes_and_shows_its_digest_once_when_due(brief: TechBrief) -> None:
    clock = _Clock(T0)
    chat = ConsoleChat(brief, render.console_markup(False), clock=clock)
    assert chat.reply("/subscribe ev 08:00").startswith("Subscribed to electric vehicles")
    assert chat.reply("/topics").startswith("**Topics**")
    _article(brief.corpus, "BYD's charger", EV_BODY, T0)
    assert chat.due_digests() == []  # 07:00: not yet
    clock.now = datetime(2026, 11, 23, 8, 0, 30, tzinfo=UTC)
    [digest] = chat.due_digests()
    assert "BYD's charger" in digest
    assert chat.due_digests() == []  # once
    listing = chat.reply("/subscriptions")
    assert "electric vehicles** — daily at 08:00 (UTC). Next: 24 Nov 2026 08:00." in listing
    assert chat.reply("/unsubscribe ev") == "Unsubscribed from electric vehicles."


def test_run_console_prints_due_digests_before_the_next_reply(brief: TechBrief) -> None:
    brief.digests.subscribe(CONSOLE_CHAT, "ev", T0)
    _article(brief.corpus, "BYD's charger", EV_BODY, T0)
    out = io.StringIO()
    clock = _Clock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    run_console(brief, ["/help", "/stats"], out, clock=clock)
    text = out.getvalue()
    assert text.count("BYD's charger") == 1
    assert text.index("BYD's charger") < text.index("Commands")
    assert "1 subscription in 1 chat; 1 digest sent today." in text


def test_a_subscription_made_before_its_name_was_a_built_in_topic_is_that_topic(
    brief: TechBrief,
) -> None:
    digests = brief.digests
    old = subscriptions.add_subscription(
        brief.corpus.db,
        chat_id=42,
        topic="Robotaxis",
        topic_key="robotaxis",
        local_time="08:00",
        timezone="UTC",
        now=T0,
    )
    assert topic_of(digests.subscription(42, old)).query == find_topic("robotaxi").query
    again = digests.subscribe(42, "robotaxi 19:00", T0)
    assert isinstance(again, Subscribed)
    assert (again.created, again.subscription.id) == (False, old)
    assert [s.id for s in digests.subscribed_to(42, "self-driving")] == [old]
    [view] = digests.preview(42, "robotaxis", T0)
    assert view.subscription is not None
    assert view.subscription.id == old
    assert [s.id for s in digests.unsubscribe(42, "ROBOTAXIS")] == [old]
    assert digests.subscriptions(42) == []


def test_topic_choice_of_free_text_keeps_its_case(brief: TechBrief) -> None:
    choice = brief.digests.choose_topic("Xiaomi SU7")
    assert choice == TopicChoice("Xiaomi SU7", "xiaomi su7", "Xiaomi SU7", "Xiaomi SU7")


def test_the_tick_reads_only_subscriptions_whose_time_has_come(brief: TechBrief) -> None:
    """``next_due_at`` bounds when each digest can be due; SQLite reads only rows past it."""
    digests, db = brief.digests, brief.corpus.db

    def next_due(chat: int) -> str:
        [s] = subscriptions.list_subscriptions(db, chat)
        return s.next_due_at

    digests.subscribe(1, "ev 08:00", T0)  # 07:00 UTC: today at 08:00
    digests.set_timezone(2, "Asia/Shanghai", T0)
    digests.subscribe(2, "ev 08:00", T0)  # 15:00 in Shanghai: tomorrow 08:00 there
    assert next_due(1) == "2026-11-23T08:00:00+00:00"
    assert next_due(2) == "2026-11-24T00:00:00+00:00"
    assert subscriptions.list_due(db, datetime(2026, 11, 23, 7, 59, tzinfo=UTC)) == []
    [due] = digests.due(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    assert due.subscription.chat_id == 1
    assert digests.record(due, "empty", T0)
    assert next_due(1) == "2026-11-24T08:00:00+00:00"  # tomorrow's
    # A new time, or a new zone, moves it.
    digests.subscribe(1, "ev 06:30", T0)
    assert next_due(1) == "2026-11-24T06:30:00+00:00"  # today's digest went out already
    digests.set_timezone(1, "America/New_York", T0)
    # It is still the 23rd in New York, and the 23rd was delivered: tomorrow 06:30 there.
    assert next_due(1) == "2026-11-24T11:30:00+00:00"
    # A day missed while the bot was down: still a candidate; tidied to its next time.
    digests.subscribe(3, "ev 08:00", T0)
    late = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    assert [s.chat_id for s in subscriptions.list_due(db, late)] == [1, 2, 3]
    # Shanghai's 08:00 has passed (14:00 there); 08:00 UTC and 06:30 in New York have not.
    assert [d.subscription.chat_id for d in digests.due(late, tidy=True)] == [2]
    assert (next_due(1), next_due(3)) == ("2026-11-25T11:30:00+00:00", "2026-11-25T08:00:00+00:00")
    assert [s.chat_id for s in subscriptions.list_due(db, late)] == [2]


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
    ),
    local_time=st.sampled_from(["00:00", "01:30", "02:30", "08:00", "23:45"]),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Shanghai", "UTC"]),
)
@settings(max_examples=25)
def test_next_due_at_is_never_after_the_digest_is_due(
    tmp_path_factory: pytest.TempPathFactory, start: datetime, local_time: str, zone: str
) -> None:
    """Ticking every 15 minutes (on the quarter hour, like the times) for three days: each
    day's digest is found by the SQLite range at the tick where it is due, once a day."""
    start = start.replace(minute=start.minute // 15 * 15, second=0, microsecond=0)
    corpus = Corpus.open(tmp_path_factory.mktemp("due") / "t.db", NOW)
    try:
        digests = TechBrief(corpus).digests
        digests.set_timezone(5, zone, start)
        digests.subscribe(5, f"ev {local_time}", start)
        days = []
        now = start
        while now < start + timedelta(days=3):
            now += timedelta(minutes=15)
            for due in digests.due(now, tidy=True):
                days.append(due.local_date)
                digests.record(due, "empty", now)
        assert len(days) == len(set(days)) >= 2
        assert days == sorted(days)
    finally:
        corpus.close()


def test_subscriptions_made_before_next_due_at_existed_are_found_and_tidied(
    tmp_path: Path,
) -> None:
    """A database at migration 0004 (subscriptions without ``next_due_at``) upgrades: its
    subscriptions start as candidates and the first tick gives them their times."""
    import sqlite3

    import sqlite_utils

    from storage.db import MIGRATIONS

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(sqlite3.connect(path))
    MIGRATIONS.apply(old, stop_before="0005_subscription_next_due")
    old.execute(
        "INSERT INTO subscriptions (chat_id, topic, topic_key, local_time, timezone, created_at,"
        " active, watermark, watermark_at) VALUES (8, 'ev', 'ev', '08:00', 'UTC', ?, 1, 0, ?)",
        [(T0 - timedelta(days=1)).isoformat()] * 2,
    )
    old.conn.commit()
    old.close()
    corpus = Corpus.open(path, NOW)
    try:
        digests = TechBrief(corpus).digests
        assert digests.due(T0, tidy=True) == []  # 07:00: not yet
        [s] = subscriptions.list_subscriptions(corpus.db, 8)
        assert s.next_due_at == "2026-11-23T08:00:00+00:00"
        [due] = digests.due(datetime(2026, 11, 23, 8, 0, 1, tzinfo=UTC))
        assert due.subscription.chat_id == 8
    finally:
        corpus.close()


# -- topics understood like questions; what a digest holds and shows (user trial) ------------

# Stories as an admin pasted them with /addtext in the trial: EV stories that name no
# EV word but a maker, or say "electric SUV"; a phone story saying "fast charging".
YU7 = (
    "Xiaomi YU7 draws 240,000 orders in 18 hours",
    "Xiaomi said its YU7 electric SUV drew 240,000 firm orders in 18 hours after its launch "
    "on Thursday, more than the SU7 sedan managed in its first day. The YU7 starts at 253,500 "
    "yuan and offers up to 835 km of range. Chief executive Lei Jun said the company would add "
    "a second production line in Beijing to shorten delivery times, which customers were told "
    "could stretch to a year.",
)
ONVO = (
    "Nio's Onvo L60 goes on sale",
    "Nio's mass-market brand Onvo launched the L60, an electric SUV priced from 149,900 yuan, "
    "undercutting Tesla's Model Y by about 100,000 yuan. The car uses Nio's battery swap "
    "network and a 900-volt architecture. Deliveries start this month, the company said.",
)
LI_AUTO = (
    "Li Auto misses delivery target",
    "Li Auto misses delivery target for the third quarter as demand for its range-extended "
    "SUVs cools. The company delivered 105,000 cars, below the 110,000 it had forecast, and "
    "its shares fell 8% in Hong Kong.\n\n"
    "Analysts blamed Xiaomi.",
)
PHONE = (
    "Xiaomi 15 Ultra phone sales",
    "Xiaomi said sales of its 15 Ultra smartphone beat expectations in Europe, where the "
    "phone's Leica camera and 90-watt fast charging won reviewers over. Its phone shipments "
    "rose 3% in the quarter.",
)
POWER_BANKS = (
    "Power bank recall",
    "Anker recalled 1.1 million power banks sold in China after reports that faulty battery "
    "cells overheated while charging phones.",
)
MORE_EV = (
    (
        "BYD overseas sales double",
        "BYD's overseas sales doubled in October to 84,000 "
        "vehicles as the carmaker opened new plants in Thailand and Brazil.",
    ),
    (
        "Zeekr recalls 30,000 cars",
        "Zeekr is recalling about 30,000 of its 001 hatchbacks "
        "over a software fault that can cut power to the drive motor, the regulator said.",
    ),
    (
        "Xpeng builds a flying-car plant",
        "Xpeng opened a factory in Guangzhou that will build "
        "the Land Aircraft Carrier, a six-wheeled electric vehicle carrying a flying car.",
    ),
    (
        "Leapmotor's first profit",
        "Leapmotor reported its first quarterly net profit as "
        "deliveries rose 97%, helped by its partnership with Stellantis.",
    ),
    ("Nio swaps", "Nio opened battery swap stations to Zeekr drivers in Shanghai."),
)


def _titles(digest: Digest) -> list[str]:
    return [a.candidate.title for a in digest.articles]


@pytest.mark.parametrize("topic", ["比亚迪", "BYD", "byd"])
def test_a_topic_in_chinese_is_understood_like_a_question(brief: TechBrief, topic: str) -> None:
    # Trial: "/subscribe 比亚迪" never delivered and "/digest 比亚迪" found nothing new where
    # "/digest byd" showed the BYD story (failed before the fix: 比亚迪 was searched as is).
    digests = brief.digests
    subscribed = digests.subscribe(7, topic, T0)
    assert isinstance(subscribed, Subscribed)
    _article(brief.corpus, "BYD's charger", EV_BODY, T0 + timedelta(minutes=5))
    _article(brief.corpus, *PHONE, T0 + timedelta(minutes=5))
    [due] = digests.due(datetime(2026, 11, 23, 8, 0, 1, tzinfo=UTC))
    assert _titles(due.view.digest) == ["BYD's charger"]
    [preview] = digests.preview(8, topic, T0 + timedelta(hours=1))  # the seed's too
    assert "BYD's charger" in _titles(preview.digest)
    assert PHONE[0] not in _titles(preview.digest)


@pytest.mark.parametrize(
    ("raw", "topic"),
    [
        ("电动汽车", "ev"),
        ("新能源汽车", "ev"),
        ("e-cars", "ev"),
        ("人工智能", "ai"),
        ("芯片", "chips"),
        ("自动驾驶", "robotaxi"),
        ("electricity", "energy"),
    ],
)
def test_a_name_of_a_built_in_topic_in_other_words_is_that_topic(
    brief: TechBrief, raw: str, topic: str
) -> None:
    # Trial: "/subscribe 电动汽车" was a free-text topic (failed before the fix).
    choice = brief.digests.choose_topic(raw)
    assert isinstance(choice, TopicChoice)
    assert (choice.name, choice.builtin) == (topic, True)


def test_words_the_lexicon_knows_apart_stay_free_text(brief: TechBrief) -> None:
    for raw in ("BYD", "电动汽车电池", "electric vehicles and batteries", "Xiaomi SU7"):
        choice = brief.digests.choose_topic(raw)
        assert isinstance(choice, TopicChoice)
        assert not choice.builtin, raw


def test_a_subscription_made_in_chinese_before_is_the_built_in_topic(brief: TechBrief) -> None:
    digests = brief.digests
    old = subscriptions.add_subscription(
        brief.corpus.db,
        chat_id=42,
        topic="电动汽车",
        topic_key="电动汽车",
        local_time="08:00",
        timezone="UTC",
        now=T0,
    )
    again = digests.subscribe(42, "ev 19:00", T0)
    assert isinstance(again, Subscribed)
    assert (again.created, again.subscription.id) == (False, old)
    [view] = digests.preview(42, "电动汽车", T0)
    assert view.topic.label == "electric vehicles"


def test_the_ev_digest_holds_plain_ev_stories_and_no_phone_story(brief: TechBrief) -> None:
    # Trial: the YU7 story ("electric SUV") and Li Auto's (no EV word) were left out of the
    # EV digest while the Onvo story was in (failed before the fix); phone and power-bank
    # stories saying "battery" and "charging" must stay out.
    digests = brief.digests
    for raw in ("ev", "electric cars", "电动汽车"):
        digests.subscribe(7, raw, T0)  # one subscription: the same topic
    assert [s.topic for s in digests.subscriptions(7)] == ["ev"]
    for story in (YU7, ONVO, LI_AUTO, PHONE, POWER_BANKS):
        _article(brief.corpus, *story, T0 + timedelta(minutes=5))
    [due] = digests.due(datetime(2026, 11, 23, 8, 0, 1, tzinfo=UTC))
    assert sorted(_titles(due.view.digest)) == sorted(t for t, _ in (YU7, ONVO, LI_AUTO))
    # With eight EV stories the digest is full: five of the eight.
    for story in MORE_EV:
        _article(brief.corpus, *story, T0 + timedelta(minutes=6))
    [due] = digests.due(datetime(2026, 11, 23, 8, 0, 1, tzinfo=UTC))
    assert (len(due.view.digest.articles), due.view.digest.matched) == (MAX_ARTICLES, 8)


def test_a_digest_item_leads_with_the_sentence_most_about_the_topic(brief: TechBrief) -> None:
    # Trial: the Onvo item showed "The car uses Nio's battery swap network …" rather than
    # its lead, and "/digest byd" on the seed "…firms like Nio, Zeekr, and BYD are
    # extending…" rather than "BYD unveiled five new EV models" (failed before the fix).
    digests = brief.digests
    _article(brief.corpus, *ONVO, T0)
    ev = digests.choose_topic("ev")
    byd = digests.choose_topic("byd")
    assert isinstance(ev, TopicChoice)
    assert isinstance(byd, TopicChoice)
    [item] = digests.compose(ev, 25).articles
    assert item.sentence.text.startswith("Nio's mass-market brand Onvo launched the L60")
    marked = [item.sentence.text[a:b] for a, b in item.sentence.spans]
    assert marked == ["Nio's", "Onvo", "electric", "SUV", "Tesla's"]
    [seed] = digests.compose(byd, 0).articles
    assert seed.sentence.text.startswith("BYD unveiled five new EV models")


def test_articles_about_the_topic_come_before_those_mentioning_it(brief: TechBrief) -> None:
    # Trial: the "Xiaomi" digest put a Li Auto story (Xiaomi in passing) above the Xiaomi
    # YU7 story (failed before the fix: its short passage scored higher).
    digests = brief.digests
    _article(brief.corpus, *LI_AUTO, T0)
    _article(brief.corpus, *YU7, T0)
    xiaomi = digests.choose_topic("Xiaomi")
    assert isinstance(xiaomi, TopicChoice)
    digest = digests.compose(xiaomi, 25)
    assert _titles(digest) == [YU7[0], LI_AUTO[0]]
    assert [a.about for a in digest.articles] == [True, False]
    assert digest.articles[1].sentence.text == "Analysts blamed Xiaomi."
