"""What staff and subscribers do to a request; each checks its inputs and applies a transition.

Who may do what is checked before these are called (backend/staff.py); these check what the
request allows. Every function works in the caller's transaction and flushes, never commits.
"""

import secrets
from datetime import datetime

from sqlmodel import Session, col, select

from backend.constants import (
    FINAL_STATUSES,
    DocumentType,
    EventAction,
    MeterTestResult,
    NoticeKind,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    RejectionReason,
    RequestKind,
    RequestStatus,
    SubscriptionStatus,
)
from backend.identifiers import make_payment_id
from backend.models import (
    Bill,
    Payment,
    RequestDocument,
    RequestEvent,
    ServiceRequest,
    Staff,
    Subscription,
)
from backend.notices import queue_notice
from backend.settings import Settings
from backend.staff_notices import assigned, step_reached
from backend.workflows import FEE_PAID_STATUSES, Refused, apply, find_transition

SYSTEM = "system"
# What staff may type, checked before anything is stored: an amount of the corrected bill must
# fit its payment ID (below 100,000,000,000 rials), a reading an eight-digit meter. A number out
# of them is refused where it is typed, never left to fail later (at /approve, in the database).
MIN_AMOUNT_RIALS = 1_000
MAX_AMOUNT_RIALS = 10_000_000_000
MAX_READING = 99_999_999
EXPLANATION_MIN_LETTERS = 10  # a rejection's explanation to the subscriber


def staff_actor(staff: Staff) -> str:
    return f"staff:{staff.id}"


def subscriber_actor(channel: str) -> str:
    return f"subscriber:{channel}"


def _amount(value: int, *, zero: bool = False, signed: bool = False) -> int:
    """`value` if it is within the bounds: MIN_AMOUNT_RIALS to MAX_AMOUNT_RIALS; also 0 where
    `zero`, and as much below zero where `signed` (a credit)."""
    if value < 0 and not signed:
        raise Refused("bad_amount")
    if not (zero and value == 0) and not MIN_AMOUNT_RIALS <= abs(value) <= MAX_AMOUNT_RIALS:
        raise Refused("amount_out_of_range", min_rials=MIN_AMOUNT_RIALS, max_rials=MAX_AMOUNT_RIALS)
    return value


def _reading(value: int, *, at_least: int = 0) -> int:
    """A meter reading: a whole number from `at_least` (the meter test's, for the final one)
    to MAX_READING."""
    if value < at_least:
        raise Refused("bad_reading")
    if value > MAX_READING:
        raise Refused("reading_out_of_range", max_reading=MAX_READING)
    return value


# --- Bill review ---


def take(
    session: Session, request: ServiceRequest, staff: Staff, *, now: datetime, settings: Settings
) -> None:
    """A review is taken by its workflow; a removal, which has no such step, is assigned to self."""
    if request.kind != RequestKind.BILL_REVIEW:
        assign(session, request, staff, by=staff, now=now, settings=settings)
        return
    request.assignee_id = staff.id
    apply(session, request, EventAction.TAKE, actor=staff_actor(staff), now=now, settings=settings)


def assign(
    session: Session,
    request: ServiceRequest,
    assignee: Staff,
    *,
    by: Staff,
    now: datetime,
    settings: Settings,
) -> None:
    """Gives the request to `assignee`; a review not yet started goes under review."""
    request.assignee_id = assignee.id
    # Whom, in words, for the history to show; who has the request is the column, never this.
    note = assignee.full_name
    if request.kind == RequestKind.BILL_REVIEW and request.status == RequestStatus.SUBMITTED:
        apply(
            session,
            request,
            EventAction.ASSIGN,
            actor=staff_actor(by),
            now=now,
            settings=settings,
            note=note,
        )
    elif request.status in FINAL_STATUSES:
        raise Refused("wrong_status", status=request.status)
    else:
        record_event(
            session, request, EventAction.ASSIGN, actor=staff_actor(by), now=now, note=note
        )
    assigned(session, request, assignee, by=by, now=now)


