"""Hundreds of hostile inputs through the real bot: every reply is one Telegram accepts.

The test server refuses what Telegram refuses (bad HTML, unknown tags, bare
``<`` or ``&``, over-long text, oversized callback data), so a reply that
escaped user or corpus text badly, or ran over 4096 characters, fails here.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from telegram.ext import AIORateLimiter

from bot.telegram.app import build_application
from tests.e2e.botapi import BotApiServer
from tests.e2e.conftest import Errors, Harness
from tests.e2e.harness import running, settings_for, wait_for

CURATED = [
    "<script>alert(1)</script> BYD",
    "<b>BYD</b> <i>robotaxi</i>",
    "</b></i></blockquote> robotaxi",
    "<a href='javascript:alert(1)'>Pony.ai</a>",
    "&amp; &lt; &gt; &quot; &#0; &#x110000; &nbsp; &bogus; DeepSeek",
    "<<<>>> &&& BYD",
    "\u202eBYD robotaxi\u202c",
    "B\u200bY\u200dD \u2060electric\ufeff",
    "😀😀😀",
    "👨‍👩‍👧 🇨🇳 👍🏽",
    "\x00BYD\x00 robotaxi",
    "\x07\x1b[31mBYD\x1b[0m \x7f",
    "\ud800BYD \udfff robotaxi",
    "\ufeff\ufeffHuawei chips",
    "BYD " * 2500,
    "a" * 10_000,
    "x" * 1001,
    "the of and to in a is it",
    "比亚迪发布了多少款新车型?",
    "深度求索的AI模型 DeepSeek",
    "*BYD* _robotaxi_ `code` [link](http://x)",
    "'; DROP TABLE passages; --",
    'robotaxi* OR 1=1 NEAR(BYD, Nio) "phrase',
    "%s %d {0} {question} $(whoami)",
    "Z̸̢͎a̴l̷g̶o̵ ̵t̸e̶x̵t BYD",
    "line\u2028break\u2029paragraph Huawei",
    "@",
    "@TechBriefTestBot",
    "\\",
    "/",
    "/ask",
    "/ask <b>",
    "/start " + "A" * 64,
    "/help@SomeOtherBot",
    "/" + "x" * 40,
    bytes(range(256)).decode("latin-1"),
    bytes(range(32, 256)).decode("cp1252", "replace"),
    "\xff\xfe\x00\x00BYD",
    "https://t.me/TechBriefTestBot?start=ev",
    "What's China's $690,000 5G 80% pony.ai?",
    "BYD\n\n\n\nrobotaxi\n\n",
    "\t\t robotaxi \t",
]

_FRAGMENTS = [
    "BYD",
    "robotaxi",
    "Pony.ai",
    "DeepSeek",
    "Huawei",
    "chips",
    "IPO",
    "Hong Kong",
    "AI",
    "<b>",
    "</b>",
    "<i>",
    "<blockquote>",
    '<a href="x">',
    "</a>",
    "<tg-spoiler>",
    "<pre>",
    "&",
    "&amp;",
    "&lt;",
    "&#128512;",
    "<",
    ">",
    '"',
    "'",
    "\\",
    "\x00",
    "\x1b",
    "\u200f",
    "\u202e",
    "\u200d",
    "😀",
    "🏳️‍🌈",
    "中文",
    "ع",
    "\n",
    "\n\n",
    "  ",
    "the",
    "of",
    "%",
    "\ud83d",
    "\udca9",
    "\ufffd",
    "\u0301",
    "\U0001d400",
    "/",
    "@TechBriefTestBot",
]


def generated(count: int, seed: int = 20261122) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        parts = rng.choices(_FRAGMENTS, k=rng.randint(1, 30))
        text = rng.choice([" ", "", "\n"]).join(parts)
        if rng.random() < 0.1:
            text *= rng.randint(50, 300)  # huge
        if rng.random() < 0.1:
            text = bytes(rng.randrange(256) for _ in range(rng.randint(1, 400))).decode(
                "utf-8", "replace"
            )
        out.append(text[:10_000])
    return out


INPUTS = CURATED + generated(260)


@pytest.mark.slow
async def test_hostile_inputs_get_valid_replies_and_no_errors(
    api: BotApiServer, db_path: Path, errors: Errors, unlimited: AIORateLimiter
) -> None:
    settings = settings_for(api, db_path)
    async with running(build_application(settings, rate_limiter=unlimited)) as application:
        bot = Harness(api, application)
        # One user per input: they arrive together and are answered concurrently.
        asked = [api.private_message(10_000 + n, text) for n, text in enumerate(INPUTS)]
        expecting = [m for m in asked if m["text"].strip()]
        for m in expecting:
            chat = m["chat"]["id"]
            await wait_for(lambda c=chat: api.sent(c), 60, f"a reply to input {chat - 10_000}")
        await bot.idle()
    assert len(INPUTS) >= 300
    assert api.errors == []  # not one message Telegram would have refused
    assert errors() == []  # and the error handler never ran
    replies = [s for m in asked for s in api.sent(m["chat"]["id"])]
    assert len(replies) >= len(expecting)
    assert all(len(s.text) <= 4096 for s in replies)
    # User text is never echoed as markup.
    assert not any("<script>" in s.html or "<blockquote>" in s.html for s in replies)
