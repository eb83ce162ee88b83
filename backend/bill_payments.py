"""Paying a consumption bill online: the one pending payment of a bill, and its receipt.

Anyone may pay a bill (a relative, a tenant): the payment asks only for the bill. A bill is paid
once — the callback records it through actions.record_payment, which sets the bill's paid_at —
and a paid bill, or one a correction replaced, takes no payment.
"""

import secrets
from datetime import datetime

from sqlmodel import Session, col, select

from backend.constants import PaymentPurpose, PaymentStatus
from backend.models import Bill, Payment
from backend.service_requests import replacement_of
from backend.workflows import Refused


def bill_payment(session: Session, bill: Bill, *, now: datetime) -> Payment:
    """The pending online payment of the bill, made the first time it is asked for.

    Refused: `bill_paid` once paid (by any way), `bill_replaced` for a bill its correction
    replaced, `nothing_to_pay` for a bill of nothing. The bill row is locked, so that two
    presses at once make one payment.
    """
    locked = session.exec(select(Bill).where(Bill.id == bill.id).with_for_update()).one()
    if locked.paid_at is not None:
        raise Refused("bill_paid")
    if replacement_of(session, locked) is not None:  # the correction is the one to pay
        raise Refused("bill_replaced")
    if locked.amount_rials <= 0:
        raise Refused("nothing_to_pay")
    pending = session.exec(
        select(Payment).where(Payment.bill_id == locked.id, Payment.status == PaymentStatus.PENDING)
    ).first()
    if pending is not None:
        return pending
    payment = Payment(
        bill_id=locked.id,
        purpose=PaymentPurpose.BILL,
        amount_rials=locked.amount_rials,
        reference=secrets.token_hex(12),  # unguessable: it appears in the payment link
        created_at=now,
    )
    session.add(payment)
    session.flush()
    return payment


def bill_receipt(session: Session, bill: Bill) -> Payment | None:
    """The online payment that paid the bill, if it was paid here (not at a bank)."""
    query = select(Payment).where(Payment.bill_id == bill.id, Payment.status == PaymentStatus.PAID)
    return session.exec(query.order_by(col(Payment.id).desc())).first()
