"""Subscriptions and digests through the Bot API test server, with an injected clock.

The real Application runs its real JobQueue digest tick (every 50 ms here);
the clock it reads is the test's, so "08:00" comes when the test says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from bot.core import texts
from bot.core.corpus import AddedArticle
from bot.telegram.app import build_application
from bot.telegram.jobs.digests import DigestJob, digest_job
from bot.telegram.runtime import TechBriefApplication
from storage import deliveries, sources, subscriptions
from storage.articles import NewArticle
from tests.e2e.botapi import BotApiServer, Sent
from tests.e2e.conftest import ADMIN, READER, Errors
from tests.e2e.harness import running, settings_for, wait_for

T = TypeVar("T")

GROUP = -4001
SUPERGROUP = -1004001
MEMBER = 5005


class Clock:
    """The bot's clock: stands still until the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, *args: int) -> None:
        self.now = datetime(*args, tzinfo=UTC)


EV_STORY = NewArticle(
    title="BYD's five-minute charger <reaches> 1,000 stations",
    body=(
        "BYD said its megawatt charging system, which adds 400 km of range to an electric "
        "vehicle in five minutes, is now installed at 1,000 stations across China, and the "
        "carmaker plans to add battery swapping for its Denza brand next year.\n\n"
        "Rival EV makers Nio and Zeekr said they would open their own charging networks "
        "to BYD drivers, a first for the Chinese electric vehicle industry."
    ),
    publisher="Example Auto <Daily>",
    published="2026-11-23",
    url="https://example.com/byd-charger",
)
EV_STORY_2 = NewArticle(
    title="Nio opens battery swap stations to Zeekr",
    body=(
        "Nio will let Zeekr electric vehicle owners use its battery swap stations from "
        "December, the carmakers said, in a deal that shares charging infrastructure between "
        "two rival EV brands."
    ),
    publisher="Example Wire",
    url="https://example.com/nio-zeekr",
)


@dataclass
class Digesting:
    api: BotApiServer
    app: TechBriefApplication
    clock: Clock

    async def say(
        self, chat_id: int, text: str, *, user: int | None = None, replies: int = 1
    ) -> list[Sent]:
        """A message in a private chat (``chat_id`` > 0) or a group; the bot's replies."""
        known = len(self.api.sent(chat_id))
        if chat_id > 0:
            self.api.private_message(chat_id, text)
        else:
            self.api.group_message(chat_id, user or MEMBER, text, kind="group")
        await wait_for(
            lambda: len(self.api.sent(chat_id)) >= known + replies or None,
            what=f"{replies} replies to {text!r}",
        )
        await self.ticks(1)
        return self.api.sent(chat_id)[known:]

    async def new(self, chat_id: int, known: int) -> list[Sent]:
        """The bot's messages in a chat after the first ``known`` (waits for one)."""
        await wait_for(lambda: self.api.sent(chat_id)[known:], what=f"a message in {chat_id}")
        return self.api.sent(chat_id)[known:]

    async def ticks(self, n: int = 2) -> None:
        """Wait until ``n`` more digest ticks have run (with the clock as it is now)."""
        job = digest_job(self.app)
        target = job.ticks + n
        await wait_for(lambda: job.ticks >= target or None, what=f"{n} digest ticks")

    async def add(self, article: NewArticle) -> AddedArticle:
        """An admin adds an article (on the corpus thread, as /addsource would)."""
        runtime = self.app.runtime
        now = self.clock()

        def add() -> AddedArticle:
            corpus = runtime.service.corpus
            with corpus.db.atomic():
                source = sources.add_source(
                    corpus.db, kind="article", title=article.title, now=now, url=article.url
                )
            return corpus.add_article(source, article, now)

        return await runtime.run(add)

    async def deliveries(self, chat_id: int) -> list[deliveries.Delivery]:
        runtime = self.app.runtime
        return await runtime.run(deliveries.list_deliveries, runtime.service.corpus.db, chat_id)

    async def subscriptions(self, chat_id: int) -> list[subscriptions.Subscription]:
        runtime = self.app.runtime
        return await runtime.run(
            subscriptions.list_subscriptions, runtime.service.corpus.db, chat_id
        )


def fast_digests() -> DigestJob:
    return DigestJob(interval=timedelta(seconds=0.05), chat_gap=0.0)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 7, 58, tzinfo=UTC))


