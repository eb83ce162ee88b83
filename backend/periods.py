"""Periods a report covers, in the desk's TIMEZONE: Iranian weeks (Saturday to Friday), Jalali
months and years, and ranges of Jalali days; each a half-open span of moments."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import jdatetime

from backend.identifiers import strip_invisible, to_ascii_digits
from backend.settings import local_zone

SATURDAY = 5  # date.weekday()
_JALALI_DAY = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")
_JALALI_MONTH = re.compile(r"(\d{4})/(\d{1,2})")


@dataclass(frozen=True)
class Period:
    """From the start of `first` to the end of `last`, local days, both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return _midnight(self.first)

    @property
    def end(self) -> datetime:
        return _midnight(self.last + timedelta(days=1))

    def days(self) -> int:
        return (self.last - self.first).days + 1


class BadPeriod(ValueError):
    """A period that cannot be read: no such Jalali day, or a range that ends before it starts."""


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=local_zone())


def week_start(day: date) -> date:
    """The Saturday that begins the Iranian week of `day`."""
    return day - timedelta(days=(day.weekday() - SATURDAY) % 7)


def local_day(moment: datetime) -> date:
    return moment.astimezone(local_zone()).date()


def this_week(now: datetime) -> Period:
    today = local_day(now)
    return Period(week_start(today), today)


def last_weeks(now: datetime, weeks: int) -> Period:
    """The `weeks` whole weeks that ended before this one began."""
    first = week_start(local_day(now))
    return Period(first - timedelta(weeks=weeks), first - timedelta(days=1))


def jalali_month(year: int, month: int) -> Period:
    first = jdatetime.date(year, month, 1)
    following = jdatetime.date(year + month // 12, month % 12 + 1, 1)
    return Period(first.togregorian(), following.togregorian() - timedelta(days=1))


def this_month(now: datetime) -> Period:
    today = jdatetime.date.fromgregorian(date=local_day(now))
    return Period(jalali_month(today.year, today.month).first, local_day(now))


def last_month(now: datetime) -> Period:
    today = jdatetime.date.fromgregorian(date=local_day(now))
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return jalali_month(year, month)


def this_year(now: datetime) -> Period:
    today = jdatetime.date.fromgregorian(date=local_day(now))
    return Period(jdatetime.date(today.year, 1, 1).togregorian(), local_day(now))


def _clean(text: str) -> str:
    return to_ascii_digits(strip_invisible(text)).strip()


def parse_jalali_day(text: str) -> date:
    match = _JALALI_DAY.fullmatch(_clean(text))
    if match is None:
        raise BadPeriod(text)
    try:
        day: date = jdatetime.date(*(int(part) for part in match.groups())).togregorian()
    except ValueError as error:
        raise BadPeriod(text) from error
    return day


def parse_jalali_range(text: str) -> Period | None:
    """`1405/08/01-1405/08/30` (days included), a single day, or a month `1405/08`; None for
    text that is none of these, BadPeriod for a date that does not exist."""
    cleaned = _clean(text).replace(" ", "")
    month = _JALALI_MONTH.fullmatch(cleaned)
    if month is not None:
        year, number = (int(part) for part in month.groups())
        if not 1 <= number <= 12:
            raise BadPeriod(text)
        return jalali_month(year, number)
    first, dash, last = cleaned.partition("-")
    if not _JALALI_DAY.fullmatch(first) or (dash and not _JALALI_DAY.fullmatch(last)):
        return None
    period = Period(parse_jalali_day(first), parse_jalali_day(last if dash else first))
    if period.last < period.first:
        raise BadPeriod(text)
    return period


def jalali_text(day: date) -> str:
    text: str = jdatetime.date.fromgregorian(date=day).strftime("%Y/%m/%d")  # jdatetime is untyped
    return text
