"""SMS as a channel: the webhook, status look-ups, privacy, a bill review filed by SMS, keywords."""

from datetime import UTC, datetime, timedelta

import pytest
import respx
import sqlalchemy as sa
from pydantic import SecretStr
from sqlmodel import Session, select

from backend.constants import Channel, RequestKind, RequestStatus
from backend.models import Bill, Conversation, ServiceRequest, SmsOptOut
from backend.settings import Settings
from bot.sms_desk import event_id_of, render_sms_answer, repeat_window_of
from bot.wiring import make_sms_desk
from channels.inbound_rate import KEY_PREFIX, MemoryRateCounter, RedisRateCounter
from channels.sms import InboundSms
from channels.sms.text import parts_needed
from dialogs.bill_review import CONFIRM
from locales.values import format_date, tehran_date
from notifications.runtime import Notifier
from tests.factories import add_subscription
from tests.helpers.answers import form, json_answer
from tests.helpers.chat import ChatUser
from tests.helpers.sms_desk import SECRET, Phone, Webhook, reply_to, sent
from tests.helpers.subscribers import file_review

KAVENEGAR = "https://api.kavenegar.com/v1"
OWNER = "+989121234567"
STRANGER = "+989351112233"
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def test_a_tracking_code_in_persian_digits_gets_the_status_once(
    engine: sa.Engine,
    sms_settings: Settings,
    session: Session,
    gateway: respx.MockRouter,
    webhook: Webhook,
) -> None:
    request = file_review(engine, sms_settings, session, add_subscription(session, mobile=OWNER))
    phone = Phone(webhook, OWNER)

    assert phone.text(f"سلام وضعیت درخواست {request.tracking_code.translate(PERSIAN)} چیه؟") == "OK"
    reply = reply_to(gateway, 0, OWNER)
    assert request.tracking_code in reply and "ثبت شده، در انتظار بررسی" in reply
    assert "چه کاری" not in reply  # the menu after an answer would not fit

    phone.text(f"سلام وضعیت درخواست {request.tracking_code.translate(PERSIAN)} چیه؟")
    assert len(sent(gateway)) == 1  # the same push again is answered once


def test_a_stranger_asking_about_a_request_learns_nothing_personal(
    engine: sa.Engine,
    sms_settings: Settings,
    session: Session,
    gateway: respx.MockRouter,
    webhook: Webhook,
) -> None:
    subscription = add_subscription(session, mobile=OWNER)
    request = file_review(engine, sms_settings, session, subscription)
    Phone(webhook, STRANGER).text(request.tracking_code)

    reply = reply_to(gateway, 0, STRANGER)
    assert request.tracking_code in reply
    rest = reply.replace(request.tracking_code, "")  # a random code may hold "4567" itself
    for personal in ("مریم", "احمدی", "صفاییه", "ریال", "4567", "۴۵۶۷", subscription.bill_id):
        assert personal not in rest


def test_a_bill_review_is_filed_by_sms_end_to_end(
    engine: sa.Engine,
    sms_settings: Settings,
    session: Session,
    gateway: respx.MockRouter,
    webhook: Webhook,
) -> None:
    subscription = add_subscription(session, mobile=OWNER)
    phone = Phone(webhook, STRANGER)
    script = [
        ("سلام", "۱ اعتراض به صورت‌حساب"),
        ("۱", "شناسه قبض"),
        (subscription.bill_id.translate(PERSIAN), "۱ "),
        ("1", "۱ قرائت اشتباه کنتور"),
        ("۱", "شرح اعتراض"),
        ("رقم کنتور ۱۲۳۴۵ بود نه ۱۳۰۰۰", "ثبت شود؟"),  # the summary: no document step
        ("۱", "درخواست‌های من"),  # filed: where documents can be added
    ]
    for said, expected in script:
        before = len(sent(gateway))
        phone.text(said)
        assert expected in reply_to(gateway, before, STRANGER), said

    request = session.exec(select(ServiceRequest)).one()
    assert (request.channel, request.channel_user_id) == (Channel.SMS, STRANGER)
    assert request.description == "رقم کنتور ۱۲۳۴۵ بود نه ۱۳۰۰۰"
    assert request.tracking_code in sent(gateway)[-1]["text"]

    Notifier(sms_settings, engine).run_pending()  # the receipt goes to the registered mobile
    receipt = sent(gateway)[-1]
    assert receipt["to"] == "0" + OWNER[3:] and request.tracking_code in receipt["text"]


