"""A removal filed by SMS, its ID card to follow from «درخواست‌های من»: no fee before it comes."""

import pytest
import respx
from sqlmodel import Session, col, select

from backend.constants import (
    Channel,
    DocumentType,
    EventAction,
    RemovalReason,
    RequestKind,
    RequestStatus,
    StaffRole,
)
from backend.models import Payment, RequestDocument, RequestEvent, ServiceRequest, Subscription
from bot.sms_desk import render_sms_answer
from dialogs.engine import DialogEngine
from tests.factories import add_subscription
from tests.helpers.filing import request_of
from tests.helpers.sms_desk import Phone, Webhook, reply_to, sent
from tests.helpers.staff import Hire, StaffChat
from tests.removal.conftest import JPEG, MOBILE, Subscriber

ID_CARD_MISSING = "کارت ملی متقاضی هنوز نرسیده است"  # the line of /show that says so


def file_by_sms(webhook: Webhook, gateway: respx.MockRouter, subscription: Subscription) -> str:
    """Texts our line from the registered mobile through the removal flow; the last reply."""
    phone = Phone(webhook, MOBILE)
    script = [
        ("سلام", "جمع‌آوری دائم انشعاب"),  # the menu
        ("۳", "شناسه قبض"),
        (subscription.bill_id, "دیگر به انشعاب نیاز ندارم"),  # the sender's number is the proof
        ("۲", "هیچ وجهی بازگردانده نمی‌شود"),  # no document steps: the condition, whole
        ("۱", "کارت ملی: هنوز نرسیده"),  # the summary
        ("۱", "کد رهگیری"),
    ]
    for number, (said, expected) in enumerate(script):
        before = len(sent(gateway))
        phone.text(said)
        reply = reply_to(gateway, before, MOBILE)  # one SMS, in at most two parts
        assert expected in reply, (said, reply)
        if number >= 3:
            assert "…" not in reply, reply  # not cut: all of it reaches the subscriber
    return reply


def filed_request(session: Session) -> ServiceRequest:
    session.expire_all()
    return session.exec(select(ServiceRequest)).one()


def documents(session: Session, request: ServiceRequest) -> list[tuple[str, str]]:
    session.expire_all()
    query = select(RequestDocument).where(RequestDocument.request_id == request.id)
    return [
        (d.doc_type, d.original_name) for d in session.exec(query.order_by(col(RequestDocument.id)))
    ]


def send_id_card_from_telegram(user: Subscriber, code: str) -> None:
    """In Telegram: the registered mobile shared, then «درخواست‌های من» → «افزودن مدرک»."""
    user.press("menu:phone")
    user.share_contact(MOBILE)
    user.press("menu:my_requests")
    user.press(f"req:show:{code}")
    user.press(f"req:docs:{code}")
    assert user.keys == ["requests.ask_paper"]
    user.press("paper:id_card")
    assert user.last.key == "requests.ask_papers"
    user.upload("id-card.jpg", JPEG, "image/jpeg")
    user.press("docs:done")
    assert user.keys == ["requests.documents_added", "requests.detail"]


def test_a_removal_is_filed_by_sms_without_documents_and_told_how_to_send_the_id_card(
    webhook: Webhook,
    gateway: respx.MockRouter,
    session: Session,
    subscription: Subscription,
) -> None:
    reply = file_by_sms(webhook, gateway, subscription)

    request = filed_request(session)
    assert request.kind == RequestKind.CONNECTION_REMOVAL
    assert request.status == RequestStatus.SUBMITTED
    assert (request.channel, request.channel_user_id) == (Channel.SMS, MOBILE)
    assert request.reason == "not_needed" and request.no_refund_acknowledged
    assert documents(session, request) == []
    # How the ID card is sent, and that the fee waits for it.
    assert request.tracking_code in reply and "کارت ملی" in reply
    assert "بله" in reply and "تلگرام" in reply
    assert "«درخواست‌های من»" in reply and "«افزودن مدرک»" in reply
    assert "درخواست‌های من" in reply and "هزینه" in reply


