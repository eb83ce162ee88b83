"""A counter's operator files for the subscriber at the counter: the consent code texted to the
registered mobile, then the subscriber's own flow; the request is the counter's, its notices the
subscriber's. Every refusal, and what an operator may see."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.constants import (
    Channel,
    CounterAction,
    CounterReason,
    CounterStatus,
    EventAction,
    NoticeKind,
    OtpPurpose,
    RequestKind,
    StaffRole,
)
from backend.counter_workflow import apply
from backend.counters import add_operator
from backend.models import (
    ChannelIdentity,
    Counter,
    Customer,
    FollowedSubscription,
    Notice,
    NoticeDelivery,
    OtpChallenge,
    RequestDocument,
    ServiceRequest,
    Staff,
    Subscription,
    utcnow,
)
from backend.settings import Settings
from dialogs.codes import RESEND
from dialogs.engine import DialogEngine
from dialogs.events import EventKind
from notifications.policy import plan_deliveries
from tests.counters.conftest import ADMIN, NOW, CounterAt
from tests.factories import add_subscription
from tests.helpers.chat import ChatUser
from tests.helpers.filing import history_of, latest_bill, request_of
from tests.helpers.samples import SHELL_METER_PHOTO as JPEG
from tests.helpers.staff import Hire, StaffChat, code_texted_to

COUNTER_NAME = "دفتر پیشخوان دولت ولیعصر"  # tests/counters/conftest.py's


CONSENT_CODES = select(OtpChallenge).where(OtpChallenge.purpose == OtpPurpose.COUNTER)


class Subscriber(ChatUser):
    def share_contact(self, phone: str) -> None:
        self._send(kind=EventKind.CONTACT, phone=phone, contact_is_own=True)


def consent_code(db: sa.Engine, settings: Settings, mobile: str) -> str:
    """The latest consent code texted to `mobile`, as its SMS says it."""
    return code_texted_to(db, settings, mobile, NoticeKind.COUNTER_CODE)


def operator_at(
    session: Session, counter: Counter, hire: Hire, name: str = "سارا کریمی"
) -> StaffChat:
    """An operator of the counter, bound in Telegram."""
    chat = hire(StaffRole.COUNTER_OPERATOR, name)
    staff = session.get(Staff, chat.staff_id)
    assert staff is not None
    add_operator(session, counter, staff, actor=ADMIN, now=NOW)
    session.commit()
    return chat


def mobile_of(session: Session, subscription: Subscription) -> str:
    customer = session.get(Customer, subscription.customer_id)
    assert customer is not None and customer.mobile is not None
    return customer.mobile


def consent(operator: StaffChat, session: Session, subscription: Subscription) -> None:
    """`/onbehalf` for a review up to the subscriber's code read back."""
    operator.run("/onbehalf")
    operator.press(f"onbehalf:{RequestKind.BILL_REVIEW}")
    operator.say(subscription.bill_id)
    assert operator.last.key == "counter_filing.code_prompt", operator.keys
    db, settings = operator.engine.db, operator.engine.settings
    operator.say(consent_code(db, settings, mobile_of(session, subscription)))


def file_review_at_counter(
    operator: StaffChat, session: Session, subscription: Subscription
) -> ServiceRequest:
    consent(operator, session, subscription)
    bill = latest_bill(session, subscription)
    operator.press(f"bill:{bill.id}")
    operator.press("reason:wrong_reading")
    operator.say("مشترک می‌گوید رقم کنتور ۱۲۳۴۵ بود.")
    operator.upload("meter-scan.jpg", JPEG, "image/jpeg")
    operator.press("docs:done")
    operator.press("summary:confirm")
    assert operator.keys == ["counter_filing.filed", "menu.prompt"], operator.keys
    code = operator.answer.replies[0].text.params["code"].value if operator.answer else ""
    return request_of(session, code)


@pytest.fixture
def active(counter_at: CounterAt) -> Counter:
    return counter_at(CounterStatus.ACTIVE, services=(RequestKind.BILL_REVIEW,))


