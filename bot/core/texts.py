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
    "CLOSEST",
    "EXPIRED_ANSWER",
    "FOREIGN_BUTTON",
    "NO_ANSWER",
    "NO_MORE_RESULTS",
    "NO_RESULTS",
    "NO_SOURCES",
    "SOURCE_GONE",
    "all_results_shown",
    "ask_first",
    "empty_question",
    "english_only",
    "no_answer_topics",
    "question_too_long",
    "stopwords_only",
    "suggestion",
    "unknown_command",
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


def all_results_shown(shown: int) -> str:
    noun = "result" if shown == 1 else "results"
    return f"No more results for that question (all {shown} {noun} shown)."


def no_answer_topics(labels: str) -> str:
    return f"{NO_ANSWER} I can answer questions about {labels}."


def english_only(words: str) -> str:
    return (
        f"My articles are in English, and I could not match {words} to them. "
        "Try asking in English; names such as 比亚迪 (BYD) or 百度 (Baidu) I know."
    )


def suggestion(example: str) -> str:
    return f"Try: {example}"
