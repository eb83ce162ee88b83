"""The subscriber's small frictions: whose bills are listed, a bill ID sent at the menu, and the
followed bill IDs (their names, and dropping one after asking once)."""

from sqlmodel import Session

from backend import preferences
from backend.constants import Channel, SubscriptionStatus
from backend.identifiers import make_bill_id
from backend.models import Customer, Subscription, utcnow
from backend.service_requests import masked_holder
from dialogs.engine import DialogEngine
from tests.factories import add_subscription
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import BALE_TOKEN, TELEGRAM_TOKEN
from tests.helpers.chat import ChatUser
from tests.helpers.filing import latest_bill, walk_to_documents
from tests.helpers.messenger_user import MessengerUser


def shown(user: ChatUser) -> str:
    """What the user reads, without the bidi isolates around codes."""
    return user.text().replace("\u2066", "").replace("\u2069", "")


def test_the_bill_list_shows_whose_bills_masked(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    user.press("menu:review")
    user.say(subscription.bill_id)
    assert user.last.key == "review.ask_bill"
    shown = user.text()
    assert "مریم ا." in shown and "قم، خیابان صفاییه، …" in shown
    assert "احمدی" not in shown and "کوچه" not in shown and "پلاک" not in shown


def test_masking_keeps_the_first_name_and_the_street_only(session: Session) -> None:
    subscription = add_subscription(session, file_number=51234)
    customer = session.get(Customer, subscription.customer_id)
    assert customer is not None
    cases = [
        (
            "علی‌اکبر محمدی",
            "قم، صفاییه، بلوار امین، کوچه ۳، پلاک ۱۲",
            "علی‌اکبر م.",
            "قم، صفاییه، بلوار امین، …",
        ),
        ("زهرا", "کاشان، فین، کوچه ۸", "ز.", "کاشان، فین، …"),
        ("سید حسن موسوی", "خیابان ارم", "سید حسن م.", "…"),
    ]
    for name, address, masked_name, masked_address in cases:
        customer.full_name, subscription.address = name, address
        holder = masked_holder(session, subscription)
        assert (holder.name, holder.address) == (masked_name, masked_address)


def test_a_bill_id_at_the_menu_offers_what_can_be_done_with_it(
    dialog_engine: DialogEngine, session: Session, subscription: Subscription
) -> None:
    def at_menu() -> ChatUser:
        chat = ChatUser(dialog_engine, user_id="2002")
        chat.say("/start")
        chat.say(subscription.bill_id)
        assert chat.last.key == "menu.bill_id_found"
        assert chat.buttons[:4] == ["bid:review", "bid:removal", "bid:follow", "bid:requests"]
        return chat

    chat = at_menu()
    chat.press("bid:review")
    assert chat.last.key == "review.ask_bill"  # as if typed at the review's first question
    assert f"bill:{latest_bill(session, subscription).id}" in chat.buttons
    chat = at_menu()
    chat.press("bid:removal")
    assert chat.last.key == "removal.ask_contact"
    chat = at_menu()
    chat.press("bid:follow")
    assert chat.keys == ["follow.added", "follow.ask_label"]
    chat = at_menu()
    chat.press("bid:requests")
    assert chat.last.key == "requests.none"


def test_a_bill_ids_requests_are_only_the_senders_for_it(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    other = add_subscription(session, file_number=61234)
    for filed in (subscription, other):
        walk_to_documents(user, filed, latest_bill(session, filed))
        user.press("docs:done")
        user.press("summary:confirm")
    user.say(other.bill_id)
    user.press("bid:requests")
    assert user.last.key == "requests.list"
    assert len(user.buttons) == 1 + 2  # its one request, and back and cancel
    user.press("nav:back")
    user.press("menu:my_requests")
    assert len(user.buttons) == 2 + 2  # from the menu: all of them


def test_an_unknown_bill_id_at_the_menu_says_so(user: ChatUser) -> None:
    user.say(make_bill_id(99999, 774))
    assert user.keys == ["review.bill_id_unknown", "menu.prompt"]


def test_a_mistyped_bill_id_at_the_menu_says_which_way(user: ChatUser) -> None:
    valid = make_bill_id(12345678, 774)  # 13 digits: no tracking code's length
    user.say(valid[:-1] + str((int(valid[-1]) + 1) % 10))  # one digit off
    assert user.keys == ["review.bill_id_checksum", "menu.prompt"]
    user.say(make_bill_id(12345678, 774, service_type=1))  # a water bill's
    assert user.keys == ["review.bill_id_not_electricity", "menu.prompt"]
    user.say("سلام")
    assert user.keys == ["input.use_buttons", "menu.prompt"]


def test_a_removed_connections_bill_id_at_the_menu_offers_only_its_requests(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    # Neither service takes it, and it has no notices to follow: nothing else is offered.
    subscription.status, subscription.removed_at = SubscriptionStatus.REMOVED, utcnow()
    session.add(subscription)
    session.commit()
    user.say(subscription.bill_id)
    assert user.last.key == "menu.bill_id_removed"
    assert "به‌طور دائم جمع‌آوری شده" in user.text()
    assert user.buttons[:2] == ["bid:requests", "nav:back"]
    user.press("bid:requests")
    assert user.last.key == "requests.none"


def test_a_followed_bill_id_carries_a_name_shown_in_the_list_and_changeable(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    user.press("menu:follow")
    user.press("fol:add")
    user.say(subscription.bill_id)
    assert user.keys == ["follow.added", "follow.ask_label"]
    user.say("ب" * 31)
    assert user.keys == ["follow.label_too_long", "follow.ask_label"]
    user.say("  خانه  پدری ")
    assert user.keys == ["follow.label_set", "follow.list"]
    assert f"خانه پدری ({subscription.bill_id})" in shown(user)
    [one] = preferences.followed(session, channel=Channel.TELEGRAM, user_id=user.user_id)
    assert one.label == "خانه پدری"
    user.press(f"fol:label:{subscription.id}")
    user.say("مغازه")
    assert f"مغازه ({subscription.bill_id})" in shown(user) and "خانه پدری" not in shown(user)
    user.press(f"fol:label:{subscription.id}")
    user.press("fol:nolabel")  # the name taken away
    assert user.last.key == "follow.list" and "مغازه" not in shown(user)


def test_removing_a_followed_bill_id_names_it_and_asks_once(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    user.press("menu:follow")
    user.press("fol:add")
    user.say(subscription.bill_id)
    user.say("مغازه")
    user.press(f"fol:rm:{subscription.id}")
    assert user.last.key == "follow.confirm_remove"
    assert f"مغازه ({subscription.bill_id})" in shown(user)
    assert preferences.followed(session, channel=Channel.TELEGRAM, user_id=user.user_id)
    user.press("fol:yes")
    assert user.keys == ["follow.removed", "follow.none"]
    assert f"مغازه ({subscription.bill_id})" in shown(user)
    assert preferences.followed(session, channel=Channel.TELEGRAM, user_id=user.user_id) == []


def test_going_back_from_the_question_keeps_the_bill_id(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    user.press("menu:follow")
    user.press("fol:add")
    user.say(subscription.bill_id)
    user.press("fol:nolabel")
    user.press(f"fol:rm:{subscription.id}")
    user.press("nav:back")
    assert user.last.key == "follow.list"
    assert len(preferences.followed(session, channel=Channel.TELEGRAM, user_id=user.user_id)) == 1


def test_in_telegram_and_bale_the_bill_list_names_the_holder_masked(
    fake_api: FakeBotAPI, polling_bots: None, session: Session, subscription: Subscription
) -> None:
    for token, shape, user_id in ((TELEGRAM_TOKEN, "telegram", 7301), (BALE_TOKEN, "bale", 7302)):
        messenger = MessengerUser(fake_api, token, user_id, shape=shape)
        messenger.say("/start")
        messenger.say(subscription.bill_id)  # at the menu: what can be done with it
        assert "bid:review" in messenger.buttons()
        messenger.press("bid:review")
        assert "مشترک: مریم ا.، نشانی: قم، خیابان صفاییه، …" in messenger.text
        assert "احمدی" not in messenger.text and "پلاک" not in messenger.text
        assert f"bill:{latest_bill(session, subscription).id}" in messenger.buttons()
