"""Staff carrying a permanent removal through every step, and recording payments once."""

import threading
import time

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.actions import answer_terms, pending_payment_of, record_payment, subscriber_actor
from backend.constants import (
    EventAction,
    NoticeKind,
    PaymentMethod,
    PaymentStatus,
    RequestStatus,
    StaffRole,
)
from backend.db import session_scope
from backend.models import Notice, Payment, Staff, Subscription, utcnow
from backend.settings import Settings
from backend.staff import record_desk_payment
from backend.workflows import Refused
from dialogs.staff import METHOD_PREFIX
from tests.factories import add_subscription
from tests.helpers.db import waits_for_a_lock
from tests.helpers.filing import history_of, request_of
from tests.helpers.staff import Hire
from tests.staff.conftest import file_removal

A, S = EventAction, RequestStatus
SUBSCRIBER = subscriber_actor("telegram")


def payments(session: Session, code: str) -> list[tuple[str, str, str | None, str | None]]:
    request = request_of(session, code)
    query = select(Payment).where(Payment.request_id == request.id).order_by(col(Payment.id))
    return [(p.purpose, p.status, p.method, p.provider_ref) for p in session.exec(query)]


def test_a_removal_through_every_step_to_closed_with_clearance(
    hire: Hire, session: Session, subscription: Subscription, settings: Settings
) -> None:
    code = file_removal(session, subscription, settings)
    finance = hire(StaffRole.FINANCE)
    technician = hire(StaffRole.FIELD_TECHNICIAN)

    # A removal has no "take" step: taking it assigns it to oneself.
    assert technician.run(f"/take {code}") == ["staff.taken"]
    assert request_of(session, code).assignee_id == technician.staff_id
    assert finance.confirmed(f"/fee {code} ۱٬۵۰۰٬۰۰۰")[0] == "staff.fee_announced"
    assert finance.run(f"/settle {code}") == ["refused.wrong_status"]

    # The subscriber pays the fee online and, after the meter test, accepts the terms.
    pending = pending_payment_of(session, request_of(session, code))
    assert pending is not None and pending.amount_rials == 1_500_000
    record_payment(
        session,
        reference=pending.reference,
        method=PaymentMethod.ONLINE,
        provider_ref="IPG-778812",
        actor=SUBSCRIBER,
        now=utcnow(),
        settings=settings,
    )
    session.commit()
    assert technician.run(f"/metertest {code} ok ۱۲٬۳۴۵") == ["staff.meter_tested"]
    assert finance.run(
        f"/terms {code} هزینه جمع‌آوری پرداخت شده است؛ بدهی مصرف پس از جمع‌آوری اعلام می‌شود."
    ) == ["staff.terms_announced"]
    answer_terms(
        session,
        request_of(session, code),
        accept=True,
        actor=SUBSCRIBER,
        now=utcnow(),
        settings=settings,
    )
    session.commit()
    # Below the meter test's reading:
    assert technician.run(f"/collected {code} 12000") == ["refused.bad_reading"]
    assert technician.run(f"/collected {code} 12400") == ["staff.collected"]
    assert finance.confirmed(f"/statement {code} +250,000")[0] == "staff.statement_issued"
    assert finance.run(f"/settle {code}") == ["refused.statement_unpaid"]
    assert "۲۵۰٬۰۰۰" in finance.text()
    finance.say(f"/paid {code} R-5521")
    assert finance.last.key == "staff.paid.ask_method"
    finance.press(f"{METHOD_PREFIX}in_person")
    assert finance.keys[0] == "staff.payment_recorded"
    assert request_of(session, code).status == S.SETTLED
    assert finance.run(f"/close {code}") == ["staff.closed"]

    request = request_of(session, code)
    assert request.status == S.CLOSED
    assert (request.fee_rials, request.meter_test_result, request.meter_test_reading) == (
        1_500_000,
        "ok",
        12_345,
    )
    assert (request.final_reading, request.statement_rials) == (12_400, 250_000)
    assert history_of(session, code) == [
        (A.SUBMITTED, S.SUBMITTED, SUBSCRIBER),
        (A.ASSIGN, None, technician.actor),
        (A.ANNOUNCE_FEE, S.FEE_ANNOUNCED, finance.actor),
        (A.PAY_FEE, S.FEE_PAID, SUBSCRIBER),
        (A.TEST_METER, S.METER_TESTED, technician.actor),
        (A.ANNOUNCE_TERMS, S.TERMS_ANNOUNCED, finance.actor),
        (A.ACCEPT_TERMS, S.TERMS_ACCEPTED, SUBSCRIBER),
        (A.COLLECT, S.COLLECTED, technician.actor),
        (A.ISSUE_STATEMENT, S.STATEMENT_ISSUED, finance.actor),
        (A.SETTLE, S.SETTLED, finance.actor),
        (A.CLOSE, S.CLOSED, finance.actor),
    ]
    assert payments(session, code) == [
        ("collection_fee", PaymentStatus.PAID, PaymentMethod.ONLINE, "IPG-778812"),
        ("final_statement", PaymentStatus.PAID, PaymentMethod.IN_PERSON, "R-5521"),
    ]
    notices = session.exec(select(Notice.kind).where(Notice.request_id == request.id)).all()
    assert NoticeKind.CLEARANCE in notices

    finance.say(f"/show {code}")
    text = finance.text()
    assert "۱٬۵۰۰٬۰۰۰" in text and "سالم" in text and "بدهی مشترک ۲۵۰٬۰۰۰ ریال" in text
    assert "علت درخواست: تخریب ساختمان" in text


