"""The promises the README makes about running techbrief hold for the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    return [line for line in lines[:15] if line.startswith("python3 -m venv")]


def test_readme_opens_with_the_two_commands() -> None:
    run, test = _readme_commands()
    assert run.endswith(".venv/bin/techbrief")
    assert "pytest" in test


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, test = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test in ci


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def _prose(text: str) -> str:
    """The README without code blocks and code spans."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def test_every_command_in_the_telegram_menus_is_in_the_readme() -> None:
    from bot.telegram.handlers import ADMIN_COMMANDS, PUBLIC_COMMANDS

    readme = _readme()
    registered = [name for name, _ in (*PUBLIC_COMMANDS, *ADMIN_COMMANDS)]
    assert {"ask", "help", "subscribe", "addsource", "stats"} <= set(registered)
    missing = [c for c in registered if not re.search(rf"`/{c}[` ]", readme)]
    assert not missing, f"registered in the menus, not in the README: {missing}"


def test_every_console_command_is_in_the_readme() -> None:
    from bot.console import CONSOLE_ADMIN_COMMANDS, CONSOLE_COMMANDS

    readme = _readme()
    commands = [
        name.split()[0]
        for name, _ in (*CONSOLE_COMMANDS, *CONSOLE_ADMIN_COMMANDS)
        if name.startswith("/")
    ]
    missing = [c for c in commands if not re.search(rf"`{c}[` ]", readme)]
    assert not missing, f"console commands not in the README: {missing}"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_readme_link_resolves() -> None:
    readme = _readme()
    headings = {
        _slug(line.lstrip("#"))
        for line in re.sub(r"```.*?```", "", readme, flags=re.S).splitlines()
        if line.startswith("#")
    }
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", readme):
        if target.startswith(("http://", "https://")):
            continue
        local = target[1:] in headings if target.startswith("#") else None
        if local is False or (local is None and not (ROOT / target.split("#")[0]).exists()):
            broken.append(target)
    assert not broken, f"links to nothing: {broken}"


def test_the_readme_has_no_placeholders() -> None:
    # e.g. "**Large feeds.** SIZE_FIGURES": a name in capitals outside code is unfilled.
    prose = _prose(_readme())
    assert re.findall(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", prose) == []
    assert re.findall(r"\b(?:TODO|TBD|FIXME|XXX)\b", prose) == []


def test_the_readme_says_nothing_built_is_still_to_come() -> None:
    prose = _prose(_readme()).lower()
    for stale in ("not built yet", "to come", "later add source"):
        assert stale not in prose, stale
