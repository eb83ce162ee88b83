"""Composing broadcasts as staff (chat, terminal, Telegram), and subscribers' own choices."""

import io
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.constants import BroadcastStatus, BroadcastTopic, Channel, StaffRole
from backend.models import Broadcast, FollowedSubscription, TopicOptOut, utcnow
from backend.settings import Settings
from backend.staff import add_staff
from bot.shell import chat
from dialogs.engine import DialogEngine
from locales.values import tehran_date
from tests.broadcasts.conftest import AddPerson
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.bots import TELEGRAM_TOKEN
from tests.helpers.chat import ChatUser
from tests.helpers.messenger_user import MessengerUser
from tests.helpers.staff import Hire, StaffChat, code_texted_to

T = Channel.TELEGRAM


def broadcasts(session: Session) -> list[Broadcast]:
    session.expire_all()
    return list(session.exec(select(Broadcast).order_by(Broadcast.id)))


def test_a_supervisor_sends_a_planned_outage_to_a_feeder(
    hire: Hire, add_person: AddPerson, fake_api: FakeBotAPI, session: Session
) -> None:
    add_person(followers=[(T, "5101")])  # feeder F-12
    add_person(followers=[(T, "5102")], feeder="F-51")
    supervisor = hire(StaffRole.SUPERVISOR)
    supervisor.say("/broadcast")
    supervisor.press("bck:outage")
    supervisor.say("صفاشهر")
    supervisor.say("1300/01/01")
    assert supervisor.keys[-2:] == ["broadcast.day_past", "broadcast.day_prompt"]
    supervisor.say("۱۴۱۰/۰۱/۱۵")
    supervisor.say("۹ تا ۱۱:۳۰")
    supervisor.press("bcr:maintenance")
    preview = supervisor.text()
    assert "برق صفاشهر روز ۱۴۱۰/۰۱/۱۵ از ساعت ۰۹:۰۰ تا ۱۱:۳۰" in preview
    supervisor.press("bcp:ok")
    supervisor.press("bca:feeders")
    supervisor.say("F-12، F-77")
    assert supervisor.last.key == "broadcast.feeders_prompt"
    assert "F-77" in supervisor.text()
    supervisor.say("F-12")
    supervisor.press("bcc:messenger_then_sms")
    assert supervisor.last.key == "broadcast.confirm"
    assert dict(supervisor.last.params) == {"telegram": 1, "bale": 0, "sms": 0, "total": 1}
    supervisor.press("bcw:now")
    supervisor.press("bcn:yes")  # in-process: sent before the answer comes back
    assert supervisor.keys[0] == "broadcast.queued"

    [broadcast] = broadcasts(session)
    assert (broadcast.status, broadcast.topic) == (BroadcastStatus.DONE, BroadcastTopic.OUTAGE)
    assert broadcast.audience == {"kind": "feeders", "feeders": ["F-12"]}
    [notice] = fake_api.sent_messages(TELEGRAM_TOKEN, 5101)
    assert "برق صفاشهر روز ۱۴۱۰/۰۱/۱۵" in notice["text"]
    assert fake_api.sent_messages(TELEGRAM_TOKEN, 5102) == []
    report = fake_api.sent_messages(TELEGRAM_TOKEN, int(supervisor.user_id))[-1]
    assert "گزارش اطلاعیه" in report["text"]


def test_an_admin_schedules_then_cancels_and_lists(
    hire: Hire, add_person: AddPerson, session: Session
) -> None:
    add_person()
    admin = hire(StaffRole.ADMIN)
    admin.say("/broadcast")
    admin.press("bck:text")
    admin.say("قبض‌های این ماه با تأخیر صادر می‌شود.")
    admin.press("bcp:ok")
    admin.press("bca:everyone")
    admin.press("bcc:sms")
    assert dict(admin.last.params)["sms"] == 1
    admin.press("bcw:later")
    admin.say("1410/01/15")
    assert admin.keys[0] == "broadcast.when_invalid"
    admin.say("1410/01/15 08:30")
    assert admin.keys[0] == "broadcast.scheduled"
    [broadcast] = broadcasts(session)
    assert broadcast.status == BroadcastStatus.SCHEDULED
    assert broadcast.send_at.isoformat() == "2031-04-04T05:00:00+00:00"  # 08:30 in Tehran

    admin.say("/broadcasts")
    assert admin.buttons[0] == f"bcx:{broadcast.id}"
    admin.press(f"bcx:{broadcast.id}")
    assert admin.keys[0] == "broadcast.cancelled"
    assert broadcasts(session)[0].status == BroadcastStatus.CANCELLED
    assert admin.buttons == ["nav:back", "nav:cancel"]  # nothing left to cancel