def test_an_operator_files_a_review_with_the_subscribers_code(
    session: Session,
    dialog_engine: DialogEngine,
    settings: Settings,
    active: Counter,
    subscription: Subscription,
    hire: Hire,
) -> None:
    operator = operator_at(session, active, hire)
    operator.run("/onbehalf")
    assert operator.last.key == "counter_filing.ask_service"
    assert COUNTER_NAME in operator.text()
    assert operator.buttons[:1] == [f"onbehalf:{RequestKind.BILL_REVIEW}"]
    assert f"onbehalf:{RequestKind.CONNECTION_REMOVAL}" not in operator.buttons
    operator.press(f"onbehalf:{RequestKind.BILL_REVIEW}")
    operator.say(subscription.bill_id)
    assert operator.last.key == "counter_filing.code_prompt"
    assert "0912***4567" in operator.text()

    # The SMS says which counter asks, for what: the subscriber reads it out knowingly.
    notice = session.exec(select(Notice).where(Notice.kind == NoticeKind.COUNTER_CODE)).one()
    assert (notice.to_mobile, notice.essential) == (mobile_of(session, subscription), True)
    assert {notice.params["counter"], notice.params["service"]} == {COUNTER_NAME, "bill_review"}
    code = consent_code(dialog_engine.db, settings, "+989121234567")
    operator.say("000000" if code != "000000" else "111111")
    assert operator.keys[0] == "otp.wrong"
    operator.say(code)
    assert operator.keys[0] == "counter_filing.consented"
    assert operator.last.key == "review.ask_bill"  # the subscriber's own flow from here

    bill = latest_bill(session, subscription)
    operator.press(f"bill:{bill.id}")
    operator.press("reason:wrong_reading")
    operator.say("مشترک می‌گوید رقم کنتور ۱۲۳۴۵ بود.")
    operator.upload("meter-scan.jpg", JPEG, "image/jpeg")
    operator.press("docs:done")
    operator.press("summary:edit")
    assert "edit:bill_id" not in operator.buttons  # another bill ID is another consent
    operator.press("edit:description")
    operator.say("مشترک می‌گوید رقم کنتور ۱۲۳۴۵ بود، نه ۱۳۰۰۰.")
    operator.press("summary:confirm")
    filed = operator.text()
    assert operator.keys == ["counter_filing.filed", "menu.prompt"]
    assert "0912***4567" in filed

    request = session.exec(select(ServiceRequest)).one()
    assert request.tracking_code in filed
    staff_id = operator.staff_id
    assert (request.channel, request.channel_user_id) == (Channel.COUNTER, active.code)
    assert (request.counter_id, request.filed_by_id) == (active.id, staff_id)
    assert request.description == "مشترک می‌گوید رقم کنتور ۱۲۳۴۵ بود، نه ۱۳۰۰۰."
    assert history_of(session, request.tracking_code) == [
        (EventAction.SUBMITTED, "submitted", f"staff:{staff_id}")
    ]
    scans = session.exec(select(RequestDocument).where(RequestDocument.request_id == request.id))
    assert [d.original_name for d in scans] == ["meter-scan.jpg"]
    session.refresh(notice)
    assert notice.request_id == request.id  # staff see the consent with the request's notices

    # Nothing of the subscriber's is recorded for the operator's own chat.
    identity = session.exec(
        select(ChannelIdentity).where(ChannelIdentity.external_user_id == operator.user_id)
    ).one()
    assert identity.phone == operator.phone
    follows = select(FollowedSubscription).where(FollowedSubscription.user_id == operator.user_id)
    assert session.exec(follows).all() == []


