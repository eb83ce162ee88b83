"""A review's result as the subscriber sees it once it is announced: in «درخواست‌های من» and by
tracking code, the amounts, both IDs and the corrected bill as a PDF, or the reason and the
explanation; no more evidence taken; and the corrected bill in place of the original."""

import pytest
from sqlmodel import Session

from backend.constants import Channel, ReviewReason, StaffRole
from backend.models import Bill, Subscription, utcnow
from backend.service_requests import file_bill_review
from backend.settings import Settings
from backend.workflows import Refused
from bot.sms_desk import render_sms_answer
from channels.request_buttons import request_buttons
from dialogs.engine import DialogEngine
from tests.helpers.chat import ChatUser
from tests.helpers.filing import latest_bill, request_of
from tests.helpers.pdf import pdf_text, stored
from tests.helpers.staff import Hire
from tests.staff.conftest import file_review

MOBILE = "+989121234567"  # the factory subscription's registered mobile


def upheld(hire: Hire, code: str, amount: str = "520000") -> None:
    """The reviewer corrects the bill of 585,000 rials (below the two-person limit: at once)."""
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.say(f"/take {code}")
    assert reviewer.confirmed(f"/decide {code} upheld {amount}")[0] == "staff.corrected"


def test_an_upheld_review_shows_the_amounts_both_ids_and_the_corrected_bill(
    subscriber: ChatUser,
    review: str,
    hire: Hire,
    session: Session,
    subscription: Subscription,
    settings: Settings,
) -> None:
    upheld(hire, review)
    corrected = session.get(Bill, request_of(session, review).corrected_bill_id)
    assert corrected is not None and corrected.payment_id

    subscriber.press(f"req:show:{review}")
    assert subscriber.keys == ["requests.detail_result"]
    text = subscriber.text()
    assert "اعتراض شما پذیرفته شد" in text and "نتیجه اعلام شد" in text
    assert "۵۸۵٬۰۰۰" in text and "۵۲۰٬۰۰۰" in text
    assert subscription.bill_id in text and corrected.payment_id in text
    # The bill comes with it, and nothing more is asked for: no "add documents".
    assert subscriber.answer is not None
    (file,) = subscriber.answer.replies[-1].files
    assert file.content_type == "application/pdf" and file.name.endswith(".pdf")
    paper = pdf_text(stored(settings, file))
    for words in ("صورت‌حساب اصلاح‌شده", "مریم احمدی", subscription.bill_id, corrected.payment_id):
        assert words in paper, words
    assert "۵۸۵٬۰۰۰ ریال" in paper and "۵۲۰٬۰۰۰ ریال" in paper
    assert not [value for value in subscriber.buttons if value.startswith("req:docs:")]
    subscriber.press(f"req:docs:{review}")
    assert subscriber.keys[0] == "requests.not_now"

    # By its tracking code, in the chat that filed it: the same result, the same bill.
    subscriber.say("/start")
    subscriber.say(review)
    assert subscriber.keys[0] == "track.status_result"
    assert "۵۲۰٬۰۰۰" in subscriber.text() and corrected.payment_id in subscriber.text()
    assert [f.name for f in subscriber.answer.replies[0].files] == [file.name]

    # The result's notice carries a button that sends the bill again.
    buttons = request_buttons(session, request_of(session, review))
    assert [b.value for row in buttons for b in row] == [f"req:bill:{review}"]
    subscriber.press(f"req:bill:{review}")
    assert subscriber.keys[0] == "requests.corrected_bill"
    assert subscriber.answer.replies[0].files == [file]  # the same bytes, stored once


def test_someone_else_with_the_code_learns_only_that_it_was_announced(
    review: str, hire: Hire, dialog_engine: DialogEngine
) -> None:
    upheld(hire, review)
    stranger = ChatUser(dialog_engine, user_id="7007")
    stranger.say("/start")
    stranger.say(review)
    assert stranger.keys[0] == "track.status_result_elsewhere"
    assert "۵۲۰٬۰۰۰" not in stranger.text()
    assert stranger.answer is not None and not any(r.files for r in stranger.answer.replies)


