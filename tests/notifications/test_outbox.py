"""Notices in-process (the embedded default): planning, sending, retries, fallback, opt-out."""

import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
import sqlalchemy as sa
from sqlmodel import Session, select

from backend.actions import announce_fee
from backend.constants import Channel, DeliveryState, DocumentType, NoticeKind, RemovalReason
from backend.conversations import ensure_identity
from backend.models import (
    ChannelIdentity,
    Customer,
    NoticeDelivery,
    Payment,
    ServiceRequest,
    SmsOptOut,
)
from backend.notice_status import deliveries_of
from backend.notices import queue_notice
from backend.service_requests import DraftDocument, file_removal
from backend.settings import Settings
from backend.staff import add_staff
from notifications.clock import run_clock
from notifications.outbox import lease_token
from notifications.queue import JobCall
from notifications.runtime import Notifier
from tests.factories import add_subscription
from tests.fakes.bot_api import FakeBotAPI
from tests.helpers.answers import json_answer
from tests.helpers.bots import TELEGRAM_TOKEN
from tests.helpers.sms_desk import MELIPAYAMAK
from tests.helpers.subscribers import console_sms, deliveries, file_review

CHAT = 6001


def essential_notice(session: Session, request: ServiceRequest) -> None:
    queue_notice(session, request, NoticeKind.FEE_DUE, now=datetime.now(UTC), fee_rials=2_500_000)
    session.commit()


def test_a_receipt_filed_in_the_terminal_goes_by_console_sms_in_process(
    engine: sa.Engine, notice_settings: Settings, session: Session
) -> None:
    subscription = add_subscription(session, mobile="+989121110001")
    request = file_review(engine, notice_settings, session, subscription)
    notifier = Notifier(notice_settings, engine)
    assert notifier.inline

    notifier.run_pending()

    [sms] = console_sms(notice_settings.sms_console_path)
    assert sms["to"] == "+989121110001"
    assert request.tracking_code in sms["text"]
    assert "کد رهگیری" in sms["text"] and "\u2066" not in sms["text"]  # no bidi isolates in SMS
    delivery = deliveries(session, request)[Channel.SMS]
    assert (delivery.state, delivery.raw_code, delivery.attempts) == ("delivered", "delivered", 1)
    assert delivery.next_attempt_at is None
    notifier.run_pending()  # nothing is sent twice
    assert len(console_sms(notice_settings.sms_console_path)) == 1


def test_a_telegram_filer_gets_the_receipt_in_telegram_and_no_sms(
    engine: sa.Engine, telegram_settings: Settings, session: Session, fake_api: FakeBotAPI
) -> None:
    subscription = add_subscription(session)
    request = file_review(
        engine, telegram_settings, session, subscription, channel=Channel.TELEGRAM, user_id="6001"
    )
    Notifier(telegram_settings, engine).run_pending()

    [message] = fake_api.sent_messages(TELEGRAM_TOKEN, CHAT)
    assert f"<code>{request.tracking_code}</code>" in message["text"]
    [call] = fake_api.calls("sendMessage", token=TELEGRAM_TOKEN)
    assert call.params["parse_mode"] == "HTML"
    assert set(deliveries(session, request)) == {Channel.TELEGRAM}
    assert console_sms(telegram_settings.sms_console_path) == []


def test_essential_notices_go_by_messenger_and_sms(
    engine: sa.Engine, telegram_settings: Settings, session: Session, fake_api: FakeBotAPI
) -> None:
    subscription = add_subscription(session, mobile="+989121110002")
    request = file_review(
        engine, telegram_settings, session, subscription, channel=Channel.TELEGRAM, user_id="6001"
    )
    notifier = Notifier(telegram_settings, engine)
    notifier.run_pending()
    essential_notice(session, request)
    notifier.run_pending()

    [sms] = console_sms(telegram_settings.sms_console_path)
    assert "۲٬۵۰۰٬۰۰۰ ریال" in sms["text"]
    assert len(fake_api.sent_messages(TELEGRAM_TOKEN, CHAT)) == 2