def test_others_do_not_even_see_the_commands(
    hire: Hire, dialog_engine: DialogEngine, session: Session
) -> None:
    reviewer = hire(StaffRole.BILLING_REVIEWER)
    for command in ("/broadcast", "/broadcasts"):
        reviewer.say(command)  # staff are told whose it is (staff.not_your_role)
        assert reviewer.keys[0] == "staff.not_your_role"
    subscriber = ChatUser(dialog_engine, user_id="4242")
    subscriber.say("/broadcast")
    assert subscriber.keys[0] == "input.unknown_command"
    assert broadcasts(session) == []


def test_a_csv_of_bill_ids(hire: Hire, add_person: AddPerson) -> None:
    first = add_person(followers=[(T, "5201")])
    second = add_person(followers=[(T, "5202")])
    add_person(followers=[(T, "5203")])
    supervisor = hire(StaffRole.SUPERVISOR)
    supervisor.say("/broadcast")
    supervisor.press("bck:text")
    supervisor.say("تست")
    supervisor.press("bcp:ok")
    supervisor.press("bca:subscriptions")
    content = f"bill_id\n{first.bill_id}\n{second.bill_id},x\nnot-a-bill\n6843834777427\n"
    supervisor.upload("list.csv", content.encode(), "text/csv")
    assert supervisor.keys[0] == "broadcast.csv_read"
    assert dict(supervisor.answer.replies[0].text.params) == {  # type: ignore[union-attr]
        "found": 2,
        "invalid": 1,
        "unknown": 1,
    }
    supervisor.press("bcc:messenger")
    assert dict(supervisor.last.params)["telegram"] == 2


def test_a_subscriber_follows_bill_ids_and_turns_notices_off_and_on(
    dialog_engine: DialogEngine, add_person: AddPerson, session: Session
) -> None:
    home = add_person()
    shop = add_person()
    user = ChatUser(dialog_engine, user_id="5301")
    user.say("/start")
    user.press("menu:follow")
    assert user.keys[-1] == "follow.none"
    for subscription in (home, shop):
        user.press("fol:add")
        user.say(subscription.bill_id)
        assert user.keys[0] == "follow.added"
        user.press("fol:nolabel")  # no name for it
    user.press("fol:add")
    user.say(home.bill_id)
    assert user.keys[0] == "follow.refused_already"
    assert {f"fol:rm:{home.id}", f"fol:rm:{shop.id}"} <= set(user.buttons)
    user.press(f"fol:rm:{home.id}")
    user.press("fol:yes")  # asked once before it is dropped
    followed = session.exec(select(FollowedSubscription.subscription_id)).all()
    assert followed == [shop.id]

    user.say("/notices off outage")
    assert user.keys[0] == "notices.switched_off_outage"
    assert session.exec(select(TopicOptOut.topic)).all() == [BroadcastTopic.OUTAGE]
    user.say("/notices")
    assert "ntc:outage:on" in user.buttons and "ntc:general:off" in user.buttons
    user.press("ntc:general:off")  # says which kind went off, not "notices are off"
    assert user.keys[0] == "notices.switched_off_general"
    assert user.text().startswith("اطلاعیه‌های عمومی غیرفعال شد")
    session.expire_all()
    assert len(session.exec(select(TopicOptOut)).all()) == 2
    user.press("ntc:outage:on")
    assert user.keys[0] == "notices.switched_on_outage"
    user.say("/notices on")
    session.expire_all()
    assert session.exec(select(TopicOptOut)).all() == []
    user.say("/notices 1234567890")  # staff's command: not for a subscriber
    assert user.keys[0] == "input.unknown_command"


