"""Errors raised by the storage package.

StorageError            the database cannot be opened or used
└── DuplicateArticle    the article is stored already (same URL or content)
"""

from __future__ import annotations

__all__ = ["DuplicateArticle", "StorageError"]


class StorageError(Exception):
    """The database cannot be opened or used; the message says why."""


class DuplicateArticle(StorageError):
    """The article is already stored, under ``article_id`` (of source ``source_id``)."""

    def __init__(self, article_id: int, title: str, source_id: int | None = None) -> None:
        super().__init__(f"already stored as article {article_id}: {title}")
        self.article_id = article_id
        self.title = title
        self.source_id = source_id
