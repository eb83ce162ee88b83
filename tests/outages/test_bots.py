"""Through the real bots and the fake Bot API: a subscriber sees the planned outage of their
feeder and is reminded before it; reports a cut that joins an incident (Bale, by a shared
location) and is told when staff resolve it; a self-reading lower than the last is refused."""

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session

from backend.constants import StaffRole
from backend.models import Subscription, utcnow
from backend.settings import Settings
from bot.clock import send_outage_reminders
from notifications.runtime import Notifier
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import BALE_TOKEN, TELEGRAM_TOKEN
from tests.helpers.messenger_user import MessengerUser
from tests.helpers.staff import Hire
from tests.outages.conftest import add_outage


def test_outages_reports_and_readings_in_telegram_and_bale(
    polling_bots: None,
    fake_api: FakeBotAPI,
    engine: sa.Engine,
    session: Session,
    subscription: Subscription,
    telegram_settings: Settings,
    hire: Hire,
) -> None:
    outage = add_outage(session, starts_at=utcnow() + timedelta(minutes=30), feeder="F-12")
    user = MessengerUser(fake_api, TELEGRAM_TOKEN, 7501)
    user.say("/start")
    user.press("menu:follow")
    user.press("fol:add")
    user.say(subscription.bill_id)
    user.press("fol:nolabel")
    user.say("/menu")
    user.press("menu:outages")
    assert "خاموشی‌های برنامه‌ریزی‌شده" in user.text and "تعمیرات" in user.text
    user.press(f"out:remind:{outage.id}")
    assert "یادآوری می‌کنیم" in user.text

    notifier = Notifier(telegram_settings, engine)
    assert send_outage_reminders(notifier) == 1
    notifier.run_pending()
    reminders = [
        m for m in fake_api.sent_messages(TELEGRAM_TOKEN, 7501) if "یادآوری خاموشی" in m["text"]
    ]
    assert len(reminders) == 1 and "قم، صفاییه" in reminders[0]["text"]
    assert send_outage_reminders(notifier) == 0  # once

    user.say("/menu")
    user.press("menu:report_outage")
    user.press(f"rep:sub:{subscription.id}")
    user.press("rep:problem:no_power")
    assert "کد رهگیری" in user.text
    neighbour = MessengerUser(fake_api, BALE_TOKEN, 7502, shape="bale")
    neighbour.say("/start")
    neighbour.press("menu:report_outage")
    neighbour.location(34.64, 50.88)
    assert "موقعیت مکانی شما دریافت شد" in neighbour.text
    neighbour.say(subscription.bill_id)
    neighbour.press("rep:problem:wire_down")
    said = neighbour.text
    assert "۱۲۱" in said and "پیش‌تر گزارش شده" in said
    assert said.index("۱۲۱") < said.index("پیش‌تر گزارش شده")  # the safety advice first

    technician = hire(StaffRole.FIELD_TECHNICIAN)
    technician.say("/incidents")
    assert "۲ گزارش" in technician.text()
    incident_id = technician.answer.replies[0].text.params["lines"].params["id"]  # type: ignore[union-attr]
    technician.say(f"/resolve {incident_id}")
    assert technician.keys[0] == "incidents.resolved"
    Notifier(telegram_settings, engine).run_pending()
    told = [m for m in fake_api.sent_messages(TELEGRAM_TOKEN, 7501) if "برطرف شد" in m["text"]]
    assert len(told) == 1

    user.say("/menu")
    user.press("menu:self_reading")
    user.press(f"rdg:{subscription.id}")
    user.say("۱۰۰۰۰")
    assert "کمتر از آخرین کارکرد" in user.text
