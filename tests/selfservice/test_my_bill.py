"""«صورت‌حساب من»: the latest bill of a followed or typed bill ID, its chart, paying it with the
dev provider (recorded once, the receipt after), its duplicate as a PDF read back; in the dialog
engine, through the fake Bot API with the real aiogram bot, and in the terminal chat."""

import re
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.constants import PaymentStatus, StaffRole
from backend.db import make_engine
from backend.demo import seed_demo
from backend.models import Bill, Payment, Subscription, utcnow
from backend.payments import CallbackOutcome, DevProvider, complete_online_payment
from backend.settings import Settings
from channels.consumption_chart import PeriodConsumption, consumption_chart_png
from locales.values import Msg, format_number, render
from tests.factories import add_subscription
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import TELEGRAM_TOKEN
from tests.helpers.chat import ChatUser
from tests.helpers.messenger_user import MessengerUser
from tests.helpers.pdf import pdf_text, stored
from tests.helpers.shell import DEMO_BILL_ID, after, run_shell
from tests.helpers.staff import Hire, lines_of

LINK = re.compile(r"https?://\S+/pay/([0-9a-f]{24})")
PNG = b"\x89PNG\r\n\x1a\n"


def bills_of(session: Session, subscription: Subscription) -> list[Bill]:
    session.expire_all()
    query = select(Bill).where(Bill.subscription_id == subscription.id)
    return list(session.exec(query.order_by(col(Bill.current_reading_date))))


def pay_on_the_dev_page(engine: sa.Engine, settings: Settings, reference: str) -> CallbackOutcome:
    """What pressing «پرداخت» on the dev page posts."""
    form = {"outcome": "pay", "attempt": DevProvider.new_attempt()}
    return complete_online_payment(
        engine,
        DevProvider(settings),
        reference=reference,
        form=form,
        now=utcnow(),
        settings=settings,
    )


def test_a_followed_bill_is_seen_charted_paid_once_and_duplicated(
    user: ChatUser, session: Session, engine: sa.Engine, settings: Settings
) -> None:
    # Two bill IDs: one followed (the buttons), one typed (shown the same way).
    home = add_subscription(session, file_number=48213)
    shop = add_subscription(session, file_number=59321, bills=3)
    user.press("menu:follow")
    user.press("fol:add")
    user.say(home.bill_id)
    user.press("fol:nolabel")
    user.say("/menu")

    user.press("menu:my_bill")
    assert user.keys[-1] == "my_bill.choose"
    user.press(f"mybill:show:{home.id}")
    bills = bills_of(session, home)
    latest = bills[-1]
    [reply] = user.answer.replies if user.answer else []
    assert reply.text.key == "my_bill.latest"
    shown = user.text()
    amount = format_number(latest.amount_rials, "fa")
    unpaid = render(Msg("my_bill.unpaid"), "fa")
    # The holder masked: following a bill ID proves no mobile.
    for part in (home.bill_id, latest.payment_id, amount, unpaid, "مریم ا.", "۱۴۰۴/"):
        assert part in shown, part
    assert "احمدی" not in shown and "پلاک" not in shown
    # The chart: a PNG of the last six bills' kWh, drawn from exactly those figures.
    [chart] = reply.files
    content = stored(settings, chart)
    assert content.startswith(PNG)
    six = [PeriodConsumption(b.jalali_year, b.period, b.consumption_kwh) for b in bills[-6:]]
    assert content == consumption_chart_png(six, "fa")
    assert content != consumption_chart_png([*six[:-1], PeriodConsumption(1404, 6, 1)], "fa")

    # Pay: a link to the dev page; paid there; the bill recorded paid once; the receipt after.
    user.press(f"mybill:pay:{latest.id}")
    found = LINK.search(user.text())
    assert found is not None, user.text()
    reference = found.group(1)
    assert pay_on_the_dev_page(engine, settings, reference) == CallbackOutcome.PAID
    assert pay_on_the_dev_page(engine, settings, reference) == CallbackOutcome.ALREADY_PAID
    user.press(f"mybill:pay:{latest.id}")
    assert user.keys[0] == "my_bill.receipt"
    assert "پرداخت آنلاین" in user.text()
    session.expire_all()
    payments = session.exec(select(Payment).where(Payment.bill_id == latest.id)).all()
    assert [(p.status, p.reference) for p in payments] == [(PaymentStatus.PAID, reference)]
    assert session.get(Bill, latest.id).paid_at is not None  # type: ignore[union-attr]
    user.press(f"mybill:show:{home.id}")
    assert "mybill:pay:" not in " ".join(user.buttons)  # paid: no pay button

    # The duplicate: a PDF whose text has the Persian labels and both IDs as typed to pay.
    user.press(f"mybill:dup:{latest.id}")
    [pdf] = [file for reply in user.answer.replies for file in reply.files] if user.answer else []
    text = pdf_text(stored(settings, pdf))
    for words in (
        "صورت‌حساب المثنی برق",
        "شناسه قبض",
        "شناسه پرداخت",
        "مبلغ صورت‌حساب",
        "پرداخت‌شده در",
        home.bill_id,
        latest.payment_id,
        "مریم ا.",
    ):
        assert words in text, words
    assert "احمدی" not in text

    # A bill ID typed, not followed, is shown the same way.
    user.say("/menu")
    user.press("menu:my_bill")
    user.say(shop.bill_id)
    assert user.keys[-1] == "my_bill.latest"
    assert bills_of(session, shop)[-1].payment_id in user.text()