@pytest.fixture
async def digesting(api: BotApiServer, db_path: Path, clock: Clock) -> AsyncIterator[Digesting]:
    settings = settings_for(api, db_path, admins=frozenset({ADMIN}))
    application = build_application(settings, clock=clock, digests=fast_digests())
    async with running(application):
        yield Digesting(api, application, clock)


def digests_in(api: BotApiServer, chat_id: int) -> list[Sent]:
    return [s for s in api.sent(chat_id) if s.text.startswith("📬")]


async def test_subscribe_add_an_article_and_the_digest_arrives_once_with_both_buttons(
    digesting: Digesting, errors: Errors
) -> None:
    [reply] = await digesting.say(READER, "/subscribe ev 08:00")
    assert reply.text == (
        "Subscribed to electric vehicles: a digest of new articles daily at 08:00 (UTC), "
        "only when there is something new. First one: 23 Nov 2026 08:00."
    )
    digesting.clock.set(2026, 11, 23, 7, 59)
    await digesting.add(EV_STORY)
    digesting.clock.set(2026, 11, 23, 7, 59, 59)
    await digesting.ticks()
    assert digests_in(digesting.api, READER) == []  # not before its minute

    digesting.clock.set(2026, 11, 23, 8, 0, 20)
    [digest] = await wait_for(lambda: digests_in(digesting.api, READER), what="the digest")
    assert "electric vehicles — 1 new article since 23 Nov 2026 07:58" in digest.text
    assert "BYD's five-minute charger <reaches> 1,000 stations" in digest.text
    assert "Example Auto <Daily>" in digest.text
    assert "&lt;reaches&gt;" in digest.html  # corpus text escaped
    assert '<a href="https://example.com/byd-charger">' in digest.html
    assert [b["text"] for b in digest.buttons] == ["Unsubscribe", "Change time"]

    for later in ((8, 0, 50), (8, 5), (12, 0), (23, 59)):
        digesting.clock.set(2026, 11, 23, *later)
        await digesting.ticks()
    assert len(digests_in(digesting.api, READER)) == 1  # and not again that day
    [record] = await digesting.deliveries(READER)
    assert (record.local_date, record.status, record.message_id) == (
        "2026-11-23",
        "sent",
        digest.message_id,
    )
    assert errors() == []


async def test_a_topic_in_chinese_gets_its_digest(digesting: Digesting) -> None:
    # Trial: "/subscribe 比亚迪" and "/subscribe 电动汽车" never got a digest though BYD
    # stories were added (failed before the fix); 电动汽车 is the EV topic now.
    [reply] = await digesting.say(READER, "/subscribe 比亚迪")
    assert reply.text.startswith("Subscribed to “比亚迪”")
    [reply] = await digesting.say(READER, "/subscribe 电动汽车 08:00")
    assert reply.text.startswith("Subscribed to electric vehicles")
    await digesting.add(EV_STORY)
    digesting.clock.set(2026, 11, 23, 8, 0, 1)
    sent = await wait_for(
        lambda: (found := digests_in(digesting.api, READER)) and len(found) == 2 and found,
        what="two digests",
    )
    assert sorted(d.text.split(" — ")[0] for d in sent) == [
        "📬 electric vehicles",
        "📬 “比亚迪”",
    ]
    assert all("BYD's five-minute charger" in d.text for d in sent)


async def test_nothing_new_sends_nothing_and_the_watermark_still_advances(
    digesting: Digesting,
) -> None:
    await digesting.say(READER, "/subscribe ev")
    digesting.clock.set(2026, 11, 23, 8, 0, 5)
    await digesting.ticks()
    [record] = await digesting.deliveries(READER)
    assert record.status == "empty"
    assert digests_in(digesting.api, READER) == []
    [subscription] = await digesting.subscriptions(READER)
    assert subscription.watermark == record.upto
    assert subscription.watermark_at.startswith("2026-11-23T08:00:05")

    # An article after today's (empty) digest waits for tomorrow's.
    digesting.clock.set(2026, 11, 23, 9, 0)
    await digesting.add(EV_STORY)
    await digesting.ticks()
    assert digests_in(digesting.api, READER) == []
    digesting.clock.set(2026, 11, 24, 8, 0, 1)
    [digest] = await wait_for(lambda: digests_in(digesting.api, READER), what="the digest")
    assert "1 new article since 23 Nov 2026 08:00" in digest.text


