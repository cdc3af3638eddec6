"""The seed corpus shipped inside the package, and the record of loading it once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import sqlite_utils

from storage.articles import NewArticle

__all__ = ["SeedArticle", "mark_seeded", "read_articles", "read_seed_articles", "seeded_at"]

_SEEDED_KEY = "seeded_at"


@dataclass(frozen=True, slots=True)
class SeedArticle:
    """A shipped article; ``article.title`` is empty when the file has none."""

    file: str
    article: NewArticle


def read_seed_articles() -> list[SeedArticle]:
    """The shipped articles with their manifest metadata, title and credit lines removed."""
    return read_articles(resources.files("storage") / "seed")


def read_articles(folder: Traversable | Path) -> list[SeedArticle]:
    """The articles of a folder laid out like the seed's: ``manifest.json`` lists each
    text file with its metadata (the answer-quality set's news articles use it too)."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    out: list[SeedArticle] = []
    for entry in manifest["articles"]:
        lines = (folder / entry["file"]).read_text(encoding="utf-8").splitlines()
        if entry.get("first_line_is_title"):
            lines = lines[1:]
        while lines and not lines[-1].strip():
            lines.pop()
        if entry.get("drop_last_line") and lines:
            lines.pop()
        article = NewArticle(
            title=entry.get("title") or "",
            body="\n".join(lines).strip(),
            publisher=entry.get("publisher"),
            published=entry.get("published"),
            published_note=entry.get("published_note"),
        )
        out.append(SeedArticle(entry["file"], article))
    return out


def seeded_at(db: sqlite_utils.Database) -> str | None:
    rows = list(db.query("SELECT value FROM meta WHERE key = ?", [_SEEDED_KEY]))
    return str(rows[0]["value"]) if rows else None


def mark_seeded(db: sqlite_utils.Database, now: datetime) -> None:
    """Record that the seed corpus was loaded. Call inside the loading transaction."""
    db.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [_SEEDED_KEY, now.isoformat()]
    )
