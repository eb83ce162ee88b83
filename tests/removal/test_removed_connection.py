"""A removal closed with its clearance: the certificate as a PDF with a code staff verify, and a
subscription that is removed from then on, which neither service takes again."""

from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlmodel import Session, select

from backend.constants import Channel, RemovalReason, StaffRole, SubscriptionStatus
from backend.models import OtpChallenge, Subscription, utcnow
from backend.outcomes import clearance_of, verify_clearance
from backend.service_requests import file_removal
from backend.settings import Settings
from backend.workflows import Refused
from tests.helpers.pdf import pdf_text, stored
from tests.helpers.staff import Hire
from tests.removal.conftest import Desk, SmsOutbox, Subscriber, file_by_contact


def closed_removal(user: Subscriber, desk: Desk, subscription: Subscription, debt: int) -> str:
    code = file_by_contact(user, subscription)
    now = utcnow()
    desk.pay_at_desk(desk.announce_fee(code, 2_500_000, now), now)
    desk.announce_terms(code, now)
    desk.close_with_clearance(code, now, debt=debt)
    return code


def test_the_clearance_is_a_pdf_with_a_code_that_staff_verify(
    telegram_user: Subscriber,
    desk: Desk,
    subscription: Subscription,
    settings: Settings,
    hire: Hire,
) -> None:
    code = closed_removal(telegram_user, desk, subscription, debt=250_000)
    clearance = clearance_of(desk.session, desk.request(code), settings)
    assert clearance is not None

    telegram_user.press(f"req:clearance:{code}")
    assert telegram_user.keys[0] == "requests.clearance"
    text = telegram_user.text()
    assert "۱۲۴۰۰" in text and "۱۲٬۴۰۰" not in text  # a reading, not an amount
    assert clearance.seal in text
    assert telegram_user.answer is not None
    (file,) = telegram_user.answer.replies[0].files
    assert file.content_type == "application/pdf"
    paper = pdf_text(stored(settings, file))
    for words in (
        "مفاصاحساب جمع‌آوری دائم انشعاب",
        "مریم احمدی",
        subscription.bill_id,
        "۱۲۴۰۰",
        "بدهی ۲۵۰٬۰۰۰ ریال، پرداخت‌شده",
        code,
        clearance.seal,
    ):
        assert words in paper, words

    # Any member of staff checks the paper: the code with its tracking code, in any digits.
    technician = hire(StaffRole.FIELD_TECHNICIAN)
    persian = clearance.seal.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    technician.say(f"/verify {code} {persian}")
    assert technician.heads == ["staff.verify.valid"]
    assert subscription.bill_id in technician.text() and "۲۵۰٬۰۰۰" in technician.text()
    altered = clearance.seal[:-1] + str((int(clearance.seal[-1]) + 1) % 10)
    assert technician.run(f"/verify {code} {altered}") == ["staff.verify.invalid"]
    assert subscription.bill_id not in technician.text()  # a wrong code tells nothing
    assert technician.run(f"/verify {code}") == ["staff.usage"]

    # The code is the server's: under another SECRET_KEY the same facts give another one.
    other = settings.model_copy(update={"secret_key": SecretStr("x" * 40)})
    assert verify_clearance(desk.session, desk.request(code), clearance.seal, other) is None


def test_a_request_without_a_clearance_verifies_nothing(
    telegram_user: Subscriber, subscription: Subscription, hire: Hire
) -> None:
    code = file_by_contact(telegram_user, subscription)  # open: no clearance yet
    finance = hire(StaffRole.FINANCE)
    assert finance.run(f"/verify {code} 0000-0000-0000") == ["staff.verify.invalid"]


def test_a_removed_connection_is_taken_by_neither_service(
    telegram_user: Subscriber,
    shell_user: Subscriber,
    desk: Desk,
    session: Session,
    subscription: Subscription,
    sms: SmsOutbox,
) -> None:
    code = closed_removal(telegram_user, desk, subscription, debt=0)
    session.refresh(subscription)
    assert subscription.status == SubscriptionStatus.REMOVED
    assert subscription.removed_at is not None
    assert abs(subscription.removed_at - utcnow()) < timedelta(minutes=5)

    # A second removal is refused at the bill ID, before any code is sent.
    sent = len(sms.sent)
    shell_user.press("menu:removal")
    shell_user.say(subscription.bill_id)
    assert shell_user.keys[0] == "removal.subscription_removed"
    assert "دیگر فعال نیست" in shell_user.text()
    assert session.exec(select(OtpChallenge)).all() == [] and len(sms.sent) == sent
    # Its bills are not offered for a review.
    telegram_user.press("menu:review")
    telegram_user.say(subscription.bill_id)
    assert telegram_user.keys[0] == "review.subscription_removed"
    assert not [value for value in telegram_user.buttons if value.startswith("bill:")]
    # In English too.
    telegram_user.say("/cancel")
    telegram_user.say("/language")
    telegram_user.press("lang:en")
    telegram_user.press("menu:removal")
    telegram_user.say(subscription.bill_id)
    assert "removed for good" in telegram_user.text()

    with pytest.raises(Refused) as refused:
        file_removal(
            session,
            channel=Channel.SMS,  # which may file with the ID card still to come
            channel_user_id="+989121234567",
            subscription_id=subscription.id,
            reason=RemovalReason.OTHER,
            documents=[],
            now=utcnow(),
            fee_announcement_working_days=1,
        )
    assert refused.value.code == "subscription_removed"
    session.rollback()
    assert desk.request(code).status == "closed"
