"""The one-time code SMS is an essential notice of the outbox: written with its challenge, sent
by the relay's jobs, retried, shown to staff with the removal it proved, never in clear."""

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlmodel import Session, col, select

from backend import otp
from backend.constants import (
    Channel,
    DeliveryState,
    DocumentType,
    NoticeKind,
    RemovalReason,
    StaffRole,
)
from backend.db import session_scope
from backend.models import Notice, NoticeDelivery, OtpChallenge, SmsOptOut, Subscription
from backend.notice_status import deliveries_of
from backend.notices import opened_params
from backend.sealing import Unsealable
from backend.service_requests import DraftDocument, file_removal
from backend.settings import Settings
from channels.sms.base import SendResult, SmsTemporaryError
from channels.sms.console import ConsoleProvider
from notifications.runtime import Notifier
from tests.helpers.staff import Hire
from tests.helpers.subscribers import console_sms
from tests.removal.conftest import JPEG, MOBILE, Desk, SmsOutbox, Subscriber

# The moment every code here is issued and sent at: the tests' clocks all read it, so however
# long the run, no code ages past its validity unless a test moves the clock on purpose.
NOW = datetime.now(UTC)
SIX_DIGITS = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


def issue(
    session: Session, settings: Settings, *, locale: str = "fa", now: datetime = NOW
) -> otp.Issued:
    return otp.issue_code(
        session,
        channel=Channel.SHELL,
        user_id="u1",
        mobile=MOBILE,
        locale=locale,
        now=now,
        settings=settings,
    )


def issued_code(engine: sa.Engine, settings: Settings, **kwargs: object) -> str:
    """Issues a code and commits; the code, as the delivery job opens it."""
    with session_scope(engine) as session:
        issue(session, settings, **kwargs)  # type: ignore[arg-type]
        notice = session.exec(select(Notice).order_by(col(Notice.id).desc())).first()
        assert notice is not None
        return str(opened_params(notice.params, settings=settings, now=NOW)["code"])


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def sms_delivery(session: Session) -> NoticeDelivery:
    session.expire_all()
    return session.exec(select(NoticeDelivery)).one()


class FlakyGateway(ConsoleProvider):
    """The console provider behind a gateway that is down for its first `failures` sends."""

    def __init__(self, path: Path, failures: int) -> None:
        super().__init__(path=path)
        self.failures = failures

    def send(self, to: str, text: str, *, reference: str) -> SendResult:
        if self.failures:
            self.failures -= 1
            raise SmsTemporaryError("gateway busy", provider="flaky", code="503")
        return super().send(to, text, reference=reference)


def test_the_code_notice_is_written_in_the_challenges_own_transaction(
    engine: sa.Engine, notice_settings: Settings, session: Session
) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as rolled_back:
        assert issue(rolled_back, notice_settings).outcome == otp.IssueOutcome.SENT
        raise RuntimeError("the handling failed")
    assert session.exec(select(OtpChallenge)).all() == []  # neither the challenge...
    assert session.exec(select(Notice)).all() == []  # ...nor any SMS for it

    with session_scope(engine) as committed:
        issue(committed, notice_settings)
    challenge = session.exec(select(OtpChallenge)).one()
    notice = session.exec(select(Notice)).one()
    assert challenge.notice_id == notice.id
    assert (notice.kind, notice.essential, notice.to_mobile, notice.locale) == (
        NoticeKind.ONE_TIME_CODE,
        True,
        MOBILE,
        "fa",
    )
    assert notice.request_id is None  # a removal's code goes before anything is filed
    assert notice.created_at == challenge.created_at == NOW

    # The relay gives it one delivery, by SMS to that mobile, due at once.
    notifier = Notifier(notice_settings, engine, clock=lambda: NOW)
    assert notifier.relay.plan() == 1
    delivery = sms_delivery(session)
    assert (delivery.channel, delivery.address, delivery.state) == (
        Channel.SMS,
        MOBILE,
        DeliveryState.QUEUED,
    )
    assert delivery.next_attempt_at == NOW


def test_the_row_holds_the_code_sealed_under_the_server_key(
    engine: sa.Engine, notice_settings: Settings, session: Session
) -> None:
    code = issued_code(engine, notice_settings)
    notice = session.exec(select(Notice)).one()
    stored = json.dumps(notice.params)
    assert set(notice.params) == {"code_sealed", "minutes"}
    assert code not in stored and not SIX_DIGITS.search(stored)
    other = notice_settings.model_copy(update={"secret_key": SecretStr("another server " * 4)})
    with pytest.raises(Unsealable):
        opened_params(notice.params, settings=other, now=NOW)


