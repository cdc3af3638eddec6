"""The promises the README makes about running techbrief hold for the repository."""

from __future__ import annotations

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