@pytest.mark.parametrize(
    ("status", "description"),
    [(403, "Forbidden: bot was blocked by the user"), (400, "Bad Request: chat not found")],
)
def test_a_messenger_that_cannot_reach_the_chat_falls_back_to_sms(
    engine: sa.Engine,
    telegram_settings: Settings,
    session: Session,
    fake_api: FakeBotAPI,
    status: int,
    description: str,
) -> None:
    subscription = add_subscription(session, mobile="+989121110003")
    request = file_review(
        engine, telegram_settings, session, subscription, channel=Channel.TELEGRAM, user_id="6001"
    )
    fake_api.fail_chat(CHAT, status, description)
    Notifier(telegram_settings, engine).run_pending()

    found = deliveries(session, request)
    assert (found[Channel.TELEGRAM].state, found[Channel.TELEGRAM].raw_code) == (
        "permanent-failure",
        str(status),
    )
    assert found[Channel.SMS].state == "delivered"
    [sms] = console_sms(telegram_settings.sms_console_path)
    assert sms["to"] == "+989121110003" and request.tracking_code in sms["text"]
    identity = session.exec(
        select(ChannelIdentity).where(ChannelIdentity.external_user_id == "6001")
    ).one()
    assert identity.reachable is False

    # The next notice goes straight to SMS: the chat is known to be unreachable.
    queue_notice(session, request, NoticeKind.UNDER_REVIEW, now=datetime.now(UTC))
    session.commit()
    calls = len(fake_api.calls("sendMessage", token=TELEGRAM_TOKEN))
    Notifier(telegram_settings, engine).run_pending()
    assert len(fake_api.calls("sendMessage", token=TELEGRAM_TOKEN)) == calls
    assert len(console_sms(telegram_settings.sms_console_path)) == 2


def test_temporary_failures_are_retried_then_given_up_for_sms(
    engine: sa.Engine, telegram_settings: Settings, session: Session, fake_api: FakeBotAPI
) -> None:
    settings = telegram_settings.model_copy(
        update={"notice_max_attempts": 2, "notice_retry_seconds": 60}
    )
    subscription = add_subscription(session)
    request = file_review(
        engine, settings, session, subscription, channel=Channel.TELEGRAM, user_id="6001"
    )
    fake_api.fail_next("sendMessage", 502, count=None)
    now = datetime.now(UTC)
    Notifier(settings, engine, clock=lambda: now).run_pending()

    delivery = deliveries(session, request)[Channel.TELEGRAM]
    assert (delivery.state, delivery.attempts) == ("temporary-failure", 1)
    assert delivery.next_attempt_at == now + timedelta(seconds=60)
    Notifier(settings, engine, clock=lambda: now + timedelta(seconds=30)).run_pending()
    assert deliveries(session, request)[Channel.TELEGRAM].attempts == 1  # not due yet

    Notifier(settings, engine, clock=lambda: now + timedelta(seconds=61)).run_pending()
    found = deliveries(session, request)
    assert (found[Channel.TELEGRAM].state, found[Channel.TELEGRAM].attempts) == (
        "permanent-failure",
        2,
    )
    assert found[Channel.SMS].state == "delivered"  # given up: the subscriber still hears


def test_opted_out_numbers_get_only_essential_sms(
    engine: sa.Engine, notice_settings: Settings, session: Session
) -> None:
    subscription = add_subscription(session, mobile="+989121110004")
    session.add(SmsOptOut(mobile="+989121110004", created_at=datetime.now(UTC)))
    session.commit()
    request = file_review(engine, notice_settings, session, subscription)
    notifier = Notifier(notice_settings, engine)
    notifier.run_pending()

    receipt = deliveries(session, request)[Channel.SMS]
    assert (receipt.state, receipt.raw_code) == ("permanent-failure", "opted-out")
    assert console_sms(notice_settings.sms_console_path) == []

    essential_notice(session, request)
    notifier.run_pending()
    [sms] = console_sms(notice_settings.sms_console_path)
    assert "ریال" in sms["text"]


def test_a_stale_or_repeated_job_sends_nothing(
    engine: sa.Engine, notice_settings: Settings, session: Session
) -> None:
    subscription = add_subscription(session)
    request = file_review(engine, notice_settings, session, subscription)
    calls = []
    notifier = Notifier(notice_settings, engine, queue=CollectingQueue(calls))
    notifier.relay.run_once()
    [call] = calls
    delivery_id, token = call.args

    notifier.deliverer.deliver(delivery_id, lease_token(datetime(2020, 1, 1, tzinfo=UTC)))
    assert console_sms(notice_settings.sms_console_path) == []  # not the current lease
    notifier.deliverer.deliver(delivery_id, token)
    notifier.deliverer.deliver(delivery_id, token)  # the same job delivered twice by the queue
    assert len(console_sms(notice_settings.sms_console_path)) == 1
    assert deliveries(session, request)[Channel.SMS].attempts == 1