def test_the_relay_sends_the_code_in_process_by_the_console_provider(
    engine: sa.Engine, notice_settings: Settings, session: Session
) -> None:
    code = issued_code(engine, notice_settings)
    notifier = Notifier(notice_settings, engine, clock=lambda: NOW)
    assert notifier.inline  # no REDIS_URL: the embedded default
    notifier.run_pending()

    [sms] = console_sms(notice_settings.sms_console_path)
    assert sms["to"] == MOBILE
    assert f"کد تأیید شرکت توزیع برق: {code}" in sms["text"] and "۵ دقیقه" in sms["text"]
    delivery = sms_delivery(session)
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryState.DELIVERED,
        1,
        None,
    )
    notifier.run_pending()
    assert len(console_sms(notice_settings.sms_console_path)) == 1  # sent once
    with session_scope(engine) as checking:
        checked = otp.check_code(
            checking,
            channel=Channel.SHELL,
            user_id="u1",
            mobile=MOBILE,
            code=code,
            now=NOW + timedelta(seconds=30),
            settings=notice_settings,
        )
    assert checked.outcome == otp.CheckOutcome.VERIFIED


def test_the_code_is_worded_in_the_language_of_the_chat_that_asked(
    engine: sa.Engine, notice_settings: Settings
) -> None:
    code = issued_code(engine, notice_settings, locale="en")
    Notifier(notice_settings, engine, clock=lambda: NOW).run_pending()
    [sms] = console_sms(notice_settings.sms_console_path)
    assert f"confirmation code: {code}" in sms["text"] and "5 minutes" in sms["text"]


def test_a_temporary_gateway_failure_is_retried(
    engine: sa.Engine, notice_settings: Settings, session: Session
) -> None:
    code = issued_code(engine, notice_settings)
    path = notice_settings.sms_console_path
    gateway = FlakyGateway(path, failures=1)
    now = NOW  # the code's moment, not the run's: a long run must not age it past its validity
    notifier = Notifier(notice_settings, engine, clock=lambda: now)
    notifier.deliverer.sms = lambda: gateway
    notifier.run_pending()

    delivery = sms_delivery(session)
    assert (delivery.state, delivery.raw_code, delivery.attempts) == (
        DeliveryState.TEMPORARY_FAILURE,
        "503",
        1,
    )
    pause = timedelta(seconds=notice_settings.notice_retry_seconds)
    assert delivery.next_attempt_at == now + pause
    assert console_sms(path) == []

    later = Notifier(notice_settings, engine, clock=lambda: now + pause)
    later.deliverer.sms = lambda: gateway
    later.run_pending()
    delivery = sms_delivery(session)
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 2)
    [sms] = console_sms(path)
    assert code in sms["text"] and sms["reference"] == str(delivery.id)  # one reference


def test_a_code_that_could_not_go_while_valid_is_not_sent_late(
    engine: sa.Engine, notice_settings: Settings, session: Session
) -> None:
    issued_code(engine, notice_settings)
    valid = timedelta(minutes=notice_settings.otp_valid_minutes)
    Notifier(
        notice_settings, engine, clock=lambda: NOW + valid + timedelta(seconds=1)
    ).run_pending()
    delivery = sms_delivery(session)
    assert (delivery.state, delivery.raw_code) == (DeliveryState.PERMANENT_FAILURE, "expired")
    assert console_sms(notice_settings.sms_console_path) == []


def test_the_sms_opt_out_never_stops_a_code(
    engine: sa.Engine, notice_settings: Settings, session: Session
) -> None:
    session.add(SmsOptOut(mobile=MOBILE, created_at=NOW))
    session.commit()
    code = issued_code(engine, notice_settings)
    Notifier(notice_settings, engine, clock=lambda: NOW).run_pending()
    [sms] = console_sms(notice_settings.sms_console_path)
    assert code in sms["text"]