def uphold(
    session: Session,
    request: ServiceRequest,
    staff: Staff,
    *,
    corrected_amount_rials: int,
    note: str | None,
    now: datetime,
    settings: Settings,
) -> bool:
    """Upholds the objection with a corrected amount; True when the correction took effect.

    A correction that changes the bill by more than the two-person limit waits for a supervisor.
    """
    original = _disputed_bill(session, request)
    # A bill of nothing at all is a correction too. Bills are in whole thousands: an amount that
    # is not is refused, never rounded behind the staff member's back.
    amount = _amount(corrected_amount_rials, zero=True)
    if amount % 1000:
        rounded = amount // 1000 * 1000
        raise Refused("not_whole_thousands", lower_rials=rounded, upper_rials=rounded + 1000)
    if amount == original.amount_rials:
        raise Refused("same_amount")
    if amount > original.amount_rials:  # an upheld objection lowers the bill
        raise Refused("correction_not_lower", original_rials=original.amount_rials)
    request.proposed_amount_rials = amount
    request.decision_note = note
    apply(
        session,
        request,
        EventAction.UPHOLD,
        actor=staff_actor(staff),
        now=now,
        settings=settings,
        note=note,
    )
    if abs(original.amount_rials - amount) > settings.two_person_limit_rials:
        step_reached(session, request, actor=staff_actor(staff), now=now)  # the approval
        return False
    _correct(session, request, original, actor=staff_actor(staff), now=now, settings=settings)
    return True


def approve(
    session: Session,
    request: ServiceRequest,
    supervisor: Staff,
    *,
    now: datetime,
    settings: Settings,
) -> None:
    """The second person of the two-person rule: a supervisor other than the one who decided."""
    if request.status != RequestStatus.UPHELD:
        raise Refused("wrong_status", status=request.status)
    decided_by = session.exec(
        select(RequestEvent.actor)
        .where(RequestEvent.request_id == request.id, RequestEvent.action == EventAction.UPHOLD)
        .order_by(col(RequestEvent.id).desc())
    ).first()
    if decided_by == staff_actor(supervisor):
        raise Refused("same_person")
    _correct(
        session,
        request,
        _disputed_bill(session, request),
        actor=staff_actor(supervisor),
        now=now,
        settings=settings,
    )


def _correct(
    session: Session,
    request: ServiceRequest,
    original: Bill,
    *,
    actor: str,
    now: datetime,
    settings: Settings,
) -> None:
    """Issues the corrected bill (a new bill pointing at the original) and announces it."""
    assert request.proposed_amount_rials is not None
    amount = request.proposed_amount_rials
    subscription_bill_id = _subscription_bill_id(session, original)
    corrected = Bill(
        subscription_id=original.subscription_id,
        jalali_year=original.jalali_year,
        period=original.period,
        previous_reading_date=original.previous_reading_date,
        current_reading_date=original.current_reading_date,
        previous_reading=original.previous_reading,
        current_reading=original.current_reading,
        consumption_kwh=original.consumption_kwh,
        amount_rials=amount,
        payment_id=make_payment_id(
            amount, original.jalali_year, original.period, subscription_bill_id
        )
        if amount
        else "",
        due_date=original.due_date,
        corrects_bill_id=original.id,
        created_at=now,
    )
    session.add(corrected)
    session.flush()
    request.corrected_bill_id = corrected.id
    apply(session, request, EventAction.CORRECT, actor=actor, now=now, settings=settings)
    apply(
        session,
        request,
        EventAction.ANNOUNCE,
        actor=SYSTEM,
        now=now,
        settings=settings,
        original_rials=original.amount_rials,
        corrected_rials=amount,
        bill_id=subscription_bill_id,  # paying takes both IDs
        payment_id=corrected.payment_id,
    )


def reject(
    session: Session,
    request: ServiceRequest,
    staff: Staff,
    *,
    reason: RejectionReason,
    note: str,
    now: datetime,
    settings: Settings,
) -> None:
    """Rejects the objection; the explanation, sent to the subscriber, says something: at least
    EXPLANATION_MIN_LETTERS letters (not «.», nor a digit or two)."""
    if sum(character.isalpha() for character in note) < EXPLANATION_MIN_LETTERS:
        raise Refused("explanation_too_short", min_letters=EXPLANATION_MIN_LETTERS)
    request.decision_reason = reason
    request.decision_note = note
    apply(
        session,
        request,
        EventAction.REJECT,
        actor=staff_actor(staff),
        now=now,
        settings=settings,
        note=note,
    )
    apply(
        session,
        request,
        EventAction.ANNOUNCE,
        actor=SYSTEM,
        now=now,
        settings=settings,
        rejection=reason,
        explanation=note,
    )


