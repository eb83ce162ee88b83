"""The subscriber's later steps: "my requests", paying, the terms, withdrawing, the clearance."""

from sqlmodel import Session, select

from backend import actions
from backend.constants import (
    Channel,
    DocumentType,
    EventAction,
    PaymentMethod,
    PaymentStatus,
    RemovalReason,
    RequestStatus,
)
from backend.models import RequestEvent, Subscription, utcnow
from backend.payments import find_payment
from backend.service_requests import DraftDocument, file_removal
from dialogs.engine import DialogEngine
from dialogs.my_requests import request_buttons
from tests.factories import add_subscription
from tests.removal.conftest import MOBILE, Desk, Subscriber, file_by_contact


def test_my_requests_lists_the_senders_requests_with_what_they_can_do(
    telegram_user: Subscriber, dialog_engine: DialogEngine, subscription: Subscription
) -> None:
    stranger = Subscriber(dialog_engine, user_id="9999", channel=Channel.TELEGRAM)
    stranger.say("/start")
    stranger.press("menu:my_requests")
    assert stranger.keys == ["requests.none"]

    code = file_by_contact(telegram_user, subscription)
    telegram_user.press("menu:my_requests")
    assert telegram_user.last.key == "requests.list"
    telegram_user.press(f"req:show:{code}")
    assert telegram_user.last.key == "requests.detail"
    assert f"req:withdraw:{code}" in telegram_user.buttons
    assert not any(value.startswith("req:pay") for value in telegram_user.buttons)

    stranger.press(f"req:withdraw:{code}")  # a forged or forwarded button: not theirs
    assert stranger.keys == ["requests.not_found", "requests.none"]


def test_the_registered_mobile_sees_the_request_from_another_messenger(
    telegram_user: Subscriber, dialog_engine: DialogEngine, subscription: Subscription
) -> None:
    code = file_by_contact(telegram_user, subscription)
    bale = Subscriber(dialog_engine, user_id="777", channel=Channel.BALE)
    bale.say("/start")
    bale.press("menu:phone")
    bale.share_contact(MOBILE)
    bale.press("menu:my_requests")
    assert f"req:show:{code}" in bale.buttons


def test_paying_the_fee_gives_a_payment_link(
    telegram_user: Subscriber, desk: Desk, subscription: Subscription
) -> None:
    code = file_by_contact(telegram_user, subscription)
    reference = desk.announce_fee(code, 2_500_000, utcnow())
    telegram_user.press("menu:my_requests")
    telegram_user.press(f"req:show:{code}")
    assert f"req:pay:{code}" in telegram_user.buttons
    assert "۲٬۵۰۰٬۰۰۰" in telegram_user.text()
    telegram_user.press(f"req:pay:{code}")
    assert telegram_user.keys == ["requests.pay_link", "requests.detail"]
    assert f"http://127.0.0.1:8080/pay/{reference}" in telegram_user.text()


def test_withdrawing_after_the_fee_is_paid_says_nothing_is_refunded(
    telegram_user: Subscriber, desk: Desk, subscription: Subscription
) -> None:
    code = file_by_contact(telegram_user, subscription)
    now = utcnow()
    desk.pay_at_desk(desk.announce_fee(code, 2_500_000, now), now)
    assert desk.request(code).status == RequestStatus.FEE_PAID

    telegram_user.press(f"req:confirm:{code}")  # no question was put: nothing happens
    assert telegram_user.keys == ["input.button_expired", "menu.prompt"]
    telegram_user.press(f"req:withdraw:{code}")  # e.g. from the fee-received notice
    assert telegram_user.last.key == "requests.confirm_withdraw_no_refund"
    assert "بازگردانده نمی‌شود" in telegram_user.text()
    assert desk.request(code).status == RequestStatus.FEE_PAID
    telegram_user.press(f"req:confirm:{code}")
    assert telegram_user.keys == ["requests.withdrawn", "requests.detail"]
    request = desk.request(code)
    assert request.status == RequestStatus.WITHDRAWN
    assert request.no_refund_acknowledged
    telegram_user.press(f"req:confirm:{code}")  # the same button again
    assert telegram_user.keys == ["input.button_expired", "requests.detail"]


def test_a_fee_paid_while_the_question_was_open_puts_it_again_with_the_notice(
    telegram_user: Subscriber, desk: Desk, subscription: Subscription
) -> None:
    code = file_by_contact(telegram_user, subscription)
    now = utcnow()
    reference = desk.announce_fee(code, 2_500_000, now)
    telegram_user.press(f"req:withdraw:{code}")
    assert telegram_user.last.key == "requests.confirm_withdraw"  # nothing paid yet
    desk.pay_at_desk(reference, now)
    telegram_user.press(f"req:confirm:{code}")
    assert telegram_user.last.key == "requests.confirm_withdraw_no_refund"
    assert desk.request(code).status == RequestStatus.FEE_PAID
    telegram_user.press(f"req:confirm:{code}")
    assert desk.request(code).status == RequestStatus.WITHDRAWN