async def test_the_first_digest_covers_only_what_was_added_after_subscribing(
    digesting: Digesting,
) -> None:
    await digesting.add(EV_STORY)  # before subscribing: not in the first digest
    await digesting.say(READER, "/subscribe ev")
    await digesting.add(EV_STORY_2)
    digesting.clock.set(2026, 11, 23, 8, 0, 1)
    [digest] = await wait_for(lambda: digests_in(digesting.api, READER), what="the digest")
    assert "Nio opens battery swap stations to Zeekr" in digest.text
    assert "BYD" not in digest.text.split("\n")[2]  # the one article is Nio's
    assert "1 new article" in digest.text


async def test_a_preview_does_not_use_up_the_scheduled_digest(digesting: Digesting) -> None:
    [empty] = await digesting.say(READER, "/digest")
    assert empty.text == texts.NO_SUBSCRIPTIONS
    await digesting.say(READER, "/subscribe ev")
    [nothing] = await digesting.say(READER, "/digest ev")
    assert nothing.text == "Nothing new on electric vehicles since 23 Nov 2026 07:58."
    await digesting.add(EV_STORY)
    [preview] = await digesting.say(READER, "/digest")
    assert preview.text.startswith("📬 Preview · electric vehicles — 1 new article")
    assert [b["text"] for b in preview.buttons] == ["Unsubscribe", "Change time"]
    digesting.clock.set(2026, 11, 23, 8, 0, 1)
    await wait_for(lambda: len(digests_in(digesting.api, READER)) == 2 or None, what="digest")
    scheduled = digests_in(digesting.api, READER)[-1]
    assert scheduled.text.startswith("📬 electric vehicles — 1 new article")
    # A topic the chat does not subscribe to: the last 24 hours.
    [other] = await digesting.say(READER, "/digest Nio Zeekr")
    assert "1 new article since 22 Nov 2026 08:00" in other.text
    assert other.buttons == []


async def test_a_digest_missed_while_the_bot_was_down_goes_out_once_when_it_is_back(
    api: BotApiServer, db_path: Path, clock: Clock
) -> None:
    settings = settings_for(api, db_path)
    async with running(build_application(settings, clock=clock, digests=fast_digests())) as app:
        harness = Digesting(api, app, clock)
        await harness.say(READER, "/subscribe ev 08:00")
        await harness.add(EV_STORY)
    # Down over 08:00; back at 11:30 the same day.
    clock.set(2026, 11, 23, 11, 30)
    for _ in range(2):
        async with running(build_application(settings, clock=clock, digests=fast_digests())) as app:
            harness = Digesting(api, app, clock)
            await harness.ticks(3)
            clock.set(2026, 11, 23, 12, 0)  # and restarted again: not twice
    assert len(digests_in(api, READER)) == 1


async def test_a_chat_that_blocked_the_bot_is_paused_until_it_writes_start(
    digesting: Digesting, errors: Errors
) -> None:
    await digesting.say(READER, "/subscribe ev")
    await digesting.add(EV_STORY)
    digesting.api.block(READER)
    digesting.clock.set(2026, 11, 23, 8, 0, 1)
    await wait_for(lambda: digesting.api.errors, what="the 403")
    await digesting.ticks(3)
    [subscription] = await digesting.subscriptions(READER)
    assert not subscription.active
    sends = [c for c in digesting.api.calls_of("sendMessage") if c.params["chat_id"] == READER]
    assert [c.status for c in sends[-1:]] == [403]
    assert len([c for c in sends if c.status == 403]) == 1  # not retried forever
    assert await digesting.deliveries(READER) == []
    # Unblocked, the chat writes /start: resumed, and today's digest still goes out.
    with digesting.api.lock:
        digesting.api._blocked.discard(READER)
    digesting.clock.set(2026, 11, 23, 15, 0)
    await digesting.say(READER, "/start")
    [digest] = await wait_for(lambda: digests_in(digesting.api, READER), what="the digest")
    assert "BYD" in digest.text
    assert errors() == []


async def test_a_429_is_waited_out_and_the_digest_sent_once(
    digesting: Digesting, errors: Errors
) -> None:
    await digesting.say(READER, "/subscribe ev")
    await digesting.add(EV_STORY)
    digesting.api.fail_next("sendMessage", retry_after=1)
    digesting.clock.set(2026, 11, 23, 8, 0, 1)
    [digest] = await wait_for(lambda: digests_in(digesting.api, READER), what="digest", within=15)
    calls = [c for c in digesting.api.calls_of("sendMessage") if c.params["chat_id"] == READER]
    assert [c.status for c in calls[-2:]] == [429, 200]
    assert calls[-1].at - calls[-2].at >= 1.0  # retry_after honoured
    await digesting.ticks(3)
    assert digests_in(digesting.api, READER) == [digest]
    assert errors() == []


