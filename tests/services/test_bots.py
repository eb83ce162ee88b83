"""Through the real bots and the fake Bot API, each service defined as data filed by a subscriber
in Telegram or Bale (typing Persian, pressing the buttons the definition gives), worked by staff
with /act, closed, and the notices the subscriber gets delivered by the notice jobs."""

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlmodel import Session

from backend.constants import StaffRole
from backend.models import Customer, Subscription
from backend.services import definitions
from backend.settings import Settings
from dialogs.documents import DONE
from dialogs.service_flow import CONFIRM, FILER, LOST, PICK
from locales.values import PLAIN, format_value, tehran_date
from notifications.runtime import Notifier
from tests.factories import add_subscription
from tests.fakes.bot_api import FakeBotAPI, UploadedFile
from tests.helpers.bots import BALE_TOKEN, TELEGRAM_TOKEN
from tests.helpers.messenger_user import MessengerUser, user_request
from tests.helpers.pdf import pdf_text
from tests.helpers.samples import MESSENGER_METER_PHOTO
from tests.helpers.services import request_by
from tests.helpers.staff import Hire, code_texted_to

R = StaffRole
DONE_STAFF = ["staff.service.done"]
ID_CARD_SCAN = b"%PDF-1.4\n" + b"id card scan " * 100
LEASE_SCAN = b"%PDF-1.4\n" + b"lease scan " * 100
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def persian(text: str) -> str:
    """As a subscriber types it on a Persian keyboard."""
    return text.translate(PERSIAN_DIGITS)


@pytest.fixture
def messenger_settings(telegram_settings: Settings, fake_api: FakeBotAPI) -> Settings:
    """Notices go out by both bots to the fake Bot API."""
    return telegram_settings.model_copy(
        update={"bale_bot_token": SecretStr(BALE_TOKEN), "bale_api_base": fake_api.base_url}
    )


def delivered(settings: Settings, engine: sa.Engine, user: MessengerUser) -> list[dict[str, Any]]:
    """Runs the notice jobs; the messages they sent to the user's chat."""
    before = len(user.api.sent_messages(user.token, user.user_id))
    Notifier(settings, engine).run_pending()
    return user.api.sent_messages(user.token, user.user_id)[before:]


def notices(settings: Settings, engine: sa.Engine, user: MessengerUser) -> list[str]:
    """Runs the notice jobs; the texts they sent to the user's chat."""
    return [str(message.get("text", "")) for message in delivered(settings, engine, user)]


def buttons_of(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row]


def start_service(user: MessengerUser, service: str) -> None:
    user.say("/start")
    user.press("menu:services")
    assert f"{PICK}{service}" in user.buttons(), user.text
    user.press(f"{PICK}{service}")


def confirm(user: MessengerUser, settings: Settings, engine: sa.Engine) -> str:
    """Files the summary shown; the tracking code, once its receipt has been delivered."""
    assert CONFIRM in user.buttons(), user.text
    user.press(CONFIRM)
    code = user_request(user)
    assert any(code in text for text in notices(settings, engine, user))
    return code


def last_document(api: FakeBotAPI, token: str, chat_id: int) -> UploadedFile:
    calls = [
        call
        for call in api.calls("sendDocument", token=token)
        if str(call.params.get("chat_id")) == str(chat_id)
    ]
    assert calls, "no document sent"
    document = calls[-1].params["document"]
    assert isinstance(document, UploadedFile)
    return document


def today_in_jalali() -> str:
    return format_value(tehran_date(datetime.now(UTC)), "fa", PLAIN)


def test_instalments_are_filed_answered_and_closed_in_telegram(
    polling_bots: None,
    fake_api: FakeBotAPI,
    engine: sa.Engine,
    session: Session,
    subscription: Subscription,
    settings: Settings,
    telegram_settings: Settings,
    hire: Hire,
) -> None:
    finance = hire(StaffRole.FINANCE)
    user = MessengerUser(fake_api, TELEGRAM_TOKEN, 7402)
    user.say("/start")
    user.press("menu:services")
    assert "svc:debt_instalments" in user.buttons()
    user.press("svc:debt_instalments")
    user.say(subscription.bill_id)
    assert "کد" in user.text  # the code texted to the registered mobile is asked for
    user.say(code_texted_to(engine, settings, "+989121234567"))
    user.say("12000000")
    user.say("6")
    user.say("هزینه درمان <ناگهانی> داشتیم.")
    assert "&lt;ناگهانی&gt;" in user.text  # the summary escapes what was typed
    user.press("svcok:file")
    code = user_request(user)
    assert request_by(session, code).kind == "debt_instalments"

    assert finance.run(f"/act {code} counter_propose چهار قسط سه میلیون ریالی") == [
        "staff.service.done"
    ]
    Notifier(telegram_settings, engine).run_pending()
    sent = fake_api.sent_messages(TELEGRAM_TOKEN, 7402)
    (proposal,) = [m for m in sent if "چهار قسط" in m["text"]]
    assert f"<code>{code}</code>" in proposal["text"]

    user.say("/menu")
    user.press("menu:services")  # the subscriber's answer waits there, as buttons
    user.press(f"svcact:{code}:accept_proposal")
    assert "انجام شد" in user.text
    assert finance.run(f"/act {code} send_schedule قسط نخست ۱۴۰۵/۰۹/۰۱") == ["staff.service.done"]
    assert request_by(session, code).status == "closed"
    Notifier(telegram_settings, engine).run_pending()
    sent = fake_api.sent_messages(TELEGRAM_TOKEN, 7402)
    assert any("جدول اقساط" in m["text"] and code in m["text"] for m in sent)