def test_the_demo_bill_in_the_terminal_chat_is_paid_once(
    tmp_path: Path, settings: Settings
) -> None:
    out = run_shell(tmp_path, f"صورت‌حساب من\n{DEMO_BILL_ID}\nپرداخت\n")
    shown = after(out, DEMO_BILL_ID)
    assert "آخرین صورت‌حساب" in shown and "پرداخت‌نشده" in shown and "(file) consumption-" in shown
    found = LINK.search(after(out, "پرداخت"))
    assert found is not None, out
    engine = make_engine(f"sqlite:///{tmp_path / 'desk.db'}")
    try:
        assert pay_on_the_dev_page(engine, settings, found.group(1)) == CallbackOutcome.PAID
        again = after(run_shell(tmp_path, f"صورت‌حساب من\n{DEMO_BILL_ID}\n"), DEMO_BILL_ID)
        assert "پرداخت آنلاین" in again and "شماره پیگیری" in again  # the receipt
        assert "] پرداخت\n" not in again  # paid: nothing more to pay
        with Session(engine) as session:
            paid = session.exec(select(Payment).where(Payment.status == PaymentStatus.PAID)).all()
            assert len(paid) == 1
    finally:
        engine.dispose()


def last_text(api: FakeBotAPI) -> str:
    """The chat's latest message (MessengerUser.replies counts documents before it)."""
    texts = [m["text"] for m in api.sent_messages(TELEGRAM_TOKEN, 7001) if "text" in m]
    return str(texts[-1])


def test_my_bill_through_the_fake_bot_api(
    fake_api: FakeBotAPI,
    polling_bots: None,
    session: Session,
    engine: sa.Engine,
    bot_settings: Settings,
    subscription: Subscription,
) -> None:
    person = MessengerUser(fake_api, TELEGRAM_TOKEN, 7001)
    person.say("/start")
    person.press("menu:my_bill")
    person.say(subscription.bill_id)
    latest = bills_of(session, subscription)[-1]
    assert "آخرین صورت‌حساب" in person.text and latest.payment_id in person.text
    charts = len(fake_api.calls("sendDocument", token=TELEGRAM_TOKEN))
    assert charts == 1  # the consumption chart
    person.press(f"mybill:pay:{latest.id}")
    found = LINK.search(last_text(fake_api))
    assert found is not None, last_text(fake_api)
    assert pay_on_the_dev_page(engine, bot_settings, found.group(1)) == CallbackOutcome.PAID
    # A pressed button is taken away: the bill is opened again, and shows its receipt.
    person.say("/menu")
    person.press("menu:my_bill")
    person.say(subscription.bill_id)
    assert "پرداخت آنلاین" in last_text(fake_api)
    assert f"mybill:pay:{latest.id}" not in person.buttons()
    person.press(f"mybill:dup:{latest.id}")
    sent = fake_api.calls("sendDocument", token=TELEGRAM_TOKEN)[-1].params["document"]
    assert sent.filename.endswith(".pdf")
    text = pdf_text(sent.content)
    assert "صورت‌حساب المثنی برق" in text and subscription.bill_id in text
    assert latest.payment_id in text
    session.expire_all()
    paid = session.exec(select(Payment).where(Payment.bill_id == latest.id)).all()
    assert [p.status for p in paid] == [PaymentStatus.PAID]


def test_a_reviewers_show_of_the_demos_suspicious_bill_opens_with_the_jump(
    user: ChatUser, session: Session, hire: Hire
) -> None:
    summary = seed_demo(session)
    session.commit()
    sample = session.exec(
        select(Subscription).where(Subscription.bill_id == summary.sample_bill_id)
    ).one()
    latest = bills_of(session, sample)[-1]
    user.press("menu:review")
    user.say(sample.bill_id)
    user.press(f"bill:{latest.id}")
    user.press("reason:high_consumption")
    user.say("مصرف این دوره چند برابر همیشه است")
    user.press("docs:done")
    user.press("summary:confirm")
    code = re.search(r"[0-9]{10}", user.text())
    assert code is not None, user.text()

    reviewer = hire(StaffRole.BILLING_REVIEWER, "مینا رضایی")
    reviewer.say(f"/show {code.group()}")
    assert reviewer.answer is not None
    lines = lines_of(reviewer.answer.replies[0].text)
    assert [line.key for line in lines[:2]] == ["staff.show.head", "staff.assessment.head"]
    assert lines[1].params["level"] == Msg("staff.assessment.level.very_high")
    causes = [line.params["cause"].key for line in lines if line.key == "staff.assessment.cause"]
    assert causes == ["staff.assessment.cause.reading_jump"]
    text = reviewer.text()
    assert "جهش رقم کنتور" in text and "همین دوره در سال پیش" in text