async def test_a_flood_wait_longer_than_the_retries_defers_to_the_next_tick(
    digesting: Digesting,
) -> None:
    await digesting.say(READER, "/subscribe ev")
    await digesting.add(EV_STORY)
    digesting.api.fail_next("sendMessage", times=4, retry_after=1)  # the limiter retries 3 times
    digesting.clock.set(2026, 11, 23, 8, 0, 1)
    await wait_for(lambda: digests_in(digesting.api, READER), what="the digest", within=20)
    report = digest_job(digesting.app).last
    assert report is not None
    await digesting.ticks(3)
    assert len(digests_in(digesting.api, READER)) == 1
    statuses = [c.status for c in digesting.api.calls_of("sendMessage")]
    assert statuses[-5:] == [429, 429, 429, 429, 200]


async def test_only_group_admins_change_a_groups_subscriptions(digesting: Digesting) -> None:
    [refused] = await digesting.say(GROUP, "/subscribe ev")
    assert refused.text == texts.GROUP_ADMINS_ONLY
    assert await digesting.subscriptions(GROUP) == []
    digesting.api.set_member(GROUP, ADMIN, "administrator")
    [done] = await digesting.say(GROUP, "/subscribe ev 07:30", user=ADMIN)
    assert done.text.startswith("Subscribed to electric vehicles")
    # Anyone may look; the buttons refuse non-admins.
    [card] = await digesting.say(GROUP, "/subscriptions")
    query = digesting.api.press(card, card.button("Unsubscribe")["callback_data"], user_id=MEMBER)
    answer = await wait_for(lambda: digesting.api.callback_answer(query), what="an answer")
    assert answer["text"] == texts.GROUP_ADMINS_ONLY
    assert len(await digesting.subscriptions(GROUP)) == 1
    # Trial: /timezone was refused as a change of "its subscriptions" (failed before the fix).
    [refused] = await digesting.say(GROUP, "/timezone Shanghai")
    assert refused.text == "Only this group's admins can change its time zone."
    digesting.api.set_member(GROUP, MEMBER, "creator")
    [changed] = await digesting.say(GROUP, "/timezone Asia/Shanghai")
    assert (
        changed.text
        == "Time zone set to Asia/Shanghai (currently UTC+08:00). Your subscription follows it."
    )


async def test_a_group_that_becomes_a_supergroup_keeps_its_subscriptions(
    digesting: Digesting,
) -> None:
    digesting.api.set_member(GROUP, ADMIN, "creator")
    await digesting.say(GROUP, "/subscribe ev", user=ADMIN)
    digesting.api.migrate_group(GROUP, SUPERGROUP)
    await wait_for(
        lambda: digesting.api.pending_updates == 0 or None, what="the migration messages"
    )
    await digesting.ticks(2)
    assert await digesting.subscriptions(GROUP) == []
    [moved] = await digesting.subscriptions(SUPERGROUP)
    assert moved.topic == "ev"
    await digesting.add(EV_STORY)
    digesting.clock.set(2026, 11, 23, 8, 0, 1)
    [digest] = await wait_for(lambda: digests_in(digesting.api, SUPERGROUP), what="the digest")
    assert "BYD" in digest.text


async def test_a_digest_to_a_group_migrated_unnoticed_follows_it(
    digesting: Digesting, errors: Errors
) -> None:
    digesting.api.set_member(GROUP, ADMIN, "creator")
    await digesting.say(GROUP, "/subscribe ev", user=ADMIN)
    with digesting.api.lock:  # migrated, but the service messages never reached the bot
        digesting.api._migrated[GROUP] = SUPERGROUP
        digesting.api._chat({"id": SUPERGROUP, "type": "supergroup", "title": "x"})
    await digesting.add(EV_STORY)
    digesting.clock.set(2026, 11, 23, 8, 0, 1)
    [digest] = await wait_for(lambda: digests_in(digesting.api, SUPERGROUP), what="the digest")
    assert [b["text"] for b in digest.buttons] == ["Unsubscribe", "Change time"]
    [moved] = await digesting.subscriptions(SUPERGROUP)
    await digesting.ticks(2)  # the record follows the send
    [record] = await digesting.deliveries(SUPERGROUP)
    assert record.subscription_id == moved.id
    assert errors() == []


