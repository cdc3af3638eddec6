"""The bot's log: one line per event, at the level TECHBRIEF_LOG_LEVEL names.

A traceback or a multi-line message is folded into its record's line (newlines
written as ``\\n``), so that every line of the log is one event for grep,
journald and container log drivers alike. Secrets are removed earlier, when
each record is made (:mod:`bot.telegram.redaction`).
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

__all__ = ["OneLineFormatter", "configure_logging"]

# Libraries that log every request at INFO (httpx: each Bot API URL): quiet unless debugging.
_CHATTY = ("httpx", "httpcore", "apscheduler", "tornado.access")


class OneLineFormatter(logging.Formatter):
    """``2026-11-22T08:00:00 INFO bot.telegram.app: message``, tracebacks on the same line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "").replace("\n", "\\n")


def configure_logging(level: str, stream: TextIO | None = None) -> logging.Handler:
    """Send every record at ``level`` or above to ``stream`` (stderr), one line each.

    Replaces the root logger's handlers; returns the new handler.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(OneLineFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = logging.getLevelName(level)
    root.setLevel(numeric)
    for name in ("bot", "storage", "retrieval", "telegram"):
        logging.getLogger(name).setLevel(numeric)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    return handler
