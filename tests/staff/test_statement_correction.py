"""A final statement is corrected until it is paid: voided and issued again with the reason in the
history, shown before it is sent, the subscriber told, the old payment refused from then on."""

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
from backend.models import Notice, Payment, Subscription, utcnow
from backend.payments import CallbackOutcome, DevProvider, complete_online_payment
from backend.settings import Settings
from backend.workflows import Refused
from dialogs.staff import CONFIRM_SEND
from notifications.runtime import Notifier
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import TELEGRAM_TOKEN
from tests.helpers.chat import ChatUser
from tests.helpers.filing import history_of, request_of
from tests.helpers.staff import Hire, StaffChat
from tests.staff.conftest import file_removal

SUBSCRIBER = subscriber_actor("telegram")
REASON = "خسارت کنتور در صورت‌حساب قبلی دو بار حساب شده بود."


def pay(session: Session, settings: Settings, payment: Payment, receipt: str) -> None:
    record_payment(
        session,
        reference=payment.reference,
        method=PaymentMethod.ONLINE,
        provider_ref=receipt,
        actor=SUBSCRIBER,
        now=utcnow(),
        settings=settings,
    )
    session.commit()


def collected_removal(
    hire: Hire, session: Session, subscription: Subscription, settings: Settings
) -> tuple[str, StaffChat]:
    """A removal carried to its collection; its code, and the finance member who works it."""
    code = file_removal(session, subscription, settings)
    finance = hire(StaffRole.FINANCE)
    technician = hire(StaffRole.FIELD_TECHNICIAN)
    assert finance.confirmed(f"/fee {code} 1500000")[0] == "staff.fee_announced"
    fee = pending_payment_of(session, request_of(session, code))
    assert fee is not None
    pay(session, settings, fee, "IPG-1")
    assert technician.run(f"/metertest {code} سالم 12345") == ["staff.meter_tested"]
    assert finance.run(f"/terms {code} بدهی مصرف پس از جمع‌آوری اعلام می‌شود.") == [
        "staff.terms_announced"
    ]
    request = request_of(session, code)
    answer_terms(session, request, accept=True, actor=SUBSCRIBER, now=utcnow(), settings=settings)
    session.commit()
    assert technician.run(f"/collected {code} 12400") == ["staff.collected"]
    return code, finance


def statement_payments(session: Session, code: str) -> list[tuple[int, str]]:
    session.expire_all()
    request = request_of(session, code)
    query = select(Payment).where(Payment.request_id == request.id).order_by(col(Payment.id))
    return [(p.amount_rials, p.status) for p in session.exec(query)][1:]  # after the fee