async def test_the_buttons_unsubscribe_and_change_the_time(digesting: Digesting) -> None:
    await digesting.say(READER, "/subscribe ev")
    await digesting.say(READER, "/subscribe Xiaomi SU7 21:00")
    cards = await digesting.say(READER, "/subscriptions", replies=2)
    assert [c.text for c in cards] == [
        "electric vehicles — daily at 08:00 (UTC). Next: 23 Nov 2026 08:00.",
        "“Xiaomi SU7” — daily at 21:00 (UTC). Next: 23 Nov 2026 21:00.",
    ]
    ev, xiaomi = cards
    ev_change = ev.button("Change time")["callback_data"]

    async def picker_of(card: Sent) -> Sent:
        known = len(digesting.api.sent(READER))
        query = digesting.api.press(card, card.button("Change time")["callback_data"])
        await wait_for(lambda: digesting.api.callback_answer(query), what="an answer")
        [picker] = await wait_for(lambda: digesting.api.sent(READER)[known:], what="the picker")
        return picker

    async def edited(card: Sent, edits: int) -> Sent:
        await wait_for(
            lambda: digesting.api.message(READER, card.message_id).edits >= edits or None,
            what=f"{edits} edits of message {card.message_id}",
        )
        return digesting.api.message(READER, card.message_id)

    # Change time -> the picker -> 07:00.
    picker = await picker_of(ev)
    assert picker.text == "New delivery time for electric vehicles (now 08:00, UTC):"
    labels = [b["text"] for b in picker.buttons]
    assert labels[:3] == ["06:00", "07:00", "08:00"]
    assert labels[-1] == "type HH:MM"
    query = digesting.api.press(picker, picker.button("07:00")["callback_data"])
    await wait_for(lambda: digesting.api.callback_answer(query), what="an answer")
    confirmed = await edited(picker, 1)
    assert confirmed.text == "electric vehicles now arrives daily at 07:00 (UTC)."
    assert confirmed.buttons == []
    # Trial: the card kept showing 08:00 (failed before the fix); it shows the new time.
    card = await edited(ev, 1)
    assert card.text == "electric vehicles — daily at 07:00 (UTC). Next: 24 Nov 2026 07:00."
    assert [b["text"] for b in card.buttons] == ["Unsubscribe", "Change time"]
    # "type HH:MM" -> a prompt the user answers by replying; the card follows too.
    picker = await picker_of(xiaomi)
    known = len(digesting.api.sent(READER))
    query = digesting.api.press(picker, picker.button("type HH:MM")["callback_data"])
    await wait_for(lambda: digesting.api.callback_answer(query), what="an answer")
    [prompt] = await wait_for(lambda: digesting.api.sent(READER)[known:], what="the prompt")
    assert prompt.reply_markup == {"force_reply": True, "selective": False}
    digesting.api.private_message(READER, "6:45", reply_to=prompt.message_id)
    [confirmed] = await digesting.new(READER, known + 1)
    assert confirmed.text == "“Xiaomi SU7” now arrives daily at 06:45 (UTC)."
    card = await edited(xiaomi, 1)
    assert card.text == "“Xiaomi SU7” — daily at 06:45 (UTC). Next: 24 Nov 2026 06:45."
    digesting.api.private_message(READER, "half past six", reply_to=prompt.message_id)
    [refused] = await digesting.new(READER, known + 2)
    assert refused.text == texts.bad_time("half past six")
    # Unsubscribe: the card says so (trial: it kept describing the subscription; failed
    # before the fix) and loses its buttons; no other message.
    known = len(digesting.api.sent(READER))
    query = digesting.api.press(ev, ev.button("Unsubscribe")["callback_data"])
    answer = await wait_for(lambda: digesting.api.callback_answer(query), what="an answer")
    assert answer["text"] == "Unsubscribed from electric vehicles."
    card = await edited(ev, 2)
    assert card.text == "Unsubscribed from electric vehicles."
    assert card.buttons == []
    assert [s.topic for s in await digesting.subscriptions(READER)] == ["Xiaomi SU7"]
    # Pressed again (a stale card): a polite answer.
    query = digesting.api.press(ev, ev_change)
    answer = await wait_for(lambda: digesting.api.callback_answer(query), what="an answer")
    assert answer["text"] == texts.SUBSCRIPTION_GONE
    assert len(digesting.api.sent(READER)) == known