def test_paid_twice_changes_nothing_the_second_time(
    hire: Hire, session: Session, subscription: Subscription, settings: Settings
) -> None:
    code = file_removal(session, subscription, settings)
    finance = hire(StaffRole.FINANCE)
    finance.confirmed(f"/fee {code} 900000")
    assert finance.run(f"/paid {code} ۷۷۸۸ bank") == ["staff.payment_recorded"]
    once = (history_of(session, code), payments(session, code))
    assert once[1] == [("collection_fee", PaymentStatus.PAID, PaymentMethod.BANK, "7788")]

    assert finance.run(f"/paid {code} 7788 bank") == ["staff.paid_already"]
    assert finance.run(f"/paid {code} 7788") == ["staff.paid_already"]
    assert finance.run(f"/paid {code} 9999 in_person") == ["refused.nothing_to_pay"]
    assert finance.run(f"/paid {code} 9999 online") == ["refused.bad_method"]
    assert (history_of(session, code), payments(session, code)) == once
    assert request_of(session, code).status == S.FEE_PAID


def test_amounts_and_readings_in_any_digits(
    hire: Hire, session: Session, subscription: Subscription, settings: Settings
) -> None:
    code = file_removal(session, subscription, settings)
    finance = hire(StaffRole.FINANCE)
    assert finance.run(f"/fee {code} -500") == ["refused.bad_amount"]
    assert finance.run(f"/fee {code} ۱۲۰۰۰۰۰ ریال") == ["refused.bad_amount"]
    # Arabic-Indic digits and the Arabic comma:
    assert finance.confirmed(f"/fee {code} ١،٢٠٠،٠٠٠")[0] == "staff.fee_announced"
    assert request_of(session, code).fee_rials == 1_200_000
    assert finance.run(f"/fee {code}") == ["staff.usage"]
    assert finance.run("/show 123") == ["track.invalid_format"]
    assert finance.run("/show 1234567890") == ["track.invalid_checksum"]


def test_a_receipt_pays_one_payment_of_one_request(
    hire: Hire, session: Session, subscription: Subscription, settings: Settings
) -> None:
    first = file_removal(session, subscription, settings)
    second = file_removal(session, add_subscription(session, file_number=48214), settings)
    finance = hire(StaffRole.FINANCE)
    for code in (first, second):
        finance.confirmed(f"/fee {code} 900000")
    assert finance.run(f"/paid {first} P2-1 in_person") == ["staff.payment_recorded"]
    before = payments(session, second)

    assert finance.run(f"/paid {second} P2-1 in_person") == ["refused.reference_used"]
    assert first in finance.text() and "P2-1" in finance.text()  # the request it paid
    assert finance.run(f"/paid {second} P2-1") == ["refused.reference_used"]
    assert payments(session, second) == before
    assert request_of(session, second).status == S.FEE_ANNOUNCED
    assert finance.run(f"/paid {first} P2-1 in_person") == ["staff.paid_already"]  # as before


def test_two_desks_typing_one_receipt_at_once_pay_one_request(
    engine: sa.Engine, hire: Hire, session: Session, subscription: Subscription, settings: Settings
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("on SQLite every writing transaction takes the database's write lock first")
    first = file_removal(session, subscription, settings)
    second = file_removal(session, add_subscription(session, file_number=48215), settings)
    finance = hire(StaffRole.FINANCE)
    for code in (first, second):
        finance.confirmed(f"/fee {code} 900000")
    staff = session.get(Staff, finance.staff_id)
    assert staff is not None

    def record(code: str, db: Session) -> None:
        record_desk_payment(
            db,
            request_of(db, code),
            staff,
            provider_ref="P7-1",
            method=PaymentMethod.BANK,
            now=utcnow(),
            settings=settings,
        )

    outcome: list[str] = []

    def second_desk() -> None:
        try:
            with session_scope(engine) as db:
                record(second, db)
            outcome.append("paid")
        except Refused as refused:
            outcome.append(refused.code)

    with session_scope(engine) as db:
        record(first, db)  # recorded, not yet committed, when the second desk types it
        other = threading.Thread(target=second_desk)
        other.start()
        deadline = time.monotonic() + 10
        while not outcome and not waits_for_a_lock(engine):
            assert time.monotonic() < deadline, "the second desk neither waited nor finished"
            time.sleep(0.01)
    other.join(10)
    assert outcome == ["reference_used"]
    assert [p[1:] for p in payments(session, second)] == [(PaymentStatus.PENDING, None, None)]
