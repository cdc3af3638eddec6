"""Subscriptions and daily digests, independent of Telegram or the terminal.

:class:`Digests` is used through :attr:`bot.core.service.TechBrief.digests`, on
the thread that owns the corpus. Commands (subscribe, unsubscribe, change the
time or the time zone, preview) return plain results or a
:class:`~bot.core.service.Refusal`; the scheduler side (:meth:`Digests.due`,
:meth:`Digests.still_due`, :meth:`Digests.record`) is what a transport's tick
calls: everything it decides is read from SQLite, nothing lives only in memory.

Content. A topic is understood as questions are (:func:`retrieval.topics.understand_topic`:
the lexicon, Chinese segmentation), and a free-text topic the lexicon knows as a
name of a built-in topic ("电动汽车") is that topic. A digest covers the passages
whose id is above the subscription's watermark (ids grow monotonically), weighed
by the index for the topic's terms (:meth:`~retrieval.index.BM25Index.saturations_after`,
the BM25 of answers) and selected by :func:`retrieval.digest.select_digest`.
Delivering (or finding nothing new) moves the watermark to the newest passage id
seen when the digest was composed, in the same transaction that records the delivery.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core import texts
from bot.core.corpus import Corpus, candidate
from bot.core.schedule import (
    DEFAULT_TIME,
    convert_time,
    due_date,
    find_timezone,
    match_timezone,
    next_delivery,
    parse_local_time,
    same_clocks,
    scheduled_at,
    utc_offset,
    zone_label,
)
from bot.core.service import Refusal, clean_text
from retrieval.digest import Digest, TopicScorer, select_digest
from retrieval.topics import TOPICS, Topic, TopicMeanings, TopicQuery, find_topic, understand_topic
from storage import articles, deliveries, subscriptions
from storage.deliveries import AlreadyDelivered
from storage.errors import StorageError
from storage.subscriptions import Subscription

__all__ = [
    "CONSOLE_CHAT",
    "MAX_SUBSCRIPTIONS",
    "MAX_TOPIC_CHARS",
    "PREVIEW_WINDOW",
    "DigestView",
    "Digests",
    "DueDigest",
    "Subscribed",
    "SubscriptionStats",
    "TimezoneSet",
    "TopicChoice",
    "builtin_choice",
    "topic_of",
]

log = logging.getLogger(__name__)

CONSOLE_CHAT = 0
"""The console chat's id (Telegram never uses 0): the console shows its own digests."""

MAX_TOPIC_CHARS = 100
MAX_SUBSCRIPTIONS = 10
"""Subscriptions one chat may hold."""

PREVIEW_WINDOW = timedelta(hours=24)
"""What ``/digest`` shows for a topic the chat does not subscribe to: the last day."""

# The delivery time in /subscribe's words (see _read_time). A word plainly a time of day is
# the time wherever it stands (refused when invalid: "25:00", "13pm"); a dotted one (07.30)
# or a bare number only as the last word, and a number only when it is a valid time (a
# four-digit 20xx is a year: "Made in China 2025" stays a topic), or after "at" ("at 9").
_PLAIN_TIME = re.compile(
    r"[0-9]{1,2}[:h][0-9]{1,2}"  # 19:30, 19h30
    r"|[0-9]{1,2}(?:[:.][0-9]{1,2})?[ap]\.?m\.?"  # 7pm, 7:30p.m.
    r"|(?:[01]?[0-9]|2[0-3])h|(?:[01][0-9]|2[0-3])[0-5][0-9]h"  # 19h, 0800h
    r"|noon|midday|midnight",
    re.IGNORECASE,
)
_DOTTED = re.compile(r"[0-9]{1,2}\.[0-9]{1,2}")
_MERIDIEM = frozenset({"am", "pm", "a.m.", "p.m.", "a.m", "p.m"})
_BEFORE_MERIDIEM = re.compile(r"[0-9]{1,2}(?:[:.][0-9]{1,2})?")
_NUMBER_TIME = re.compile(r"[01]?[0-9]|2[0-3]|[01][0-9][0-5][0-9]|2[1-3][0-5][0-9]")
_DAILY = ("daily", "everyday", "every day", "each day")
"""Words after the time that say what a digest is anyway."""


@dataclass(frozen=True, slots=True)
class TopicChoice:
    """A topic as subscribed: its stored name, uniqueness key, label for people, query
    (a built-in topic's anchors and context words: see :mod:`retrieval.topics`)."""

    name: str
    key: str
    label: str
    query: str
    context: str = ""
    builtin: bool = False


