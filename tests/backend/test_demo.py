"""The demo data: deterministic, created once, valid, and shaped like real bills."""

import csv
from itertools import pairwise
from pathlib import Path
from typing import Any

import jdatetime
from sqlmodel import Session, SQLModel, col, select

from backend.demo import (
    BILLS_PER_SUBSCRIPTION,
    REFERENCE_DATE,
    SUBSCRIPTIONS,
    bill_amount_rials,
    seed_demo,
)
from backend.identifiers import (
    normalize_mobile,
    parse_electricity_bill_id,
    parse_national_id,
    parse_payment_id,
    payment_amount_rials,
)
from backend.importers import BILL_COLUMNS, ImportResult, import_bills
from backend.models import Bill, Customer, Subscription


def columns(row: SQLModel, *exclude: str) -> dict[str, Any]:
    return {
        column.key: getattr(row, column.key)
        for column in row.__table__.columns
        if column.key not in {"id", "created_at", *exclude}
    }


def snapshot(session: Session) -> list[dict[str, Any]]:
    """Every demo row as plain values, without database ids or creation times."""
    return [
        columns(subscription, "customer_id")
        | {
            "customer": columns(session.get_one(Customer, subscription.customer_id)),
            "bills": [columns(bill, "subscription_id") for bill in bills],
        }
        for subscription, bills in bills_by_subscription(session)
    ]


def bills_by_subscription(session: Session) -> list[tuple[Subscription, list[Bill]]]:
    """Each subscription (by bill ID) with its bills, oldest first."""
    result = []
    for subscription in session.exec(select(Subscription).order_by(Subscription.bill_id)):
        query = (
            select(Bill)
            .where(Bill.subscription_id == subscription.id)
            .order_by(col(Bill.current_reading_date))
        )
        result.append((subscription, list(session.exec(query))))
    return result


def test_seed_demo_is_idempotent(session: Session) -> None:
    first = seed_demo(session)
    session.commit()
    second = seed_demo(session)
    session.commit()

    assert (first.subscriptions_created, first.bills_created) == (
        SUBSCRIPTIONS,
        SUBSCRIPTIONS * BILLS_PER_SUBSCRIPTION,
    )
    assert (second.subscriptions_created, second.bills_created) == (0, 0)
    assert (second.sample_bill_id, second.sample_mobile) == (
        first.sample_bill_id,
        first.sample_mobile,
    )
    assert len(session.exec(select(Bill)).all()) == SUBSCRIPTIONS * BILLS_PER_SUBSCRIPTION


def test_seed_demo_is_deterministic(session: Session) -> None:
    first = seed_demo(session)
    session.commit()
    before = snapshot(session)
    for table in reversed(SQLModel.metadata.sorted_tables):
        session.execute(table.delete())
    session.commit()

    again = seed_demo(session)
    session.commit()

    assert again == first
    assert snapshot(session) == before


def test_demo_identifiers_pass_the_validators(session: Session) -> None:
    seed_demo(session)
    session.commit()
    for subscription, bills in bills_by_subscription(session):
        assert parse_electricity_bill_id(subscription.bill_id) == subscription.bill_id
        customer = session.get(Customer, subscription.customer_id)
        assert customer is not None
        assert customer.national_id is not None
        assert parse_national_id(customer.national_id) == customer.national_id
        assert customer.mobile is not None
        assert normalize_mobile(customer.mobile) == customer.mobile
        for bill in bills:
            assert parse_payment_id(bill.payment_id, subscription.bill_id) == bill.payment_id
            assert payment_amount_rials(bill.payment_id) == bill.amount_rials
            assert bill.amount_rials % 1000 == 0


