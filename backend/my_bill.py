"""«صورت‌حساب من» (my bill): a subscription's latest bill as it stands, the bills its consumption
chart shows, and the facts its duplicate (صورت‌حساب المثنی) states.

Anyone may look a bill ID up and pay its bill; who lives there is another matter. Following a
bill ID proves nothing, so its holder is shown in full only to a chat that proved the registered
mobile (the channel vouches for it), and otherwise masked as the bill review shows it: the given
name with the family name's initial, the address up to its street.
"""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from backend.constants import Channel
from backend.models import Bill, Customer, Subscription
from backend.otp import vouched_mobile
from backend.service_requests import (
    BillChoice,
    MaskedHolder,
    latest_bills,
    masked_holder,
    registered_mobile,
)

CHART_BILLS = 6  # the periods the consumption chart shows


@dataclass(frozen=True)
class DuplicateBill:
    """What a duplicate of a bill states: the bill as issued, and whether it is paid."""

    customer_name: str
    address: str
    bill_id: str
    payment_id: str
    jalali_year: int
    period: int
    period_start: date
    period_end: date
    previous_reading: int
    current_reading: int
    consumption_kwh: int
    amount_rials: int
    due_date: date
    paid_on: date | None
    estimated: bool


def recent_bills(session: Session, subscription: Subscription) -> list[BillChoice]:
    """The last CHART_BILLS periods' bills as they stand, newest first: the first is the one
    to pay."""
    assert subscription.id is not None  # a stored subscription
    return latest_bills(session, subscription_id=subscription.id, limit=CHART_BILLS)


def holder_for(
    session: Session, subscription: Subscription, *, channel: Channel, user_id: str
) -> MaskedHolder:
    """The holder's name and address as this chat may see them (see the module's note)."""
    mobile = registered_mobile(session, subscription)
    vouched = vouched_mobile(session, channel=channel, user_id=user_id)
    if mobile is None or vouched != mobile:
        return masked_holder(session, subscription)
    customer = session.get(Customer, subscription.customer_id)
    assert customer is not None  # customers are never deleted
    return MaskedHolder(customer.full_name, subscription.address)


def duplicate_of(
    subscription: Subscription, bill: Bill, holder: MaskedHolder, paid_on: date | None
) -> DuplicateBill:
    return DuplicateBill(
        customer_name=holder.name,
        address=holder.address,
        bill_id=subscription.bill_id,
        payment_id=bill.payment_id,
        jalali_year=bill.jalali_year,
        period=bill.period,
        period_start=bill.previous_reading_date,
        period_end=bill.current_reading_date,
        previous_reading=bill.previous_reading,
        current_reading=bill.current_reading,
        consumption_kwh=bill.consumption_kwh,
        amount_rials=bill.amount_rials,
        due_date=bill.due_date,
        paid_on=paid_on,
        estimated=bill.estimated,
    )