# --- Permanent removal ---


def id_card_missing(session: Session, request: ServiceRequest) -> bool:
    """A removal with no ID card among its documents: filed by SMS, the card still to come."""
    if request.kind != RequestKind.CONNECTION_REMOVAL:
        return False
    query = select(RequestDocument.id).where(
        RequestDocument.request_id == request.id,
        RequestDocument.doc_type == DocumentType.ID_CARD,
    )
    return session.exec(query.limit(1)).first() is None


def announce_fee(
    session: Session,
    request: ServiceRequest,
    staff: Staff,
    *,
    amount_rials: int,
    now: datetime,
    settings: Settings,
) -> Payment:
    """The collection fee, once the applicant's ID card has come ("id_card_missing" before)."""
    amount = _amount(amount_rials)
    find_transition(request, EventAction.ANNOUNCE_FEE)  # a wrong status says so first
    if id_card_missing(session, request):
        raise Refused("id_card_missing")
    request.fee_rials = amount
    payment = new_payment(session, request, PaymentPurpose.COLLECTION_FEE, amount, now)
    apply(
        session,
        request,
        EventAction.ANNOUNCE_FEE,
        actor=staff_actor(staff),
        now=now,
        settings=settings,
        fee_rials=amount,
        payment_reference=payment.reference,
    )
    return payment


def record_meter_test(
    session: Session,
    request: ServiceRequest,
    staff: Staff,
    *,
    result: MeterTestResult,
    reading: int,
    now: datetime,
    settings: Settings,
) -> None:
    request.meter_test_result = result
    request.meter_test_reading = _reading(reading)
    apply(
        session,
        request,
        EventAction.TEST_METER,
        actor=staff_actor(staff),
        now=now,
        settings=settings,
        result=result,
        reading=reading,
    )
    step_reached(session, request, actor=staff_actor(staff), now=now)


def announce_terms(
    session: Session,
    request: ServiceRequest,
    staff: Staff,
    *,
    terms: str,
    now: datetime,
    settings: Settings,
) -> None:
    if not terms.strip():
        raise Refused("empty_terms")
    request.terms = terms
    apply(
        session,
        request,
        EventAction.ANNOUNCE_TERMS,
        actor=staff_actor(staff),
        now=now,
        settings=settings,
        terms=terms,
    )


def answer_terms(
    session: Session,
    request: ServiceRequest,
    *,
    accept: bool,
    actor: str,
    now: datetime,
    settings: Settings,
) -> None:
    action = EventAction.ACCEPT_TERMS if accept else EventAction.DECLINE_TERMS
    apply(session, request, action, actor=actor, now=now, settings=settings)
    step_reached(session, request, actor=actor, now=now)


def collect(
    session: Session,
    request: ServiceRequest,
    staff: Staff,
    *,
    final_reading: int,
    now: datetime,
    settings: Settings,
) -> None:
    request.final_reading = _reading(final_reading, at_least=request.meter_test_reading or 0)
    apply(
        session,
        request,
        EventAction.COLLECT,
        actor=staff_actor(staff),
        now=now,
        settings=settings,
        reading=final_reading,
    )
    step_reached(session, request, actor=staff_actor(staff), now=now)


def issue_statement(
    session: Session,
    request: ServiceRequest,
    staff: Staff,
    *,
    amount_rials: int,
    now: datetime,
    settings: Settings,
) -> Payment | None:
    """The final statement: positive, the subscriber owes it (debt, damages); negative, a credit."""
    request.statement_rials = _amount(amount_rials, zero=True, signed=True)
    payment = _statement_payment(session, request, amount_rials, now)
    apply(
        session,
        request,
        EventAction.ISSUE_STATEMENT,
        actor=staff_actor(staff),
        now=now,
        settings=settings,
        debt_rials=max(amount_rials, 0),
        credit_rials=max(-amount_rials, 0),
        payment_reference=payment.reference if payment else None,
    )
    return payment


