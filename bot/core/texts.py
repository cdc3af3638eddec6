"""Every fixed sentence techbrief says to people, once, for every transport.

Texts that take values are functions; the rest are constants. Transports
render these (escaped for Telegram HTML, plain in the terminal); they never
write their own copies.
"""

from __future__ import annotations

__all__ = [
    "ACKNOWLEDGED",
    "ADDSOURCE_USAGE",
    "ADDTEXT_CANCELLED",
    "ADDTEXT_START",
    "ADDTEXT_START_CONSOLE",
    "ADDTEXT_TIMEOUT",
    "ADDTEXT_TITLE",
    "ADMINS_ONLY",
    "APOLOGY",
    "ASK_USAGE",
    "CHANGE_TIME",
    "CLOSEST",
    "CONSOLE_SUBSCRIPTIONS_HINT",
    "ENTRY_EMPTY",
    "EXPIRED_ANSWER",
    "FAREWELL",
    "FEED_NOT_MODIFIED",
    "FOREIGN_BUTTON",
    "GROUP_ADMINS_ONLY",
    "GROUP_ADMINS_ONLY_TIMEZONE",
    "LOADING_SEGMENTER",
    "NO_ANSWER",
    "NO_FEEDS",
    "NO_MORE_RESULTS",
    "NO_RECENT_ERRORS",
    "NO_RESULTS",
    "NO_SOURCES",
    "NO_SUBSCRIPTIONS",
    "PASTED_TEXT",
    "REFRESH_USAGE",
    "REMOVESOURCE_USAGE",
    "SOURCES_EXPIRED",
    "SOURCE_GONE",
    "SUBSCRIBE_USAGE",
    "SUBSCRIPTION_GONE",
    "THANKS_REPLY",
    "TIME_REPLY_PREFIX",
    "TYPE_TIME",
    "UNSUBSCRIBE",
    "UNSUBSCRIBE_USAGE",
    "UNTITLED",
    "added_source",
    "all_results_shown",
    "already_stored",
    "already_subscribed",
    "and_more",
    "ask_first",
    "bad_time",
    "change_time_prompt",
    "continent_timezone",
    "could_not_add",
    "could_not_refresh",
    "document_not_text",
    "document_too_large",
    "document_wrong_type",
    "empty_question",
    "english_only",
    "entry_given_up",
    "feed_entries",
    "feed_failing",
    "feed_heading",
    "followed_feed",
    "greeting",
    "more_without_answer",
    "no_answer_topics",
    "no_such_source",
    "not_a_feed_source",
    "not_subscribed",
    "nothing_new_since",
    "number_as_time",
    "question_too_long",
    "reason_bad_url",
    "reason_blocked",
    "reason_certificate",
    "reason_document",
    "reason_http",
    "reason_no_text",
    "reason_not_a_feed",
    "reason_redirects",
    "reason_timeout",
    "reason_title_for_feed",
    "reason_too_large",
    "reason_unknown_host",
    "reason_unreachable",
    "reason_unsupported",
    "removed_source",
    "several_timezones",
    "stopwords_only",
    "subscribed",
    "suggestion",
    "text_too_long",
    "text_too_short",
    "time_changed",
    "time_in_another_zone",
    "time_zone_unclear",
    "timezone_set",
    "timezone_usage",
    "title_too_long",
    "too_many_subscriptions",
    "too_many_urls",
    "topic_too_long",
    "topic_without_words",
    "type_time_prompt",
    "unknown_command",
    "unknown_timezone",
    "unsubscribed",
    "words_after_time",
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
NO_ANSWER = "I don't have an answer to that in my articles."
CLOSEST = "The closest I found (not an answer to your question):"


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


def more_without_answer() -> str:
    """Telegram: "more" typed where no recent answer is known (none yet, or a restart)."""
    return 'Press "More" under an answer for its next result, or ask me a question.'


# -- small talk (bot.core.service.small_talk): one line, never the refusal ------------------


def greeting(example: str) -> str:
    return f"Hello! Ask me about Chinese tech companies and policy, for example: {example}"


THANKS_REPLY = "You're welcome."
ACKNOWLEDGED = "🙂 Ask me another question any time."
FAREWELL = "Bye! Ask me again any time."


def all_results_shown(shown: int) -> str:
    noun = "result" if shown == 1 else "results"
    return f"No more results for that question (all {shown} {noun} shown)."


# -- sources (admins) -----------------------------------------------------------------

ADDSOURCE_USAGE = (
    "Usage: /addsource <url> — an article page or an RSS/Atom feed, "
    "e.g. /addsource https://example.com/news/byd-ev"
)
REMOVESOURCE_USAGE = "Usage: /removesource <id> — the #id that /sources shows, e.g. /removesource 3"
REFRESH_USAGE = "Usage: /refresh [id] — poll one feed now (re-enabling it), or every feed"
ADDTEXT_START = (
    "Send the article text as a message, or upload a .txt, .md or .html file. /cancel stops."
)
ADDTEXT_START_CONSOLE = (
    "Paste the article text; finish with a line holding only a period. /cancel stops."
)
ADDTEXT_TITLE = "Now its title (one line), or /skip to take the first sentence. /cancel stops."
PASTED_TEXT = "the text"  # what "Could not add …" names for /addtext's text
ADDTEXT_CANCELLED = "Cancelled; nothing was added."
ADDTEXT_TIMEOUT = "Adding text timed out; nothing was added. Send /addtext to start again."
NO_FEEDS = "No feeds to refresh."
ENTRY_EMPTY = "the entry has no link and too little text"
FEED_NOT_MODIFIED = "Nothing new since the last fetch."
NO_RECENT_ERRORS = "No recent errors."
SOURCES_EXPIRED = "This list has expired. Send /sources again."


def reason_bad_url() -> str:
    return "that is not a web address I can fetch (only http:// and https:// links)"


def reason_blocked(host: str, address: str) -> str:
    return f"{host} is a private or local address ({address}); I only fetch public sites"


def reason_timeout() -> str:
    return "the site did not answer in time"


def reason_certificate() -> str:
    return "its TLS certificate is not valid for that address"


def reason_unknown_host(host: str) -> str:
    return f"the host {host} was not found (check the address)"


def reason_unreachable() -> str:
    return "the site could not be reached"


def reason_http(status: int) -> str:
    known = {401: "login required", 403: "forbidden", 404: "not found", 410: "gone"}
    detail = f" ({known[status]})" if status in known else ""
    return f"the site answered HTTP {status}{detail}"


def reason_too_large(limit_bytes: int) -> str:
    return f"it is larger than {limit_bytes / 1_048_576:g} MB"


def reason_redirects(limit: int, loop: bool) -> str:
    return "it redirects in a loop" if loop else f"it redirects more than {limit} times"


def reason_unsupported(content_type: str) -> str:
    return f"it is not a web page, feed or text ({content_type or 'unknown type'})"


def reason_not_a_feed() -> str:
    return "it is not an RSS or Atom feed"


def reason_no_text() -> str:
    return "no article text could be found in it"


def reason_document(why: str) -> str:
    return why


def document_wrong_type(name: str) -> str:
    return f"{name} is not a .txt, .md or .html file"


def document_too_large(limit_bytes: int) -> str:
    return f"the file is larger than {limit_bytes / 1_048_576:g} MB"


def document_not_text() -> str:
    return "the file is not text (it looks binary)"


def text_too_short(minimum: int) -> str:
    return f"that is too short for an article (at least {minimum} words, please)"


def text_too_long(limit: int) -> str:
    return f"that is too long (at most {limit:,} characters)"


def title_too_long(limit: int) -> str:
    return f"A title has at most {limit} characters. Send a shorter one, /skip or /cancel."


def could_not_add(what: str, reason: str) -> str:
    return f"Could not add {what}: {reason}."


def already_stored(title: str, source_id: int | None = None) -> str:
    where = f" in source #{source_id}" if source_id is not None else ""
    return f"Already stored{where}: “{title}”. Nothing added."


def no_such_source(source_id: int, listing: str = "/sources") -> str:
    return f"There is no source #{source_id}. {listing} lists them."


def could_not_refresh(source_id: int, title: str, url: str, reason: str) -> str:
    name = f"{title}, {url}" if title and title != url else url
    return f"Could not refresh feed #{source_id} ({name}): {reason}."


def followed_feed(page: str, feed: str) -> str:
    return f"{page} has no article text, but it names its feed {feed}:"


def too_many_urls(count: int, limit: int) -> str:
    return f"That is {count} web addresses; I add at most {limit} at a time."


def reason_title_for_feed() -> str:
    return "it is a feed, and its entries keep their own titles (a title is for one article)"


def entry_given_up(reason: str) -> str:
    return f"{reason}; not tried again"


def not_a_feed_source(source_id: int, kind: str) -> str:
    article = "an" if kind[:1] in "aeiou" else "a"
    return f"Source #{source_id} is {article} {kind}; only feeds are refreshed."


def removed_source(source_id: int, title: str, articles: int, passages: int) -> str:
    return (
        f"Removed source #{source_id} ({title}): {articles:,} "
        f"article{'s' if articles != 1 else ''} and {passages:,} "
        f"passage{'s' if passages != 1 else ''} are gone from the answers."
    )


def feed_failing(source_id: int, title: str, failures: int, reason: str, disabled: bool) -> str:
    if disabled:
        return (
            f"Feed #{source_id} ({title}) failed {failures} times in a row ({reason}) and is "
            f"disabled. /refresh {source_id} tries again and re-enables it."
        )
    return (
        f"Feed #{source_id} ({title}) failed {failures} times in a row: {reason}. "
        "I keep trying less often; /sources shows its last error."
    )


def added_source(source_id: int) -> str:
    return f"Added source #{source_id}: "


def feed_heading(source_id: int, title: str, *, refreshed: bool) -> str:
    return f"{'Refreshed' if refreshed else 'Added'} feed #{source_id}: {title}"


def feed_entries(
    total: int, added: int, passages: str, known: int, failed: int, skipped: int = 0
) -> str:
    entries = f"{total:,} {'entry' if total == 1 else 'entries'}"
    given_up = f", {skipped:,} skipped (failed before)" if skipped else ""
    return (
        f"{entries}: {added:,} added ({passages}), {known:,} already known, "
        f"{failed:,} failed{given_up}."
    )


def and_more(n: int, what: str = "") -> str:
    return f"… and {n:,} more{' ' + what if what else ''}."


# -- subscriptions and digests ------------------------------------------------------

UNSUBSCRIBE = "Unsubscribe"
CHANGE_TIME = "Change time"
TYPE_TIME = "type HH:MM"
SUBSCRIBE_USAGE = (
    "Usage: /subscribe <topic> [time], e.g. /subscribe ev 07:30 or /subscribe ev 7pm. "
    "/topics lists the built-in topics; any words (up to 100 characters) work too."
)
UNSUBSCRIBE_USAGE = "Usage: /unsubscribe <topic>, or /unsubscribe all."
NO_SUBSCRIPTIONS = "No subscriptions in this chat yet. Try /subscribe ev, or /topics for the list."
UNTITLED = "untitled"  # an answer's source with neither title, publisher nor link to name
SUBSCRIPTION_GONE = "That subscription no longer exists; /subscriptions lists this chat's."
CONSOLE_SUBSCRIPTIONS_HINT = (
    "/subscribe <topic> HH:MM changes a time; /unsubscribe <topic> stops a digest."
)
GROUP_ADMINS_ONLY = "Only this group's admins can change its subscriptions."
GROUP_ADMINS_ONLY_TIMEZONE = "Only this group's admins can change its time zone."


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


def number_as_time(number_topic: str, local_time: str) -> str:
    return f"(For the topic “{number_topic}”: /subscribe {number_topic} {local_time})"


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
        f"This chat's time zone is {current}. Change it with /timezone and a city "
        "(Shanghai, 北京, New York), a country (Japan), Area/City (Asia/Shanghai), "
        "an abbreviation (PST) or an offset (UTC+8)."
    )


