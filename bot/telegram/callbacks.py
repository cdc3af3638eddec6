"""Inline keyboards and callback data: what a button carries, encoded and read back.

``callback_data`` is at most :data:`MAX_CALLBACK_BYTES` bytes (:class:`Button`
refuses more), and :func:`parse_callback` reads back only what
:func:`encode_callback` wrote — anything else, forged or stale, is ``None``.

Callback data is stateless: "Source" carries the passage id (``s:<id>``),
"More" carries a 12-character hash of the question and the hit to show
(``m:<qid>:<n>``); the question itself is looked up by its hash. The page
buttons of /sources carry the page (``src:<n>``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

__all__ = [
    "MAX_CALLBACK_BYTES",
    "SUBSCRIPTION_CALLBACK",
    "Button",
    "ChangeTime",
    "Keyboard",
    "NextHit",
    "SetTime",
    "ShowSource",
    "ShowSources",
    "SubscriptionAction",
    "TypeTime",
    "Unsubscribe",
    "encode_callback",
    "encode_subscription_callback",
    "parse_callback",
    "parse_subscription_callback",
    "question_id",
]

MAX_CALLBACK_BYTES = 64
"""Telegram's limit on ``callback_data``, in bytes (UTF-8)."""

# -- keyboards and callback data -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button: a callback (at most 64 bytes of data) or a link."""

    label: str
    callback_data: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.callback_data is None) == (self.url is None):
            raise ValueError("a button has either callback data or a URL")
        if self.callback_data is not None and not (
            1 <= len(self.callback_data.encode("utf-8")) <= MAX_CALLBACK_BYTES
        ):
            raise ValueError(f"callback_data must be 1..{MAX_CALLBACK_BYTES} bytes")


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class NextHit:
    """ "More": show hit ``index`` of the question whose id is ``question_id``."""

    question_id: str
    index: int


@dataclass(frozen=True, slots=True)
class ShowSource:
    """ "Source": show the full passage ``passage_id`` and its link."""

    passage_id: int


@dataclass(frozen=True, slots=True)
class ShowSources:
    """ "‹ Previous" / "Next ›" under /sources: show page ``page`` (0-based). Admins only."""

    page: int


_QUESTION_ID = re.compile(r"[A-Za-z0-9_-]{12}")
_NEXT_HIT = re.compile(r"m:([A-Za-z0-9_-]{12}):(0|[1-9][0-9]{0,2})")
_SHOW_SOURCE = re.compile(r"s:([1-9][0-9]{0,17})")
_SHOW_SOURCES = re.compile(r"src:(0|[1-9][0-9]{0,5})")


def question_id(question: str) -> str:
    """A 12-character id for a (cleaned) question: the same text always gets the same id."""
    digest = hashlib.blake2b(question.encode("utf-8", "surrogatepass"), digest_size=9).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def encode_callback(action: NextHit | ShowSource | ShowSources) -> str:
    if isinstance(action, ShowSource):
        data = f"s:{action.passage_id}"
    elif isinstance(action, ShowSources):
        if not 0 <= action.page <= 999_999:
            raise ValueError(f"cannot encode {action!r}")
        data = f"src:{action.page}"
    else:
        if not _QUESTION_ID.fullmatch(action.question_id) or not 0 <= action.index <= 999:
            raise ValueError(f"cannot encode {action!r}")
        data = f"m:{action.question_id}:{action.index}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data for {action!r} would exceed {MAX_CALLBACK_BYTES} bytes")
    return data


def parse_callback(data: str | None) -> NextHit | ShowSource | ShowSources | None:
    """What a button press asks for, or ``None`` for data this bot did not write."""
    if not data or len(data) > MAX_CALLBACK_BYTES:
        return None
    if match := _NEXT_HIT.fullmatch(data):
        return NextHit(match.group(1), int(match.group(2)))
    if match := _SHOW_SOURCE.fullmatch(data):
        return ShowSource(int(match.group(1)))
    if match := _SHOW_SOURCES.fullmatch(data):
        return ShowSources(int(match.group(1)))
    return None


# -- subscription buttons ----------------------------------------------------------------
#
# "Unsubscribe" (``u:<id>``) and "Change time" (``t:<id>``) on digests and in
# /subscriptions; the time picker's choices (``h:<id>:<HHMM>``) and its "type HH:MM"
# (``y:<id>``). ``<id>`` is the subscription's id; the handler checks that it belongs
# to the chat the button is in. On a /subscriptions card the first two end in ``:c``
# (the card describes the subscription, so it is edited to say what changed; a digest is
# left as it is), and the picker opened from a card carries the card's message id
# (``h:<id>:<HHMM>:<message>``, ``y:<id>:<message>``) so the new time reaches the card.


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    subscription_id: int
    card: bool = False  # pressed on a /subscriptions card (not a digest)


@dataclass(frozen=True, slots=True)
class ChangeTime:
    subscription_id: int
    card: bool = False


@dataclass(frozen=True, slots=True)
class SetTime:
    subscription_id: int
    local_time: str  # "HH:MM"
    card_message: int | None = None  # the /subscriptions card to show the new time on


@dataclass(frozen=True, slots=True)
class TypeTime:
    subscription_id: int
    card_message: int | None = None


SubscriptionAction = Unsubscribe | ChangeTime | SetTime | TypeTime

SUBSCRIPTION_CALLBACK = re.compile(r"[uthy]:")
"""What subscription buttons' data starts with (the handler's pattern)."""

_ID = r"([1-9][0-9]{0,17})"
_MESSAGE = r"(?::([1-9][0-9]{0,17}))?"
_UNSUBSCRIBE = re.compile(f"u:{_ID}(:c)?")
_CHANGE_TIME = re.compile(f"t:{_ID}(:c)?")
_SET_TIME = re.compile(f"h:{_ID}:([01][0-9]|2[0-3])([0-5][0-9]){_MESSAGE}")
_TYPE_TIME = re.compile(f"y:{_ID}{_MESSAGE}")


def encode_subscription_callback(action: SubscriptionAction) -> str:
    if isinstance(action, Unsubscribe | ChangeTime):
        kind = "u" if isinstance(action, Unsubscribe) else "t"
        data = f"{kind}:{action.subscription_id}" + (":c" if action.card else "")
    else:
        if isinstance(action, TypeTime):
            data = f"y:{action.subscription_id}"
        else:
            data = f"h:{action.subscription_id}:{action.local_time.replace(':', '')}"
        if action.card_message is not None:
            data += f":{action.card_message}"
    if parse_subscription_callback(data) != action:
        raise ValueError(f"cannot encode {action!r}")
    return data


def parse_subscription_callback(data: str | None) -> SubscriptionAction | None:
    """What a subscription button asks for, or ``None`` for data this bot did not write."""
    if not data or len(data) > MAX_CALLBACK_BYTES:
        return None
    if match := _UNSUBSCRIBE.fullmatch(data):
        return Unsubscribe(int(match.group(1)), match.group(2) is not None)
    if match := _CHANGE_TIME.fullmatch(data):
        return ChangeTime(int(match.group(1)), match.group(2) is not None)
    if match := _SET_TIME.fullmatch(data):
        return SetTime(
            int(match.group(1)), f"{match.group(2)}:{match.group(3)}", _message(match.group(4))
        )
    if match := _TYPE_TIME.fullmatch(data):
        return TypeTime(int(match.group(1)), _message(match.group(2)))
    return None


def _message(digits: str | None) -> int | None:
    return int(digits) if digits is not None else None