def test_an_sms_conversation_left_for_half_an_hour_starts_over(
    engine: sa.Engine,
    sms_settings: Settings,
    session: Session,
    gateway: respx.MockRouter,
    webhook: Webhook,
) -> None:
    subscription = add_subscription(session, mobile=OWNER)
    phone = Phone(webhook, OWNER)
    phone.text("سلام")
    phone.text("۱")
    phone.text(subscription.bill_id)  # a draft is begun
    conversation = session.exec(select(Conversation)).one()
    conversation.updated_at = datetime.now(UTC) - timedelta(minutes=31)
    session.add(conversation)
    session.commit()

    before = len(sent(gateway))
    phone.text("سلام دوباره")
    assert "منقضی" in reply_to(gateway, before, OWNER)


def test_keywords_opt_out_opt_in_and_help(
    engine: sa.Engine,
    sms_settings: Settings,
    session: Session,
    gateway: respx.MockRouter,
    webhook: Webhook,
) -> None:
    phone = Phone(webhook, OWNER)
    phone.text("لغو ۱۱")
    assert "قطع شد" in reply_to(gateway, 0, OWNER)
    assert session.get(SmsOptOut, OWNER) is not None

    phone.text("شروع")
    assert "دوباره وصل شد" in reply_to(gateway, 1, OWNER)
    session.expire_all()
    assert session.get(SmsOptOut, OWNER) is None

    phone.text("راهنما")
    assert "کد رهگیری" in reply_to(gateway, 2, OWNER)


def test_a_sender_over_the_limit_is_told_once_then_not_answered(
    engine: sa.Engine, sms_settings: Settings, gateway: respx.MockRouter
) -> None:
    limited = Webhook(sms_settings.model_copy(update={"sms_rate_limit": 2}), engine)
    phone = Phone(limited, OWNER)
    for text in ("سلام", "راهنما", "help", "کمک"):
        assert phone.text(text) == "OK"
    limited.close()
    replies = [s["text"] for s in sent(gateway)]
    assert len(replies) == 3 and "حد مجاز" in replies[-1]


def test_the_webhook_refuses_what_is_not_a_push(webhook: Webhook) -> None:
    assert webhook.get("/sms/melipayamak/guessed", {"from": OWNER, "body": "x"})[0] == 404
    assert webhook.get("/sms/kavenegar/" + SECRET, {"from": OWNER, "body": "x"})[0] == 404
    assert webhook.get(webhook.path, {"to": "3000"})[0] == 400


def test_polled_inbound_sms_are_answered_once(
    engine: sa.Engine, notice_settings: Settings, session: Session
) -> None:
    settings = notice_settings.model_copy(
        update={
            "sms_provider": "kavenegar",
            "kavenegar_api_key": SecretStr("polled-key"),
            "sms_sender": "30002225",
        }
    )
    with respx.mock(base_url=f"{KAVENEGAR}/polled-key", assert_all_mocked=True) as kavenegar:
        kavenegar.get("/sms/receive.json").mock(return_value=json_answer("kavenegar", "receive"))
        sends = kavenegar.post("/sms/send.json").mock(return_value=json_answer("kavenegar", "send"))
        desk = make_sms_desk(Notifier(settings, engine))
        assert desk.poll() == 2
        assert desk.poll() == 2  # the same messages again: not answered again

    assert session.get(SmsOptOut, "+989121234567") is not None
    assert sorted(form(c.request)["receptor"] for c in sends.calls) == [
        "09121234567",
        "09351112233",
    ]
    assert all(form(c.request)["localid"].isdigit() for c in sends.calls)


