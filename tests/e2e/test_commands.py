"""/start, /help, the command menus, admin commands, unknown commands."""

from __future__ import annotations

from pathlib import Path

from bot.telegram.app import build_application
from tests.e2e.botapi import BotApiServer
from tests.e2e.conftest import ADMIN, READER, Harness
from tests.e2e.harness import running, settings_for


async def test_start_welcomes_with_examples_and_topics(bot: Harness) -> None:
    bot.api.private_message(READER, "/start")
    [reply] = await bot.new_messages(READER, 0)
    assert reply.reply_to is None
    assert "answers questions about Chinese tech" in reply.text
    assert "Ask, for example:" in reply.text
    assert "Topics:" in reply.text


async def test_start_with_a_deep_link_payload(bot: Harness) -> None:
    bot.api.private_message(READER, "/start ev")
    [reply] = await bot.new_messages(READER, 0)
    examples = reply.text.split("Ask, for example:")[1]
    assert examples.lstrip().startswith("• How many new EV models did BYD unveil?")
    # A payload that is no topic (or garbage) is the plain welcome.
    bot.api.private_message(READER, "/start x" + "%00<b>" * 20)
    [reply] = await bot.new_messages(READER, 1)
    assert reply.text.split("Ask, for example:")[1].lstrip().startswith("• How did DeepSeek")


async def test_help_lists_examples_topics_and_how_to_ask(bot: Harness) -> None:
    [reply] = await bot.say(READER, "/help")
    assert "How did DeepSeek's free AI model change expectations?" in reply.text
    assert "robotaxi (robotaxis and autonomous driving)" in reply.text
    assert "@TechBriefTestBot <question>" in reply.text
    assert "/ask <question>" in reply.text


async def test_unknown_command_in_private_says_so(bot: Harness) -> None:
    [reply] = await bot.say(READER, "/weather Beijing")
    assert reply.text == "Unknown command /weather. Type /help for what I understand."


async def test_admin_commands_are_for_admins_only(bot: Harness) -> None:
    [refused] = await bot.say(READER, "/stats")
    assert refused.text == "Admins only."
    [refused] = await bot.say(READER, "/sources")
    assert refused.text == "Admins only."
    [stats] = await bot.say(ADMIN, "/stats")
    assert "3 articles from 2 sources" in stats.text
    [sources] = await bot.say(ADMIN, "/sources")
    assert "#1 Seed articles shipped with techbrief" in sources.text


async def test_command_menus_default_for_all_and_admin_scope_for_admins(
    api: BotApiServer, db_path: Path
) -> None:
    api.private_message(ADMIN, "hi")  # Telegram knows an admin's chat once they wrote
    settings = settings_for(api, db_path, admins=frozenset({ADMIN, 999}))
    async with running(build_application(settings)):
        pass
    default = [c["command"] for c in api.commands["default"]]
    admin = [c["command"] for c in api.commands[f"chat:{ADMIN}"]]
    subscribing = ["subscribe", "subscriptions", "unsubscribe", "digest", "timezone", "topics"]
    assert default == ["ask", *subscribing, "help"]
    admin_only = ["addsource", "addtext", "sources", "removesource", "refresh", "stats"]
    assert admin == ["ask", *subscribing, "help", *admin_only]
    # The admin who never started the bot: no menu, no crash.
    assert "chat:999" not in api.commands