def test_withdrawing_before_paying_cancels_the_payment(
    telegram_user: Subscriber, desk: Desk, session: Session, subscription: Subscription
) -> None:
    code = file_by_contact(telegram_user, subscription)
    reference = desk.announce_fee(code, 2_500_000, utcnow())
    telegram_user.press(f"req:withdraw:{code}")
    telegram_user.press(f"req:confirm:{code}")
    assert desk.request(code).status == RequestStatus.WITHDRAWN
    session.expire_all()
    payment = find_payment(session, reference=reference)
    assert payment is not None and payment.status == PaymentStatus.CANCELLED


def terms_announced(user: Subscriber, desk: Desk, subscription: Subscription) -> str:
    code = file_by_contact(user, subscription)
    now = utcnow()
    desk.pay_at_desk(desk.announce_fee(code, 2_500_000, now), now)
    desk.announce_terms(code, now)
    return code


def test_declining_the_terms_from_the_notices_button_archives_the_request(
    telegram_user: Subscriber, desk: Desk, session: Session, subscription: Subscription
) -> None:
    code = terms_announced(telegram_user, desk, subscription)
    # The terms notice carries the buttons the request allows now.
    values = [b.value for row in request_buttons(session, desk.request(code)) for b in row]
    assert values == [f"req:accept:{code}", f"req:decline:{code}", f"req:withdraw:{code}"]

    telegram_user.press(
        "menu:review"
    )  # somewhere else entirely when the notice's button is pressed
    telegram_user.press(f"req:decline:{code}")
    assert telegram_user.last.key == "requests.confirm_decline_no_refund"
    assert desk.request(code).status == RequestStatus.TERMS_ANNOUNCED
    telegram_user.press(f"req:confirm:{code}")
    assert telegram_user.keys == ["requests.archived", "requests.detail"]
    assert desk.request(code).status == RequestStatus.ARCHIVED
    events = session.exec(select(RequestEvent.action, RequestEvent.actor)).all()
    assert (EventAction.DECLINE_TERMS, "subscriber:telegram") in events


def test_the_detail_shows_the_terms_and_accepting_them_moves_the_request_on(
    telegram_user: Subscriber, desk: Desk, subscription: Subscription
) -> None:
    code = terms_announced(telegram_user, desk, subscription)
    telegram_user.press("menu:my_requests")
    telegram_user.press(f"req:show:{code}")
    assert telegram_user.last.key == "requests.detail_terms"
    assert "کنتور سالم است" in telegram_user.text()
    telegram_user.press(f"req:accept:{code}")
    assert telegram_user.keys == ["requests.terms_accepted", "requests.detail"]
    assert desk.request(code).status == RequestStatus.TERMS_ACCEPTED
    telegram_user.press(f"req:decline:{code}")  # an old button: too late now
    assert telegram_user.keys == ["requests.not_now", "requests.detail"]


def test_the_final_clearance_once_the_removal_is_closed(
    telegram_user: Subscriber, desk: Desk, subscription: Subscription
) -> None:
    code = terms_announced(telegram_user, desk, subscription)
    telegram_user.press(f"req:accept:{code}")
    now, session, staff, settings = utcnow(), desk.session, desk.staff, desk.settings
    actions.collect(
        session, desk.request(code), staff, final_reading=12_400, now=now, settings=settings
    )
    statement = actions.issue_statement(
        session, desk.request(code), staff, amount_rials=1_200_000, now=now, settings=settings
    )
    session.commit()
    assert statement is not None
    telegram_user.press(f"req:show:{code}")
    assert f"req:pay:{code}" in telegram_user.buttons  # the final statement
    assert "req:clearance" not in " ".join(telegram_user.buttons)
    actions.record_payment(
        session,
        reference=statement.reference,
        method=PaymentMethod.BANK,
        provider_ref="bank-77",
        actor="test",
        now=now,
        settings=settings,
    )
    actions.close(session, desk.request(code), staff, now=now, settings=settings)
    session.commit()

    telegram_user.press(f"req:show:{code}")
    assert telegram_user.buttons[0] == f"req:clearance:{code}"
    telegram_user.press(f"req:clearance:{code}")
    assert telegram_user.keys == ["requests.clearance", "requests.detail"]
    text = telegram_user.text()
    assert "مفاصاحساب" in text and "۱٬۲۰۰٬۰۰۰" in text and subscription.bill_id in text


def test_a_confirm_button_of_another_request_does_not_answer_the_question_on_screen(
    telegram_user: Subscriber, desk: Desk, session: Session, subscription: Subscription
) -> None:
    first = file_by_contact(telegram_user, subscription)
    other = add_subscription(session, file_number=48999, mobile=MOBILE)
    id_card = DraftDocument("k", "0" * 64, 1, "image/jpeg", "id.jpg", DocumentType.ID_CARD)
    second = file_removal(
        session,
        channel=Channel.TELEGRAM,
        channel_user_id=telegram_user.user_id,
        subscription_id=other.id,
        reason=RemovalReason.OTHER,
        documents=[id_card],
        now=utcnow(),
        fee_announcement_working_days=1,
    ).tracking_code
    session.commit()
    telegram_user.press(f"req:withdraw:{first}")
    telegram_user.press(f"req:confirm:{second}")
    assert telegram_user.keys == ["input.button_expired", "requests.confirm_withdraw"]
    telegram_user.press(f"req:confirm:{first}")
    assert desk.request(first).status == RequestStatus.WITHDRAWN
    assert desk.request(second).status == RequestStatus.SUBMITTED