def test_a_removal_at_a_counter_takes_the_same_code_as_its_proof(
    session: Session,
    dialog_engine: DialogEngine,
    settings: Settings,
    counter_at: CounterAt,
    subscription: Subscription,
    hire: Hire,
) -> None:
    counter = counter_at(CounterStatus.ACTIVE, services=(RequestKind.CONNECTION_REMOVAL,))
    operator = operator_at(session, counter, hire)
    operator.run("/onbehalf removal")
    operator.say(subscription.bill_id)
    assert operator.last.key == "counter_filing.code_prompt"  # not a contact, in Telegram
    operator.say(consent_code(dialog_engine.db, settings, mobile_of(session, subscription)))
    assert operator.last.key == "removal.ask_reason"
    operator.press("removal_reason:demolition")
    operator.upload("id-card.jpg", JPEG, "image/jpeg")
    operator.press("docs:done")
    operator.press("property:none")
    operator.press("removal:acknowledge")
    operator.press("removal:confirm")
    assert operator.keys == ["counter_filing.filed", "menu.prompt"], operator.keys

    request = session.exec(select(ServiceRequest)).one()
    assert (request.kind, request.channel, request.counter_id) == (
        RequestKind.CONNECTION_REMOVAL,
        Channel.COUNTER,
        counter.id,
    )
    assert request.no_refund_acknowledged
    codes = select(OtpChallenge.purpose).where(OtpChallenge.user_id == operator.user_id)
    # The operator's own phone's, to bind the account; then one code, no second proof.
    assert session.exec(codes.order_by(col(OtpChallenge.id))).all() == [
        OtpPurpose.STAFF,
        OtpPurpose.COUNTER,
    ]


@pytest.mark.parametrize("back", ["nav:back", "menu.prompt"])
def test_the_subscribers_own_flow_does_not_carry_a_counter_consent(
    session: Session,
    dialog_engine: DialogEngine,
    counter_at: CounterAt,
    subscription: Subscription,
    hire: Hire,
    back: str,
) -> None:
    counter = counter_at(CounterStatus.ACTIVE, services=tuple(RequestKind))
    operator = operator_at(session, counter, hire)
    consent(operator, session, subscription)
    assert operator.last.key == "review.ask_bill"
    if back == "nav:back":  # back from the bills: the counter's bill ID, for a new code
        operator.press("nav:back")
        assert operator.last.key == "counter_filing.ask_bill_id"
        operator.say(subscription.bill_id)  # the same one: consented already, no new code
        assert operator.last.key == "review.ask_bill"
        assert len(session.exec(CONSENT_CODES).all()) == 1
        return
    # The menu's removal, for the same bill ID: the operator's own chat proves nothing.
    operator.run("/menu")
    operator.press("menu:removal")
    operator.say(subscription.bill_id)
    assert operator.last.key == "removal.ask_contact", operator.keys
    session.expire_all()
    identity = session.exec(
        select(ChannelIdentity).where(ChannelIdentity.external_user_id == operator.user_id)
    ).one()
    assert identity.phone == operator.phone


def test_a_counter_without_the_service_or_not_at_work_is_refused(
    session: Session, counter_at: CounterAt, subscription: Subscription, hire: Hire
) -> None:
    counter = counter_at(CounterStatus.ACTIVE, services=(RequestKind.BILL_REVIEW,))
    operator = operator_at(session, counter, hire)
    operator.run("/onbehalf removal")
    assert operator.keys == ["counter_filing.not_delegated", "menu.prompt"]
    refused = operator.text()
    assert COUNTER_NAME in refused and "جمع‌آوری دائم انشعاب" in refused

    # A filing under way when the counter is suspended is refused at its confirmation.
    consent(operator, session, subscription)
    operator.press(f"bill:{latest_bill(session, subscription).id}")
    operator.press("reason:wrong_reading")
    operator.say("رقم کنتور اشتباه است.")
    operator.press("docs:done")
    apply(session, counter, CounterAction.SUSPEND, actor=ADMIN, now=NOW, reason=CounterReason.OTHER)
    session.commit()
    operator.press("summary:confirm")
    assert operator.keys == ["counter_filing.not_active", "menu.prompt"]
    assert "معلق" in operator.text() and COUNTER_NAME in operator.text()
    assert session.exec(select(ServiceRequest)).all() == []

    operator.run("/onbehalf")
    assert operator.keys == ["counter_filing.not_active", "menu.prompt"]
    operator.run("/onbehalf review")
    assert operator.keys == ["counter_filing.not_active", "menu.prompt"]


