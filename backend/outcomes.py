"""What a finished request gave the subscriber, as plain facts: a bill review's result (the
corrected bill, or the reason it was rejected) and a removal's clearance (مفاصاحساب) with the
verification code that staff check it by.

Read from what the decisions stored (actions.uphold/approve/reject, actions.close): the request's
columns, its corrected bill and its history. Nothing here writes.
"""

import hmac
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from backend.constants import EventAction, RequestKind, RequestStatus
from backend.identifiers import to_ascii_digits
from backend.models import Bill, Customer, RequestEvent, ServiceRequest, Subscription
from backend.sealing import keyed_hash
from backend.settings import Settings, local_zone

# A review's result is the subscriber's once it is announced; closing it changes nothing of it.
RESULT_STATUSES = frozenset({RequestStatus.RESULT_ANNOUNCED, RequestStatus.CLOSED})
SEAL_PURPOSE = "clearance-seal"
SEAL_DIGITS = 12  # shown as three groups of four: 4821-0934-1187


@dataclass(frozen=True)
class CorrectedBill:
    """An upheld review: the bill that replaces the disputed one, and what it replaces."""

    tracking_code: str
    customer_name: str
    address: str
    bill_id: str
    payment_id: str  # "" when the corrected amount is nothing: there is nothing to pay
    jalali_year: int
    period: int
    period_start: date
    period_end: date
    consumption_kwh: int
    original_rials: int
    corrected_rials: int
    issued_at: datetime


@dataclass(frozen=True)
class Rejection:
    """A rejected review: the reason (a RejectionReason) and the reviewer's explanation."""

    tracking_code: str
    reason: str
    explanation: str


@dataclass(frozen=True)
class Clearance:
    """A removal carried out and settled: the facts the clearance certificate states."""

    tracking_code: str
    customer_name: str
    bill_id: str
    address: str
    final_reading: int
    # Positive: the debt the subscriber settled; negative: the company's credit to them.
    statement_rials: int
    closed_on: date
    seal: str  # the verification code, SEAL_DIGITS digits grouped by four


def has_result(request: ServiceRequest) -> bool:
    """Whether the request is a bill review whose result has been announced."""
    return request.kind == RequestKind.BILL_REVIEW and request.status in RESULT_STATUSES


def review_outcome(session: Session, request: ServiceRequest) -> CorrectedBill | Rejection | None:
    """The announced result of a bill review; None for another kind or before it is announced."""
    if not has_result(request):
        return None
    if request.corrected_bill_id is not None:
        return _corrected_bill(session, request, request.corrected_bill_id)
    if request.decision_reason is not None:
        return Rejection(
            tracking_code=request.tracking_code,
            reason=request.decision_reason,
            explanation=request.decision_note or "",
        )
    return None


def _corrected_bill(session: Session, request: ServiceRequest, bill_id: int) -> CorrectedBill:
    corrected = session.get(Bill, bill_id)
    assert corrected is not None and corrected.corrects_bill_id is not None  # never deleted
    original = session.get(Bill, corrected.corrects_bill_id)
    assert original is not None
    subscription, customer = _subscriber(session, request)
    return CorrectedBill(
        tracking_code=request.tracking_code,
        customer_name=customer.full_name,
        address=subscription.address,
        bill_id=subscription.bill_id,
        payment_id=corrected.payment_id,
        jalali_year=corrected.jalali_year,
        period=corrected.period,
        period_start=corrected.previous_reading_date,
        period_end=corrected.current_reading_date,
        consumption_kwh=corrected.consumption_kwh,
        original_rials=original.amount_rials,
        corrected_rials=corrected.amount_rials,
        issued_at=corrected.created_at,
    )


def clearance_of(session: Session, request: ServiceRequest, settings: Settings) -> Clearance | None:
    """The clearance of a removal closed after its settlement; None for anything else."""
    if request.kind != RequestKind.CONNECTION_REMOVAL or request.status != RequestStatus.CLOSED:
        return None
    closed_at = session.exec(
        select(RequestEvent.created_at)
        .where(RequestEvent.request_id == request.id, RequestEvent.action == EventAction.CLOSE)
        .order_by(col(RequestEvent.id).desc())
    ).first()
    if closed_at is None:
        return None
    subscription, customer = _subscriber(session, request)
    closed_on = closed_at.astimezone(local_zone()).date()
    final_reading = request.final_reading or 0
    statement = request.statement_rials or 0
    facts = (request.id, request.tracking_code, subscription.bill_id, final_reading, statement)
    return Clearance(
        tracking_code=request.tracking_code,
        customer_name=customer.full_name,
        bill_id=subscription.bill_id,
        address=subscription.address,
        final_reading=final_reading,
        statement_rials=statement,
        closed_on=closed_on,
        seal=_seal(settings, *facts, closed_on),
    )


def verify_clearance(
    session: Session, request: ServiceRequest, typed: str, settings: Settings
) -> Clearance | None:
    """The clearance whose verification code `typed` is (any digits, any separators); None when
    the request has no clearance or the code is not its own: a forged or altered certificate."""
    clearance = clearance_of(session, request, settings)
    if clearance is None:
        return None
    given = "".join(c for c in to_ascii_digits(typed) if c.isascii() and c.isdigit())
    expected = clearance.seal.replace("-", "")
    return clearance if hmac.compare_digest(given, expected) else None


def _seal(
    settings: Settings,
    request_id: int | None,
    tracking_code: str,
    bill_id: str,
    final_reading: int,
    statement_rials: int,
    closed_on: date,
) -> str:
    """A keyed hash (SECRET_KEY's own key for this) of the facts the certificate states, as
    SEAL_DIGITS digits: whoever changes one of them on paper cannot make the code match."""
    facts = f"{request_id}|{tracking_code}|{bill_id}|{final_reading}|{statement_rials}|{closed_on}"
    number = int(keyed_hash(settings, SEAL_PURPOSE, facts)[:16], 16) % 10**SEAL_DIGITS
    digits = f"{number:0{SEAL_DIGITS}d}"
    return "-".join(digits[i : i + 4] for i in range(0, SEAL_DIGITS, 4))


def _subscriber(session: Session, request: ServiceRequest) -> tuple[Subscription, Customer]:
    subscription = session.get(Subscription, request.subscription_id)
    assert subscription is not None  # subscriptions are never deleted
    customer = session.get(Customer, subscription.customer_id)
    assert customer is not None
    return subscription, customer