def test_a_push_without_an_id_is_recognised_by_content_except_a_bare_choice() -> None:
    status = InboundSms(sender=OWNER, receiver="3000", text="وضعیت ۱۲۳۴۵۶۷۸۹۰")
    assert event_id_of(status, "m") == event_id_of(status, "m")
    assert repeat_window_of(status) == timedelta(seconds=60)  # within a minute of the first
    other = InboundSms(sender=STRANGER, receiver="3000", text="وضعیت ۱۲۳۴۵۶۷۸۹۰")
    assert event_id_of(status, "m") != event_id_of(other, "m")
    assert event_id_of(InboundSms(sender=OWNER, receiver="3000", text=" ۱ "), "m") is None
    pushed = InboundSms(sender=OWNER, receiver="3000", text="۱", provider_id="77")
    assert event_id_of(pushed, "kavenegar") == "kavenegar:77"
    assert repeat_window_of(pushed) is None  # the gateway's id: a repeat whenever it comes


@pytest.mark.parametrize("text", ["سلام", "راهنما"])  # a dialog's reply, a keyword's
def test_a_push_repeated_across_a_minute_boundary_is_answered_once(
    engine: sa.Engine, sms_settings: Settings, gateway: respx.MockRouter, text: str
) -> None:
    now = [datetime(2026, 1, 1, 8, 0, 58, 500_000, tzinfo=UTC)]
    desk = make_sms_desk(Notifier(sms_settings, engine, clock=lambda: now[0]))
    desk.dialogs.clock = lambda: now[0]
    push = InboundSms(sender=OWNER, receiver="30004000123", text=text)

    assert desk.handle(push, "melipayamak") is not None
    now[0] += timedelta(seconds=3.5)  # 08:01:02, the next clock minute
    assert desk.handle(push, "melipayamak") is None
    assert len(sent(gateway)) == 1

    now[0] += timedelta(seconds=70)  # the same words a good while later: a message of its own
    assert desk.handle(push, "melipayamak") is not None
    assert len(sent(gateway)) == 2


class Killed(BaseException):
    """The process dying: nothing after it runs."""


