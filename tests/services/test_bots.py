"""Through the real bots and the fake Bot API: instalments of a debt filed in Telegram, worked
by finance, the counter-proposal answered with the subscriber's button, the notices delivered."""

import sqlalchemy as sa
from sqlmodel import Session

from backend.constants import StaffRole
from backend.models import Subscription
from backend.settings import Settings
from notifications.runtime import Notifier
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import TELEGRAM_TOKEN
from tests.helpers.messenger_user import MessengerUser, user_request
from tests.helpers.services import request_by
from tests.helpers.staff import Hire, code_texted_to


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
