"""Keeping the bot token out of logs.

The token is part of every Bot API URL (``…/bot<token>/sendMessage``), and
httpx logs request URLs at INFO, python-telegram-bot logs its base URL at
DEBUG, and an exception's text may carry a URL. Filtering one handler is not
enough (a handler added later, pytest's capture, a library's own handler would
still see the token), so the redaction happens where every record is made: a
log record factory that rewrites the record's message, and the text of its
exception, before any handler or filter sees it.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

__all__ = ["MASK", "SECRET_MASK", "install_redaction", "redact"]

MASK = "<bot-token>"
SECRET_MASK = "<webhook-secret>"  # noqa: S105 (what replaces the secret, not one)

_RecordFactory = Callable[..., logging.LogRecord]


def redact(text: str, secret: str, mask: str = MASK) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``mask``."""
    return text.replace(secret, mask) if secret else text


class _RedactingFactory:
    """A log record factory that removes one secret from every record it makes."""

    def __init__(self, inner: _RecordFactory, secret: str, mask: str) -> None:
        self.inner = inner
        self.secret = secret
        self.mask = mask

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:
            # A malformed record is logging's to report (when it is emitted), not ours.
            return record
        if self.secret in message:
            record.msg, record.args = redact(message, self.secret, self.mask), None
        if record.exc_info and record.exc_info[1] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            if self.secret in text:
                # Formatters use exc_text when it is set instead of formatting exc_info.
                record.exc_text = redact(text, self.secret, self.mask)
        if record.stack_info and self.secret in record.stack_info:
            record.stack_info = redact(record.stack_info, self.secret, self.mask)
        return record


def install_redaction(secret: str, mask: str = MASK) -> None:
    """Make every log record created from now on free of ``secret`` (idempotent).

    One call per secret: the bot token, the webhook secret (``mask=SECRET_MASK``).
    """
    factory = logging.getLogRecordFactory()
    probe: object = factory
    while isinstance(probe, _RedactingFactory):
        if probe.secret == secret:
            return
        probe = probe.inner
    logging.setLogRecordFactory(_RedactingFactory(factory, secret, mask))
