"""Every fixed sentence techbrief says to people, once, for every transport.

Texts that take values are functions; the rest are constants. Transports
render these (escaped for Telegram HTML, plain in the terminal); they never
write their own copies.
"""

from __future__ import annotations

__all__ = [
    "ADMINS_ONLY",
    "APOLOGY",
    "ASK_USAGE",
    "CHANGE_TIME",
    "CONSOLE_SUBSCRIPTIONS_HINT",
    "EXPIRED_ANSWER",
    "FOREIGN_BUTTON",
    "GROUP_ADMINS_ONLY",
    "LOADING_SEGMENTER",
    "NO_MORE_RESULTS",
    "NO_RESULTS",
    "NO_SOURCES",
    "NO_SUBSCRIPTIONS",
    "SOURCE_GONE",
    "SUBSCRIBE_USAGE",
    "SUBSCRIPTION_GONE",
    "TIME_REPLY_PREFIX",
    "TYPE_TIME",
    "UNSUBSCRIBE",
    "UNSUBSCRIBE_USAGE",
    "all_results_shown",
    "already_subscribed",
    "ask_first",
    "bad_time",
    "change_time_prompt",
    "empty_question",
    "not_subscribed",
    "nothing_new_since",
    "question_too_long",
    "stopwords_only",
    "subscribed",
    "time_changed",
    "timezone_set",
    "timezone_usage",
    "too_many_subscriptions",
    "topic_too_long",
    "topic_without_words",
    "type_time_prompt",
    "unknown_command",
    "unknown_timezone",
    "unsubscribed",
]

APOLOGY = "Sorry, something went wrong with that one. Please try again."
ASK_USAGE = "Usage: /ask <question>, e.g. /ask what did BYD unveil?"
ADMINS_ONLY = "Admins only."
FOREIGN_BUTTON = "This button is not one of mine, or it is too old. Please ask again."
EXPIRED_ANSWER = "This answer has expired. Please ask the question again."
SOURCE_GONE = "That passage is no longer stored."
NO_MORE_RESULTS = "No more results for that question."
NO_RESULTS = "There were no results for that question."
NO_SOURCES = "No sources yet."
LOADING_SEGMENTER = "(Loading the Chinese word segmenter for the first Chinese question…)"


def unknown_command(command: str) -> str:
    return f"Unknown command {command}. Type /help for what I understand."


def empty_question(example: str) -> str:
    return f"Ask me a question about Chinese tech, for example: {example}"


def question_too_long(length: int, limit: int) -> str:
    return f"That question is {length:,} characters long. Please ask in under {limit:,} characters."


def stopwords_only(example: str) -> str:
    return (
        "I need a few meaningful words to search for; that message has only "
        f"common words, symbols or emoji. Try: {example}"
    )


def ask_first() -> str:
    return 'Ask a question first; then "more" shows the next result.'


def all_results_shown(shown: int) -> str:
    noun = "result" if shown == 1 else "results"
    return f"No more results for that question (all {shown} {noun} shown)."


# -- subscriptions and digests ------------------------------------------------------

UNSUBSCRIBE = "Unsubscribe"
CHANGE_TIME = "Change time"
TYPE_TIME = "type HH:MM"
SUBSCRIBE_USAGE = (
    "Usage: /subscribe <topic> [HH:MM], e.g. /subscribe ev 07:30. "
    "/topics lists the built-in topics; any words (up to 100 characters) work too."
)
UNSUBSCRIBE_USAGE = "Usage: /unsubscribe <topic>, or /unsubscribe all."
NO_SUBSCRIPTIONS = "No subscriptions in this chat yet. Try /subscribe ev, or /topics for the list."
SUBSCRIPTION_GONE = "That subscription no longer exists; /subscriptions lists this chat's."
CONSOLE_SUBSCRIPTIONS_HINT = (
    "/subscribe <topic> HH:MM changes a time; /unsubscribe <topic> stops a digest."
)
GROUP_ADMINS_ONLY = "Only this group's admins can change its subscriptions."


def bad_time(raw: str) -> str:
    return f"{raw} is not a time of day. Use HH:MM (24-hour), e.g. 07:30."


def topic_too_long(length: int, limit: int) -> str:
    return f"That topic is {length:,} characters long; please keep it under {limit}."


def topic_without_words(example: str) -> str:
    return (
        f"A topic needs a few meaningful words, e.g. /subscribe {example} or /subscribe Xiaomi SU7."
    )


def too_many_subscriptions(limit: int) -> str:
    return f"This chat has {limit} subscriptions, the most it can have. /unsubscribe one first."


def not_subscribed(topic: str, subscribed: list[str]) -> str:
    mine = ", ".join(subscribed) if subscribed else "none"
    return f"This chat is not subscribed to {topic}. Its subscriptions: {mine}."


def subscribed(label: str, local_time: str, zone: str, first: str) -> str:
    return (
        f"Subscribed to {label}: a digest of new articles daily at {local_time} ({zone}), "
        f"only when there is something new. First one: {first}."
    )


def already_subscribed(label: str, local_time: str, zone: str) -> str:
    return f"Already subscribed to {label}, daily at {local_time} ({zone})."


def time_changed(label: str, local_time: str, zone: str) -> str:
    return f"{label} now arrives daily at {local_time} ({zone})."


def unsubscribed(labels: list[str]) -> str:
    if not labels:
        return "This chat had no subscriptions."
    return f"Unsubscribed from {', '.join(labels)}."


def timezone_usage(current: str) -> str:
    return (
        f"This chat's time zone is {current}. Change it with /timezone Area/City, "
        "e.g. /timezone Asia/Shanghai."
    )


def timezone_set(zone: str, count: int) -> str:
    if count == 0:
        moved = ""
    elif count == 1:
        moved = " Your subscription follows it."
    else:
        moved = f" Your {count} subscriptions follow it."
    return f"Time zone set to {zone}.{moved}"


def unknown_timezone(name: str, suggestions: list[str]) -> str:
    if suggestions:
        return f"I don't know the time zone {name}. Did you mean {' or '.join(suggestions)}?"
    return f"I don't know the time zone {name}. Use Area/City, e.g. Europe/Berlin or Asia/Shanghai."


def nothing_new_since(label: str, since: str) -> str:
    return f"Nothing new on {label} since {since}."


def change_time_prompt(label: str, local_time: str, zone: str) -> str:
    return f"New delivery time for {label} (now {local_time}, {zone}):"


TIME_REPLY_PREFIX = "Reply with the new time for "


def type_time_prompt(topic: str) -> str:
    return f"{TIME_REPLY_PREFIX}“{topic}” as HH:MM (24-hour), e.g. 07:30."