def test_a_change_of_name_in_telegram_passes_the_subscription_to_the_new_holder(
    polling_bots: None,
    fake_api: FakeBotAPI,
    engine: sa.Engine,
    session: Session,
    subscription: Subscription,
    messenger_settings: Settings,
    hire: Hire,
) -> None:
    (fee,) = definitions()["change_of_name"].fees
    setter, reviewer = hire(R(fee.set_by)), hire(R.BILLING_REVIEWER)
    user = MessengerUser(fake_api, TELEGRAM_TOKEN, 7410)
    start_service(user, "change_of_name")
    user.say(persian(subscription.bill_id))
    user.say("۰۰۱۲۳۴۵۶۷۸")  # a wrong check digit: said so, asked again
    assert "کد ملی" in user.text
    user.say("۰۴۹۹۳۷۰۸۹۹")
    user.say("رضا کریمی")
    assert DONE not in user.buttons()  # the deed (or the lease) is required
    user.photo(MESSENGER_METER_PHOTO)  # the deed, photographed
    assert "دریافت شد" in user.text
    user.press(DONE)
    assert DONE not in user.buttons()  # the ID card is required too
    user.document("کارت ملی.pdf", "application/pdf", ID_CARD_SCAN)
    assert "دریافت شد" in user.text
    user.press(DONE)
    assert "رضا کریمی" in user.text and "۰۴۹۹۳۷۰۸۹۹" not in user.text  # the ID masked
    code = confirm(user, messenger_settings, engine)
    request = request_by(session, code)
    assert request.kind == "change_of_name"
    assert request.answers is not None and request.answers["new_holder_national_id"] == "0499370899"

    assert reviewer.run(f"/act {code} {fee.set_by_action} 1500000") == ["staff.service.not_yours"]
    assert setter.run(f"/act {code} {fee.set_by_action} ۱٬۵۰۰٬۰۰۰") == DONE_STAFF
    (fee_due,) = notices(messenger_settings, engine, user)
    assert "۱٬۵۰۰٬۰۰۰ ریال" in fee_due and f"<code>{code}</code>" in fee_due
    user.say("/menu")
    user.press("menu:services")  # while the fee is due the subscriber may still withdraw
    assert f"svcact:{code}:withdraw" in user.buttons()

    assert setter.run(f"/act {code} receive_fee") == DONE_STAFF
    assert any("دریافت شد" in text for text in notices(messenger_settings, engine, user))
    assert reviewer.run(f"/act {code} change_name") == DONE_STAFF
    assert request_by(session, code).status == "closed"
    assert any(
        "نام دارنده اشتراک" in text and code in text
        for text in notices(messenger_settings, engine, user)
    )
    session.refresh(subscription)
    holder = session.get(Customer, subscription.customer_id)
    assert holder is not None
    assert (holder.national_id, holder.full_name) == ("0499370899", "رضا کریمی")


def _file_meter_test(
    user: MessengerUser, subscription: Subscription, settings: Settings, engine: sa.Engine
) -> str:
    """Filed as the sole user of the connection, with the lease it is used under."""
    start_service(user, "meter_test")
    user.say(persian(subscription.bill_id))
    user.press(f"{FILER}sole_user")  # how the filer may file it: one of the definition's
    user.say("کنتور تندتر از مصرف ما می‌چرخد.")
    assert DONE not in user.buttons()  # the lease is required of a sole user
    user.document("اجاره‌نامه.pdf", "application/pdf", LEASE_SCAN)
    user.press(DONE)
    user.photo(MESSENGER_METER_PHOTO)  # the evidence, optional
    user.press(DONE)
    return confirm(user, settings, engine)


