"""A disputed bill scored against the subscriber's own history, for the reviewer who opens it.

It advises and never decides: a pure reading of stored facts that changes nothing. It is
computed when /show asks rather than stored at filing: the facts it reads do not change (a
correction is a new bill, not an edit), reading them is one indexed query of a dozen bills, and
computed afresh it stays right when a missing past bill is imported after the filing.

Consumption is compared per day, periods differing in length:
- against the last HISTORY_PERIODS periods before the disputed one: their median, the ratio to
  it, and a robust z-score, (x − median) / (1.4826 × MAD) — a median and its absolute deviation
  are not thrown off by one odd period as a mean and a standard deviation are;
- against the same period a year before (the season: Qom summers run air conditioners).
The likely cause, among the reasons a subscriber may give: an estimated reading (the bill says
so) or a catch-up after one; a tariff other than the previous bill's; otherwise, consumption far
above its history, a reading jump (a misread digit, a faulty meter). A reading the subscriber
sent of their own meter after the billed reading, lower than it, points at the reading too:
a meter does not run backwards.
"""

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from statistics import median

from sqlmodel import Session, col, select

from backend.models import Bill, MeterSelfReading
from backend.service_requests import latest_bills
from backend.settings import local_zone

HISTORY_PERIODS = 6
LOOKED_BACK = 12  # periods read to find the same one a year before (monthly bills too)
MAD_TO_SIGMA = 1.4826  # the MAD of a normal distribution is 0.6745 σ
HIGH, VERY_HIGH, LOW = 1.5, 2.0, 0.5  # ratios to the usual consumption
DAYS_A_MONTH = 30


class Level(StrEnum):
    VERY_HIGH = "very_high"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"
    UNKNOWN = "unknown"  # no history to compare with


class Cause(StrEnum):
    READING_JUMP = "reading_jump"
    ESTIMATED_READING = "estimated_reading"
    CATCH_UP = "catch_up"  # the previous reading was estimated; this one makes up for it
    TARIFF_CHANGE = "tariff_change"


@dataclass(frozen=True)
class SelfReading:
    reading: int
    taken_on: date


@dataclass(frozen=True)
class Assessment:
    level: Level
    causes: tuple[Cause, ...]
    kwh: int
    days: int
    kwh_per_day: float
    history_periods: int  # how many of the HISTORY_PERIODS periods before there were
    history_median: float | None  # kWh a day
    ratio_to_history: float | None
    robust_z: float | None  # None when the history does not vary (its MAD is 0)
    last_year_kwh_per_day: float | None
    ratio_to_last_year: float | None
    tariff: str | None
    previous_tariff: str | None
    billed_reading: int
    self_reading: SelfReading | None


def per_day(bill: Bill) -> float:
    return bill.consumption_kwh / _days(bill)


def _days(bill: Bill) -> int:
    return max(1, (bill.current_reading_date - bill.previous_reading_date).days)


def assess(session: Session, bill: Bill) -> Assessment:
    """The disputed bill against its subscription's history (see the module's note)."""
    earlier = [
        choice.bill
        for choice in latest_bills(
            session,
            subscription_id=bill.subscription_id,
            limit=LOOKED_BACK,
            read_by=bill.previous_reading_date,
        )
    ]
    history = earlier[:HISTORY_PERIODS]
    rates = [per_day(b) for b in history]
    rate = per_day(bill)
    center = median(rates) if rates else None
    ratio = rate / center if center else None
    z = None
    if center is not None and len(rates) > 1:
        spread = median(abs(r - center) for r in rates) * MAD_TO_SIGMA
        z = (rate - center) / spread if spread else None
    season = next(
        (b for b in earlier if (b.jalali_year, b.period) == (bill.jalali_year - 1, bill.period)),
        None,
    )
    last_year = per_day(season) if season is not None else None
    ratio_last_year = rate / last_year if last_year else None
    level = _level(ratio if ratio is not None else ratio_last_year)
    previous = history[0] if history else None
    own = _self_reading(session, bill)
    return Assessment(
        level=level,
        causes=_causes(bill, previous, level, own),
        kwh=bill.consumption_kwh,
        days=_days(bill),
        kwh_per_day=rate,
        history_periods=len(history),
        history_median=center,
        ratio_to_history=ratio,
        robust_z=z,
        last_year_kwh_per_day=last_year,
        ratio_to_last_year=ratio_last_year,
        tariff=bill.tariff,
        previous_tariff=previous.tariff if previous is not None else None,
        billed_reading=bill.current_reading,
        self_reading=own,
    )


def _level(ratio: float | None) -> Level:
    if ratio is None:
        return Level.UNKNOWN
    if ratio >= VERY_HIGH:
        return Level.VERY_HIGH
    if ratio >= HIGH:
        return Level.HIGH
    return Level.LOW if ratio <= LOW else Level.NORMAL


def _causes(
    bill: Bill, previous: Bill | None, level: Level, own: SelfReading | None
) -> tuple[Cause, ...]:
    causes = []
    high = level in (Level.HIGH, Level.VERY_HIGH)
    if bill.estimated:
        causes.append(Cause.ESTIMATED_READING)
    elif high and previous is not None and previous.estimated:
        causes.append(Cause.CATCH_UP)
    if bill.tariff and previous is not None and previous.tariff and bill.tariff != previous.tariff:
        causes.append(Cause.TARIFF_CHANGE)
    below_billed = own is not None and own.reading < bill.current_reading
    if below_billed or (high and not causes):
        causes.append(Cause.READING_JUMP)
    return tuple(causes)


def _self_reading(session: Session, bill: Bill) -> SelfReading | None:
    """The subscriber's own reading closest after the billed one, if they sent one."""
    read_day = datetime.combine(bill.current_reading_date, time(), tzinfo=local_zone())
    sent = session.exec(
        select(MeterSelfReading)
        .where(
            MeterSelfReading.subscription_id == bill.subscription_id,
            MeterSelfReading.created_at >= read_day,
        )
        .order_by(col(MeterSelfReading.created_at))
    ).first()
    if sent is None:
        return None
    return SelfReading(sent.reading, sent.created_at.astimezone(local_zone()).date())
