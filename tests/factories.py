"""Factory functions that put realistic rows in the test database."""

from datetime import date, timedelta

from sqlmodel import Session

from backend.identifiers import make_bill_id, make_payment_id
from backend.models import Bill, Customer, Subscription


def add_subscription(
    session: Session, *, file_number: int = 48213, bills: int = 6, mobile: str = "+989121234567"
) -> Subscription:
    """A household subscription with `bills` bi-monthly bills, the latest first to be shown."""
    customer = Customer(full_name="مریم احمدی", national_id=None, mobile=mobile)
    session.add(customer)
    session.flush()
    bill_id = make_bill_id(file_number, 774)
    subscription = Subscription(
        bill_id=bill_id,
        subscription_number=f"SN{file_number}",
        customer_id=customer.id,
        address="قم، خیابان صفاییه، کوچه ۱۲، پلاک ۴",
        city="قم",
        area="صفاییه",
        feeder="F-12",
        tariff="1-1",
    )
    session.add(subscription)
    session.flush()
    start, reading = date(2025, 3, 21), 10_000
    for index in range(bills):
        end = start + timedelta(days=61)
        consumption = 300 + 40 * index
        amount = 1_000 * (400 + 37 * index)
        session.add(
            Bill(
                subscription_id=subscription.id,
                jalali_year=1404,
                period=index + 1,
                previous_reading_date=start,
                current_reading_date=end,
                previous_reading=reading,
                current_reading=reading + consumption,
                consumption_kwh=consumption,
                amount_rials=amount,
                payment_id=make_payment_id(amount, 1404, index + 1, bill_id),
                due_date=end + timedelta(days=14),
            )
        )
        start, reading = end, reading + consumption
    session.commit()
    return subscription