def test_who_may_not_file_at_a_counter_is_told_so(
    session: Session, active: Counter, hire: Hire
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    assert reviewer.run("/onbehalf")[0] == "staff.not_your_role"
    unlinked = hire(StaffRole.COUNTER_OPERATOR)  # works at no counter
    assert unlinked.run("/onbehalf")[0] == "refused.counter_not_operator"
    operator = operator_at(session, active, hire)
    assert operator.run("/onbehalf something")[0] == "staff.usage"


def test_a_subscription_with_no_registered_mobile_is_refused_with_what_to_do(
    session: Session, active: Counter, hire: Hire
) -> None:
    subscription = add_subscription(session, file_number=48214, mobile=None)  # type: ignore[arg-type]
    session.commit()
    operator = operator_at(session, active, hire)
    operator.run("/onbehalf review")
    operator.say(subscription.bill_id)
    assert operator.keys == ["counter_filing.no_mobile", "counter_filing.ask_bill_id"]
    assert "۱۵۲۱" in operator.text()
    assert session.exec(select(Notice).where(Notice.kind == NoticeKind.COUNTER_CODE)).all() == []


def test_wrong_expired_and_resent_codes_are_as_in_a_removal(
    session: Session,
    dialog_engine: DialogEngine,
    settings: Settings,
    active: Counter,
    subscription: Subscription,
    hire: Hire,
) -> None:
    operator = operator_at(session, active, hire)
    operator.run("/onbehalf review")
    operator.say(subscription.bill_id)
    operator.say("12")
    assert operator.keys[0] == "otp.not_a_code"
    operator.press(RESEND)
    assert operator.keys[0] == "otp.too_soon"  # moments after the first

    challenge = session.exec(CONSENT_CODES).one()
    challenge.created_at -= timedelta(minutes=10)
    challenge.expires_at = utcnow() - timedelta(seconds=1)
    session.add(challenge)
    session.commit()
    operator.say(consent_code(dialog_engine.db, settings, mobile_of(session, subscription)))
    assert operator.keys[0] == "otp.expired"
    operator.press(RESEND)
    assert operator.keys[0] == "otp.sent_again"
    assert len(session.exec(CONSENT_CODES).all()) == 2
    resent = session.exec(select(Notice).where(Notice.kind == NoticeKind.COUNTER_CODE)).all()
    assert [n.params["counter"] for n in resent] == [COUNTER_NAME, COUNTER_NAME]

    wrong = "000000"
    for left in range(settings.otp_max_attempts - 1, 0, -1):
        operator.say(wrong)
        assert operator.keys[0] == "otp.wrong" and operator.answer is not None
        assert operator.answer.replies[0].text.params["left"] == left
    operator.say(wrong)
    assert operator.keys == ["otp.locked", "menu.prompt"]
    assert session.exec(select(ServiceRequest)).all() == []


def test_an_operator_sees_only_their_counters_requests(
    session: Session,
    dialog_engine: DialogEngine,
    counter_at: CounterAt,
    subscription: Subscription,
    hire: Hire,
) -> None:
    mine, theirs = counter_at(CounterStatus.ACTIVE), counter_at(CounterStatus.ACTIVE)
    operator = operator_at(session, mine, hire)
    other = operator_at(session, theirs, hire, "علی نادری")
    customer = session.get(Customer, subscription.customer_id)
    assert customer is not None
    customer.national_id = "0012345678"
    neighbour = add_subscription(session, file_number=48215, mobile="+989127654321")
    neighbour_customer = session.get(Customer, neighbour.customer_id)
    assert neighbour_customer is not None
    neighbour_customer.full_name, neighbour_customer.national_id = "حسن رضوی", "0098765432"
    session.add_all([customer, neighbour_customer])
    session.commit()

    own = file_review_at_counter(operator, session, subscription)
    elsewhere = file_review_at_counter(other, session, neighbour)
    subscriber = ChatUser(dialog_engine, user_id="7401")
    subscriber.say("/start")
    subscriber.press("menu:review")
    subscriber.say(subscription.bill_id)
    bills = [b for b in subscriber.buttons if b.startswith("bill:")]
    subscriber.press(bills[1])
    subscriber.press("reason:wrong_reading")
    subscriber.say("رقم کنتور اشتباه است.")
    subscriber.press("docs:done")
    subscriber.press("summary:confirm")
    in_bot = session.exec(
        select(ServiceRequest).where(ServiceRequest.channel == Channel.TELEGRAM)
    ).one()

    operator.run(f"/show {own.tracking_code}")
    shown = operator.text()
    assert own.tracking_code in shown and "مریم احمدی" in shown
    assert "0012345678" not in shown and "0912" not in shown  # masked, and no mobile
    assert "دفتر پیشخوان دولت ولیعصر" in shown  # where it was filed
    for code in (elsewhere.tracking_code, in_bot.tracking_code):
        operator.run(f"/show {code}")
        assert operator.keys == ["staff.out_of_scope"], operator.keys
        refused = operator.text()
        assert "حسن رضوی" not in refused and "0098765432" not in refused
        assert "مریم احمدی" not in refused
    # Nor are the subscriber's requests the operator's own in «درخواست‌های من».
    operator.press("menu:my_requests")
    assert operator.last.key == "requests.none"
    # Nor other staff commands.
    assert operator.run(f"/history {own.tracking_code}")[0] == "staff.not_your_role"
    assert operator.run("/find 0012345678")[0] == "staff.not_your_role"


def test_the_notices_of_a_counter_filing_go_to_the_subscriber(
    session: Session,
    dialog_engine: DialogEngine,
    active: Counter,
    subscription: Subscription,
    hire: Hire,
) -> None:
    operator = operator_at(session, active, hire)
    request = file_review_at_counter(operator, session, subscription)
    subscriber = Subscriber(dialog_engine, user_id="7401")
    subscriber.say("/start")
    subscriber.press("menu:my_requests")
    assert subscriber.last.key == "requests.none"  # not proved yet: whose could they be
    subscriber.press("nav:back")
    subscriber.press("menu:phone")
    subscriber.share_contact("+989121234567")
    subscriber.press("menu:my_requests")
    assert f"req:show:{request.tracking_code}" in subscriber.buttons

    def delivered(kind: NoticeKind) -> list[tuple[str, str]]:
        notice = session.exec(
            select(Notice).where(Notice.request_id == request.id, Notice.kind == kind)
        ).one()
        plan_deliveries(session, notice, messengers=[Channel.TELEGRAM, Channel.BALE], now=NOW)
        session.flush()
        rows = session.exec(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice.id))
        return sorted((row.channel, row.address) for row in rows)

    session.expire_all()
    # The receipt: the chat that proved the mobile, and the tracking code by SMS as well.
    assert delivered(NoticeKind.RECEIPT) == [
        (Channel.SMS, "+989121234567"),
        (Channel.TELEGRAM, "7401"),
    ]
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    assert reviewer.run(f"/take {request.tracking_code}") == ["staff.taken"]
    session.expire_all()
    assert delivered(NoticeKind.UNDER_REVIEW) == [(Channel.TELEGRAM, "7401")]
    addresses = session.exec(select(NoticeDelivery.address)).all()
    assert operator.user_id not in addresses and active.code not in addresses


def test_a_counter_filing_with_no_proved_chat_is_told_by_sms(
    session: Session, active: Counter, subscription: Subscription, hire: Hire
) -> None:
    operator = operator_at(session, active, hire)
    request = file_review_at_counter(operator, session, subscription)
    session.expire_all()
    receipt = session.exec(
        select(Notice).where(Notice.request_id == request.id, Notice.kind == NoticeKind.RECEIPT)
    ).one()
    plan_deliveries(session, receipt, messengers=[Channel.TELEGRAM], now=NOW)
    session.flush()
    rows = session.exec(select(NoticeDelivery).where(NoticeDelivery.notice_id == receipt.id))
    assert [(row.channel, row.address) for row in rows] == [(Channel.SMS, "+989121234567")]