def test_the_terminal_chat(
    dialog_engine: DialogEngine,
    session: Session,
    add_person: AddPerson,
    broadcast_settings: Settings,
) -> None:
    add_person(mobile="+989121110001")
    add_staff(session, full_name="سرپرست", phone="+989350009999", role=StaffRole.SUPERVISOR)
    session.commit()
    # Bound in this terminal chat first (menu → register my mobile → /contact → the code).
    supervisor = StaffChat(
        dialog_engine, user_id="local", channel=Channel.SHELL, phone="+989350009999"
    )
    supervisor.say("/start")
    supervisor.bind()
    lines = [
        "/start",
        "/menu",
        "/menu",
        "/broadcast",
        "2",  # free text
        "فردا قبض‌ها صادر می‌شود.",
        "1",  # looks right
        "1",  # everyone
        "3",  # SMS only
        "1",  # send now
        "1",  # yes, to that many
    ]
    out = io.StringIO()
    chat(dialog_engine, io.StringIO("\n".join(lines) + "\n"), out)
    assert "پیامک: ۱" in out.getvalue()
    assert "آغاز شد" in out.getvalue()
    sent = Path(broadcast_settings.sms_console_path).read_text(encoding="utf-8").splitlines()
    [sms] = [json.loads(line) for line in sent]
    assert sms["to"] == "+989121110001" and "فردا قبض‌ها صادر می‌شود." in sms["text"]


def test_through_telegram(
    fake_api: FakeBotAPI,
    polling_bots: None,
    session: Session,
    add_person: AddPerson,
    engine: sa.Engine,
    bot_settings: Settings,
) -> None:
    add_person(followers=[(T, "5401")])
    add_staff(session, full_name="سرپرست", phone="+989350008888", role=StaffRole.SUPERVISOR)
    session.commit()
    staff = MessengerUser(fake_api, TELEGRAM_TOKEN, 5400)
    staff.say("/start")
    staff.press("menu:phone")
    staff.contact("+989350008888", 5400)
    staff.say(code_texted_to(engine, bot_settings, "+989350008888"))
    staff.say("/broadcast")
    staff.press("bck:text")
    staff.say("آزمایش <اطلاعیه>")
    assert "آزمایش &lt;اطلاعیه&gt;" in staff.text
    # The SMS as it goes (no markup, nothing cut), with its parts.
    assert "پیامک (۱ بخش):\nاطلاعیه شرکت توزیع نیروی برق:\nآزمایش &lt;اطلاعیه&gt;" in staff.text
    staff.press("bcp:ok")
    staff.press("bca:everyone")
    staff.press("bcc:messenger")
    assert "تلگرام: ۱" in staff.text
    staff.press("bcw:now")
    assert "گیرندگان: ۱ (تلگرام: ۱، بله: ۰، پیامک: ۰)" in staff.text
    staff.press("bcn:yes")
    # The report waits out the one-message-a-second gap after the progress message.
    deadline = time.monotonic() + 10
    while not any("گزارش اطلاعیه" in m.get("text", "") for m in staff_messages(fake_api)):
        assert time.monotonic() < deadline, "no final report"
        time.sleep(0.1)
    [notice] = fake_api.sent_messages(TELEGRAM_TOKEN, 5401)
    assert "آزمایش &lt;اطلاعیه&gt;" in notice["text"]


def staff_messages(api: FakeBotAPI) -> list[dict[str, Any]]:
    return api.sent_messages(TELEGRAM_TOKEN, 5400)


def outage_until_preview(staff: StaffChat, place: str = "صفاشهر") -> None:
    staff.say("/broadcast")
    staff.press("bck:outage")
    staff.say(place)
    staff.say("۱۴۱۰/۰۱/۱۵")
    staff.say("۹ تا ۱۱:۳۰")
    staff.press("bcr:maintenance")
    assert staff.last.key == "broadcast.preview"