def _statement_payment(
    session: Session, request: ServiceRequest, amount_rials: int, now: datetime
) -> Payment | None:
    """The payment a statement asks for: none when it owes the subscriber or nothing."""
    if amount_rials <= 0:
        return None
    return new_payment(session, request, PaymentPurpose.FINAL_STATEMENT, amount_rials, now)


def correct_statement(
    session: Session,
    request: ServiceRequest,
    staff: Staff,
    *,
    amount_rials: int,
    reason: str,
    now: datetime,
    settings: Settings,
) -> Payment | None:
    """Voids the final statement and issues a corrected one, until it is paid ("statement_paid"
    once it is settled): the unpaid payment is cancelled, so its page and provider refuse it;
    the reason goes in the history; the subscriber is told the old one is void, and of the new."""
    if (
        request.status in (RequestStatus.SETTLED, RequestStatus.CLOSED)
        and request.statement_rials is not None
    ):
        raise Refused("statement_paid")
    find_transition(request, EventAction.SETTLE)  # only an issued statement, not yet settled
    amount = _amount(amount_rials, zero=True, signed=True)
    if amount == request.statement_rials:
        raise Refused("same_statement")
    voided = _pending_payment(session, request, PaymentPurpose.FINAL_STATEMENT)
    if voided is not None:
        voided.status = PaymentStatus.CANCELLED
        session.add(voided)
    request.statement_rials = amount
    request.updated_at = now
    session.add(request)
    payment = _statement_payment(session, request, amount, now)
    record_event(
        session,
        request,
        EventAction.CORRECT_STATEMENT,
        actor=staff_actor(staff),
        now=now,
        note=reason,
    )
    queue_notice(
        session,
        request,
        NoticeKind.STATEMENT_CORRECTED,
        now=now,
        reason=reason,
        debt_rials=max(amount, 0),
        credit_rials=max(-amount, 0),
        payment_reference=payment.reference if payment else None,
    )
    session.flush()
    return payment


def settle(
    session: Session, request: ServiceRequest, staff: Staff, *, now: datetime, settings: Settings
) -> None:
    """A statement that asks for nothing (a credit, or zero) is settled by staff; one with a debt
    settles itself when it is paid (record_payment), so this is refused while it is unpaid."""
    unpaid = _pending_payment(session, request, PaymentPurpose.FINAL_STATEMENT)
    if unpaid is not None:
        raise Refused("statement_unpaid", amount_rials=unpaid.amount_rials)
    apply(
        session, request, EventAction.SETTLE, actor=staff_actor(staff), now=now, settings=settings
    )
    step_reached(session, request, actor=staff_actor(staff), now=now)


# --- Either kind ---


def close(
    session: Session, request: ServiceRequest, staff: Staff, *, now: datetime, settings: Settings
) -> None:
    """Closes the request; a removal's close (its clearance) ends the subscription: it is
    REMOVED from then on, and neither service takes it again."""
    apply(session, request, EventAction.CLOSE, actor=staff_actor(staff), now=now, settings=settings)
    if request.kind == RequestKind.CONNECTION_REMOVAL:
        subscription = session.get(Subscription, request.subscription_id, with_for_update=True)
        assert subscription is not None  # subscriptions are never deleted
        subscription.status = SubscriptionStatus.REMOVED
        subscription.removed_at = now
        session.add(subscription)
        session.flush()


def withdraw(
    session: Session,
    request: ServiceRequest,
    *,
    actor: str,
    no_refund_acknowledged: bool,
    now: datetime,
    settings: Settings,
) -> None:
    """The subscriber withdraws; once the fee is paid it is not refunded, and they must have said
    they understood that (seed 001 §4)."""
    if request.status in FEE_PAID_STATUSES and not no_refund_acknowledged:
        raise Refused("no_refund_not_acknowledged")
    if request.status in FEE_PAID_STATUSES:
        request.no_refund_acknowledged = True
    apply(session, request, EventAction.WITHDRAW, actor=actor, now=now, settings=settings)
    pending = _pending_payment(session, request, PaymentPurpose.COLLECTION_FEE)
    if pending is not None:
        pending.status = PaymentStatus.CANCELLED


def record_event(
    session: Session,
    request: ServiceRequest,
    action: EventAction,
    *,
    actor: str,
    now: datetime,
    note: str | None,
) -> None:
    """An event that changes no status (a note, a reassignment)."""
    assert request.id is not None  # a stored request
    session.add(
        RequestEvent(request_id=request.id, actor=actor, action=action, note=note, created_at=now)
    )
    session.flush()