def test_staff_see_each_notice_and_its_deliveries_with_mobiles_masked(
    engine: sa.Engine, notice_settings: Settings, session: Session
) -> None:
    subscription = add_subscription(session, mobile="+989121234567")
    request = file_review(engine, notice_settings, session, subscription)
    essential_notice(session, request)
    assert [n.deliveries for n in deliveries_of(session, request.id or 0)] == [[], []]

    Notifier(notice_settings, engine).run_pending()
    receipt, fee = deliveries_of(session, request.id or 0)
    assert (receipt.kind, fee.kind, fee.essential) == ("receipt", "fee_due", True)
    [sms] = receipt.deliveries
    assert (sms.channel, sms.address, sms.state, sms.pending) == (
        "sms",
        "+98912***4567",
        DeliveryState.DELIVERED,
        False,
    )


def test_a_subscriber_without_a_mobile_is_shown_to_staff_as_such(
    engine: sa.Engine, notice_settings: Settings, session: Session
) -> None:
    subscription = add_subscription(session, mobile="+989121110005")
    session.execute(sa.update(Customer).values(mobile=None))
    session.commit()
    request = file_review(engine, notice_settings, session, subscription)
    Notifier(notice_settings, engine).run_pending()
    [notice] = deliveries_of(session, request.id or 0)
    [sms] = notice.deliveries
    assert (sms.state, sms.raw_code, sms.pending) == ("permanent-failure", "no-mobile", False)
    assert session.exec(select(NoticeDelivery)).one().address == ""


class JobKilled(BaseException):
    pass


class CollectingQueue:
    def __init__(self, calls: list) -> None:
        self.calls = calls

    def submit(self, calls: list) -> None:
        self.calls.extend(calls)


def test_the_clock_relays_until_stopped(
    engine: sa.Engine, notice_settings: Settings, session: Session
) -> None:
    request = file_review(engine, notice_settings, session, add_subscription(session))
    notifier = Notifier(notice_settings, engine)
    stop = threading.Event()
    clock = threading.Thread(target=run_clock, args=(notifier, stop))
    clock.start()
    try:
        deadline = time.monotonic() + 10
        while not console_sms(notice_settings.sms_console_path):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        stop.set()
        clock.join(10)
    assert request.tracking_code in console_sms(notice_settings.sms_console_path)[0]["text"]


