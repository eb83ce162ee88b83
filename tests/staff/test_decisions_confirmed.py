"""A decision cannot be wrong in the obvious ways, and what sends money matters to a subscriber is
shown and sent only once confirmed: /decide, /fee and /statement."""

from sqlmodel import Session, col, select

from backend.constants import NoticeKind, RequestStatus, StaffRole
from backend.models import Notice, Payment, Subscription
from backend.settings import Settings
from dialogs.staff import CONFIRM_CANCEL, CONFIRM_SEND, REASON_PREFIX, REJECTED, UPHELD
from tests.helpers.filing import request_of
from tests.helpers.staff import Hire
from tests.staff.conftest import file_removal

SHOWN = "این پیام برای مشترک ارسال می‌شود"


def notices_of(session: Session, code: str) -> list[str]:
    request = request_of(session, code)
    query = select(Notice.kind).where(Notice.request_id == request.id).order_by(col(Notice.id))
    return list(session.exec(query))


def test_an_upheld_amount_above_the_bill_is_refused(
    review: str, hire: Hire, session: Session
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.run(f"/take {review}")
    before = notices_of(session, review)
    assert reviewer.run(f"/decide {review} upheld 3,000,000") == ["refused.correction_not_lower"]
    assert "۵۸۵٬۰۰۰" in reviewer.text()  # the bill's amount, which a correction stays below
    reviewer.say(f"/decide {review}")
    reviewer.press(UPHELD)
    assert reviewer.run("3000000") == ["refused.correction_not_lower", "staff.decide.ask_amount"]
    assert request_of(session, review).status == RequestStatus.UNDER_REVIEW
    assert notices_of(session, review) == before


def test_an_amount_in_part_thousands_is_refused_not_rounded(
    review: str, hire: Hire, session: Session
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.run(f"/take {review}")
    assert reviewer.run(f"/decide {review} upheld 150500") == ["refused.not_whole_thousands"]
    assert "۱۵۰٬۰۰۰" in reviewer.text() and "۱۵۱٬۰۰۰" in reviewer.text()
    assert request_of(session, review).proposed_amount_rials is None


def test_an_explanation_must_say_something(review: str, hire: Hire, session: Session) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.run(f"/take {review}")
    for explanation in (".", "۱۲۳۴۵۶۷۸۹۰۱۲", "رد شد."):
        typed = f"/decide {review} rejected reading_correct {explanation}"
        assert reviewer.run(typed) == ["refused.explanation_too_short"], explanation
    reviewer.say(f"/decide {review}")
    reviewer.press(REJECTED)
    reviewer.press(f"{REASON_PREFIX}reading_correct")
    assert reviewer.run(".") == ["refused.explanation_too_short", "staff.decide.ask_note"]
    assert request_of(session, review).status == RequestStatus.UNDER_REVIEW


def test_a_decision_is_shown_and_sent_only_once_confirmed(
    review: str, hire: Hire, session: Session
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.run(f"/take {review}")
    before = notices_of(session, review)
    assert reviewer.run(f"/decide {review} upheld 520,000") == ["staff.confirm.prompt"]
    text = reviewer.text()
    assert SHOWN in text and "۵۸۵٬۰۰۰" in text and "۵۲۰٬۰۰۰" in text
    assert reviewer.buttons == [CONFIRM_SEND, CONFIRM_CANCEL]
    assert request_of(session, review).status == RequestStatus.UNDER_REVIEW
    assert notices_of(session, review) == before

    reviewer.press(CONFIRM_CANCEL)
    assert reviewer.keys[0] == "staff.confirm.cancelled"
    assert request_of(session, review).status == RequestStatus.UNDER_REVIEW
    assert notices_of(session, review) == before

    assert reviewer.confirmed(f"/decide {review} upheld 520,000")[0] == "staff.corrected"
    assert request_of(session, review).status == RequestStatus.RESULT_ANNOUNCED
    assert notices_of(session, review) == [*before, NoticeKind.RESULT_CORRECTED]


def test_a_confirmation_after_the_request_moved_on_is_refused(
    review: str, hire: Hire, session: Session
) -> None:
    first, second = hire(StaffRole.BILLING_REVIEWER), hire(StaffRole.BILLING_REVIEWER)
    first.run(f"/take {review}")
    explanation = "عکس کنتور همان رقم صورت‌حساب را نشان می‌دهد."
    assert second.run(f"/decide {review} rejected reading_correct {explanation}") == [
        "staff.confirm.prompt"
    ]
    assert first.confirmed(f"/decide {review} upheld 520000")[0] == "staff.corrected"
    second.press(CONFIRM_SEND)
    assert second.keys == ["refused.wrong_status", "menu.prompt"]
    assert request_of(session, review).decision_reason is None


def test_fee_and_statement_are_shown_before_they_are_sent(
    hire: Hire, session: Session, subscription: Subscription, settings: Settings
) -> None:
    code = file_removal(session, subscription, settings)
    finance = hire(StaffRole.FINANCE)
    assert finance.run(f"/fee {code} 1,500,000") == ["staff.confirm.prompt"]
    assert SHOWN in finance.text() and "۱٬۵۰۰٬۰۰۰" in finance.text()
    request = request_of(session, code)
    assert session.exec(select(Payment).where(Payment.request_id == request.id)).all() == []
    assert request.status == RequestStatus.SUBMITTED
    finance.press(CONFIRM_SEND)
    assert finance.keys[0] == "staff.fee_announced"
    assert request_of(session, code).fee_rials == 1_500_000


def test_choices_in_persian_words_and_labels(review: str, hire: Hire, session: Session) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.run(f"/take {review}")
    assert reviewer.run(f"/decide {review} پذیرش ۵۲۰٬۰۰۰") == ["staff.confirm.prompt"]
    reviewer.press(CONFIRM_CANCEL)
    explanation = "عکس کنتور همان رقم صورت‌حساب را نشان می‌دهد."
    for typed in ("قرائت", "رقم کنتور درست خوانده شده است", "reading_correct"):
        assert reviewer.run(f"/decide {review} رد {typed} {explanation}") == [
            "staff.confirm.prompt"
        ], typed
        assert "رقم کنتور درست خوانده شده است" in reviewer.text()
        assert explanation in reviewer.text()
    reviewer.press(CONFIRM_SEND)
    request = request_of(session, review)
    assert (request.decision_reason, request.decision_note) == ("reading_correct", explanation)
    help_text = (reviewer.say("/staffhelp"), reviewer.text())[1]
    assert "reading_correct" not in help_text and "upheld" not in help_text


def test_payment_and_meter_words_in_persian_and_the_history_in_words(
    hire: Hire, session: Session, subscription: Subscription, settings: Settings
) -> None:
    code = file_removal(session, subscription, settings)
    finance, technician = hire(StaffRole.FINANCE), hire(StaffRole.FIELD_TECHNICIAN)
    finance.confirmed(f"/fee {code} 900000")
    assert finance.run(f"/paid {code} 123456 بانک") == ["staff.payment_recorded"]
    assert technician.run(f"/metertest {code} سالم ۱۲۳۴۵") == ["staff.meter_tested"]
    assert request_of(session, code).meter_test_result == "ok"
    finance.say(f"/history {code}")
    text = finance.text()
    assert "واریز بانکی" in text and "123456" in text and "bank 123456" not in text
    for typed in ("معیوب", "faulty"):
        assert technician.run(f"/metertest {code} {typed} x") == ["refused.bad_reading"]
    help_text = (technician.say("/staffhelp"), technician.text())[1]
    assert "سالم|معیوب" in help_text and "ok|faulty" not in help_text
