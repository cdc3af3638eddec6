"""The kind of answer a question asks for is recognised, in Chinese text too."""

from __future__ import annotations

import pytest

from retrieval.answer import answers_kind
from retrieval.query import ANSWER_MONEY, ANSWER_NUMBER, ANSWER_SPEED, ANSWER_TIME


@pytest.mark.parametrize(
    "text",
    [
        "其新的闪充平台可在五分钟内增加四百公里的续航里程。",  # Chinese numerals
        "份额超过三成。",
        "新车续航达到600公里。",  # digits followed by Han letters
        "It adds 400 km in five minutes.",
    ],
)
def test_numbers_are_found(text: str) -> None:
    # Failed for the Chinese sentences before: after the answer-quality merge a Chinese
    # "多少" question abstained although the passage held the number.
    assert answers_kind(text, ANSWER_NUMBER)


@pytest.mark.parametrize("text", ["公司高管在发布会上说。", "The ChR2 gene.", "比亚迪宣布"])
def test_no_number_is_found(text: str) -> None:
    assert not answers_kind(text, ANSWER_NUMBER)


@pytest.mark.parametrize("text", ["比亚迪2030年的目标", "去年上市", "周三发布", "In 2024 it rose."])
def test_times_are_found(text: str) -> None:
    assert answers_kind(text, ANSWER_TIME)


def test_no_time_is_found() -> None:
    assert not answers_kind("公司高管在发布会上说。", ANSWER_TIME)


@pytest.mark.parametrize(
    ("text", "money"),
    [
        ("Huawei charges $1,000 for the feature.", True),
        ("It raised 2 billion yuan.", True),
        ("a 5bn fund", True),
        ("HK$3.2 a share", True),
        ("融资10亿元", True),
        ("It cuts costs by 80%.", False),
        ("BYD unveiled five new EV models.", False),
        ("In 2025 the plan starts.", False),
    ],
)
def test_sums_of_money_are_found(text: str, money: bool) -> None:
    assert answers_kind(text, ANSWER_MONEY) is money


@pytest.mark.parametrize(
    ("text", "speed"),
    [
        ("It adds 400 km in five minutes.", True),
        ("reducing a multi-year innovation cycle to months", True),
        ("Chinese firms are demonstrating their momentum.", False),
        ("joint research papers doubling between 2017 and 2022", True),
        ("the Hang Seng Index climbed nearly 10% year-to-date", False),
    ],
)
def test_speeds_are_a_number_or_a_span_of_time(text: str, speed: bool) -> None:
    assert answers_kind(text, ANSWER_SPEED) is speed