def test_by_sms_from_the_registered_mobile_the_result_in_words(
    review: str,
    hire: Hire,
    dialog_engine: DialogEngine,
    session: Session,
    subscription: Subscription,
) -> None:
    upheld(hire, review)
    payment_id = session.get(Bill, request_of(session, review).corrected_bill_id).payment_id
    phone = ChatUser(dialog_engine, user_id=MOBILE, channel=Channel.SMS)
    phone.say(review)
    assert phone.keys[0] == "outcome.upheld_sms"
    assert phone.answer is not None and not any(r.files for r in phone.answer.replies)
    # Whole in the two parts a reply may take: both IDs, the amounts.
    sms = render_sms_answer(phone.answer, 2)
    assert payment_id in sms and "۵۸۵٬۰۰۰" in sms and "۵۲۰٬۰۰۰" in sms
    assert review in sms and subscription.bill_id in sms
    phone.say("/start")
    phone.press(f"req:bill:{review}")  # SMS carries no files: where to get it instead
    assert phone.keys[0] == "requests.corrected_bill_in_messenger"


def test_a_rejected_review_shows_the_reason_and_the_explanation(
    subscriber: ChatUser, review: str, hire: Hire
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    reviewer.say(f"/take {review}")
    explanation = "عکس کنتور رقم ۱۰٬۵۲۰ را نشان می‌دهد که با قبض یکی است."
    typed = f"/decide {review} rejected reading_correct {explanation}"
    assert reviewer.confirmed(typed)[0] == "staff.rejected"
    subscriber.press(f"req:show:{review}")
    text = subscriber.text()
    assert "اعتراض شما پذیرفته نشد" in text
    assert "رقم کنتور درست خوانده شده است" in text and explanation in text
    assert subscriber.answer is not None and not subscriber.answer.replies[-1].files
    assert not [value for value in subscriber.buttons if value.startswith("req:docs:")]
    subscriber.say("/start")
    subscriber.say(review)
    assert subscriber.keys[0] == "track.status_result" and explanation in subscriber.text()


def test_the_corrected_bill_replaces_the_original_in_the_bill_list(
    subscriber: ChatUser,
    review: str,
    hire: Hire,
    session: Session,
    subscription: Subscription,
    dialog_engine: DialogEngine,
) -> None:
    original = latest_bill(session, subscription)
    earlier = ChatUser(dialog_engine, user_id="7007")  # shown the list before the correction
    earlier.say("/start")
    earlier.press("menu:review")
    earlier.say(subscription.bill_id)
    assert f"bill:{original.id}" in earlier.buttons
    upheld(hire, review)
    hire(StaffRole.BILLING_REVIEWER).run(f"/close {review}")
    corrected = session.get(Bill, request_of(session, review).corrected_bill_id)
    assert corrected is not None

    subscriber.press("menu:review")
    subscriber.say(subscription.bill_id)
    buttons = subscriber.buttons
    # The period's bill is the corrected one, the original under it marked as replaced.
    assert buttons[:2] == [f"bill:{corrected.id}", f"bill_replaced:{original.id}"]
    assert f"bill:{original.id}" not in buttons
    text = subscriber.text()
    assert "۵۲۰٬۰۰۰ ریال، اصلاح‌شده" in text and "۵۸۵٬۰۰۰ ریال، جایگزین‌شده" in text
    assert len([value for value in buttons if value.startswith("bill:")]) == 6  # six periods

    subscriber.press(f"bill_replaced:{original.id}")
    assert subscriber.keys[0] == "review.bill_replaced" and "۵۲۰٬۰۰۰" in subscriber.text()
    earlier.press(f"bill:{original.id}")
    assert earlier.keys[0] == "review.bill_replaced"
    with pytest.raises(Refused) as refused:
        file_bill_review(
            session,
            channel=Channel.TELEGRAM,
            channel_user_id="1001",
            bill=original,
            reason=ReviewReason.OTHER,
            description="دوباره",
            documents=[],
            now=utcnow(),
            review_working_days=3,
        )
    assert refused.value.code == "bill_replaced"
    session.rollback()

    # The corrected bill itself may be disputed.
    assert file_review(subscriber, subscription, corrected)
