"""Through the real bots and the fake Bot API (Telegram): an admin introduces a counter, vets it,
signs it, trains its operator and starts it; the operator files a review for the subscriber at
the counter with the code they read out; the subscriber sees it in «درخواست‌های من» and gets its
notices, and the operator none of them; a removal, not delegated, is refused."""

import re

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.constants import Channel, CounterStatus, StaffRole
from backend.models import Counter, CounterDocument, ServiceRequest, Subscription
from backend.settings import Settings
from notifications.runtime import Notifier
from tests.counters.test_filing import consent_code
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import TELEGRAM_TOKEN
from tests.helpers.filing import latest_bill
from tests.helpers.messenger_user import MessengerUser, user_request
from tests.helpers.samples import MESSENGER_METER_PHOTO
from tests.helpers.staff import Hire
from tests.helpers.subscribers import console_sms

LETTER = b"%PDF-1.4 the guild association's letter of introduction"
AGREEMENT = b"%PDF-1.4 the agreement, signed and scanned"
COUNTER = "دفتر پیشخوان ولیعصر"


def test_a_counter_onboarded_in_the_bot_files_for_a_subscriber(
    polling_bots: None,
    fake_api: FakeBotAPI,
    engine: sa.Engine,
    session: Session,
    subscription: Subscription,
    settings: Settings,
    telegram_settings: Settings,
    hire: Hire,
) -> None:
    admin_chat = hire(StaffRole.ADMIN, "مدیر سامانه")
    operator_chat = hire(StaffRole.COUNTER_OPERATOR, "سارا کریمی")
    admin = MessengerUser(fake_api, TELEGRAM_TOKEN, int(admin_chat.user_id))

    admin.say(
        f"/counteradd 14010؛ {COUNTER}؛ تبریز؛ تبریز ۲؛ تبریز، خیابان ولیعصر، پلاک ۱۲؛ "
        "041-33445566؛ رضا محمدی"
    )
    assert "معرفی‌نامه انجمن صنفی" in admin.text
    admin.document("letter.pdf", "application/pdf", LETTER)
    assert "معرفی‌شده، در حال استعلام" in admin.text
    admin.say("/counterstep 14010 activate")
    assert "انجام‌شدنی نیست" in admin.text  # out of turn: refused, with its status
    admin.say("/counterstep 14010 reject")
    assert "علت را با یکی از این‌ها" in admin.text and "unfavourable_inquiry" in admin.text
    for step in ("approve", "announce_prerequisites"):
        admin.say(f"/counterstep 14010 {step}")
        assert "ثبت شد" in admin.text
    admin.say("/counterstep 14010 sign_agreement 1404/01/15")
    assert "تفاهم‌نامه امضاشده" in admin.text
    admin.say("متن به جای فایل")
    assert "به‌صورت فایل یا عکس" in admin.text
    admin.document("agreement.pdf", "application/pdf", AGREEMENT)
    assert "تفاهم‌نامه مبادله شده" in admin.text
    admin.say("/counterstep 14010 install_software")
    admin.say("/counterstep 14010 train_operator")
    assert "آموزش بدون کاربر ثبت نمی‌شود" in admin.text
    admin.say(f"/counterstep 14010 add_operator {operator_chat.phone}")
    assert "سارا کریمی" in admin.text
    admin.say("/counterstep 14010 train_operator")
    admin.say("/counterstep 14010 delegate bill_review")
    assert "اعتراض به صورت‌حساب" in admin.text
    admin.say("/counterstep 14010 activate")
    assert "اکنون: فعال" in admin.text

    counter = session.exec(select(Counter).where(Counter.code == "14010")).one()
    assert counter.status == CounterStatus.ACTIVE
    papers = session.exec(
        select(CounterDocument.doc_type).where(CounterDocument.counter_id == counter.id)
    )
    assert sorted(papers) == ["agreement", "introduction_letter"]

    operator = MessengerUser(fake_api, TELEGRAM_TOKEN, int(operator_chat.user_id))
    operator.say("/onbehalf removal")
    assert "جمع‌آوری دائم انشعاب" in operator.text and COUNTER in operator.text
    assert "واگذار نشده" in operator.text
    operator.say("/onbehalf")
    operator.press("onbehalf:bill_review")
    operator.say(subscription.bill_id)
    assert "0912***4567" in operator.text
    operator.say(consent_code(engine, settings, "+989121234567"))
    operator.press(f"bill:{latest_bill(session, subscription).id}")
    operator.press("reason:wrong_reading")
    operator.say("مشترک می‌گوید رقم کنتور ۱۲۳۴۵ بود.")
    operator.photo(MESSENGER_METER_PHOTO)
    operator.press("docs:done")
    operator.press("summary:confirm")
    code = user_request(operator)
    request = session.exec(select(ServiceRequest).where(ServiceRequest.tracking_code == code)).one()
    assert (request.channel, request.counter_id) == (Channel.COUNTER, counter.id)
    filed_at = len(fake_api.sent_messages(TELEGRAM_TOKEN, int(operator_chat.user_id)))

    subscriber = MessengerUser(fake_api, TELEGRAM_TOKEN, 7401)
    subscriber.say("/start")
    subscriber.press("menu:my_requests")
    assert code not in subscriber.text  # whose it is must be proven first
    subscriber.press("nav:back")
    subscriber.press("menu:phone")
    subscriber.contact("+989121234567", owner=7401)
    subscriber.press("menu:my_requests")
    assert f"req:show:{code}" in subscriber.buttons()

    reviewer = hire(StaffRole.BILLING_REVIEWER)
    explanation = "عکس کنتور همان رقم صورت‌حساب را نشان می‌دهد."
    reviewer.confirmed(f"/decide {code} rejected reading_correct {explanation}")
    Notifier(telegram_settings, engine).run_pending()
    told = [m["text"] for m in fake_api.sent_messages(TELEGRAM_TOKEN, 7401)]
    assert any(code in text and explanation in text for text in told), told
    later = fake_api.sent_messages(TELEGRAM_TOKEN, int(operator_chat.user_id))[filed_at:]
    assert later == []  # nothing of the request's goes to the counter
    texts = [(sms["to"], sms["text"]) for sms in console_sms(telegram_settings.sms_console_path)]
    assert any(to == "+989121234567" and code in text for to, text in texts)  # the receipt
    assert any(re.search(COUNTER, text) for _, text in texts)  # the consent code said where