def test_back_at_the_preview_goes_one_step_and_keeps_the_rest(hire: Hire) -> None:
    supervisor = hire(StaffRole.SUPERVISOR)
    outage_until_preview(supervisor)
    supervisor.press("nav:back")
    assert supervisor.last.key == "broadcast.reason_prompt"
    supervisor.press("bcr:trees")
    preview = supervisor.text()
    assert "برق صفاشهر روز ۱۴۱۰/۰۱/۱۵ از ساعت ۰۹:۰۰ تا ۱۱:۳۰ به دلیل هرس درختان" in preview

    supervisor.say("/broadcast")
    supervisor.press("bck:text")
    supervisor.say("متن نخست")
    supervisor.press("nav:back")
    assert supervisor.last.key == "broadcast.text_prompt"


def test_the_area_the_template_names_is_offered_first(
    hire: Hire, add_person: AddPerson, session: Session
) -> None:
    add_person(followers=[(T, "5501")], area="صفاشهر")
    add_person(followers=[(T, "5502")], area="زنبیل‌آباد")
    supervisor = hire(StaffRole.SUPERVISOR)
    outage_until_preview(supervisor, place="صفا شهر")
    supervisor.press("bcp:ok")
    assert supervisor.buttons[0] == "bcl:0"
    assert supervisor.text().splitlines()[1] == "مشترکان صفاشهر، قم (نام‌برده در اطلاعیه)"
    supervisor.press("bcl:0")
    supervisor.press("bcc:messenger")
    assert dict(supervisor.last.params)["telegram"] == 1
    supervisor.press("bcw:now")
    supervisor.press("bcn:yes")
    [broadcast] = broadcasts(session)
    assert broadcast.audience == {"kind": "place", "city": "قم", "area": "صفاشهر"}


def test_an_area_is_found_without_its_city_and_however_spaced(
    hire: Hire, add_person: AddPerson
) -> None:
    add_person(followers=[(T, "5601")], area="زنبیل‌آباد")
    add_person(followers=[(T, "5602")], city="کهک", area="زنبیل‌آباد")
    add_person(followers=[(T, "5603")], area="صفاشهر")
    supervisor = hire(StaffRole.SUPERVISOR)

    def to_area_step() -> None:
        supervisor.say("/broadcast")
        supervisor.press("bck:text")
        supervisor.say("تست")
        supervisor.press("bcp:ok")
        assert "bcl:0" not in supervisor.buttons  # a free text names no place
        supervisor.press("bca:place")

    to_area_step()
    supervisor.say("زنبيل آباد")  # Arabic yeh, a space for the ZWNJ, no city
    assert supervisor.last.key == "broadcast.area_choose"
    assert supervisor.buttons[:2] == ["bcl:0", "bcl:1"]
    assert "زنبیل‌آباد، کهک" in supervisor.text()
    supervisor.press("bcl:1")
    supervisor.press("bcc:messenger")
    assert dict(supervisor.last.params)["telegram"] == 1  # Kahak's only

    to_area_step()
    supervisor.say("صفا شهر")  # one place of that name: no question
    assert supervisor.last.key == "broadcast.channels_prompt"


def test_sending_now_asks_once_more_with_the_count(
    hire: Hire, add_person: AddPerson, session: Session
) -> None:
    add_person(followers=[(T, "5701")])
    add_person(mobile="+989121110702")
    admin = hire(StaffRole.ADMIN)
    admin.say("/broadcast")
    admin.press("bck:text")
    admin.say("قبض‌ها دیرتر صادر می‌شود.")
    admin.press("bcp:ok")
    admin.press("bca:everyone")
    admin.press("bcc:messenger_then_sms")
    admin.press("bcw:now")
    assert admin.last.key == "broadcast.send_now_confirm"
    assert dict(admin.last.params) == {"telegram": 1, "bale": 0, "sms": 1, "total": 2}
    assert "بله، برای ۲ گیرنده بفرست" in admin.text()
    assert broadcasts(session) == []  # nothing yet
    admin.press("nav:back")
    assert admin.last.key == "broadcast.confirm"
    admin.press("bcw:now")
    admin.press("bcn:yes")
    assert admin.keys[0] == "broadcast.queued"
    assert len(broadcasts(session)) == 1