def test_meter_tests_in_bale_found_faulty_and_sound(
    polling_bots: None,
    fake_api: FakeBotAPI,
    engine: sa.Engine,
    session: Session,
    subscription: Subscription,
    messenger_settings: Settings,
    hire: Hire,
) -> None:
    finance, technician = hire(R.FINANCE), hire(R.FIELD_TECHNICIAN)
    reviewer = hire(R.BILLING_REVIEWER)
    user = MessengerUser(fake_api, BALE_TOKEN, 7420, shape="bale")
    faulty = _file_meter_test(user, subscription, messenger_settings, engine)
    assert request_by(session, faulty).channel == "bale"
    assert finance.run(f"/act {faulty} set_fee ۲۵۰٬۰۰۰") == DONE_STAFF
    (fee_due,) = notices(messenger_settings, engine, user)
    assert "۲۵۰٬۰۰۰ ریال" in fee_due and faulty in fee_due and "<code>" not in fee_due
    assert finance.run(f"/act {faulty} receive_fee") == DONE_STAFF
    assert technician.run(f"/act {faulty} meter_faulty ۱۲۳۴۵") == DONE_STAFF
    assert request_by(session, faulty).status == "meter_faulty"
    said = notices(messenger_settings, engine, user)
    assert any("معیوب" in text and "۱۲٬۳۴۵" in text for text in said), said
    assert reviewer.run(f"/act {faulty} correct_bills ۱٬۲۰۰٬۰۰۰") == DONE_STAFF
    request = request_by(session, faulty)
    assert request.status == "closed" and request.answers is not None
    assert request.answers["correct_bills"] == 1_200_000
    said = notices(messenger_settings, engine, user)
    assert any("اصلاح شد" in text and "۱٬۲۰۰٬۰۰۰" in text for text in said), said

    user.say("/menu")
    sound = _file_meter_test(user, subscription, messenger_settings, engine)
    assert finance.run(f"/act {sound} set_fee 250000") == DONE_STAFF
    assert finance.run(f"/act {sound} receive_fee") == DONE_STAFF
    assert technician.run(f"/act {sound} meter_sound 12345") == DONE_STAFF
    assert request_by(session, sound).status == "closed"
    said = notices(messenger_settings, engine, user)
    assert any("سالم" in text and sound in text for text in said), said


def _file_clearance(
    user: MessengerUser,
    bill_id: str,
    mobile: str,
    engine: sa.Engine,
    settings: Settings,
    messenger_settings: Settings,
) -> str:
    start_service(user, "clearance_certificate")
    user.say(persian(bill_id))
    assert "کد" in user.text  # the registered mobile is proven by the code texted to it
    user.say(persian(code_texted_to(engine, settings, mobile)))
    user.press("svcopt:sale")  # the purpose is a choice, pressed
    user.press(DONE)  # no deed: it is optional here
    return confirm(user, messenger_settings, engine)


def _certificate(user: MessengerUser, code: str) -> str:
    """Presses the certificate's button on its notice; the PDF's text."""
    user.press(f"req:paper:{code}")
    assert "پیوست" in user.text
    document = last_document(user.api, user.token, user.user_id)
    assert document.filename == f"clearance-certificate-{code}.pdf"
    assert document.content.startswith(b"%PDF-")
    return pdf_text(document.content)


def test_clearance_certificates_in_telegram_after_a_debt_and_with_none(
    polling_bots: None,
    fake_api: FakeBotAPI,
    engine: sa.Engine,
    session: Session,
    subscription: Subscription,
    settings: Settings,
    messenger_settings: Settings,
    hire: Hire,
) -> None:
    finance = hire(R.FINANCE)
    user = MessengerUser(fake_api, TELEGRAM_TOKEN, 7430)
    indebted = _file_clearance(
        user, subscription.bill_id, "+989121234567", engine, settings, messenger_settings
    )
    assert finance.run(f"/act {indebted} debt_found ۳٬۴۰۰٬۰۰۰") == DONE_STAFF
    (debt_due,) = notices(messenger_settings, engine, user)
    assert "۳٬۴۰۰٬۰۰۰ ریال" in debt_due
    assert finance.run(f"/act {indebted} settle") == DONE_STAFF
    (settled,) = delivered(messenger_settings, engine, user)
    assert "تسویه شد" in settled["text"]
    assert f"req:paper:{indebted}" not in buttons_of(settled)  # nothing issued yet
    assert finance.run(f"/act {indebted} issue_certificate ۱۴۰۵/۷۷۸") == DONE_STAFF
    assert request_by(session, indebted).status == "closed"
    issued = delivered(messenger_settings, engine, user)
    (certificate,) = [m for m in issued if "صادر شد" in m["text"]]
    assert "۱۴۰۵/۷۷۸" in certificate["text"]
    assert f"req:paper:{indebted}" in buttons_of(certificate)  # the PDF, a tap away
    text = _certificate(user, indebted)
    for words in (
        "گواهی مفاصاحساب",
        "مریم احمدی",
        subscription.bill_id,
        indebted,
        "۱۴۰۵/۷۷۸",
        "بدهی ۳٬۴۰۰٬۰۰۰ ریال، پرداخت‌شده",
        today_in_jalali(),
    ):
        assert words in text, words

    other = add_subscription(session, file_number=48214, mobile="+989121234568")
    user.say("/menu")
    clear = _file_clearance(
        user, other.bill_id, "+989121234568", engine, settings, messenger_settings
    )
    assert finance.run(f"/act {clear} no_debt") == DONE_STAFF
    assert notices(messenger_settings, engine, user) == []  # no notice for that step
    assert finance.run(f"/act {clear} issue_certificate ۱۴۰۵/۷۷۹") == DONE_STAFF
    notices(messenger_settings, engine, user)
    text = _certificate(user, clear)
    assert other.bill_id in text and clear in text and "۱۴۰۵/۷۷۹" in text
    assert "بدون بدهی" in text and "پرداخت‌شده" not in text
    # The detail in «درخواست‌های من» offers it as well.
    user.say("/menu")
    user.press("menu:my_requests")
    user.press(f"req:show:{clear}")
    assert f"req:paper:{clear}" in user.buttons()


