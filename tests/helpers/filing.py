"""Filing requests as subscribers do in the dialogs, and reading them back from the database."""

from datetime import timedelta

from sqlmodel import Session, col, select

from backend.constants import Channel, ReviewReason
from backend.models import Bill, RequestEvent, ServiceRequest, Subscription, utcnow
from backend.service_requests import file_bill_review
from tests.helpers.chat import ChatUser


def latest_bill(session: Session, subscription: Subscription) -> Bill:
    bills = session.exec(select(Bill).where(Bill.subscription_id == subscription.id)).all()
    return max(bills, key=lambda bill: bill.current_reading_date)


def walk_to_documents(user: ChatUser, subscription: Subscription, bill: Bill) -> None:
    user.press("menu:review")
    user.say(subscription.bill_id)
    assert f"bill:{bill.id}" in user.buttons
    user.press(f"bill:{bill.id}")
    user.press("reason:wrong_reading")
    user.say("رقم کنتور در روز قرائت ۱۲۳۴۵ بود، نه ۱۳۰۰۰.")
    assert user.last.key == "review.ask_documents"


def request_of(session: Session, code: str) -> ServiceRequest:
    session.expire_all()
    return session.exec(select(ServiceRequest).where(ServiceRequest.tracking_code == code)).one()


def history_of(session: Session, code: str) -> list[tuple[str, str | None, str]]:
    """The request's history as (action, status it went to, actor)."""
    request = request_of(session, code)
    query = select(RequestEvent).where(RequestEvent.request_id == request.id)
    events = session.exec(query.order_by(col(RequestEvent.id))).all()
    return [(event.action, event.to_status, event.actor) for event in events]


def file_reviews(session: Session, subscription: Subscription, count: int) -> list[str]:
    """Reviews filed a day apart, the oldest (nearest deadline) first; their codes."""
    bills = session.exec(select(Bill).where(Bill.subscription_id == subscription.id)).all()
    now = utcnow()
    codes = []
    for index in range(count):
        request = file_bill_review(
            session,
            channel=Channel.TELEGRAM,
            channel_user_id="1001",
            bill=bills[index % len(bills)],
            reason=ReviewReason.HIGH_CONSUMPTION,
            description="مصرف زیاد",
            documents=[],
            now=now - timedelta(days=count - index),
            review_working_days=30,
        )
        codes.append(request.tracking_code)
    session.commit()
    return codes
