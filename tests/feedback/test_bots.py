"""Through the real bots and the fake Bot API: a closed request asks for feedback with its five
buttons in Telegram; a "2" with a comment reaches the supervisor, with a button to the file."""

import sqlalchemy as sa
from sqlmodel import Session

from backend.constants import StaffRole
from backend.models import Subscription
from backend.settings import Settings
from notifications.runtime import Notifier
from tests.fakes.bot_api import FakeBotAPI
from tests.feedback.conftest import feedback_of, withdrawn
from tests.helpers.bots import TELEGRAM_TOKEN
from tests.helpers.filing import latest_bill, request_of
from tests.helpers.messenger_user import MessengerUser, file_a_review
from tests.helpers.staff import Hire


def test_a_two_with_a_comment_reaches_the_supervisor(
    polling_bots: None,
    fake_api: FakeBotAPI,
    engine: sa.Engine,
    session: Session,
    subscription: Subscription,
    settings: Settings,
    telegram_settings: Settings,
    hire: Hire,
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR, "سرپرست منطقه")
    user = MessengerUser(fake_api, TELEGRAM_TOKEN, 7401)
    code = file_a_review(user, subscription, latest_bill(session, subscription))
    withdrawn(session, code, settings)

    Notifier(telegram_settings, engine).run_pending()
    sent = fake_api.sent_messages(TELEGRAM_TOKEN, 7401)
    (question,) = [m for m in sent if "نظرسنجی" in m["text"]]
    assert f"<code>{code}</code>" in question["text"]
    rows = question["reply_markup"]["inline_keyboard"]
    assert [[b["text"] for b in row] for row in rows] == [
        ["۵ عالی"],
        ["۴ خوب"],
        ["۳ متوسط"],
        ["۲ بد"],
        ["۱ خیلی بد"],
    ]
    assert rows[3][0]["callback_data"] == f"fb:2:{code}"

    user.press(f"fb:2:{code}")
    assert "امتیاز ۲ از ۵" in user.text and "feedback:skip" in user.buttons()
    user.say("مأمور قرائت <دو بار> نیامد.")
    assert "ثبت شد" in user.text
    feedback = feedback_of(session, code)
    assert feedback is not None and (feedback.score, feedback.comment) == (
        2,
        "مأمور قرائت <دو بار> نیامد.",
    )

    Notifier(telegram_settings, engine).run_pending()
    told = fake_api.sent_messages(TELEGRAM_TOKEN, int(supervisor.user_id))
    low, comment = [m for m in told if code in m["text"]]
    assert "امتیاز ۲ از ۵" in low["text"] and "نارضایتی" in low["text"]
    assert "مأمور قرائت &lt;دو بار&gt; نیامد." in comment["text"]  # escaped, as user text is
    request = request_of(session, code)
    for message in (low, comment):
        (row,) = message["reply_markup"]["inline_keyboard"]
        assert [button["callback_data"] for button in row] == [f"staff_do:show:{request.id}"]
