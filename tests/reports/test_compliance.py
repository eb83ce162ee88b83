"""Compliance from constructed histories across a Friday and a holiday: on-time share, median
and 90th percentile in working days, overdue now; by step, channel, staff and counter; CSAT.
Every test runs on SQLite (counted in Python) and PostgreSQL (counted in SQL): the same figures."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.compliance import (
    COUNTER_CHANNEL,
    Dimension,
    Scope,
    WorkingCalendar,
    by_key,
    compliance,
    percentile,
)
from backend.constants import Channel
from backend.periods import Period
from backend.workdays import add_working_days
from tests.reports.conftest import HOLIDAY, NOW, REMOVAL, REVIEW, WEEK, Desk, actor, tehran

HOUR = 1 / 24


def test_by_step(week: Desk) -> None:
    rows = by_key(compliance(week.session, period=WEEK, dimensions=[Dimension.STEP], now=NOW))
    review = rows[("review",)]
    assert (review.requests, review.steps, review.done, review.on_time, review.overdue) == (
        6,
        6,
        3,
        2,
        1,
    )
    assert review.on_time_share == 0.5  # of the 3 done and the 1 overdue
    assert review.median_days == pytest.approx(2 - HOUR)
    # percentile_cont: 0.9 of the way from rank 1 (1.958) towards rank 2 (3.042).
    assert review.p90_days == pytest.approx(2 - HOUR + 0.8 * (3 + HOUR - (2 - HOUR)))
    assert (review.csat_average, review.csat_count) == (pytest.approx(11 / 3), 3)
    delivery = rows[("corrected_bill_delivery",)]
    assert (delivery.done, delivery.on_time, delivery.median_days) == (3, 3, 0)
    fee = rows[("fee_announcement",)]
    assert (fee.done, fee.on_time, fee.on_time_share) == (1, 0, 0)
    assert fee.median_days == pytest.approx(1.75)  # Wednesday 16:00 → Saturday 10:00
    meter = rows[("meter_test",)]
    assert (meter.steps, meter.done, meter.overdue, meter.on_time_share) == (1, 0, 0, None)
    assert set(rows) == {
        ("review",),
        ("corrected_bill_delivery",),
        ("fee_announcement",),
        ("meter_test",),
    }


def test_by_channel_of_the_review_step(week: Desk) -> None:
    scope = Scope(kind=REVIEW)
    rows = compliance(
        week.session,
        period=WEEK,
        dimensions=[Dimension.STEP, Dimension.CHANNEL],
        scope=scope,
        now=NOW,
    )
    found = {
        row.key[1]: (row.figures.done, row.figures.on_time, row.figures.overdue)
        for row in rows
        if row.key[0] == "review"
    }
    assert found == {
        Channel.TELEGRAM: (1, 1, 0),
        Channel.BALE: (1, 0, 0),
        Channel.SMS: (0, 0, 1),
        COUNTER_CHANNEL: (1, 1, 0),
    }


def test_by_staff_and_counter(week: Desk) -> None:
    a, b = actor(week.staff_a), actor(week.staff_b)
    scope = Scope(kind=REVIEW)
    staff = compliance(
        week.session,
        period=WEEK,
        dimensions=[Dimension.STEP, Dimension.STAFF],
        scope=scope,
        now=NOW,
    )
    reviews = {row.key[1]: row.figures for row in staff if row.key[0] == "review"}
    assert (reviews[a].done, reviews[a].on_time, reviews[a].overdue) == (2, 2, 0)
    # B decided one late and holds the open one past its deadline.
    assert (reviews[b].done, reviews[b].on_time, reviews[b].overdue) == (1, 0, 1)
    assert reviews[b].on_time_share == 0
    assert reviews[None].steps == 1  # the open one nobody holds
    counters = by_key(
        compliance(week.session, period=WEEK, dimensions=[Dimension.COUNTER], now=NOW)
    )
    assert counters[(week.counter.id,)].requests == 1
    assert counters[(week.counter.id,)].median_days == 0.25  # two steps: half a day, and none
    assert counters[(None,)].requests == 6


def test_filtered_total_and_empty(week: Desk) -> None:
    (total,) = compliance(week.session, period=WEEK, scope=Scope(channel=Channel.BALE), now=NOW)
    assert total.key == ()
    assert (total.figures.requests, total.figures.steps, total.figures.done) == (2, 4, 3)
    assert total.figures.csat_average == 2
    later = Period(date(2026, 11, 1), date(2026, 11, 7))
    (empty,) = compliance(week.session, period=later, now=NOW)
    assert (empty.figures.steps, empty.figures.on_time_share, empty.figures.median_days) == (
        0,
        None,
        None,
    )


def test_by_week_and_area(week: Desk) -> None:
    rows = by_key(
        compliance(
            week.session,
            period=WEEK,
            dimensions=[Dimension.WEEK, Dimension.SERVICE],
            scope=Scope(city="قم", area="صفاییه"),
            now=NOW,
        )
    )
    # The Wednesday and Thursday belong to the week of Saturday the 17th.
    assert rows[(date(2026, 10, 17), REVIEW)].requests == 3
    # The rest, and the results told of the first two (each a step of its own).
    assert rows[(date(2026, 10, 24), REVIEW)].requests == 5
    assert rows[(date(2026, 10, 24), REMOVAL)].steps == 1  # the meter test began then
    assert (
        compliance(week.session, period=WEEK, scope=Scope(area="elsewhere"), now=NOW)[
            0
        ].figures.steps
        == 0
    )


def test_percentile_as_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.9) == 3.0
    assert percentile([4.0, 1.0, 2.0, 3.0], 0.5) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.9) == pytest.approx(4.6)


@given(
    st.datetimes(
        min_value=tehran(1, 0).replace(tzinfo=None), max_value=tehran(30, 0).replace(tzinfo=None)
    ),
    st.integers(min_value=1, max_value=10),
)
def test_the_clock_meets_add_working_days(start: datetime, target: int) -> None:
    """At the deadline add_working_days gives, the clock is where deadline_clock says."""
    moment = start.replace(tzinfo=tehran(1, 0).tzinfo)
    calendar = WorkingCalendar(Period(date(2026, 9, 30), date(2026, 12, 31)), NOW, {HOLIDAY})
    deadline = add_working_days(moment, target, {HOLIDAY})
    assert calendar.clock(deadline) == pytest.approx(calendar.deadline_clock(moment, target))
    assert calendar.clock(deadline + timedelta(minutes=1)) > calendar.deadline_clock(moment, target)
