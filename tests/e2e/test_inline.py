"""Inline mode: ``@bot question`` offers up to ten cards; choosing one posts it."""

from __future__ import annotations

from tests.e2e.conftest import READER, XIAOMI_URL, Harness
from tests.e2e.harness import wait_for
from tests.e2e.telegram_html import parse_html


async def _answers(bot: Harness, query: str) -> dict:
    query_id = bot.api.inline_query(READER, query)
    answer = await wait_for(lambda: bot.api.inline_answer(query_id), what="the inline answer")
    return {"id": query_id, **answer}


async def test_inline_query_offers_titles_and_best_sentences(bot: Harness) -> None:
    answer = await _answers(bot, "China AI")
    results = answer["results"]
    assert len(results) == 10
    assert all(r["type"] == "article" for r in results)
    assert all(r["title"] and r["description"] for r in results)
    assert len({r["id"] for r in results}) == 10
    assert answer["cache_time"] <= 60
    # Descriptions are plain text; the message each posts is an HTML card.
    first = results[0]
    assert "<" not in first["description"]
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert first["description"] in parse_html(content["message_text"]).text


async def test_choosing_a_result_posts_a_valid_card_and_the_bot_stays_quiet(
    bot: Harness,
) -> None:
    answer = await _answers(bot, "How many orders did the Xiaomi SU7 get?")
    first = answer["results"][0]
    assert first["reply_markup"]["inline_keyboard"][0][0] == {"text": "Source", "url": XIAOMI_URL}
    # Posted in the private chat with the bot itself: it comes back "via" the bot.
    posted = bot.api.choose_inline_result(answer["id"], first["id"], chat_id=READER)
    assert "88,898" in posted["text"]
    assert "📰" in posted["text"]
    await bot.idle()
    assert [s for s in bot.api.sent(READER)] == []  # not taken for a question


async def test_an_unanswerable_inline_query_has_no_results_and_a_way_to_the_chat(
    bot: Harness,
) -> None:
    for query in ["Who is the CEO of Pony.ai?", "the of and", "", "   "]:
        answer = await _answers(bot, query)
        assert answer["results"] == []
        assert answer["button"]["start_parameter"] in ("topics", "inline")


async def test_a_posted_inline_card_shows_no_position_it_cannot_page(bot: Harness) -> None:
    answer = await _answers(bot, "AI model")
    assert len(answer["results"]) == 5
    for result in answer["results"]:
        # Before the fix each card ended "Result N of 5", with no "More" to page on.
        text = parse_html(result["input_message_content"]["message_text"]).text
        assert "Result " not in text
        assert "The only result" not in text
        assert text.rstrip().splitlines()[-1].startswith("📰")
        buttons = (result.get("reply_markup") or {}).get("inline_keyboard", [])
        assert all("url" in b for row in buttons for b in row)  # links only, no "More"
    posted = bot.api.choose_inline_result(answer["id"], answer["results"][1]["id"], chat_id=-100777)
    assert "of 5" not in posted["text"]