def test_the_code_is_in_no_log_and_not_printed_outside_the_terminal_chat(
    engine: sa.Engine,
    notice_settings: Settings,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with caplog.at_level(logging.DEBUG):
        code = issued_code(engine, notice_settings)
        gateway = FlakyGateway(notice_settings.sms_console_path, failures=1)
        # The code was issued at NOW (when this module was loaded): the sends are timed from
        # it, not from the wall clock, which a long run takes past the code's expiry.
        for moment in (NOW, NOW + timedelta(seconds=notice_settings.notice_retry_seconds)):
            notifier = Notifier(notice_settings, engine, clock=at(moment))
            notifier.deliverer.sms = lambda: gateway
            notifier.run_pending()
        for wrong in range(notice_settings.otp_max_attempts):
            with session_scope(engine) as checking:
                otp.check_code(
                    checking,
                    channel=Channel.SHELL,
                    user_id="u1",
                    mobile=MOBILE,
                    code=f"{(int(code) + 1 + wrong) % 1_000_000:06d}",
                    now=NOW + timedelta(seconds=1 + wrong),
                    settings=notice_settings,
                )
    assert sms_delivery(session).state == DeliveryState.DELIVERED
    assert "delivery" in caplog.text and "locked" in caplog.text  # the logs were there to read
    assert code not in caplog.text
    assert MOBILE not in caplog.text and "+98912***4567" in caplog.text
    assert code not in capsys.readouterr().out  # the console provider echoes only in the shell
    delivery = sms_delivery(session)
    assert code not in (delivery.last_error or "") and code not in (delivery.raw_code or "")


def test_staff_see_the_code_with_the_removal_it_proved_but_never_the_code(
    shell_user: Subscriber,
    subscription: Subscription,
    sms: SmsOutbox,
    session: Session,
    hire: Hire,
    desk: Desk,
) -> None:
    user = shell_user
    user.press("menu:removal")
    user.say(subscription.bill_id)
    code = sms.last_code()
    user.say(code)
    user.press("removal_reason:not_needed")
    user.upload("id-card.jpg", JPEG, "image/jpeg")
    user.press("docs:done")
    user.press("property:none")
    user.press("removal:acknowledge")
    user.press("removal:confirm")
    assert user.keys[0] == "removal.filed", user.keys
    tracking = user.answer.replies[0].text.params["code"].value  # type: ignore[union-attr]
    assert len(sms.sent) == 2  # the code, then the receipt (the terminal chat has no messenger)

    request = desk.request(tracking)
    assert request.id is not None
    code_notice, receipt = deliveries_of(session, request.id)
    assert (code_notice.kind, receipt.kind) == (NoticeKind.ONE_TIME_CODE, NoticeKind.RECEIPT)
    [delivery] = code_notice.deliveries
    assert (delivery.channel, delivery.address, delivery.state) == (
        Channel.SMS,
        "+98912***4567",
        DeliveryState.DELIVERED,
    )

    supervisor = hire(StaffRole.SUPERVISOR)
    supervisor.say(f"/notices {tracking}")
    shown = supervisor.text()
    assert "کد یک‌بارمصرف" in shown and "رسید ثبت درخواست" in shown
    assert "پیامک: تحویل شد" in shown
    assert code not in shown and MOBILE not in shown


def test_filing_links_the_code_notice_and_it_still_goes_to_its_own_mobile(
    engine: sa.Engine, notice_settings: Settings, session: Session, subscription: Subscription
) -> None:
    issued_code(engine, notice_settings)
    notice_id = session.exec(select(Notice.id)).one()
    assert subscription.id is not None
    id_card = DraftDocument("k", "0" * 64, 10, "image/jpeg", "id.jpg", DocumentType.ID_CARD)
    with session_scope(engine) as filing:
        request = file_removal(
            filing,
            channel=Channel.SHELL,
            channel_user_id="u1",
            subscription_id=subscription.id,
            reason=RemovalReason.DEMOLITION,
            documents=[id_card],
            now=NOW,
            fee_announcement_working_days=1,
            code_notice_id=notice_id,
        )
        request_id = request.id
    session.expire_all()
    notice = session.get(Notice, notice_id)
    assert notice is not None and notice.request_id == request_id
    Notifier(notice_settings, engine, clock=lambda: NOW).run_pending()
    sent = console_sms(notice_settings.sms_console_path)
    assert [record["to"] for record in sent] == [MOBILE, MOBILE]  # the code and the receipt
    assert sms_delivery_of(session, notice_id).address == MOBILE


def sms_delivery_of(session: Session, notice_id: int | None) -> NoticeDelivery:
    session.expire_all()
    return session.exec(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice_id)).one()