def test_a_statement_is_voided_and_issued_again_until_it_is_paid(
    subscriber: ChatUser,  # the chat that filed the removal (telegram 1001)
    hire: Hire,
    session: Session,
    subscription: Subscription,
    settings: Settings,
    engine: sa.Engine,
    telegram_settings: Settings,
    fake_api: FakeBotAPI,
) -> None:
    code, finance = collected_removal(hire, session, subscription, settings)
    assert finance.confirmed(f"/statement {code} +1200000")[0] == "staff.statement_issued"
    old = pending_payment_of(session, request_of(session, code))
    assert old is not None and old.amount_rials == 1_200_000

    # Shown first, as /statement is: nothing changes before «تأیید و ارسال».
    assert finance.run(f"/correct {code} +۹۰۰٬۰۰۰ {REASON}") == ["staff.confirm.prompt"]
    assert "باطل" in finance.text() and REASON in finance.text()
    assert statement_payments(session, code) == [(1_200_000, PaymentStatus.PENDING)]
    assert finance.confirmed(f"/correct {code} +900000 {REASON}")[0] == "staff.statement_corrected"

    assert statement_payments(session, code) == [
        (1_200_000, PaymentStatus.CANCELLED),
        (900_000, PaymentStatus.PENDING),
    ]
    request = request_of(session, code)
    assert (request.status, request.statement_rials) == (RequestStatus.STATEMENT_ISSUED, 900_000)
    assert history_of(session, code)[-1] == (EventAction.CORRECT_STATEMENT, None, finance.actor)
    finance.say(f"/history {code}")
    assert REASON in finance.text()

    # The old payment can no longer be made: not by its page's provider, not recorded at all.
    form = {"outcome": "pay", "attempt": DevProvider.new_attempt()}
    outcome = complete_online_payment(
        engine,
        DevProvider(settings),
        reference=old.reference,
        form=form,
        now=utcnow(),
        settings=settings,
    )
    assert outcome == CallbackOutcome.NOT_PAYABLE
    with pytest.raises(Refused, match="payment_cancelled"):
        pay(session, settings, old, "IPG-OLD")
    session.rollback()

    # The subscriber is told, in their chat, with the new amount to pay under it.
    (notice,) = session.exec(
        select(Notice).where(Notice.kind == NoticeKind.STATEMENT_CORRECTED)
    ).all()
    assert notice.params["reason"] == REASON and notice.params["debt_rials"] == 900_000
    Notifier(telegram_settings, engine).run_pending()
    (message,) = [
        m
        for m in fake_api.sent_messages(TELEGRAM_TOKEN, int(subscriber.user_id))
        if "باطل" in m["text"]
    ]
    assert REASON in message["text"] and "۹۰۰٬۰۰۰" in message["text"]
    labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    assert any("۹۰۰٬۰۰۰" in label for label in labels)

    # Once paid, it is settled and corrected no more; nothing is asked to be confirmed.
    new = pending_payment_of(session, request_of(session, code))
    assert new is not None and new.amount_rials == 900_000
    pay(session, settings, new, "IPG-2")
    assert request_of(session, code).status == RequestStatus.SETTLED
    assert finance.run(f"/correct {code} +800000 {REASON}") == ["refused.statement_paid"]


def test_a_correction_says_what_is_wrong_before_it_is_asked(
    hire: Hire, session: Session, subscription: Subscription, settings: Settings
) -> None:
    code, finance = collected_removal(hire, session, subscription, settings)
    # No statement yet: nothing to correct.
    assert finance.run(f"/correct {code} +900000 {REASON}")[0] == "refused.wrong_status"
    assert finance.confirmed(f"/statement {code} -300000")[0] == "staff.statement_issued"
    assert finance.run(f"/correct {code} -300000 {REASON}") == ["refused.same_statement"]
    assert finance.run(f"/correct {code} +900000") == ["staff.usage"]
    # A credit corrected to a debt asks for it to be paid.
    assert finance.confirmed(f"/correct {code} +900000 {REASON}")[0] == "staff.statement_corrected"
    assert statement_payments(session, code) == [(900_000, PaymentStatus.PENDING)]
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    assert reviewer.run(f"/correct {code} +800000 {REASON}")[0] == "staff.not_your_role"


def test_the_previews_name_the_final_statement_once(
    hire: Hire, session: Session, subscription: Subscription, settings: Settings
) -> None:
    code, finance = collected_removal(hire, session, subscription, settings)
    assert finance.run(f"/statement {code} +250000") == ["staff.confirm.prompt"]
    assert finance.text().count("صورت‌حساب نهایی") == 1, finance.text()
    assert "صورت‌حساب نهایی: بدهی مشترک ۲۵۰٬۰۰۰ ریال" in finance.text()
    finance.press(CONFIRM_SEND)
    assert finance.keys[0] == "staff.statement_issued"
    assert finance.run(f"/correct {code} +300000 {REASON}") == ["staff.confirm.prompt"]
    shown = finance.text()
    assert "باطل شد" in shown and "بدهی مشترک ۳۰۰٬۰۰۰ ریال (اصلاح‌شده)" in shown, shown
    assert shown.count("صورت‌حساب نهایی") == 2, shown  # the void one and the new one