def test_an_answer_lost_before_its_send_goes_out_when_the_gateway_pushes_again(
    engine: sa.Engine,
    sms_settings: Settings,
    session: Session,
    gateway: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subscription = add_subscription(session, mobile=OWNER)
    request = file_review(engine, sms_settings, session, subscription)
    desk = make_sms_desk(Notifier(sms_settings, engine))
    push = InboundSms(sender=OWNER, receiver="30004000123", text=f"وضعیت {request.tracking_code}")

    def killed(to: str, text: str) -> bool:
        raise Killed  # after the commit, before the gateway was called

    with monkeypatch.context() as patch:
        patch.setattr(desk, "_send", killed)
        with pytest.raises(Killed):
            desk.handle(push, "melipayamak")
    assert sent(gateway) == []

    desk.handle(push, "melipayamak")  # the gateway got no answer and pushes again
    reply = reply_to(gateway, 0, OWNER)
    assert request.tracking_code in reply and "ثبت شده، در انتظار بررسی" in reply
    desk.handle(push, "melipayamak")  # sent now: a third push is answered with nothing
    assert len(sent(gateway)) == 1


def sms_user(engine: sa.Engine, settings: Settings, locale: str) -> ChatUser:
    """A subscriber on the SMS desk's own dialogs (two bills a choice), reading `locale`."""
    user = ChatUser(make_sms_desk(Notifier(settings, engine)).dialogs, OWNER, Channel.SMS)
    user.say("/language")
    user.press(f"lang:{locale}")
    return user


def fits_whole(user: ChatUser, settings: Settings, *expected: str) -> str:
    """The reply as sent: in SMS_REPLY_MAX_PARTS parts, nothing cut, holding `expected`."""
    assert user.answer is not None
    reply = render_sms_answer(user.answer, settings.sms_reply_max_parts)
    assert parts_needed(reply) <= settings.sms_reply_max_parts, reply
    assert "…" not in reply and "..." not in reply, reply
    for text in expected:
        assert text in reply, (text, reply)
    return reply


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_every_sms_reply_of_a_review_filed_and_looked_up_fits_whole_with_its_dates(
    engine: sa.Engine, sms_settings: Settings, session: Session, locale: str
) -> None:
    subscription = add_subscription(session, file_number=68438347, mobile=OWNER)  # 13 digits
    bills = session.exec(select(Bill).where(Bill.subscription_id == subscription.id)).all()
    newest = sorted(bills, key=lambda bill: bill.current_reading_date, reverse=True)[:2]
    user = sms_user(engine, sms_settings.model_copy(update={"track_rate_limit": 100}), locale)

    user.press("menu:review")
    fits_whole(user, sms_settings)
    user.say(subscription.bill_id)
    fits_whole(user, sms_settings, *(format_date(b.current_reading_date, locale) for b in newest))
    user.press(f"bill:{newest[0].id}")
    fits_whole(user, sms_settings)
    user.press("reason:high_consumption")
    fits_whole(user, sms_settings)
    user.say("رقم کنتور ۱۲۳۴۵ بود نه ۱۳۰۰۰، لطفاً دوباره قرائت کنید. " * 8)  # a long one
    fits_whole(user, sms_settings, format_date(newest[0].current_reading_date, locale))
    user.press(CONFIRM)
    request = session.exec(select(ServiceRequest)).one()
    assert request.step_deadline is not None
    deadline = format_date(tehran_date(request.step_deadline), locale)
    fits_whole(user, sms_settings, request.tracking_code, deadline)

    dated = set()
    for kind in RequestKind:  # the look-up, whatever the step (the longest wording too)
        for status in RequestStatus:
            request.kind, request.status = kind, status
            session.add(request)
            session.commit()
            user.say(request.tracking_code)
            if "track.status_sms" in user.keys:  # a step with its next date (not a result)
                fits_whole(user, sms_settings, request.tracking_code, deadline)
                dated.add((kind, status))
            else:
                fits_whole(user, sms_settings)
    assert (RequestKind.BILL_REVIEW, RequestStatus.SUBMITTED) in dated
    assert (RequestKind.CONNECTION_REMOVAL, RequestStatus.TERMS_ANNOUNCED) in dated  # longest
    user.say("/status 1234567890")  # a mistyped code: said why, asked again
    fits_whole(user, sms_settings)


def test_look_ups_are_limited_per_sender_even_while_redis_is_down(
    engine: sa.Engine, sms_settings: Settings, gateway: respx.MockRouter
) -> None:
    settings = sms_settings.model_copy(
        update={"redis_url": "redis://127.0.0.1:1/0", "track_rate_limit": 2}  # nobody listens
    )
    desk = make_sms_desk(Notifier(settings, engine))
    for code in ("1000000001", "1000000002", "1000000003"):
        desk.handle(InboundSms(sender=OWNER, receiver="3000", text=code), "melipayamak")
    replies = [s["text"] for s in sent(gateway)]
    assert len(replies) == 3 and "حد مجاز" in replies[-1] and "حد مجاز" not in replies[1]


def test_rate_counters_count_per_sender_in_a_window(redis_url: str) -> None:
    import redis

    connection = redis.Redis.from_url(redis_url)
    sender = f"+98912{datetime.now(UTC).microsecond:07d}"
    try:
        counter = RedisRateCounter(connection, window_seconds=60)
        assert [counter.hit(sender) for _ in range(3)] == [1, 2, 3]
        assert 0 < connection.ttl(KEY_PREFIX + sender) <= 60
    finally:
        connection.delete(KEY_PREFIX + sender)
        connection.close()
    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)  # nobody listens
    assert [RedisRateCounter(down, window_seconds=60).hit(sender) for _ in range(1)] == [1]
    failing = RedisRateCounter(down, window_seconds=60)
    assert [failing.hit(sender) for _ in range(3)] == [1, 2, 3]  # counted here meanwhile
    clock = [0.0]
    memory = MemoryRateCounter(window_seconds=60, clock=lambda: clock[0])
    assert [memory.hit(sender), memory.hit(sender), memory.hit("other")] == [1, 2, 1]
    clock[0] = 61.0
    assert memory.hit(sender) == 1
