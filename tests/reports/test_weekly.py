"""The weekly report: `/report weekly on|off`, and Saturday morning's push, once a week however
often the round runs, to active subscribers only, with its key figures and the chart's button."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.constants import NoticeKind, StaffRole
from backend.models import Notice, ReportSubscription, Staff
from backend.reports import weekly_round
from backend.settings import Settings, local_zone
from notifications.runtime import Notifier
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import TELEGRAM_TOKEN
from tests.helpers.messenger_user import MessengerUser
from tests.helpers.staff import Hire
from tests.reports.conftest import Desk

SATURDAY_MORNING = datetime(2026, 10, 31, 8, 30, tzinfo=local_zone())  # 1405/08/09


def weekly_notices(session: Session) -> list[Notice]:
    session.expire_all()
    query = select(Notice).where(Notice.kind == NoticeKind.STAFF_WEEKLY_REPORT)
    return list(session.exec(query.order_by(col(Notice.id))))


def test_subscribing_and_the_push_once(
    week: Desk, session: Session, hire: Hire, settings: Settings
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR, "سرپرست")
    assert supervisor.run("/report weekly on") == ["report.weekly_on"]
    assert session.get(ReportSubscription, supervisor.staff_id) is not None
    friday = SATURDAY_MORNING.replace(day=30)
    early = SATURDAY_MORNING.replace(hour=7)
    assert weekly_round(session, now=friday, settings=settings) == 0
    assert weekly_round(session, now=early, settings=settings) == 0
    assert weekly_round(session, now=SATURDAY_MORNING, settings=settings) == 1
    session.commit()
    later = SATURDAY_MORNING.replace(hour=11)
    assert weekly_round(session, now=later, settings=settings) == 0  # the second round
    session.commit()
    (notice,) = weekly_notices(session)
    # The four weeks before this one: 1405/07/11 (Saturday 3 October) to 1405/08/08.
    assert notice.params["first_date"] == "2026-10-03"
    assert notice.params["last_date"] == "2026-10-30"
    assert notice.params["requests"] == 8
    assert notice.params["staff_id"] == supervisor.staff_id
    assert supervisor.run("/report weekly off") == ["report.weekly_off"]
    next_week = SATURDAY_MORNING.replace(day=7, month=11)
    assert weekly_round(session, now=next_week, settings=settings) == 0


def test_an_inactive_subscriber_is_skipped(
    week: Desk, session: Session, hire: Hire, settings: Settings
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR)
    supervisor.say("/report weekly on")
    session.execute(
        sa.update(Staff).where(col(Staff.id) == supervisor.staff_id).values(active=False)
    )
    session.commit()
    assert weekly_round(session, now=SATURDAY_MORNING, settings=settings) == 0


def test_the_notice_and_its_chart_button(
    polling_bots: None,
    fake_api: FakeBotAPI,
    engine: sa.Engine,
    week: Desk,
    session: Session,
    hire: Hire,
    settings: Settings,
    telegram_settings: Settings,
) -> None:
    supervisor = hire(StaffRole.SUPERVISOR)
    supervisor.say("/report weekly on")
    assert weekly_round(session, now=SATURDAY_MORNING, settings=settings) == 1
    session.commit()
    Notifier(telegram_settings, engine).run_pending()
    (told,) = [
        m
        for m in fake_api.sent_messages(TELEGRAM_TOKEN, int(supervisor.user_id))
        if "گزارش هفتگی" in m["text"]
    ]
    assert "۱۴۰۵/۰۷/۱۱ تا ۱۴۰۵/۰۸/۰۸: ۸ درخواست" in told["text"]
    ((button,),) = told["reply_markup"]["inline_keyboard"]
    assert button["callback_data"] == "report:2026-10-03:2026-10-30"
    chat = MessengerUser(fake_api, TELEGRAM_TOKEN, int(supervisor.user_id))
    replies = chat.press(button["callback_data"])
    (png,) = [reply["document"] for reply in replies if "document" in reply]
    assert png.content.startswith(b"\x89PNG")