def test_a_year_and_a_period_of_consecutive_bills_per_subscription(session: Session) -> None:
    seed_demo(session)
    session.commit()
    for _, bills in bills_by_subscription(session):
        assert len(bills) == BILLS_PER_SUBSCRIPTION
        assert [(bill.jalali_year, bill.period) for bill in bills] == [
            (1404, 3),
            (1404, 4),
            (1404, 5),
            (1404, 6),
            (1405, 1),
            (1405, 2),
            (1405, 3),
        ]
        for earlier, later in pairwise(bills):
            assert later.previous_reading == earlier.current_reading
            assert later.previous_reading_date == earlier.current_reading_date
        for bill in bills:
            assert bill.consumption_kwh == bill.current_reading - bill.previous_reading > 0
            assert bill.previous_reading_date < bill.current_reading_date < REFERENCE_DATE
            assert 10 <= (bill.due_date - bill.current_reading_date).days <= 20
        # The older bills are paid, after they were issued and before the reference date.
        for bill in bills[:-1]:
            assert bill.paid_at is not None
            assert bill.current_reading_date < bill.paid_at.date() < REFERENCE_DATE


def test_demo_is_spread_over_cities_feeders_and_tariffs(session: Session) -> None:
    seed_demo(session)
    session.commit()
    subscriptions = session.exec(select(Subscription)).all()
    assert len({s.city for s in subscriptions}) >= 4
    assert {"قم", "کهک", "جعفریه"} <= {s.city for s in subscriptions}
    assert len({s.feeder for s in subscriptions}) >= 8
    tariffs = [s.tariff for s in subscriptions]
    assert tariffs.count("1-1") > len(tariffs) * 3 / 4
    assert len(set(tariffs)) > 1


def test_summer_is_higher_and_the_sample_latest_bill_is_suspicious(session: Session) -> None:
    summary = seed_demo(session)
    session.commit()
    per_subscription = bills_by_subscription(session)
    households = [bills for s, bills in per_subscription if s.tariff == "1-1"]
    # Period 3 (Mordad-Shahrivar) against period 1404/4 (Mehr-Aban), summed over households.
    assert sum(b[-1].consumption_kwh for b in households) > 1.3 * sum(
        b[1].consumption_kwh for b in households
    )

    sample, bills = next(
        item for item in per_subscription if item[0].bill_id == summary.sample_bill_id
    )
    *older, latest = bills
    assert latest.consumption_kwh > 2.5 * max(bill.consumption_kwh for bill in older)
    assert latest.amount_rials > 5 * max(bill.amount_rials for bill in older)
    assert latest.paid_at is None
    customer = session.get(Customer, sample.customer_id)
    assert customer is not None
    assert customer.mobile == summary.sample_mobile


def test_bill_amount_uses_the_steps_and_rounds_down() -> None:
    # 150 kWh in 30 days: 100 x 277 + 50 x 323 = 43,850 rials, + 10% tax = 48,235.
    assert bill_amount_rials("1-1", 150, 30) == 48_000
    # Over 60 days the steps are twice as wide: 200 x 277 + 100 x 323 = 87,700, + 10% = 96,470.
    assert bill_amount_rials("1-1", 300, 60) == 96_000


def test_demo_bills_pass_the_importer(session: Session, tmp_path: Path) -> None:
    seed_demo(session)
    session.commit()
    path = tmp_path / "bills.csv"

    def jalali(day: Any) -> str:
        return jdatetime.date.fromgregorian(date=day).strftime("%Y/%m/%d") if day else ""

    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(BILL_COLUMNS))
        writer.writeheader()
        for subscription, bills in bills_by_subscription(session):
            for bill in bills:
                row = bill.model_dump(include=set(BILL_COLUMNS))
                writer.writerow(
                    row
                    | {
                        "bill_id": subscription.bill_id,
                        "previous_reading_date": jalali(bill.previous_reading_date),
                        "current_reading_date": jalali(bill.current_reading_date),
                        "due_date": jalali(bill.due_date),
                        "paid_date": jalali(bill.paid_at and bill.paid_at.date()),
                    }
                )

    result = import_bills(session, path)

    assert result == ImportResult(created=0, updated=SUBSCRIPTIONS * BILLS_PER_SUBSCRIPTION)