@dataclass(frozen=True, slots=True)
class Subscribed:
    subscription: Subscription
    created: bool  # False: it existed (its time may have changed)
    time_changed: bool = False
    number_topic: str | None = None
    """The topic had the trailing number been part of it ("ev 8" when 8 became 08:00; not
    for four digits, "0700", nor after "at", which are plainly times)."""


@dataclass(frozen=True, slots=True)
class TimezoneSet:
    zone: str
    subscriptions: int  # moved to the new zone
    offset: str = ""  # its offset from UTC now: "UTC+08:00"


@dataclass(frozen=True, slots=True)
class DigestView:
    """A digest to show: for a subscription (scheduled or preview) or a bare topic (preview)."""

    topic: TopicChoice
    digest: Digest
    since: datetime  # start of the window the digest covers
    zone: ZoneInfo
    subscription: Subscription | None = None
    preview: bool = False


@dataclass(frozen=True, slots=True)
class DueDigest:
    """A subscription whose digest for ``local_date`` is due, with that digest composed."""

    subscription: Subscription
    local_date: str
    view: DigestView


@dataclass(frozen=True, slots=True)
class SubscriptionStats:
    subscriptions: int  # active
    chats: int  # with an active subscription
    sent_today: int  # digests sent since midnight in the operator's zone


def topic_of(subscription: Subscription) -> TopicChoice:
    """A subscription's topic by its name (:meth:`Digests.topic_of` also by its meaning)."""
    builtin = find_topic(subscription.topic)
    if builtin is not None:
        return builtin_choice(builtin)
    return TopicChoice(
        subscription.topic, subscription.topic_key, subscription.topic, subscription.topic
    )


def builtin_choice(topic: Topic) -> TopicChoice:
    return TopicChoice(topic.name, topic.name, topic.label, topic.query, topic.context, True)


