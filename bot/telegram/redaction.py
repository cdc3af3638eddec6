"""Keeping secrets (the bot token, the webhook secret) out of every output.

The token is part of every Bot API URL (``…/bot<token>/sendMessage``), and
httpx logs request URLs at INFO, python-telegram-bot logs its base URL at
DEBUG, and an exception's text may carry a URL — sometimes lower-cased (a
host name), sometimes only in part (httpx reads ``http://<id>:<secret>/…``
as a host and a port, and names the port). So a :class:`Redactor` masks a
secret whole, in any letter case, and any run of :data:`FRAGMENT` or more of
its characters.

Two places apply it: a log record factory (:func:`install_redaction`), so
that no handler, filter or library ever sees a record with a secret in its
message, exception text or stack; and the command line's top level
(``bot.cli.main``), which every error passes before it is printed. Secrets
are registered as settings are read (``Settings.secrets``), so a setting
added later (the webhook secret) is covered by naming it there.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = [
    "FRAGMENT",
    "MASK",
    "SECRET_MASK",
    "Redactor",
    "install_redaction",
    "redact",
    "register_settings",
]

MASK = "<bot-token>"
"""What replaces the bot token (or a part of it)."""
SECRET_MASK = "<webhook-secret>"  # noqa: S105 (what replaces the secret, not one)

FRAGMENT = 8
"""A run of this many characters of a secret (or the whole of a shorter one) is masked."""

_RecordFactory = Callable[..., logging.LogRecord]
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _fold(text: str) -> str:
    """ASCII case folding that keeps every character's position (tokens are ASCII)."""
    return text.translate(_LOWER)


class Redactor:
    """Masks registered secrets in text: whole, in any case, or in fragments."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: list[tuple[str, str]] = []  # (secret, its mask)
        self._grams: dict[str, int] = {}  # a run of FRAGMENT characters -> its secret's number
        self._width = FRAGMENT
        self.register(*secrets)

    def register(self, *secrets: str | None, mask: str = MASK) -> None:
        """Mask ``secrets`` from now on with ``mask`` (empty and known ones are ignored).

        A bot token ``<id>:<secret>`` is masked whole; its public bot id alone is not.
        """
        for secret in secrets:
            if not secret or secret in self.secrets:
                continue
            self._secrets.append((secret, mask))
            width = min(FRAGMENT, len(_private_part(secret)))
            if width < self._width:  # a short secret: every secret's runs at that width
                self._width = width
                self._grams = {}
                for number, (known, _) in enumerate(self._secrets):
                    self._add_grams(number, known)
            else:
                self._add_grams(len(self._secrets) - 1, secret)

    def _add_grams(self, number: int, secret: str) -> None:
        for gram in _grams(_private_part(secret), self._width):
            self._grams.setdefault(gram, number)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(secret for secret, _ in self._secrets)

    def __call__(self, text: str) -> str:
        """``text`` without any registered secret (unchanged when it holds none)."""
        if not self._grams or not text:
            return text
        folded = _fold(text)
        if not any(gram in folded for gram in self._grams):
            return text
        owner = [0] * len(text)  # per character: 1 + the number of the secret it belongs to
        for number, (secret, _) in enumerate(self._secrets):  # whole: with a token's id
            whole = _fold(secret)
            start = folded.find(whole)
            while start >= 0:
                owner[start : start + len(whole)] = [number + 1] * len(whole)
                start = folded.find(whole, start + 1)
        width = self._width
        for i in range(len(folded) - width + 1):
            found = self._grams.get(folded[i : i + width])
            if found is not None:
                for j in range(i, i + width):
                    owner[j] = owner[j] or found + 1
        out: list[str] = []
        i = 0
        while i < len(text):
            if owner[i]:
                out.append(self._secrets[owner[i] - 1][1])
                while i < len(text) and owner[i]:
                    i += 1
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


def _private_part(secret: str) -> str:
    """What must never show: of a bot token ``<id>:<secret>``, the part after the colon."""
    bot_id, colon, private = secret.partition(":")
    return private if colon and bot_id.isdigit() and private else secret


def _grams(secret: str, width: int) -> set[str]:
    folded = _fold(secret)
    return {folded[i : i + width] for i in range(len(folded) - width + 1)}


def register_settings(redactor: Redactor, settings: Settings) -> Redactor:
    """Register every secret of ``settings`` (``Settings.secrets``) with ``redactor``: the
    token masked as :data:`MASK`, the webhook secret as :data:`SECRET_MASK`."""
    redactor.register(settings.token)
    if settings.webhook is not None:
        redactor.register(settings.webhook.secret, mask=SECRET_MASK)
    redactor.register(*settings.secrets)
    return redactor


def redact(text: str, secret: str, mask: str = MASK) -> str:
    """``text`` with ``secret`` masked (whole, in any case, or in fragments)."""
    redactor = Redactor()
    redactor.register(secret, mask=mask)
    return redactor(text)


class _RedactingFactory:
    """A log record factory that removes every secret of a redactor from every record."""

    def __init__(self, inner: _RecordFactory, redactor: Redactor) -> None:
        self.inner = inner
        self.redactor = redactor

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:
            # A malformed record is logging's to report (when it is emitted), not ours.
            return record
        clean = self.redactor(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            clean = self.redactor(text)
            if clean != text:
                # Formatters use exc_text when it is set instead of formatting exc_info.
                record.exc_text = clean
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        return record


def install_redaction(redactor: Redactor | str, mask: str = MASK) -> Redactor:
    """Make every log record created from now on free of ``redactor``'s secrets.

    Given a secret instead of a redactor, it joins the redactor already
    installed (masked with ``mask``), or a new one. Idempotent. Returns the
    redactor in effect.
    """
    factory = logging.getLogRecordFactory()
    probe: object = factory
    while isinstance(probe, _RedactingFactory):
        if probe.redactor is redactor:
            return redactor
        if isinstance(redactor, str):
            probe.redactor.register(redactor, mask=mask)
            return probe.redactor
        probe = probe.inner
    if isinstance(redactor, str):
        secret, redactor = redactor, Redactor()
        redactor.register(secret, mask=mask)
    logging.setLogRecordFactory(_RedactingFactory(factory, redactor))
    return redactor
