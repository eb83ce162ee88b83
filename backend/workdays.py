"""Iranian working days: Friday is the weekend; official holidays come as a set of dates."""

from collections.abc import Collection
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from backend.models import Holiday
from backend.settings import local_zone

FRIDAY = 4  # date.weekday()


def is_working_day(day: date, holidays: Collection[date] = ()) -> bool:
    return day.weekday() != FRIDAY and day not in holidays


def add_working_days(start: datetime, days: int, holidays: Collection[date] = ()) -> datetime:
    """The same time of day (in the desk's TIMEZONE) after `days` working days, in the time zone
    of `start`."""
    local = start.astimezone(local_zone())
    day = local.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            remaining -= 1
    return datetime.combine(day, local.timetz()).astimezone(start.tzinfo)


def holidays(session: Session) -> set[date]:
    """The official holidays staff have loaded (a few dozen rows a year)."""
    return set(session.exec(select(col(Holiday.day))))