async def test_unsubscribe_under_a_digest_keeps_the_digest(digesting: Digesting) -> None:
    await digesting.say(READER, "/subscribe ev")
    await digesting.add(EV_STORY)
    digesting.clock.set(2026, 11, 23, 8, 0, 1)
    [digest] = await wait_for(lambda: digests_in(digesting.api, READER), what="the digest")
    known = len(digesting.api.sent(READER))
    query = digesting.api.press(digest, digest.button("Unsubscribe")["callback_data"])
    await wait_for(lambda: digesting.api.callback_answer(query), what="an answer")
    [told] = await digesting.new(READER, known)
    assert told.text == "Unsubscribed from electric vehicles."
    kept = digesting.api.message(READER, digest.message_id)
    assert (kept.text, kept.buttons) == (digest.text, [])
    assert await digesting.subscriptions(READER) == []


async def test_a_time_typed_without_replying_is_understood(digesting: Digesting) -> None:
    # Trial rough edge 2: after "type HH:MM", a plain 10:15 (not a reply to the prompt)
    # got the abstention. Failed before the fix: the reply was an answer card.
    await digesting.say(READER, "/subscribe ev")
    [card] = await digesting.say(READER, "/subscriptions")
    subscription_id = card.button("Change time")["callback_data"].split(":")[1]
    type_time = f"y:{subscription_id}:{card.message_id}"  # the picker's, opened on the card

    async def ask_for_a_time() -> None:
        known = len(digesting.api.sent(READER))
        query = digesting.api.press(card, type_time)
        await wait_for(lambda: digesting.api.callback_answer(query), what="an answer")
        await digesting.new(READER, known)  # the prompt

    async def time_of_ev() -> str:
        [ev] = await digesting.subscriptions(READER)
        return ev.local_time

    await ask_for_a_time()
    [confirmed] = await digesting.say(READER, "10:15")
    assert confirmed.text == "electric vehicles now arrives daily at 10:15 (UTC)."
    await wait_for(lambda: digesting.api.message(READER, card.message_id).edits or None)
    shown = digesting.api.message(READER, card.message_id).text
    assert shown == "electric vehicles — daily at 10:15 (UTC). Next: 23 Nov 2026 10:15."
    # Answered: the next plain time is a question again.
    [answer] = await digesting.say(READER, "10:30")
    assert "now arrives" not in answer.text
    assert await time_of_ev() == "10:15"
    # A question while the prompt waits is a question; the time after it still counts.
    await ask_for_a_time()
    [answer] = await digesting.say(READER, "What did BYD unveil in Shanghai?")
    assert "now arrives" not in answer.text
    [confirmed] = await digesting.say(READER, "7pm")
    assert confirmed.text == "electric vehicles now arrives daily at 19:00 (UTC)."
    # After five minutes the prompt is forgotten.
    await ask_for_a_time()
    digesting.clock.now += timedelta(minutes=6)
    [answer] = await digesting.say(READER, "11:00")
    assert "now arrives" not in answer.text
    assert await time_of_ev() == "19:00"


async def test_the_typed_time_prompt_names_the_topic_by_its_label(digesting: Digesting) -> None:
    # Second trial: "Reply with the new time for “ev” as HH:MM" while every other reply
    # says "electric vehicles". Failed before the fix.
    await digesting.say(READER, "/subscribe ev")
    [card] = await digesting.say(READER, "/subscriptions")
    known = len(digesting.api.sent(READER))
    subscription_id = card.button("Change time")["callback_data"].split(":")[1]
    query = digesting.api.press(card, f"y:{subscription_id}:{card.message_id}")  # the picker's
    await wait_for(lambda: digesting.api.callback_answer(query), what="an answer")
    [prompt] = await digesting.new(READER, known)
    assert prompt.text == (
        "Reply with the new time for electric vehicles as HH:MM (24-hour), e.g. 07:30."
    )
    digesting.api.private_message(READER, "noon", reply_to=prompt.message_id)
    [confirmed] = await digesting.new(READER, known + 1)
    assert confirmed.text == "electric vehicles now arrives daily at 12:00 (UTC)."
    [ev] = await digesting.subscriptions(READER)
    assert ev.local_time == "12:00"