def test_no_fee_until_the_id_card_is_added_from_my_requests_in_telegram(
    webhook: Webhook,
    gateway: respx.MockRouter,
    session: Session,
    subscription: Subscription,
    telegram_user: Subscriber,
    hire: Hire,
) -> None:
    file_by_sms(webhook, gateway, subscription)
    code = filed_request(session).tracking_code
    finance = hire(StaffRole.FINANCE)

    assert finance.run(f"/fee {code} 2500000") == ["refused.id_card_missing"]
    assert "کارت ملی" in finance.text() and "چیزی تغییر نکرد" in finance.text()
    request = request_of(session, code)
    assert (request.status, request.fee_rials) == (RequestStatus.SUBMITTED, None)
    assert session.exec(select(Payment)).all() == []
    finance.say(f"/show {code}")
    assert ID_CARD_MISSING in finance.text()  # finance sees no identity papers, but this

    send_id_card_from_telegram(telegram_user, code)
    assert documents(session, request) == [(DocumentType.ID_CARD, "id-card.jpg")]
    events = select(RequestEvent.action, RequestEvent.actor).where(
        RequestEvent.request_id == request.id
    )
    assert (EventAction.ADD_DOCUMENTS, "subscriber:telegram") in session.exec(events).all()

    finance.say(f"/show {code}")
    assert ID_CARD_MISSING not in finance.text()
    assert finance.confirmed(f"/fee {code} 2500000")[0] == "staff.fee_announced"
    request = request_of(session, code)
    assert (request.status, request.fee_rials) == (RequestStatus.FEE_ANNOUNCED, 2_500_000)


def shown_files(chat: StaffChat) -> list[tuple[str, str]]:
    assert chat.answer is not None
    return [(f.name, f.content_type) for reply in chat.answer.replies for f in reply.files]


def test_a_billing_reviewer_is_told_the_id_card_is_missing_but_never_sent_it(
    webhook: Webhook,
    gateway: respx.MockRouter,
    session: Session,
    subscription: Subscription,
    telegram_user: Subscriber,
    hire: Hire,
) -> None:
    file_by_sms(webhook, gateway, subscription)
    code = filed_request(session).tracking_code
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    supervisor = hire(StaffRole.SUPERVISOR)
    reviewer.say(f"/show {code}")
    assert ID_CARD_MISSING in reviewer.text()

    send_id_card_from_telegram(telegram_user, code)
    reviewer.say(f"/show {code}")
    assert reviewer.heads == ["staff.show.head", "staff.history.head", "staff.show.documents"]
    assert shown_files(reviewer) == []  # identity papers are for admins and supervisors
    assert ID_CARD_MISSING not in reviewer.text() and "id-card.jpg" not in reviewer.text()
    supervisor.say(f"/show {code}")
    assert shown_files(supervisor) == [("id-card.jpg", "image/jpeg")]


def test_over_sms_adding_papers_says_where_they_can_be_added(
    dialog_engine: DialogEngine, session: Session, subscription: Subscription
) -> None:
    user = Subscriber(dialog_engine, user_id=MOBILE, channel=Channel.SMS)
    user.say("/start")
    user.press("menu:removal")
    user.say(subscription.bill_id)
    user.press("removal_reason:other")
    user.say("ساختمان فروخته شد")  # «سایر موارد», in words
    user.press("removal:acknowledge")
    user.press("removal:confirm")
    code = user.answer.replies[0].text.params["code"].value
    user.press("menu:my_requests")
    user.press(f"req:show:{code}")
    assert f"req:docs:{code}" in user.buttons
    user.press(f"req:docs:{code}")
    assert user.keys == ["review.documents_later", "requests.detail"]
    assert "پیامک" in user.text() and "درخواست‌های من" in user.text()
    assert documents(session, filed_request(session)) == []


@pytest.mark.parametrize("locale", ["fa", "en"])
@pytest.mark.parametrize("reason", list(RemovalReason))
def test_each_sms_step_of_the_removal_fits_a_reply_uncut(
    dialog_engine: DialogEngine, session: Session, locale: str, reason: RemovalReason
) -> None:
    """The bill ID asked for, the no-refund condition, the summary and the filed reply reach the
    subscriber whole in a reply's parts, with the longest bill ID (13 digits)."""
    longest = add_subscription(session, file_number=68438347, mobile=MOBILE)
    assert len(longest.bill_id) == 13
    user = Subscriber(dialog_engine, user_id=MOBILE, channel=Channel.SMS)
    user.say("/start")
    user.say("/language")
    user.press(f"lang:{locale}")
    max_parts = dialog_engine.settings.sms_reply_max_parts
    steps = [
        (lambda: user.press("menu:removal"), "removal.ask_bill_id_sms"),
        (lambda: user.say(longest.bill_id), None),
        (lambda: user.press(f"removal_reason:{reason}"), "removal.no_refund_sms"),
        (lambda: user.say("ساختمان فروخته شد"), "removal.no_refund_sms"),
        (lambda: user.press("removal:acknowledge"), "removal.summary_sms"),
        (lambda: user.press("removal:confirm"), "removal.filed_sms"),
    ]
    if reason == RemovalReason.OTHER:  # the reason in a few words, asked for in a reply too
        steps[2] = (steps[2][0], "removal.ask_reason_text")
    else:
        del steps[3]
    for act, key in steps:
        act()
        if key is None:
            continue
        assert user.keys[0] == key
        assert user.answer is not None
        whole = render_sms_answer(user.answer, max_parts=10)
        assert render_sms_answer(user.answer, max_parts) == whole, whole
