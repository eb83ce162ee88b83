"""Self-reading of the meter: refused when lower than the last reading or implausibly high
(what was entered is kept), a photo known by its bytes, a tracking code; and the export."""

import csv
import io
from datetime import date

from sqlmodel import Session, select

from backend.constants import Channel
from backend.models import MeterSelfReading, Subscription, utcnow
from backend.self_readings import daily_limit_kwh, export_readings, parse_reading
from dialogs.engine import DialogEngine
from locales.values import tehran_date
from tests.helpers.chat import ChatUser
from tests.helpers.samples import METER_PHOTO
from tests.outages.conftest import follow

LAST = 12_400  # the factory's latest bill's current reading


def start(user: ChatUser, subscription: Subscription) -> None:
    follow(user, subscription)
    user.press("menu:self_reading")
    assert user.keys == ["reading.bill_prompt"]
    user.press(f"rdg:{subscription.id}")
    assert user.keys == ["reading.digits_prompt"]


def test_a_reading_lower_than_the_last_is_refused_and_the_bill_id_kept(
    user: ChatUser, subscription: Subscription
) -> None:
    start(user, subscription)
    user.say("۱۲۳۹۹")
    assert user.keys == ["refused.reading_lower", "reading.digits_prompt"]
    assert "۱۲۴۰۰" in user.text() and subscription.bill_id in user.text()


def test_a_reading_typed_as_a_buttons_number_is_a_reading_and_the_labels_still_work(
    user: ChatUser, subscription: Subscription
) -> None:
    start(user, subscription)
    user.say("2")  # «لغو» is the second button shown: a reading here all the same
    assert user.keys == ["refused.reading_lower", "reading.digits_prompt"]
    user.say("بازگشت")
    assert user.keys == ["reading.bill_prompt"]


def test_an_implausibly_high_reading_is_refused(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    start(user, subscription)
    user.say("99999")
    assert user.keys == ["refused.reading_implausible", "reading.digits_prompt"]
    # The rule: at most the tariff's floor a day here (this household's history is lower).
    days = (tehran_date(utcnow()) - date(2025, 3, 21)).days - 6 * 61
    assert daily_limit_kwh(session, subscription) == 40
    assert user.answer.replies[0].text.params["highest"].value == LAST + 40 * days  # type: ignore[union-attr]


def test_a_plausible_reading_with_a_photo_is_recorded_with_a_code(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    start(user, subscription)
    user.say("12 900")
    assert user.keys == ["reading.photo_prompt"]
    user.say("عکس ندارم")
    assert user.keys == ["reading.photo_needed", "reading.photo_prompt"]
    user.upload("meter.pdf", b"%PDF-1.4 not a photo", "image/jpeg")
    assert user.keys == ["reading.photo_bad_type", "reading.photo_prompt"]
    user.upload("meter.jpg", METER_PHOTO, "image/jpeg")
    assert user.keys[0] == "reading.recorded"
    (kept,) = session.exec(select(MeterSelfReading)).all()
    assert (kept.reading, kept.content_type, kept.channel) == (12_900, "image/jpeg", "telegram")
    # The next one is checked against it: lower than 12900 is refused now.
    user.press("menu:self_reading")
    user.press(f"rdg:{subscription.id}")
    user.say("12800")
    assert user.keys[0] == "refused.reading_lower"
    texter = ChatUser(user.engine, "+989121110000", channel=Channel.SMS)
    texter.say(kept.tracking_code)
    assert texter.keys[0] == "track.reading"


def test_only_a_followed_bill_id_takes_a_reading(
    dialog_engine: DialogEngine, subscription: Subscription
) -> None:
    user = ChatUser(dialog_engine, "6001")
    user.say("/start")
    user.press("menu:self_reading")
    assert user.keys == ["reading.no_bill_ids"] and user.buttons[0] == "rdg:follow"
    user.press(f"rdg:{subscription.id}")  # a button it was never shown
    assert user.keys[0] == "input.button_expired"


def test_digits_in_any_script_are_read_and_bounded() -> None:
    assert parse_reading("۱۲ ۳۴٥") == 12345
    assert parse_reading("123456789") is None
    assert parse_reading("12a") is None


def test_the_export_lists_the_days_readings_for_the_billing_team(
    user: ChatUser, session: Session, subscription: Subscription
) -> None:
    start(user, subscription)
    user.say("13000")
    user.upload("meter.jpg", METER_PHOTO, "image/jpeg")
    today = tehran_date(utcnow())
    out = io.StringIO()
    assert export_readings(session, out, start=today, end=today) == 1
    header, row = list(csv.reader(io.StringIO(out.getvalue())))
    assert header[:4] == ["tracking_code", "bill_id", "subscription_number", "reading"]
    assert row[1:4] == [subscription.bill_id, "SN48213", "13000"]
    assert row[4].startswith("14")  # a Jalali date
    empty = io.StringIO()
    yesterday = date.fromordinal(today.toordinal() - 1)
    assert export_readings(session, empty, start=yesterday, end=yesterday) == 0