def timezone_set(zone: str, count: int, offset: str = "") -> str:
    if count == 0:
        moved = ""
    elif count == 1:
        moved = " Your subscription follows it."
    else:
        moved = f" Your {count} subscriptions follow it."
    now = f" (currently {offset})" if offset else ""
    return f"Time zone set to {zone}{now}.{moved}"


def _either(names: list[str], limit: int = 8) -> str:
    """``A, B or C``; past ``limit`` names, ``A, B, … and 3 more``."""
    if len(names) > limit:
        return f"{', '.join(names[:limit])} and {len(names) - limit} more"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} or {names[-1]}"


def unknown_timezone(name: str, suggestions: list[str]) -> str:
    if suggestions:
        return f"I don't know the time zone {name}. Did you mean {_either(suggestions)}?"
    return (
        f"I don't know the time zone {name}. Use a city (Shanghai, New York), a country "
        "(Japan), Area/City (Asia/Shanghai) or an offset (UTC+8)."
    )


def several_timezones(name: str, zones: list[str], country: bool) -> str:
    which = f"has several time zones: {_either(zones)}" if country else f"may be {_either(zones)}"
    return f"{name} {which}. Send the one you mean, e.g. /timezone {zones[0]}."


def continent_timezone(name: str) -> str:
    return (
        f"{name} spans many time zones. Send a city or a country, e.g. /timezone Shanghai "
        "or /timezone Japan, or an offset (UTC+8)."
    )


