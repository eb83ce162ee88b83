"""What people type is normalized before it is matched or kept: labels typed with Arabic letters,
control characters (a NUL that PostgreSQL's text columns refuse) dropped from every input."""

import pytest
from sqlmodel import Session, select

from backend.models import Conversation, ServiceRequest, Subscription
from dialogs import states
from dialogs.bill_review import CONFIRM, DONE
from tests.helpers.chat import ChatUser
from tests.helpers.filing import latest_bill
from tests.helpers.samples import METER_PHOTO as JPEG


def state_of(session: Session, user: ChatUser) -> str:
    session.expire_all()
    query = select(Conversation.state).where(Conversation.user_id == user.user_id)
    return session.exec(query).one()


@pytest.mark.parametrize(
    ("typed", "state"),
    [
        ("پيگيري درخواست", states.TRACK_CODE),  # Arabic ي, as Arabic keyboards type it
        ("  پیگیری   درخواست ", states.TRACK_CODE),
        ("درخواست‌هاي من", states.MY_REQUESTS),
        ("شناسه\u200c\u200cهاي قبض من و اطلاعيه\u200cها", states.FOLLOW_LIST),
        ("جمع\u200cآوري دائم انشعاب", states.REMOVAL_BILL_ID),
        ("۲", states.TRACK_CODE),  # its number, in Persian digits
    ],
)
def test_a_menu_label_is_recognised_however_it_is_typed(
    user: ChatUser, session: Session, typed: str, state: str
) -> None:
    user.say("/start")
    user.say(typed)
    assert state_of(session, user) == state


def test_an_english_label_in_other_letter_case(user: ChatUser, session: Session) -> None:
    user.say("/start")
    user.say("/language")
    user.press("lang:en")
    user.say("follow up a REQUEST")
    assert state_of(session, user) == states.TRACK_CODE


def test_a_nul_and_other_controls_in_a_description_are_dropped_and_it_is_filed(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    bill = latest_bill(session, subscription)
    user.press("menu:review")
    user.say(f"{subscription.bill_id}\x00")
    user.press(f"bill:{bill.id}")
    user.press("reason:wrong_reading")
    user.say("رقم\x00 کنتور\x1b[31m اشتباه\x07 است.\r\nخط دوم\tبا تب\x7f\x85")
    assert user.last.key == "review.ask_documents"
    user.upload("meter.jpg", JPEG, "image/jpeg")
    user.press(DONE)
    user.press(CONFIRM)
    assert user.keys[0] == "review.filed"
    request = session.exec(select(ServiceRequest)).one()
    assert request.description == "رقم کنتور[31m اشتباه است.\nخط دوم با تب"
