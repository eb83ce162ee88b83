"""No after-sales service is filed on a connection removed for good: the bill ID is refused
with why, and asked again."""

from sqlmodel import Session, select

from backend.constants import SubscriptionStatus
from backend.models import ServiceRequest, Subscription
from tests.helpers.chat import ChatUser


def test_a_removed_connection_takes_no_service(
    user: ChatUser, subscription: Subscription, session: Session
) -> None:
    subscription.status = SubscriptionStatus.REMOVED
    session.add(subscription)
    session.commit()
    user.press("menu:services")
    user.press("svc:meter_test")
    user.say(subscription.bill_id)
    assert user.keys[0] == "service.subscription_removed"
    assert user.last.key == "service.ask_bill_id"  # asked again
    assert session.exec(select(ServiceRequest)).first() is None
