"""«دفاتر پیشخوان» in the subscriber's menu: the counters at work in a city, typed however; and
the reply that sends a subscriber to file in person names their city's counters."""

import sqlalchemy as sa
from sqlmodel import Session

from backend.constants import CounterStatus, RequestKind
from backend.models import Counter, Customer, Subscription
from dialogs.counter_finder import CITY_PREFIX
from tests.counters.conftest import CounterAt
from tests.helpers.chat import ChatUser


def moved(session: Session, counter: Counter, city: str, name: str) -> Counter:
    counter.city, counter.name = city, name
    session.add(counter)
    session.commit()
    return counter


def test_the_counters_of_a_city_typed_with_arabic_letters_and_a_space(
    user: ChatUser, session: Session, counter_at: CounterAt
) -> None:
    both = (RequestKind.BILL_REVIEW, RequestKind.CONNECTION_REMOVAL)
    moved(session, counter_at(CounterStatus.ACTIVE, services=both), "شاهین‌شهر", "دفتر آفتاب")
    moved(session, counter_at(CounterStatus.ACTIVE), "شاهین‌شهر", "دفتر بهار")
    moved(session, counter_at(CounterStatus.ACTIVE), "کاشان", "دفتر کویر")
    moved(session, counter_at(CounterStatus.APPROVED), "شاهین‌شهر", "دفتر تازه")  # not at work
    user.press("menu:counters")
    assert user.keys == ["counters.ask_city"]
    assert user.buttons[:2] == [f"{CITY_PREFIX}0", f"{CITY_PREFIX}1"]
    assert "شاهین‌شهر" in user.text() and "کاشان" in user.text()

    user.say("شاهين  شهر")  # Arabic ي, and a space where the name has a ZWNJ
    assert user.keys == ["staff.lines", "menu.prompt"]
    text = user.text()
    assert "دفاتر پیشخوان فعال در شاهین‌شهر (۲ دفتر)" in text
    assert "دفتر آفتاب" in text and "دفتر بهار" in text
    assert "دفتر کویر" not in text and "دفتر تازه" not in text
    assert "خیابان ولیعصر" in text and "041-33445566" not in text  # kept as 11 digits
    assert "04133445566" in text
    assert "اعتراض به صورت‌حساب، جمع‌آوری دائم انشعاب" in text


def test_a_city_without_counters_is_asked_again_and_a_button_answers(
    user: ChatUser, session: Session, counter_at: CounterAt
) -> None:
    moved(session, counter_at(CounterStatus.ACTIVE), "کاشان", "دفتر کویر")
    user.press("menu:counters")
    user.say("یزد")
    assert user.keys == ["counters.city_unknown", "counters.ask_city"]
    user.press(f"{CITY_PREFIX}0")
    assert "دفتر کویر" in user.text()
    user.press("menu:language")
    user.press("lang:en")
    user.press("menu:counters")
    user.say("1")  # the first city's button, by its number
    assert "Pishkhan counters at work in کاشان (1 counter):" in user.text()


def test_no_counter_anywhere_is_said(user: ChatUser) -> None:
    user.press("menu:counters")
    assert user.keys == ["counters.none_anywhere"]


def test_filing_in_person_names_the_subscribers_city_counters(
    user: ChatUser, session: Session, subscription: Subscription, counter_at: CounterAt
) -> None:
    session.execute(sa.update(Customer).values(mobile=None))
    session.commit()
    user.press("menu:removal")
    user.say(subscription.bill_id)
    assert user.keys[0] == "removal.no_mobile"  # no counter in قم yet

    moved(session, counter_at(CounterStatus.ACTIVE), subscription.city, "دفتر صفاییه")
    user.press("menu:removal")
    user.say(subscription.bill_id)
    assert user.keys[0] == "removal.no_mobile_counters"
    assert "دفتر صفاییه (تبریز، خیابان ولیعصر، پلاک ۱۲)" in user.text()