async def test_zones_and_times_as_people_type_them(digesting: Digesting) -> None:
    # Second trial: /timezone US set America/St_Thomas, 北京 was unknown, an offset's zone
    # was shown as "Etc/GMT-8" (read as UTC-8), "20:00 UTC" became part of the topic and
    # "/start subscribe_byd_0700" offered to keep 0700 in the topic. Failed before the fixes.
    [us] = await digesting.say(READER, "/timezone US")
    assert us.text.startswith(
        "US has several time zones: America/New_York, America/Chicago, America/Denver, "
        "America/Phoenix, America/Los_Angeles, America/Anchorage, America/Adak or "
        "Pacific/Honolulu."
    )
    [asia] = await digesting.say(READER, "/timezone Asia")
    assert asia.text.startswith("Asia spans many time zones.")
    [beijing] = await digesting.say(READER, "/timezone 北京")
    assert beijing.text == "Time zone set to Asia/Shanghai (currently UTC+08:00)."
    [offset] = await digesting.say(READER, "/timezone UTC+8")
    assert offset.text == "Time zone set to UTC+08:00."
    [subscribed] = await digesting.say(READER, "/subscribe ev 7pm")
    assert "daily at 19:00 (UTC+08:00)" in subscribed.text
    [card] = await digesting.say(READER, "/subscriptions")
    assert card.text == ("electric vehicles — daily at 19:00 (UTC+08:00). Next: 23 Nov 2026 19:00.")
    [shown] = await digesting.say(READER, "/timezone")
    assert shown.text.startswith("This chat's time zone is UTC+08:00.")
    [other] = await digesting.say(READER, "/subscribe ai 20:00 UTC")
    assert other.text.startswith(
        "Digest times are in this chat's time zone, UTC+08:00: 20:00 UTC is 04:00 there. "
        "Send /subscribe ai 04:00"
    )
    [later] = await digesting.say(READER, "/subscribe energy 7am tomorrow")
    assert later.text.startswith("I don't understand “tomorrow” after the time 7am.")
    [linked] = await digesting.say(READER, "/start subscribe_byd_0700")
    assert linked.text.startswith("Subscribed to “byd”: a digest of new articles daily at 07:00")
    assert "For the topic" not in linked.text
    assert [(s.topic, s.local_time) for s in await digesting.subscriptions(READER)] == [
        ("ev", "19:00"),
        ("byd", "07:00"),
    ]


@pytest.mark.parametrize(
    "data", ["u:999999", "t:0", "h:1:2500", "h:1:0761", "y:", "u:1:extra", "u:-1", "t:" + "9" * 40]
)
async def test_forged_subscription_buttons_get_a_polite_answer(
    digesting: Digesting, errors: Errors, data: str
) -> None:
    await digesting.say(READER, "/subscribe ev")
    [card] = await digesting.say(READER, "/subscriptions")
    query = digesting.api.press(card, data)
    answer = await wait_for(lambda: digesting.api.callback_answer(query), what="an answer")
    assert answer["text"] in (texts.FOREIGN_BUTTON, texts.SUBSCRIPTION_GONE)
    assert len(await digesting.subscriptions(READER)) == 1
    assert errors() == []


async def test_another_chats_subscription_cannot_be_touched_by_its_id(
    digesting: Digesting,
) -> None:
    await digesting.say(READER, "/subscribe ev")
    [theirs] = await digesting.subscriptions(READER)
    [card] = await digesting.say(READER + 1, "/start")
    query = digesting.api.press(card, f"u:{theirs.id}")
    answer = await wait_for(lambda: digesting.api.callback_answer(query), what="an answer")
    assert answer["text"] == texts.SUBSCRIPTION_GONE
    assert len(await digesting.subscriptions(READER)) == 1


