"""Errors raised by the index.

IndexError_         the index was asked to do something inconsistent
└── IndexCorrupt    the files on disk are not a readable index (rebuild it)
"""

from __future__ import annotations

__all__ = ["IndexCorrupt", "IndexError_"]


class IndexError_(ValueError):
    """The index was asked to do something inconsistent (e.g. non-increasing keys)."""


class IndexCorrupt(IndexError_):
    """The files on disk are not a readable index; rebuild it from the database."""
