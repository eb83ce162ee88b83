"""The commands every step answers: /start with a deep link, /status, /help, /language."""

from sqlmodel import Session, select

from backend.models import Bill, ServiceRequest, Subscription
from dialogs.bill_review import CONFIRM, DONE
from tests.helpers.chat import ChatUser


def file_review(user: ChatUser, session: Session, subscription: Subscription) -> str:
    bill = session.exec(select(Bill).where(Bill.subscription_id == subscription.id)).first()
    assert bill is not None
    user.press("menu:review")
    user.say(subscription.bill_id)
    user.press(f"bill:{bill.id}")
    user.press("reason:other")
    user.say("توضیح")
    user.press(DONE)
    user.press(CONFIRM)
    return session.exec(select(ServiceRequest.tracking_code)).one()


def test_a_deep_link_opens_the_follow_up(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    code = file_review(user, session, subscription)
    stranger = ChatUser(user.engine, user_id="2002")
    stranger.say(f"/start track_{code}")
    assert stranger.keys == ["track.status", "menu.prompt"]
    stranger.say("/start track_12345")
    assert stranger.keys == ["start.welcome", "menu.prompt"]


def test_status_with_and_without_a_code_keeps_the_draft(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    code = file_review(user, session, subscription)
    user.press("menu:review")
    user.say(subscription.bill_id)
    user.say(f"/status {code}")
    assert user.keys == ["track.status", "menu.prompt"]
    user.say("/status")
    assert user.keys == ["track.prompt"]
    user.say("/menu")
    user.press("menu:review")
    assert user.last.key == "review.ask_bill_id"


def test_help_explains_the_current_step_and_asks_again(
    user: ChatUser, subscription: Subscription
) -> None:
    user.press("menu:review")
    user.say("/help")
    assert user.keys == ["help.bill_id", "review.ask_bill_id"]
    user.say("/HELP@barq_bot")  # commands addressed to the bot, in any case
    assert user.keys == ["help.bill_id", "review.ask_bill_id"]


def test_language_returns_to_where_the_user_was(user: ChatUser, subscription: Subscription) -> None:
    user.press("menu:review")
    user.say("/language")
    assert user.keys == ["language.prompt"]
    user.press("lang:en")
    assert user.keys == ["language.changed", "review.ask_bill_id"]
    assert "Enter the electricity bill ID" in user.text()