def test_the_preview_shows_the_sms_as_sent_and_where_it_is_cut(
    hire: Hire, add_person: AddPerson, broadcast_settings: Settings
) -> None:
    add_person(mobile="+989121110801")
    admin = hire(StaffRole.ADMIN)
    admin.say("/broadcast")
    admin.press("bck:text")
    words = [f"واژه{number}" for number in range(60)]
    admin.say(" ".join(words))
    assert admin.last.key == "broadcast.preview_sms_cut"
    params = dict(admin.last.params)
    assert (params["parts"], params["max"]) == (broadcast_settings.sms_max_parts, 3)
    kept = params["sms"].removesuffix("…").split()
    assert params["after"] == " ".join(kept[-4:]) and params["after"].startswith("واژه")
    assert params["dropped"] == len(words) - sum(word in words for word in kept)
    assert "هشدار: این متن در ۳ بخش پیامک جا نمی‌شود" in admin.text()
    admin.press("bcp:ok")
    admin.press("bca:everyone")
    admin.press("bcc:sms")
    admin.press("bcw:now")
    admin.press("bcn:yes")
    sent = Path(broadcast_settings.sms_console_path).read_text(encoding="utf-8").splitlines()
    [sms] = [json.loads(line) for line in sent]
    assert sms["text"] == params["sms"]  # exactly what the preview showed

    admin.say("/broadcast")
    admin.press("bck:text")
    admin.say("کوتاه")
    assert admin.last.key == "broadcast.preview"
    assert dict(admin.last.params)["parts"] == 1


def test_the_date_examples_are_ahead_of_today(hire: Hire) -> None:
    supervisor = hire(StaffRole.SUPERVISOR)
    tomorrow = {tehran_date(utcnow()) + timedelta(days=1)}
    supervisor.say("/broadcast")
    supervisor.press("bck:outage")
    supervisor.say("صفاشهر")
    assert supervisor.last.key == "broadcast.day_prompt"
    tomorrow.add(tehran_date(utcnow()) + timedelta(days=1))  # the test may cross midnight
    assert supervisor.last.params["example"] in tomorrow
    assert "۱۴۰۵/۰۸/۱۲" not in supervisor.text()
    supervisor.say("فردا")
    assert supervisor.last.params["example"] in tomorrow


def test_outage_notices_turned_off_still_reach_the_registered_mobile_as_the_reply_says(
    dialog_engine: DialogEngine,
    hire: Hire,
    add_person: AddPerson,
    fake_api: FakeBotAPI,
    broadcast_settings: Settings,
) -> None:
    home = add_person(mobile="+989121110901")
    user = ChatUser(dialog_engine, user_id="5901")
    user.say("/start")
    user.press("menu:follow")
    user.press("fol:add")
    user.say(home.bill_id)
    user.say("/notices off outage")
    assert user.keys[0] == "notices.switched_off_outage"
    assert "به شماره همراه ثبت‌شده در قبض می‌رسند" in user.text()

    supervisor = hire(StaffRole.SUPERVISOR)
    outage_until_preview(supervisor)
    supervisor.press("bcp:ok")
    supervisor.press("bca:everyone")
    supervisor.press("bcc:messenger_then_sms")
    assert dict(supervisor.last.params) == {"telegram": 0, "bale": 0, "sms": 1, "total": 1}
    supervisor.press("bcw:now")
    supervisor.press("bcn:yes")
    assert fake_api.sent_messages(TELEGRAM_TOKEN, 5901) == []
    sent = Path(broadcast_settings.sms_console_path).read_text(encoding="utf-8").splitlines()
    [sms] = [json.loads(line) for line in sent]
    assert sms["to"] == "+989121110901" and "صفاشهر" in sms["text"]
