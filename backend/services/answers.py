"""A typed answer to a defined service's question: read from what was typed, or refused with
the message key that says what is wrong (and its parameters)."""

from typing import Any

from backend.identifiers import (
    InvalidIdentifier,
    normalize_mobile,
    normalize_text,
    parse_bounded_int,
    parse_national_id,
    strip_invisible,
    to_ascii_digits,
)
from backend.periods import BadPeriod, parse_jalali_day, parse_jalali_range
from backend.services.schema import Question

MAX_AMOUNT_DIGITS = 13  # rials: ten thousand billion, far above any subscriber's debt


class BadAnswer(ValueError):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def parse_answer(question: Question, text: str) -> str | int:
    """The answer as stored (JSON): text, a number, an ID, a mobile, ISO days."""
    kind = question.type
    if kind == "text":
        return _text(question, text)
    if kind in ("amount", "count"):
        return _number(question, text)
    if kind == "national_id":
        try:
            return parse_national_id(text)
        except InvalidIdentifier:
            raise BadAnswer("service.national_id_invalid") from None
    if kind == "mobile":
        try:
            return normalize_mobile(text)
        except InvalidIdentifier:
            raise BadAnswer("service.mobile_invalid") from None
    if kind == "date":
        try:
            return parse_jalali_day(text).isoformat()
        except BadPeriod:
            raise BadAnswer("service.date_invalid") from None
    if kind == "jalali_range":
        try:
            period = parse_jalali_range(text)
        except BadPeriod:
            period = None
        if period is None:
            raise BadAnswer("service.range_invalid")
        return f"{period.first.isoformat()}/{period.last.isoformat()}"
    raise ValueError(f"{kind} questions are not answered by typing")  # choice, bill_id


def _text(question: Question, text: str) -> str:
    answer = " ".join(normalize_text(text).split())
    length = len(strip_invisible(answer).strip())
    shortest, longest = question.min_length or 1, question.max_length or 0
    if length < shortest:
        raise BadAnswer("service.text_too_short", min=shortest)
    if len(answer) > longest:
        raise BadAnswer("service.text_too_long", max=longest, length=len(answer))
    return answer


def _number(question: Question, text: str) -> int:
    digits = to_ascii_digits(text).replace(",", "").replace("٬", "")
    least = question.min if question.min is not None else 0
    most = question.max if question.max is not None else 10**MAX_AMOUNT_DIGITS
    value = parse_bounded_int(digits, most)
    if value is None or value < least:
        raise BadAnswer("service.number_invalid", min=least, max=most)
    return value