def test_mobile_changes_in_telegram_by_the_old_number_s_code_and_in_bale_by_a_counter(
    polling_bots: None,
    fake_api: FakeBotAPI,
    engine: sa.Engine,
    session: Session,
    subscription: Subscription,
    settings: Settings,
    messenger_settings: Settings,
    hire: Hire,
) -> None:
    reviewer = hire(R.BILLING_REVIEWER)
    holder = session.get(Customer, subscription.customer_id)
    assert holder is not None
    holder.national_id = "0499370899"
    session.add(holder)
    session.commit()

    # Who still holds the registered number proves it by the code texted to it.
    user = MessengerUser(fake_api, TELEGRAM_TOKEN, 7440)
    start_service(user, "mobile_change")
    user.say(persian(subscription.bill_id))
    assert LOST in user.buttons()  # or says it is lost
    user.say(persian(code_texted_to(engine, settings, "+989121234567")))
    user.say("۰۴۹۹۳۷۰۸۹۹")
    user.say("۰۹۳۶ ۱۲۳ ۸۸۶۶")
    proven = confirm(user, messenger_settings, engine)
    request = request_by(session, proven)
    assert request.answers is not None and request.answers["mobile_proven"] is True
    assert reviewer.run(f"/act {proven} change_mobile") == DONE_STAFF
    session.refresh(holder)
    assert holder.mobile == "+989361238866"
    said = notices(messenger_settings, engine, user)
    assert any("شماره همراه ثبت‌شده" in text and proven in text for text in said), said

    # Who lost it files anyway; a counter confirms the holder before the number changes.
    other = add_subscription(session, file_number=48215, mobile="+989121234569")
    other_holder = session.get(Customer, other.customer_id)
    assert other_holder is not None
    other_holder.national_id = "0012345679"
    session.add(other_holder)
    session.commit()
    lost = MessengerUser(fake_api, BALE_TOKEN, 7441, shape="bale")
    start_service(lost, "mobile_change")
    lost.say(persian(other.bill_id))
    lost.press(LOST)
    lost.say("۰۰۱۲۳۴۵۶۷۹")
    lost.say("۰۹۱۹ ۸۷۶ ۵۴۳۲")
    by_counter = confirm(lost, messenger_settings, engine)
    request = request_by(session, by_counter)
    assert request.channel == "bale" and request.answers is not None
    assert request.answers["mobile_proven"] is False
    assert reviewer.run(f"/act {by_counter} ask_counter") == DONE_STAFF
    (counter_needed,) = notices(messenger_settings, engine, lost)
    assert "پیشخوان" in counter_needed and by_counter in counter_needed
    lost.say("/menu")
    lost.press("menu:services")  # waiting on the counter, the subscriber may withdraw
    assert f"svcact:{by_counter}:withdraw" in lost.buttons()
    assert reviewer.run(f"/act {by_counter} confirm_identity دفتر پیشخوان ۱۲ قم") == DONE_STAFF
    assert reviewer.run(f"/act {by_counter} change_mobile") == DONE_STAFF
    assert request_by(session, by_counter).status == "closed"
    with Session(engine) as fresh:
        customer = fresh.get(Customer, other.customer_id)
        assert customer is not None and customer.mobile == "+989198765432"
    said = notices(messenger_settings, engine, lost)
    assert any("شماره همراه ثبت‌شده" in text and by_counter in text for text in said), said