def _zone(name: str) -> ZoneInfo:
    """A stored zone name (a zone's own key: "EST" stays tzdata's fixed EST here)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return find_timezone(name) or ZoneInfo("UTC")


def _parse_when(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


class Digests:
    """Subscriptions, previews and the scheduler's reads and writes, over one corpus."""

    def __init__(self, corpus: Corpus, default_zone: ZoneInfo) -> None:
        self.corpus = corpus
        self.default_zone = default_zone
        self._meanings: TopicMeanings | None = None

    @property
    def topics(self) -> tuple[Topic, ...]:
        return TOPICS

    # -- topics and times ---------------------------------------------------------

    def choose_topic(self, raw: str) -> TopicChoice | Refusal:
        """A built-in topic by name, or free text with searchable words (up to 100 chars)."""
        text = clean_text(raw)
        if not text:
            return Refusal(texts.SUBSCRIBE_USAGE)
        if len(text) > MAX_TOPIC_CHARS:
            return Refusal(texts.topic_too_long(len(text), MAX_TOPIC_CHARS))
        builtin = find_topic(text) or self._meaning(text)
        if builtin is not None:
            return builtin_choice(builtin)
        choice = TopicChoice(text, text.casefold(), text, text)
        if not self.corpus.analyzer.terms(text) or not self.understand(choice).slots:
            return Refusal(texts.topic_without_words(TOPICS[1].name))
        return choice

    def topic_of(self, subscription: Subscription) -> TopicChoice:
        """A subscription's topic: a built-in topic by name or by meaning (one made as
        "电动汽车" is the EV topic, as one made as "electric cars" is), else its words."""
        found = topic_of(subscription)
        if found.builtin:
            return found
        meant = self._meaning(subscription.topic)
        return builtin_choice(meant) if meant is not None else found

    def understand(self, topic: TopicChoice) -> TopicQuery:
        """The topic as the digest reads it: slots with the lexicon's forms."""
        corpus = self.corpus
        return understand_topic(
            corpus.parser, corpus.index, topic.query, context=topic.context, curated=topic.builtin
        )

    def _meaning(self, text: str) -> Topic | None:
        if self._meanings is None:
            self._meanings = TopicMeanings(self.corpus.parser, self.corpus.index)
        return self._meanings.find(text, self.corpus.index)

    def _on(self, mine: list[Subscription], topic: TopicChoice) -> list[Subscription]:
        return [s for s in mine if topic.key in (s.topic_key, self.topic_of(s).key)]

    def zone_of(self, chat_id: int) -> ZoneInfo:
        stored = subscriptions.chat_timezone(self.corpus.db, chat_id)
        return _zone(stored) if stored else self.default_zone

    # -- commands -----------------------------------------------------------------

    def subscribe(self, chat_id: int, raw: str, now: datetime) -> Subscribed | Refusal:
        """``<topic> [time]``: subscribe, or change the time of an existing subscription.

        The time ends the words (:func:`_read_time`): ``19:30``, ``7pm``, ``7:30 p.m.``,
        ``19h``, ``noon``, a bare hour ``8`` or four digits ``0800``, also after "at". Words
        after a time are refused (nothing is stored) unless they name the chat's own zone
        ("20:00 UTC" in a UTC chat) or say "daily": another zone gets the time converted
        to the chat's, to send instead, or the /timezone that would make it right.
        """
        when = _read_time(clean_text(raw).split())
        if isinstance(when, Refusal):
            return when
        if when.after:
            refused = self._words_after_time(chat_id, when, now)
            if refused is not None:
                return refused
        if not when.words:
            return Refusal(texts.SUBSCRIBE_USAGE)
        topic = self.choose_topic(" ".join(when.words))
        if isinstance(topic, Refusal):
            return topic
        local_time, number = when.local_time, when.number
        number_topic = " ".join([*when.words, number]) if number is not None else None
        db = self.corpus.db
        existing = subscriptions.list_subscriptions(db, chat_id)
        current = next(iter(self._on(existing, topic)), None)
        if current is not None:
            if local_time is None or local_time == current.local_time:
                return Subscribed(current, created=False, number_topic=number_topic)
            self._set_time(current, local_time, now)
            return Subscribed(
                self._get(current.id), created=False, time_changed=True, number_topic=number_topic
            )
        if len(existing) >= MAX_SUBSCRIPTIONS:
            return Refusal(texts.too_many_subscriptions(MAX_SUBSCRIPTIONS))
        zone = self.zone_of(chat_id)
        local_time = local_time or DEFAULT_TIME
        subscription_id = subscriptions.add_subscription(
            db,
            chat_id=chat_id,
            topic=topic.name,
            topic_key=topic.key,
            local_time=local_time,
            timezone=zone.key,
            now=now,
            next_due_at=next_delivery(now, local_time, zone, None, now),
        )
        return Subscribed(self._get(subscription_id), created=True, number_topic=number_topic)

    def _words_after_time(self, chat_id: int, when: _Time, now: datetime) -> Refusal | None:
        """Words after the time: ``None`` when they name the chat's own zone (its clocks),
        else why nothing was subscribed and what to send instead."""
        local_time = when.local_time or DEFAULT_TIME
        chat = self.zone_of(chat_id)
        chat_label = zone_label(chat.key)
        after = " ".join(when.after)
        named = " ".join(w for w in when.after if w.casefold() != "in").strip("()")
        match = match_timezone(named, now)
        topic = " ".join(when.words)
        if match.zone is not None:
            if same_clocks(match.zone, chat, now):
                return None
            if not topic:
                return Refusal(texts.SUBSCRIBE_USAGE)
            there = convert_time(local_time, match.zone, chat, now)
            return Refusal(
                texts.time_in_another_zone(
                    f"{when.said} {after}", chat_label, there, topic, zone_label(match.zone.key)
                )
            )
        if match.several:
            if not topic:
                return Refusal(texts.SUBSCRIBE_USAGE)
            return Refusal(texts.time_zone_unclear(after, list(match.several), chat_label))
        return Refusal(
            texts.words_after_time(when.said, after, topic or after, local_time, chat_label)
        )

    def subscriptions(self, chat_id: int) -> list[Subscription]:
        return subscriptions.list_subscriptions(self.corpus.db, chat_id)

    def subscription(self, chat_id: int, subscription_id: int) -> Subscription | None:
        """The chat's subscription ``subscription_id`` (``None``: gone, or another chat's)."""
        found = subscriptions.get_subscription(self.corpus.db, subscription_id)
        return found if found is not None and found.chat_id == chat_id else None

    def next_delivery(self, subscription: Subscription, now: datetime) -> datetime:
        return next_delivery(
            now,
            subscription.local_time,
            _zone(subscription.timezone),
            subscription.last_date,
            _parse_when(subscription.created_at),
        )

    def subscribed_to(
        self, chat_id: int, raw: str, mine: list[Subscription] | None = None
    ) -> list[Subscription]:
        """The chat's subscriptions to the topic ``raw`` names (a built-in topic by any of
        its names: one made as "robotaxis" before that was a name of "robotaxi" too)."""
        mine = self.subscriptions(chat_id) if mine is None else mine
        topic = self.choose_topic(raw)
        if isinstance(topic, Refusal):
            key = clean_text(raw).casefold()
            return [s for s in mine if s.topic_key == key]
        return self._on(mine, topic)

    def unsubscribe(self, chat_id: int, raw: str) -> list[Subscription] | Refusal:
        """``<topic|all>``: the subscriptions removed."""
        text = clean_text(raw)
        if not text:
            return Refusal(texts.UNSUBSCRIBE_USAGE)
        mine = self.subscriptions(chat_id)
        if text.casefold() == "all":
            gone = mine
        else:
            gone = self.subscribed_to(chat_id, text, mine)
            if not gone:
                return Refusal(texts.not_subscribed(text, [s.topic for s in mine]))
        subscriptions.remove_subscriptions(self.corpus.db, chat_id, [s.id for s in gone])
        return gone

    def unsubscribe_id(self, chat_id: int, subscription_id: int) -> Subscription | None:
        """Remove one subscription of the chat (a button); ``None`` if it is gone already."""
        found = self.subscription(chat_id, subscription_id)
        if found is not None:
            subscriptions.remove_subscriptions(self.corpus.db, chat_id, [found.id])
        return found

    def set_time(
        self, chat_id: int, subscription_id: int, raw: str, now: datetime
    ) -> Subscription | Refusal:
        local_time = parse_local_time(raw)
        if local_time is None:
            return Refusal(texts.bad_time(raw.strip()[:20]))
        found = self.subscription(chat_id, subscription_id)
        if found is None:
            return Refusal(texts.SUBSCRIPTION_GONE)
        self._set_time(found, local_time, now)
        return self._get(found.id)

    def _set_time(self, s: Subscription, local_time: str, now: datetime) -> None:
        zone, created = _zone(s.timezone), _parse_when(s.created_at)
        at = next_delivery(now, local_time, zone, s.last_date, created)
        subscriptions.set_local_time(self.corpus.db, s.id, local_time, at)

    def set_timezone(self, chat_id: int, raw: str, now: datetime) -> TimezoneSet | Refusal:
        """``/timezone <zone>`` (:func:`~bot.core.schedule.match_timezone`): the chat's zone,
        which its subscriptions follow; a name of several zones gets them listed."""
        text = clean_text(raw)
        if not text:
            return Refusal(texts.timezone_usage(zone_label(self.zone_of(chat_id).key)))
        match = match_timezone(text, now)
        zone = match.zone
        if zone is None:
            if match.continent:
                return Refusal(texts.continent_timezone(text[:60]))
            if match.several:
                several = list(match.several)
                return Refusal(texts.several_timezones(text[:60], several, match.country))
            return Refusal(texts.unknown_timezone(text[:60], list(match.close)))
        next_due = {
            s.id: next_delivery(now, s.local_time, zone, s.last_date, _parse_when(s.created_at))
            for s in self.subscriptions(chat_id)
        }
        subscriptions.set_chat_timezone(self.corpus.db, chat_id, zone.key, now, next_due)
        return TimezoneSet(zone.key, len(self.subscriptions(chat_id)), utc_offset(zone, now))

    def preview(self, chat_id: int, raw: str, now: datetime) -> list[DigestView] | Refusal:
        """``/digest [topic]``: what the next digest would hold now; changes nothing.

        For a subscribed topic: the passages since its last digest; for another
        topic: those of the last :data:`PREVIEW_WINDOW`. Without a topic: each of
        the chat's subscriptions.
        """
        mine = self.subscriptions(chat_id)
        if not clean_text(raw):
            if not mine:
                return Refusal(texts.NO_SUBSCRIPTIONS)
            return [self._view(s, preview=True) for s in mine]
        topic = self.choose_topic(raw)
        if isinstance(topic, Refusal):
            return topic
        subscribed = next(iter(self._on(mine, topic)), None)
        if subscribed is not None:
            return [self._view(subscribed, preview=True)]
        view = self.preview_topic(raw, now - PREVIEW_WINDOW, self.zone_of(chat_id))
        return view if isinstance(view, Refusal) else [view]

    def preview_topic(self, raw: str, since: datetime, zone: ZoneInfo) -> DigestView | Refusal:
        """A topic's digest of the passages stored since ``since`` (no subscription needed)."""
        topic = self.choose_topic(raw)
        if isinstance(topic, Refusal):
            return topic
        after = subscriptions.passage_id_before(self.corpus.db, since)
        return DigestView(topic, self.compose(topic, after), since, zone, preview=True)

    # -- the scheduler --------------------------------------------------------------

    def due(
        self, now: datetime, *, chats: tuple[int, ...] | None = None, tidy: bool = False
    ) -> list[DueDigest]:
        """Active subscriptions whose digest is due at ``now``, each with its digest composed.

        ``chats`` limits it to some chats (the console's); without it, every chat
        but the console's. SQLite yields the subscriptions whose ``next_due_at``
        has come; :func:`~bot.core.schedule.due_date` decides. Subscriptions of one
        topic with one watermark share one composition. Read-only unless ``tidy``:
        then a candidate that is not due (its day was missed while the bot was
        down) gets its true next time, so that later ticks skip it.
        """
        found: list[DueDigest] = []
        composed: dict[tuple[str, int], Digest] = {}
        later: dict[int, datetime] = {}
        # Only rows whose lower bound has come: an index range, not every subscription.
        for s in subscriptions.list_due(self.corpus.db, now, chats):
            if chats is None and s.chat_id == CONSOLE_CHAT:
                continue
            zone, created = _zone(s.timezone), _parse_when(s.created_at)
            day = due_date(now, s.local_time, zone, s.last_date, created)
            if day is None:
                later[s.id] = next_delivery(now, s.local_time, zone, s.last_date, created)
                continue
            topic = self.topic_of(s)
            digest = composed.get((topic.key, s.watermark))
            if digest is None:
                digest = composed[(topic.key, s.watermark)] = self.compose(topic, s.watermark)
            view = DigestView(topic, digest, _parse_when(s.watermark_at) or now, zone, s)
            found.append(DueDigest(s, day.isoformat(), view))
        if tidy and later:
            with self.corpus.db.atomic():
                for subscription_id, at in later.items():
                    subscriptions.set_next_due(self.corpus.db, subscription_id, at)
        return found

    def still_due(self, subscription_id: int, local_date: str) -> bool:
        """Whether the digest may still go out: subscribed, active, not delivered that day."""
        found = subscriptions.get_subscription(self.corpus.db, subscription_id)
        return (
            found is not None
            and found.active
            and not deliveries.delivered(self.corpus.db, subscription_id, local_date)
        )

    def record(
        self,
        due: DueDigest,
        status: str,
        now: datetime,
        message_id: int | None = None,
    ) -> bool:
        """Record a due digest as ``sent``, ``empty`` or ``failed`` and move its watermark.

        ``False`` when it was recorded already or the subscription is gone (both harmless).
        """
        current = subscriptions.get_subscription(self.corpus.db, due.subscription.id)
        next_due_at = None
        if current is not None:  # tomorrow's digest, at the time set now
            tomorrow = date.fromisoformat(due.local_date) + timedelta(days=1)
            next_due_at = scheduled_at(tomorrow, current.local_time, _zone(current.timezone))
        try:
            deliveries.record_delivery(
                self.corpus.db,
                subscription_id=due.subscription.id,
                local_date=due.local_date,
                status=status,
                articles=len(due.view.digest.articles),
                upto=due.view.digest.upto,
                now=now,
                message_id=message_id,
                next_due_at=next_due_at,
            )
        except AlreadyDelivered:
            log.warning(
                "digest %s for %s was recorded already", due.subscription.id, due.local_date
            )
            return False
        except StorageError as exc:
            log.info("digest not recorded: %s", exc)
            return False
        return True

    def pause_chat(self, chat_id: int, now: datetime) -> int:
        """The chat blocked the bot (or is gone): pause its subscriptions."""
        return subscriptions.set_active(self.corpus.db, chat_id, False, now)

    def resume_chat(self, chat_id: int, now: datetime) -> int:
        """The chat wrote ``/start`` again: resume its paused subscriptions."""
        return subscriptions.set_active(self.corpus.db, chat_id, True, now)

    def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> int:
        return subscriptions.migrate_chat(self.corpus.db, old_chat_id, new_chat_id)

    def stats(self, now: datetime) -> SubscriptionStats:
        local = now.astimezone(self.default_zone)
        midnight = datetime.combine(local.date(), datetime.min.time(), self.default_zone)
        active, chats = subscriptions.count_active(self.corpus.db)
        return SubscriptionStats(
            active, chats, deliveries.count_sent_since(self.corpus.db, midnight)
        )

    # -- content --------------------------------------------------------------------

    def compose(self, topic: TopicChoice, after: int) -> Digest:
        """The digest of ``topic`` over the passages with an id above ``after``."""
        corpus = self.corpus
        # Passages another process stored count too: the index catches up first, or
        # the watermark would pass passages it never scored.
        corpus.follow()
        index = corpus.index
        upto = subscriptions.latest_passage_id(corpus.db)
        scorer = TopicScorer(self.understand(topic), index.idf)
        scored = scorer.relevances(index.saturations_after(scorer.terms, after))
        # Every passage saying the topic, not only those on it: the sentence shown may be
        # an article's lead in a passage about something else too.
        keys = sorted(k for k in scored if k <= upto)
        stored = articles.get_passages(corpus.db, keys)
        return select_digest(
            scorer,
            [candidate(stored[k], scored[k]) for k in keys if k in stored],
            corpus.analyzer,
            upto=max(upto, after),
        )

    def _view(self, s: Subscription, *, preview: bool) -> DigestView:
        topic = self.topic_of(s)
        since = _parse_when(s.watermark_at) or datetime.fromisoformat(s.created_at)
        return DigestView(
            topic, self.compose(topic, s.watermark), since, _zone(s.timezone), s, preview
        )

    def _get(self, subscription_id: int) -> Subscription:
        found = subscriptions.get_subscription(self.corpus.db, subscription_id)
        if found is None:
            raise StorageError(f"subscription {subscription_id} vanished")
        return found


