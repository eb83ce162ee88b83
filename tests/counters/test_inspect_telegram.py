"""/inspect through the real Telegram bot and the fake Bot API: the checklist's buttons, a
photo of a failure kept in the file store, a pause and the resume where it stopped."""

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.constants import ChecklistAnswer, CounterStatus, InspectionStatus
from backend.constants import StaffRole as R
from backend.models import ChecklistItem, Inspection, InspectionAnswer
from backend.settings import Settings
from backend.storage import LocalFileStorage
from tests.counters.conftest import CounterAt
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import TELEGRAM_TOKEN
from tests.helpers.messenger_user import MessengerUser
from tests.helpers.samples import MESSENGER_METER_PHOTO
from tests.helpers.staff import Hire


def test_a_failure_with_a_photo_then_a_pause_and_the_resume(
    polling_bots: None,
    fake_api: FakeBotAPI,
    engine: sa.Engine,
    session: Session,
    settings: Settings,
    hire: Hire,
    counter_at: CounterAt,
) -> None:
    counter = counter_at(CounterStatus.ACTIVE)
    inspector = MessengerUser(fake_api, TELEGRAM_TOKEN, int(hire(R.HQ_INSPECTOR).user_id))

    inspector.say(f"/inspect {counter.code}")
    assert "بازدید سرزده از دفتر پیشخوان" in inspector.text
    assert "مورد ۱ از ۹" in inspector.text and "خط اینترنت" in inspector.text
    first = next(b for b in inspector.buttons() if b.startswith("insp:fail:"))
    assert {"insp:pause", first.replace("fail", "pass"), first.replace("fail", "na")} <= set(
        inspector.buttons()
    )

    inspector.press(first)
    assert "«رد» ثبت شد" in inspector.text
    inspector.photo(MESSENGER_METER_PHOTO)
    assert "عکس این مورد ثبت شد" in inspector.text
    inspector.press("insp:next")
    assert "مورد ۲ از ۹" in inspector.text
    inspector.press("insp:pause")
    assert "متوقف شد" in inspector.text and "۱ مورد از ۹ مورد" in inspector.text

    visit = session.exec(select(Inspection)).one()
    assert visit.status == InspectionStatus.PAUSED
    answer = session.exec(select(InspectionAnswer)).one()
    item = session.get(ChecklistItem, answer.item_id)
    assert item is not None and item.key == "internet" and answer.answer == ChecklistAnswer.NO
    assert answer.photo_key is not None
    kept = LocalFileStorage(settings.files_dir).read(answer.photo_key)
    assert kept == MESSENGER_METER_PHOTO  # the full size, not the thumbnail

    inspector.say(f"/inspect {counter.code}")
    assert "ادامه می‌یابد" in inspector.text and "مورد ۲ از ۹" in inspector.text
