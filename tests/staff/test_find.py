"""`/find` by what people quote: a bill ID, a mobile, a national ID, in any form typed; the
requests newest first, in pages, personal data as the role sees it."""

from sqlmodel import Session

from backend.constants import StaffRole
from backend.models import Customer, Subscription
from locales.values import Code, Msg
from tests.factories import add_subscription
from tests.helpers.filing import file_reviews
from tests.helpers.staff import Hire, StaffChat, lines_of

NATIONAL_ID = "0012345679"  # its check digit is right; 0012345678's is not


def found(chat: StaffChat) -> list[str]:
    """The codes listed on the page shown, in order."""
    return [line.params["code"].value for line in lines_of(chat.last)[1:] if "code" in line.params]


def head(chat: StaffChat) -> dict[str, object]:
    return dict(lines_of(chat.last)[0].params)


def with_national_id(session: Session, subscription: Subscription) -> None:
    customer = session.get(Customer, subscription.customer_id)
    assert customer is not None
    customer.national_id = NATIONAL_ID
    session.add(customer)
    session.commit()


def test_find_by_bill_id_mobile_or_national_id_newest_first_in_pages(
    hire: Hire, session: Session, subscription: Subscription
) -> None:
    with_national_id(session, subscription)
    codes = file_reviews(session, subscription, 7)  # the oldest first
    other = add_subscription(session, file_number=51122, mobile="+989350001111")
    file_reviews(session, other, 1)
    finance = hire(StaffRole.FINANCE)

    persian_bill_id = subscription.bill_id.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    for typed in (persian_bill_id, "+98 912 123 4567", "0912-123-4567", "۰۰۱۲۳۴۵۶۷۹"):
        finance.say(f"/find {typed}")
        assert head(finance)["total"] == 7 and head(finance)["pages"] == 2, typed
        assert found(finance) == codes[::-1][:5], typed  # the newest first
    finance.press("staff_find:p:1")
    assert found(finance) == codes[::-1][5:]
    assert head(finance)["page"] == 2

    # Codes are isolated values; the national ID is masked for finance, in the list and the head.
    (item, *_) = lines_of(finance.last)[1:]
    assert item.params["code"] == Code(codes[1])
    assert f"\u2066{codes[1]}\u2069" in finance.text()  # kept left to right in Persian text
    finance.say("/find 0012345679")
    assert head(finance)["what"] == Msg("staff.find.by_national_id", {"value": Code("******5679")})
    assert NATIONAL_ID not in finance.text() and "******5679" in finance.text()
    assert "09121234567" not in finance.text()  # nor do they see the mobile

    # A button under the list opens the file.
    show = next(value for value in finance.buttons if value.startswith("staff_find:show:"))
    finance.press(show)
    assert finance.heads == ["staff.show.head", "staff.history.head", "staff.show.documents"]

    supervisor = hire(StaffRole.SUPERVISOR)
    supervisor.say("/find 0012345679")
    assert NATIONAL_ID in supervisor.text()
    # Those who see the mobile read it whole, as Iranians write it, in the list and the file.
    assert "\u206609121234567\u2069" in supervisor.text() and "+98" not in supervisor.text()
    supervisor.press(next(v for v in supervisor.buttons if v.startswith("staff_find:show:")))
    assert "\u206609121234567\u2069" in supervisor.text() and "+98" not in supervisor.text()


def test_find_refuses_what_is_none_of_them_or_mistyped(
    hire: Hire, session: Session, subscription: Subscription
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    wrong_digit = subscription.bill_id[:-1] + str((int(subscription.bill_id[-1]) + 1) % 10)
    for typed, key in (
        ("0012345678", "refused.find_checksum"),
        (wrong_digit, "refused.find_checksum"),
        ("6843834777428", "refused.find_checksum"),
        ("مریم احمدی", "refused.find_unreadable"),
        ("", "staff.usage"),
    ):
        assert reviewer.run(f"/find {typed}".strip())[0] == key, typed
    reviewer.say(f"/find {subscription.bill_id}")
    assert head(reviewer)["total"] == 0
    assert lines_of(reviewer.last)[1].key == "staff.find.none"