def test_a_fee_notice_carries_the_pay_button_in_the_messenger_and_the_link_by_sms(
    engine: sa.Engine, telegram_settings: Settings, session: Session, fake_api: FakeBotAPI
) -> None:
    subscription = add_subscription(session, mobile="+989121110009")
    now = datetime.now(UTC)
    ensure_identity(session, channel=Channel.TELEGRAM, user_id=str(CHAT), now=now)
    id_card = DraftDocument("k", "0" * 64, 10, "image/jpeg", "id.jpg", DocumentType.ID_CARD)
    request = file_removal(
        session,
        channel=Channel.TELEGRAM,
        channel_user_id=str(CHAT),
        subscription_id=subscription.id,
        reason=RemovalReason.DEMOLITION,
        documents=[id_card],
        now=now,
        fee_announcement_working_days=1,
    )
    session.commit()
    notifier = Notifier(telegram_settings, engine)
    notifier.run_pending()
    staff = add_staff(session, full_name="کارشناس مالی", phone="09120000009", role="finance")
    announce_fee(
        session, request, staff, amount_rials=2_500_000, now=now, settings=telegram_settings
    )
    session.commit()
    notifier.run_pending()

    receipt, fee = fake_api.calls("sendMessage", token=TELEGRAM_TOKEN)
    assert "reply_markup" not in receipt.params  # a receipt asks nothing of the subscriber
    buttons = [b for row in fee.params["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["callback_data"] for b in buttons] == [f"req:pay:{request.tracking_code}"]
    assert "۲٬۵۰۰٬۰۰۰" in buttons[0]["text"]
    [fee_sms] = console_sms(telegram_settings.sms_console_path)  # the receipt went by Telegram
    payment = session.exec(select(Payment).where(Payment.request_id == request.id)).one()
    assert fee_sms["text"].endswith(f"{telegram_settings.public_base_url}/pay/{payment.reference}")


def test_a_messenger_send_whose_job_died_is_not_sent_again_but_goes_by_sms(
    engine: sa.Engine, telegram_settings: Settings, session: Session, fake_api: FakeBotAPI
) -> None:
    subscription = add_subscription(session, mobile="+989121110010")
    request = file_review(
        engine, telegram_settings, session, subscription, channel=Channel.TELEGRAM, user_id="6001"
    )
    now = datetime.now(UTC)
    calls: list[JobCall] = []
    notifier = Notifier(telegram_settings, engine, queue=CollectingQueue(calls), clock=lambda: now)
    notifier.relay.run_once()
    [call] = calls

    def killed(*args: object, **kwargs: object) -> None:
        raise JobKilled  # the work horse dies during its HTTP call: no outcome is recorded

    assert notifier.deliverer.messenger is not None
    notifier.deliverer.messenger.send_text = killed  # type: ignore[method-assign]
    with pytest.raises(JobKilled):
        notifier.deliverer.deliver(*call.args)

    later = now + timedelta(seconds=telegram_settings.notice_lease_seconds + 1)
    Notifier(telegram_settings, engine, clock=lambda: later).run_pending()

    assert (
        fake_api.calls("sendMessage", token=TELEGRAM_TOKEN) == []
    )  # perhaps it arrived: not again
    found = deliveries(session, request)
    assert (found[Channel.TELEGRAM].state, found[Channel.TELEGRAM].raw_code) == (
        "permanent-failure",
        "in-doubt",
    )
    assert found[Channel.SMS].state == "delivered"
    [sms] = console_sms(telegram_settings.sms_console_path)
    assert request.tracking_code in sms["text"]


def test_an_sms_whose_job_died_mid_send_on_a_gateway_without_local_ids_is_not_sent_again(
    engine: sa.Engine, sms_settings: Settings, session: Session
) -> None:
    """Melipayamak cannot be asked about a send by our reference: the subscriber must not get
    the same SMS twice when the lease of a job killed while the answer was pending runs out."""
    subscription = add_subscription(session, mobile="+989121110011")
    request = file_review(engine, sms_settings, session, subscription)
    now = datetime.now(UTC)
    calls: list[JobCall] = []
    notifier = Notifier(sms_settings, engine, queue=CollectingQueue(calls), clock=lambda: now)
    notifier.relay.run_once()
    [call] = calls

    def killed(*args: object, **kwargs: object) -> None:
        raise JobKilled  # the gateway has the request; its answer never comes back

    with notifier.sms() as provider:
        provider.send = killed  # type: ignore[method-assign]
    with pytest.raises(JobKilled):
        notifier.deliverer.deliver(*call.args)

    later = now + timedelta(seconds=sms_settings.notice_lease_seconds + 1)
    with respx.mock(base_url=MELIPAYAMAK, assert_all_called=False) as gateway:
        send = gateway.post("/SendSMS").mock(return_value=json_answer("melipayamak", "send"))
        Notifier(sms_settings, engine, clock=lambda: later).run_pending()

    assert send.call_count == 0  # perhaps it arrived: not again
    delivery = deliveries(session, request)[Channel.SMS]
    assert (delivery.state, delivery.raw_code) == ("permanent-failure", "in-doubt")


def test_an_sms_whose_answer_was_lost_on_melipayamak_is_in_doubt_and_not_sent_again(
    engine: sa.Engine, sms_settings: Settings, session: Session, gateway: respx.MockRouter
) -> None:
    gateway.post("/SendSMS").mock(return_value=httpx.Response(504, text="Gateway Timeout"))
    request = file_review(engine, sms_settings, session, add_subscription(session))
    Notifier(sms_settings, engine).run_pending()

    assert gateway.calls.call_count == 1  # a 504: perhaps accepted, so never sent again
    delivery = deliveries(session, request)[Channel.SMS]
    assert (delivery.state, delivery.raw_code, delivery.next_attempt_at) == (
        "permanent-failure",
        "in-doubt",
        None,
    )


def test_a_backlog_behind_a_stopped_worker_is_handed_over_once_and_all_delivered(
    engine: sa.Engine, notice_settings: Settings, session: Session
) -> None:
    settings = notice_settings.model_copy(update={"notice_lease_seconds": 15})
    for number in range(12):
        subscription = add_subscription(
            session, file_number=50_000 + number, mobile=f"+98912111{number:04d}"
        )
        file_review(engine, settings, session, subscription, user_id=f"backlog-{number}")
    now = [datetime.now(UTC)]
    calls: list[JobCall] = []
    notifier = Notifier(settings, engine, queue=CollectingQueue(calls), clock=lambda: now[0])
    assert notifier.relay.run_once() == 12  # handed to the queue; no worker is running
    for _ in range(10):  # the worker stays stopped for minutes, far beyond the jobs' lease
        now[0] += timedelta(seconds=30)
        assert notifier.relay.run_once() == 0  # nothing handed over a second time
    for call in calls:  # the worker starts and works through the backlog, one job at a time
        notifier.run(call)
        now[0] += timedelta(seconds=2)
    assert len(calls) == 12
    assert len(console_sms(settings.sms_console_path)) == 12