@dataclass(frozen=True, slots=True)
class _Time:
    """The time read from /subscribe's words, and the words around it."""

    local_time: str | None  # "HH:MM", None: no time given
    words: list[str]  # the topic's: the words before the time ("at" dropped)
    said: str = ""  # the time as typed ("7pm")
    after: tuple[str, ...] = ()  # words after the time ("daily" dropped)
    number: str | None = None  # a bare 1-2 digit number read as the hour ("Xiaomi 15")


def _read_time(words: list[str]) -> _Time | Refusal:
    """The delivery time among ``/subscribe``'s words: the first word plainly a time of day
    ("7pm", "19:30", "19h", "noon"; "7 pm" is one), a number after "at" ("at 9"), else a
    dotted time or a number valid as a time that ends the words ("07.30", "8", "0800",
    not "2025"). A plainly-a-time word that is no valid time ("25:00", "13pm") is refused."""
    joined: list[str] = []
    for word in words:  # "7 pm" -> "7pm"
        if joined and word.casefold() in _MERIDIEM and _BEFORE_MERIDIEM.fullmatch(joined[-1]):
            joined[-1] += word
        else:
            joined.append(word)
    words = joined
    at = next(
        (
            i
            for i, word in enumerate(words)
            if _PLAIN_TIME.fullmatch(word)
            or (i > 0 and words[i - 1].casefold() == "at" and _NUMBER_TIME.fullmatch(word))
        ),
        None,
    )
    number = None
    if at is None and words:
        last = words[-1]
        if _DOTTED.fullmatch(last):
            at = len(words) - 1
        elif len(words) > 1 and _NUMBER_TIME.fullmatch(last):
            at = len(words) - 1
            number = last if len(last) <= 2 else None  # "0700" is plainly a time
    if at is None:
        return _Time(None, words)
    said = words[at]
    local_time = parse_local_time(said)
    if local_time is None:
        return Refusal(texts.bad_time(said))
    before, after = words[:at], words[at + 1 :]
    if before and said.casefold() in ("noon", "midday", "midnight") and before[-1] == "12":
        before = before[:-1]  # "12 noon"
    if before and before[-1].casefold() == "at":
        before, number = before[:-1], None
    return _Time(local_time, before, said, _without_daily(after), number)


def _without_daily(words: list[str]) -> tuple[str, ...]:
    """``words`` without a "daily" ("every day", …) at their start or end."""
    folded = [w.casefold() for w in words]
    for daily in (d.split() for d in _DAILY):
        if folded[: len(daily)] == daily:
            return _without_daily(words[len(daily) :])
        if len(folded) > len(daily) and folded[-len(daily) :] == daily:
            return _without_daily(words[: -len(daily)])
    return tuple(words)
