"""Every transition of both workflows, every refusal, and the actions' own rules."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from backend import actions
from backend.constants import (
    FINAL_STATUSES,
    DocumentType,
    EventAction,
    MeterTestResult,
    NoticeKind,
    PaymentMethod,
    PaymentStatus,
    RejectionReason,
    RequestKind,
    RequestStatus,
    StaffRole,
)
from backend.models import Bill, Holiday, Notice, Payment, RequestEvent, ServiceRequest, Staff
from backend.service_requests import DraftDocument, file_request
from backend.settings import Settings
from backend.workdays import add_working_days
from backend.workflows import KEEP, TRANSITIONS, Refused, Transition, apply
from tests.factories import add_subscription

# A Saturday morning in Tehran (09:00 +03:30): the first day of the Iranian week.
TEHRAN = ZoneInfo("Asia/Tehran")  # the default TIMEZONE
SATURDAY = datetime(2025, 11, 22, 5, 30, tzinfo=UTC)


def new_request(session: Session, kind: RequestKind, status: RequestStatus) -> ServiceRequest:
    """A request put in `status`; a removal has its ID card (no fee is announced without it)."""
    subscription = add_subscription(
        session, file_number=60000 + session.exec(select(Bill)).all().__len__()
    )
    bill = session.exec(select(Bill).where(Bill.subscription_id == subscription.id)).first()
    assert bill is not None
    id_card = DraftDocument("k", "0" * 64, 1, "image/jpeg", "id.jpg", DocumentType.ID_CARD)
    request = file_request(
        session,
        kind=kind,
        channel="telegram",
        channel_user_id="1",
        subscription_id=subscription.id,
        disputed_bill_id=bill.id if kind == RequestKind.BILL_REVIEW else None,
        reason="other",
        description="—",
        documents=[id_card] if kind == RequestKind.CONNECTION_REMOVAL else [],
        now=SATURDAY,
        deadline=SATURDAY,
    )
    request.status = status
    session.commit()
    return request


def add_staff(session: Session, role: StaffRole, phone: str = "+989120000001") -> Staff:
    staff = Staff(full_name="کارشناس", phone=phone, role=role)
    session.add(staff)
    session.commit()
    return staff


CASES = [(t, source) for t in TRANSITIONS for source in sorted(t.sources)]


@pytest.mark.parametrize(
    ("transition", "source"), CASES, ids=[f"{t.kind}-{t.action}-{s}" for t, s in CASES]
)
def test_every_transition(
    session: Session, settings: Settings, transition: Transition, source: RequestStatus
) -> None:
    request = new_request(session, transition.kind, source)
    before = request.step_deadline
    notices_before = len(session.exec(select(Notice)).all())
    apply(session, request, transition.action, actor="test", now=SATURDAY, settings=settings)
    session.commit()
    assert request.status == transition.target
    event = session.exec(
        select(RequestEvent).where(
            RequestEvent.request_id == request.id, RequestEvent.actor == "test"
        )
    ).one()
    assert (event.action, event.from_status, event.to_status) == (
        transition.action,
        source,
        transition.target,
    )
    if transition.deadline == KEEP:
        assert request.step_deadline == before
    elif transition.deadline is None:
        assert request.step_deadline is None
    else:
        days = getattr(settings, transition.deadline)
        assert request.step_deadline == add_working_days(SATURDAY, days)
    # In the order they were queued: without ORDER BY, PostgreSQL may return them otherwise.
    notices = session.exec(select(Notice).order_by(col(Notice.id))).all()
    # A request made final is also asked for feedback, after its own notice (backend.feedback).
    if transition.target in FINAL_STATUSES:
        assert notices[-1].kind == NoticeKind.FEEDBACK
        notices = notices[:-1]
    if transition.notice is None:
        assert len(notices) == notices_before
    else:
        assert notices[-1].kind == transition.notice
        assert notices[-1].params["code"] == request.tracking_code


REFUSALS = [
    (kind, action, status)
    for kind in RequestKind
    for action in {t.action for t in TRANSITIONS if t.kind == kind}
    for status in RequestStatus
    if not any(t.kind == kind and t.action == action and status in t.sources for t in TRANSITIONS)
]


@pytest.mark.parametrize(("kind", "action", "status"), REFUSALS[::7])
def test_every_other_status_refuses(
    session: Session,
    settings: Settings,
    kind: RequestKind,
    action: EventAction,
    status: RequestStatus,
) -> None:
    request = new_request(session, kind, status)
    with pytest.raises(Refused) as refused:
        apply(session, request, action, actor="test", now=SATURDAY, settings=settings)
    assert refused.value.code == "wrong_status"
    assert request.status == status


def test_refusal_table_is_complete() -> None:
    # The sampled refusal test above covers a seventh; this checks them all without a database.
    from backend.workflows import find_transition

    for kind, action, status in REFUSALS:
        with pytest.raises(Refused):
            find_transition(ServiceRequest(kind=kind, status=status), action)  # type: ignore[call-arg]


def test_an_action_of_the_other_kind_is_refused(session: Session, settings: Settings) -> None:
    request = new_request(session, RequestKind.BILL_REVIEW, RequestStatus.SUBMITTED)
    with pytest.raises(Refused) as refused:
        apply(
            session, request, EventAction.ANNOUNCE_FEE, actor="t", now=SATURDAY, settings=settings
        )
    assert refused.value.code == "wrong_kind"


def test_working_days_skip_friday_and_holidays() -> None:
    # Wednesday 09:00 Tehran + 3 working days: Thursday, (Friday off), Saturday, Sunday.
    wednesday = datetime(2025, 11, 26, 5, 30, tzinfo=UTC)
    assert add_working_days(wednesday, 3).date() == date(2025, 11, 30)
    # With that Saturday an official holiday, the third working day is Monday.
    assert add_working_days(wednesday, 3, {date(2025, 11, 29)}).date() == date(2025, 12, 1)
    # Late evening in Tehran is already the next day there.
    evening = datetime(2025, 11, 27, 21, 0, tzinfo=UTC)  # Friday 00:30 in Tehran
    assert add_working_days(evening, 1).astimezone(TEHRAN).date() == date(2025, 11, 29)


def test_deadlines_use_the_holiday_table(session: Session, settings: Settings) -> None:
    session.add(Holiday(day=date(2025, 11, 23), name="تعطیل رسمی"))
    session.commit()
    request = new_request(session, RequestKind.CONNECTION_REMOVAL, RequestStatus.FEE_ANNOUNCED)
    apply(session, request, EventAction.PAY_FEE, actor="t", now=SATURDAY, settings=settings)
    # Saturday + 3 working days, Sunday being a holiday: Monday, Tuesday, Wednesday.
    assert request.step_deadline is not None
    assert request.step_deadline.date() == date(2025, 11, 26)


def test_two_person_rule(session: Session, settings: Settings) -> None:
    reviewer = add_staff(session, StaffRole.BILLING_REVIEWER)
    supervisor = add_staff(session, StaffRole.SUPERVISOR, "+989120000002")
    request = new_request(session, RequestKind.BILL_REVIEW, RequestStatus.UNDER_REVIEW)
    original = session.get(Bill, request.disputed_bill_id)
    assert original is not None
    settings = settings.model_copy(update={"two_person_limit_rials": 100_000})
    took_effect = actions.uphold(
        session,
        request,
        reviewer,
        corrected_amount_rials=100_000,
        note="قرائت اشتباه",
        now=SATURDAY,
        settings=settings,
    )
    assert original.amount_rials - 100_000 > settings.two_person_limit_rials and not took_effect
    assert request.status == RequestStatus.UPHELD and request.corrected_bill_id is None
    with pytest.raises(Refused) as refused:
        actions.approve(session, request, reviewer, now=SATURDAY, settings=settings)
    assert refused.value.code == "same_person"
    actions.approve(session, request, supervisor, now=SATURDAY, settings=settings)
    session.commit()
    assert request.status == RequestStatus.RESULT_ANNOUNCED
    corrected = session.get(Bill, request.corrected_bill_id)
    assert corrected is not None and corrected.corrects_bill_id == original.id
    assert corrected.amount_rials == 100_000
    from backend.identifiers import parse_payment_id

    assert (
        parse_payment_id(
            corrected.payment_id, "".join(corrected.payment_id) and _bill_id(session, request)
        )
        == corrected.payment_id
    )
    notice = session.exec(select(Notice).where(Notice.kind == NoticeKind.RESULT_CORRECTED)).one()
    assert notice.essential and notice.params["corrected_rials"] == 100_000
    # Paying takes the bill ID with the new payment ID: the notice names both.
    assert notice.params["bill_id"] == _bill_id(session, request)
    assert notice.params["payment_id"] == corrected.payment_id


def _bill_id(session: Session, request: ServiceRequest) -> str:
    from backend.models import Subscription

    subscription = session.get(Subscription, request.subscription_id)
    assert subscription is not None
    return subscription.bill_id


def test_a_small_correction_takes_effect_at_once(session: Session, settings: Settings) -> None:
    reviewer = add_staff(session, StaffRole.BILLING_REVIEWER)
    request = new_request(session, RequestKind.BILL_REVIEW, RequestStatus.UNDER_REVIEW)
    original = session.get(Bill, request.disputed_bill_id)
    assert original is not None
    assert actions.uphold(
        session,
        request,
        reviewer,
        corrected_amount_rials=original.amount_rials - 5_000,
        note=None,
        now=SATURDAY,
        settings=settings,
    )
    assert request.status == RequestStatus.RESULT_ANNOUNCED


def test_rejection_is_announced_with_its_reason(session: Session, settings: Settings) -> None:
    reviewer = add_staff(session, StaffRole.BILLING_REVIEWER)
    request = new_request(session, RequestKind.BILL_REVIEW, RequestStatus.UNDER_REVIEW)
    actions.reject(
        session,
        request,
        reviewer,
        reason=RejectionReason.READING_CORRECT,
        note="عکس کنتور با قرائت یکی است",
        now=SATURDAY,
        settings=settings,
    )
    assert request.status == RequestStatus.RESULT_ANNOUNCED
    notice = session.exec(select(Notice).where(Notice.kind == NoticeKind.RESULT_REJECTED)).one()
    assert notice.params["rejection"] == "reading_correct"


def test_a_payment_moves_the_request_exactly_once(session: Session, settings: Settings) -> None:
    finance = add_staff(session, StaffRole.FINANCE)
    request = new_request(session, RequestKind.CONNECTION_REMOVAL, RequestStatus.SUBMITTED)
    payment = actions.announce_fee(
        session, request, finance, amount_rials=2_500_000, now=SATURDAY, settings=settings
    )
    session.commit()
    first = actions.record_payment(
        session,
        reference=payment.reference,
        method=PaymentMethod.ONLINE,
        provider_ref="T1",
        actor="provider",
        now=SATURDAY,
        settings=settings,
    )
    session.commit()
    second = actions.record_payment(
        session,
        reference=payment.reference,
        method=PaymentMethod.ONLINE,
        provider_ref="T1",
        actor="provider",
        now=SATURDAY,
        settings=settings,
    )
    session.commit()
    assert (first, second) == (True, False)
    assert request.status == RequestStatus.FEE_PAID
    pays = session.exec(
        select(RequestEvent).where(
            RequestEvent.request_id == request.id, RequestEvent.action == EventAction.PAY_FEE
        )
    ).all()
    assert len(pays) == 1


def test_withdrawing_after_payment_needs_the_no_refund_acknowledgement(
    session: Session, settings: Settings
) -> None:
    request = new_request(session, RequestKind.CONNECTION_REMOVAL, RequestStatus.FEE_PAID)
    with pytest.raises(Refused) as refused:
        actions.withdraw(
            session,
            request,
            actor="subscriber:telegram",
            no_refund_acknowledged=False,
            now=SATURDAY,
            settings=settings,
        )
    assert refused.value.code == "no_refund_not_acknowledged"
    actions.withdraw(
        session,
        request,
        actor="subscriber:telegram",
        no_refund_acknowledged=True,
        now=SATURDAY,
        settings=settings,
    )
    assert request.status == RequestStatus.WITHDRAWN and request.no_refund_acknowledged


def test_withdrawing_before_payment_cancels_the_fee(session: Session, settings: Settings) -> None:
    finance = add_staff(session, StaffRole.FINANCE)
    request = new_request(session, RequestKind.CONNECTION_REMOVAL, RequestStatus.SUBMITTED)
    payment = actions.announce_fee(
        session, request, finance, amount_rials=1_000_000, now=SATURDAY, settings=settings
    )
    actions.withdraw(
        session,
        request,
        actor="subscriber:bale",
        no_refund_acknowledged=False,
        now=SATURDAY,
        settings=settings,
    )
    assert payment.status == PaymentStatus.CANCELLED
    with pytest.raises(Refused):
        actions.record_payment(
            session,
            reference=payment.reference,
            method=PaymentMethod.ONLINE,
            provider_ref="late",
            actor="p",
            now=SATURDAY,
            settings=settings,
        )


def test_settle_waits_for_the_statement_to_be_paid(session: Session, settings: Settings) -> None:
    finance = add_staff(session, StaffRole.FINANCE)
    technician = add_staff(session, StaffRole.FIELD_TECHNICIAN, "+989120000003")
    request = new_request(session, RequestKind.CONNECTION_REMOVAL, RequestStatus.TERMS_ACCEPTED)
    with pytest.raises(Refused):
        actions.settle(session, request, finance, now=SATURDAY, settings=settings)
    actions.collect(
        session, request, technician, final_reading=12_345, now=SATURDAY, settings=settings
    )
    payment = actions.issue_statement(
        session, request, finance, amount_rials=750_000, now=SATURDAY, settings=settings
    )
    assert payment is not None
    with pytest.raises(Refused) as refused:
        actions.settle(session, request, finance, now=SATURDAY, settings=settings)
    assert refused.value.code == "statement_unpaid"
    actions.record_payment(
        session,
        reference=payment.reference,
        method=PaymentMethod.BANK,
        provider_ref="FISH-77",
        actor="staff:1",
        now=SATURDAY,
        settings=settings,
    )
    assert request.status == RequestStatus.SETTLED
    actions.close(session, request, finance, now=SATURDAY, settings=settings)
    assert request.status == RequestStatus.CLOSED
    clearance = session.exec(select(Notice).where(Notice.kind == NoticeKind.CLEARANCE)).one()
    assert clearance.essential


def test_a_credit_statement_settles_without_payment(session: Session, settings: Settings) -> None:
    finance = add_staff(session, StaffRole.FINANCE)
    request = new_request(session, RequestKind.CONNECTION_REMOVAL, RequestStatus.COLLECTED)
    assert (
        actions.issue_statement(
            session, request, finance, amount_rials=-200_000, now=SATURDAY, settings=settings
        )
        is None
    )
    actions.settle(session, request, finance, now=SATURDAY, settings=settings)
    assert request.status == RequestStatus.SETTLED
    assert session.exec(select(Payment)).all() == []


def test_meter_test_and_terms(session: Session, settings: Settings) -> None:
    technician = add_staff(session, StaffRole.FIELD_TECHNICIAN)
    request = new_request(session, RequestKind.CONNECTION_REMOVAL, RequestStatus.FEE_PAID)
    with pytest.raises(Refused):
        actions.record_meter_test(
            session,
            request,
            technician,
            result=MeterTestResult.OK,
            reading=-1,
            now=SATURDAY,
            settings=settings,
        )
    actions.record_meter_test(
        session,
        request,
        technician,
        result=MeterTestResult.FAULTY,
        reading=9_876,
        now=SATURDAY,
        settings=settings,
    )
    with pytest.raises(Refused):
        actions.announce_terms(
            session, request, technician, terms="  ", now=SATURDAY, settings=settings
        )
    actions.announce_terms(
        session,
        request,
        technician,
        terms="بدهی مصرف تا روز جمع‌آوری تسویه شود.",
        now=SATURDAY,
        settings=settings,
    )
    actions.answer_terms(
        session, request, accept=False, actor="subscriber:telegram", now=SATURDAY, settings=settings
    )
    assert request.status == RequestStatus.ARCHIVED