def add_note(
    session: Session, request: ServiceRequest, staff: Staff, *, text: str, now: datetime
) -> None:
    if not text.strip():
        raise Refused("empty_note")
    record_event(session, request, EventAction.NOTE, actor=staff_actor(staff), now=now, note=text)


# --- Payments ---


def record_payment(
    session: Session,
    *,
    reference: str,
    method: PaymentMethod,
    provider_ref: str,
    actor: str,
    now: datetime,
    settings: Settings,
) -> bool:
    """Marks a payment paid and moves its request on (a bill's: the bill paid), exactly once:
    False if it already was.

    The payment row is locked, so two callbacks for one payment cannot both move the request.
    """
    payment = mark_paid(
        session, reference=reference, method=method, provider_ref=provider_ref, actor=actor, now=now
    )
    if payment is None:
        return False
    if payment.bill_id is not None:
        bill = session.get(Bill, payment.bill_id, with_for_update=True)
        assert bill is not None  # bills are never deleted
        bill.paid_at = bill.paid_at or now
        session.add(bill)
        return True
    request = session.get(ServiceRequest, payment.request_id, with_for_update=True)
    assert request is not None
    action = (
        EventAction.PAY_FEE
        if payment.purpose == PaymentPurpose.COLLECTION_FEE
        else EventAction.SETTLE
    )
    apply(
        session,
        request,
        action,
        actor=actor,
        now=now,
        settings=settings,
        note=f"{method} {provider_ref}",
        amount_rials=payment.amount_rials,
    )
    step_reached(session, request, actor=actor, now=now)
    return True


def mark_paid(
    session: Session,
    *,
    reference: str,
    method: PaymentMethod,
    provider_ref: str,
    actor: str,
    now: datetime,
) -> Payment | None:
    """The payment, locked and marked paid; None if it already was. Refused when no payment
    has the reference, or it was cancelled."""
    payment = session.exec(
        select(Payment).where(Payment.reference == reference).with_for_update()
    ).first()
    if payment is None:
        raise Refused("unknown_payment")
    if payment.status == PaymentStatus.PAID:
        return None
    if payment.status != PaymentStatus.PENDING:
        raise Refused("payment_cancelled")
    payment.status = PaymentStatus.PAID
    payment.method = method
    payment.provider_ref = provider_ref
    payment.recorded_by = actor
    payment.paid_at = now
    session.add(payment)
    return payment


def pending_payment_of(session: Session, request: ServiceRequest) -> Payment | None:
    """The payment the subscriber is asked for now, if any."""
    query = select(Payment).where(
        Payment.request_id == request.id, Payment.status == PaymentStatus.PENDING
    )
    return session.exec(query.order_by(col(Payment.id).desc())).first()


def _pending_payment(
    session: Session, request: ServiceRequest, purpose: PaymentPurpose
) -> Payment | None:
    query = select(Payment).where(
        Payment.request_id == request.id,
        Payment.purpose == purpose,
        Payment.status == PaymentStatus.PENDING,
    )
    return session.exec(query).first()


def new_payment(
    session: Session, request: ServiceRequest, purpose: PaymentPurpose, amount: int, now: datetime
) -> Payment:
    """A payment the request asks of the subscriber, due until paid or cancelled."""
    assert request.id is not None  # a stored request
    payment = Payment(
        request_id=request.id,
        purpose=purpose,
        amount_rials=amount,
        reference=secrets.token_hex(12),  # unguessable: it appears in the payment link
        created_at=now,
    )
    session.add(payment)
    session.flush()
    return payment


def _disputed_bill(session: Session, request: ServiceRequest) -> Bill:
    if request.kind != RequestKind.BILL_REVIEW or request.disputed_bill_id is None:
        raise Refused("wrong_kind", kind=request.kind)
    bill = session.get(Bill, request.disputed_bill_id)
    assert bill is not None  # bills are never deleted
    return bill


def _subscription_bill_id(session: Session, bill: Bill) -> str:
    subscription = session.get(Subscription, bill.subscription_id)
    assert subscription is not None
    return subscription.bill_id
