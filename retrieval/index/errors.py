"""Errors raised by the index.

IndexError_             the index was asked to do something inconsistent
├── IndexCorrupt        the files on disk are not a readable index (rebuild it)
├── IndexForeign        the index path holds something techbrief did not make (leave it alone)
├── IndexStale          another process committed since this index was loaded (reopen it)
└── IndexUnwritable     the index cannot be written: disk full, read-only folder, ...
"""

from __future__ import annotations

__all__ = ["IndexCorrupt", "IndexError_", "IndexForeign", "IndexStale", "IndexUnwritable"]


class IndexError_(ValueError):
    """The index was asked to do something inconsistent (e.g. non-increasing keys)."""


class IndexCorrupt(IndexError_):
    """The files on disk are not a readable index; rebuild it from the database."""


class IndexForeign(IndexError_):
    """The index path is a file, or a folder techbrief did not make: never touched."""


class IndexStale(IndexError_):
    """Another process committed a newer generation since this index was loaded.

    Nothing was written. The in-memory index holds changes the files do not:
    reopen the index from disk and apply them again (the caller knows them).
    """


class IndexUnwritable(IndexError_):
    """The index files cannot be written (the message names the folder and the cause).

    The previous generation on disk is intact; the in-memory index keeps the
    change and a later commit writes it.
    """
