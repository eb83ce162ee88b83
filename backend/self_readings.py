"""Subscribers reading their own meter (خوداظهاری): the digits checked against the readings
before, stored with the photo and a tracking code, exported for the billing system to load."""

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TextIO

import jdatetime
from sqlmodel import Session, col, select

from backend.constants import Channel
from backend.identifiers import strip_invisible, to_ascii_digits
from backend.models import Bill, MeterSelfReading, Subscription
from backend.service_requests import DraftDocument
from backend.settings import local_zone
from backend.tracked_codes import unused_tracking_code
from backend.workflows import Refused

MAX_READING = 99_999_999  # meters count on at most eight wheels
READING_DIGITS = len(str(MAX_READING))
BILLS_COMPARED = 6

# How much a subscriber may have used a day since the last reading before a reading is taken
# for a typo (an extra digit, a wheel misread): SPIKE_FACTOR times their highest daily use in
# their last BILLS_COMPARED bills, and never less than their tariff's floor. The floor is for
# a new or seldom-used connection, whose history would refuse any real use (an empty house
# rented out); it grows with what the tariff's connections are sized for. Tariffs by their
# table number: 1 households, 2 public services, 3 agriculture, 4 industry, 5 other uses.
SPIKE_FACTOR = 3
DAILY_FLOOR_KWH = {"1": 40, "2": 300, "3": 1000, "4": 5000, "5": 300}
DEFAULT_DAILY_FLOOR_KWH = 300

EXPORT_COLUMNS = (
    "tracking_code",
    "bill_id",
    "subscription_number",
    "reading",
    "read_date",
    "read_time",
    "photo_key",
    "photo_sha256",
)


@dataclass(frozen=True)
class LastReading:
    value: int
    on: date  # the day it was read, where the desk is


def parse_reading(text: str) -> int | None:
    """Meter digits typed in Persian, Arabic or ASCII digits, spaces between them or not;
    None unless 1 to READING_DIGITS digits."""
    digits = "".join(to_ascii_digits(strip_invisible(text)).split())
    if not digits.isascii() or not digits.isdigit() or len(digits) > READING_DIGITS:
        return None
    return int(digits)


def last_reading(session: Session, subscription: Subscription) -> LastReading | None:
    """The highest reading known before: the latest bill's, or a self-reading sent since."""
    bill = session.exec(
        select(Bill)
        .where(Bill.subscription_id == subscription.id)
        .order_by(col(Bill.current_reading_date).desc(), col(Bill.id).desc())
    ).first()
    mine = session.exec(
        select(MeterSelfReading)
        .where(MeterSelfReading.subscription_id == subscription.id)
        .order_by(col(MeterSelfReading.reading).desc())
    ).first()
    known = []
    if bill is not None:
        known.append(LastReading(bill.current_reading, bill.current_reading_date))
    if mine is not None:
        known.append(LastReading(mine.reading, mine.created_at.astimezone(local_zone()).date()))
    return max(known, key=lambda last: (last.value, last.on)) if known else None


def highest_daily_use(session: Session, subscription: Subscription) -> float:
    """The most kWh a day the subscriber used over a bill's period, in their last bills."""
    bills = session.exec(
        select(Bill)
        .where(Bill.subscription_id == subscription.id, col(Bill.corrects_bill_id).is_(None))
        .order_by(col(Bill.current_reading_date).desc())
        .limit(BILLS_COMPARED)
    ).all()
    return max((bill.consumption_kwh / _days(bill) for bill in bills), default=0.0)


def _days(bill: Bill) -> int:
    return max(1, (bill.current_reading_date - bill.previous_reading_date).days)


def daily_limit_kwh(session: Session, subscription: Subscription) -> float:
    """The plausibility rule (see SPIKE_FACTOR): the most a day a reading may show."""
    floor = DAILY_FLOOR_KWH.get(subscription.tariff.split("-")[0], DEFAULT_DAILY_FLOOR_KWH)
    return max(SPIKE_FACTOR * highest_daily_use(session, subscription), floor)


def check_reading(
    session: Session, subscription: Subscription, reading: int, *, today: date
) -> None:
    """Refused ("reading_lower", "reading_implausible") unless the reading may be right."""
    if not 0 <= reading <= MAX_READING:
        raise Refused("reading_out_of_range", max_reading=MAX_READING)
    last = last_reading(session, subscription)
    if last is None:
        return
    if reading < last.value:
        raise Refused("reading_lower", last=last.value, on=last.on)
    days = max(1, (today - last.on).days)
    highest = last.value + int(daily_limit_kwh(session, subscription) * days)
    if reading > highest:
        raise Refused("reading_implausible", last=last.value, on=last.on, highest=highest)


def record_self_reading(
    session: Session,
    *,
    subscription: Subscription,
    reading: int,
    photo: DraftDocument,
    channel: Channel,
    user_id: str,
    now: datetime,
) -> MeterSelfReading:
    """Stores the reading with its photo and a new tracking code, checked again as it is
    stored (under the subscription's row lock: two readings of one meter one at a time)."""
    session.refresh(subscription, with_for_update=True)
    assert subscription.id is not None
    check_reading(session, subscription, reading, today=now.astimezone(local_zone()).date())
    stored = MeterSelfReading(
        tracking_code=unused_tracking_code(session),
        subscription_id=subscription.id,
        reading=reading,
        channel=channel,
        user_id=user_id,
        created_at=now,
        storage_key=photo.storage_key,
        content_type=photo.content_type,
        size_bytes=photo.size_bytes,
        sha256=photo.sha256,
        original_name=photo.original_name,
    )
    session.add(stored)
    session.flush()
    return stored


def reading_by_code(session: Session, code: str) -> MeterSelfReading | None:
    query = select(MeterSelfReading).where(MeterSelfReading.tracking_code == code)
    return session.exec(query).first()


def _rows(
    session: Session, start: date, end: date
) -> Iterator[tuple[MeterSelfReading, Subscription]]:
    zone = local_zone()
    since, until = datetime.combine(start, time(), zone), datetime.combine(end, time.max, zone)
    query = (
        select(MeterSelfReading, Subscription)
        .join(Subscription, col(Subscription.id) == col(MeterSelfReading.subscription_id))
        .where(col(MeterSelfReading.created_at) >= since, col(MeterSelfReading.created_at) <= until)
        .order_by(col(MeterSelfReading.created_at), col(MeterSelfReading.id))
        .execution_options(yield_per=1000)
    )
    yield from session.exec(query)


def export_readings(session: Session, out: TextIO, *, start: date, end: date) -> int:
    """Writes the self-readings sent from `start` to `end` (days where the desk is, both
    included) as CSV (EXPORT_COLUMNS; dates Jalali), streamed; how many rows."""
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for reading, subscription in _rows(session, start, end):
        local = reading.created_at.astimezone(local_zone())
        writer.writerow(
            (
                reading.tracking_code,
                subscription.bill_id,
                subscription.subscription_number,
                reading.reading,
                jdatetime.date.fromgregorian(date=local.date()).strftime("%Y/%m/%d"),
                local.strftime("%H:%M"),
                reading.storage_key,
                reading.sha256,
            )
        )
        count += 1
    return count