def time_in_another_zone(said: str, chat_zone: str, there: str, topic: str, other_zone: str) -> str:
    return (
        f"Digest times are in this chat's time zone, {chat_zone}: {said} is {there} there. "
        f"Send /subscribe {topic} {there}, or first move the chat (and its subscriptions) "
        f"to that zone with /timezone {other_zone}. Nothing was subscribed."
    )


def time_zone_unclear(said_zone: str, zones: list[str], chat_zone: str) -> str:
    return (
        f"Digest times are in this chat's time zone, {chat_zone}, and {said_zone} may be "
        f"{_either(zones)}. Set the chat's zone first (/timezone {zones[0]}), then subscribe "
        "with the time alone. Nothing was subscribed."
    )


def words_after_time(said: str, after: str, topic: str, local_time: str, chat_zone: str) -> str:
    return (
        f"I don't understand “{after}” after the time {said}. The time ends the command and "
        f"digests come daily, in this chat's time zone ({chat_zone}): "
        f"/subscribe {topic} {local_time}. Nothing was subscribed."
    )


def nothing_new_since(label: str, since: str) -> str:
    return f"Nothing new on {label} since {since}."


def change_time_prompt(label: str, local_time: str, zone: str) -> str:
    return f"New delivery time for {label} (now {local_time}, {zone}):"


TIME_REPLY_PREFIX = "Reply with the new time for "


def type_time_prompt(label: str) -> str:
    """``label``: the topic as every reply names it (a free-text topic in quotes)."""
    return f"{TIME_REPLY_PREFIX}{label} as HH:MM (24-hour), e.g. 07:30."


def no_answer_topics(labels: str) -> str:
    return f"{NO_ANSWER} I can answer questions about {labels}."


def english_only(words: str) -> str:
    return (
        f"None of my articles says {words}. Try other words, or English; names such "
        "as 比亚迪 (BYD) or 百度 (Baidu) I know."
    )


def suggestion(example: str) -> str:
    return f"Try: {example}"