async def test_commands_topics_timezone_unsubscribe_and_the_deep_link(
    digesting: Digesting,
) -> None:
    [topics] = await digesting.say(READER, "/topics")
    assert "robotaxi — robotaxis and autonomous driving" in topics.text
    [linked] = await digesting.say(READER, "/start subscribe_robotaxi")
    assert linked.text.startswith("Subscribed to robotaxis and autonomous driving")
    [unknown] = await digesting.say(READER, "/timezone Europe/Berln")
    assert unknown.text.startswith(
        "I don't know the time zone Europe/Berln. Did you mean Europe/Berlin"
    )
    [zone] = await digesting.say(READER, "/timezone Asia/Shanghai")
    assert (
        zone.text
        == "Time zone set to Asia/Shanghai (currently UTC+08:00). Your subscription follows it."
    )
    [shown] = await digesting.say(READER, "/timezone")
    assert shown.text.startswith("This chat's time zone is Asia/Shanghai.")
    [card] = await digesting.say(READER, "/subscriptions")
    assert card.text == (
        "robotaxis and autonomous driving — daily at 08:00 (Asia/Shanghai). "
        "Next: 24 Nov 2026 08:00."
    )
    [bad] = await digesting.say(READER, "/subscribe ev 25:00")
    assert bad.text == texts.bad_time("25:00")
    [usage] = await digesting.say(READER, "/subscribe")
    assert usage.text == texts.SUBSCRIBE_USAGE
    [long] = await digesting.say(READER, "/subscribe " + "x" * 150)
    assert "150 characters" in long.text
    [hostile] = await digesting.say(READER, "/subscribe <b>Xiaomi</b> & <i>BYD</i>")
    assert "“Xiaomi & BYD”" in hostile.text
    [gone] = await digesting.say(READER, "/unsubscribe chips")
    assert (
        gone.text
        == "This chat is not subscribed to chips. Its subscriptions: robotaxi, Xiaomi & BYD."
    )
    [gone] = await digesting.say(READER, "/unsubscribe all")
    assert gone.text == "Unsubscribed from robotaxis and autonomous driving, “Xiaomi & BYD”."
    [none] = await digesting.say(READER, "/subscriptions")
    assert none.text == texts.NO_SUBSCRIPTIONS


async def test_stats_counts_subscribers_and_digests_sent_today(digesting: Digesting) -> None:
    await digesting.say(READER, "/subscribe ev")
    await digesting.say(READER + 1, "/subscribe ev")
    await digesting.add(EV_STORY)
    digesting.clock.set(2026, 11, 23, 8, 0, 1)
    await wait_for(lambda: len(digests_in(digesting.api, READER + 1)) == 1 or None, what="")
    await wait_for(lambda: len(digests_in(digesting.api, READER)) == 1 or None, what="")
    await asyncio.sleep(0.1)
    [stats] = await digesting.say(ADMIN, "/stats")
    assert "2 subscriptions in 2 chats; 2 digests sent today." in stats.text


async def test_two_digests_to_one_chat_are_a_second_apart(
    api: BotApiServer, db_path: Path, clock: Clock
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # recorded, not waited
        waits.append(seconds)

    job = DigestJob(interval=timedelta(seconds=0.05), sleep=sleep)
    async with running(
        build_application(settings_for(api, db_path), clock=clock, digests=job)
    ) as app:
        harness = Digesting(api, app, clock)
        await harness.say(READER, "/subscribe ev")
        await harness.say(READER, "/subscribe Nio Zeekr")
        await harness.add(EV_STORY_2)
        clock.set(2026, 11, 23, 8, 0, 1)
        await wait_for(lambda: len(digests_in(api, READER)) == 2 or None, what="two digests")
    assert waits == [1.0]  # CHAT_GAP between the two, nothing else


async def _with_retry(
    sleep: Callable[[float], Awaitable[None]], call: Callable[[], Awaitable[T]]
) -> T:
    from bot.telegram.jobs.digests import send_retry

    async for attempt in send_retry(sleep):
        with attempt:
            return await call()
    raise AssertionError("send_retry neither returned nor raised")


async def test_send_retry_retries_network_trouble_only() -> None:
    from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    failures = [TimedOut(), NetworkError("connection reset")]

    async def flaky() -> str:
        if failures:
            raise failures.pop(0)
        return "sent"

    assert await _with_retry(sleep, flaky) == "sent"
    assert waits == [1, 2]  # exponential, from 1 s

    for refusal in (BadRequest("message is too long"), Forbidden("blocked")):
        waits.clear()
        calls = 0

        async def refused(error: Exception = refusal) -> None:
            nonlocal calls
            calls += 1
            raise error

        with pytest.raises(type(refusal)):
            await _with_retry(sleep, refused)
        assert (calls, waits) == (1, [])

    async def down() -> None:
        raise NetworkError("down")

    waits.clear()
    with pytest.raises(NetworkError):
        await _with_retry(sleep, down)
    assert waits == [1, 2]  # three tries, then the next tick
