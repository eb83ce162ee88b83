"""Fixtures for the removal tests: the dialogs, the SMS sent, a subscriber, staff, a request."""

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from backend import actions
from backend.constants import Channel, MeterTestResult, PaymentMethod, StaffRole
from backend.models import Payment, ServiceRequest, Staff, Subscription
from backend.settings import Settings
from backend.storage import LocalFileStorage
from dialogs.app import make_dialog_engine
from dialogs.engine import Answer, DialogEngine
from dialogs.events import EventKind
from notifications.runtime import Notifier
from tests.factories import add_subscription
from tests.helpers.chat import ChatUser
from tests.helpers.subscribers import console_sms

# Staff in their chats (`hire`) and the SMS line with its webhook and gateway, for removals filed
# by SMS, are shared fixtures (tests/conftest.py).

MOBILE = "+989121234567"  # the subscription's registered mobile
JPEG = b"\xff\xd8\xff\xe0" + b"national ID card" * 40
PDF = b"%PDF-1.4\n" + b"ownership deed" * 40


@dataclass
class SmsOutbox:
    """The SMS the desk sent, as the console provider recorded them: (mobile, text), in order.

    Reading them first sends what is due, in-process, as the terminal chat does after each
    event: one-time codes are notices of the outbox like any other.
    """

    notifier: Notifier
    path: Path

    @property
    def sent(self) -> list[tuple[str, str]]:
        self.notifier.run_pending()
        return [(record["to"], record["text"]) for record in console_sms(self.path)]

    def last_code(self) -> str:
        mobile, text = self.sent[-1]
        assert mobile == MOBILE
        found = re.search(r"[0-9]{6}", text)
        assert found is not None, text
        return found.group()


class Subscriber(ChatUser):
    def share_contact(self, phone: str, *, own: bool = True) -> Answer:
        return self._send(kind=EventKind.CONTACT, phone=phone, contact_is_own=own)


@pytest.fixture
def sms(engine: sa.Engine, notice_settings: Settings) -> SmsOutbox:
    return SmsOutbox(Notifier(notice_settings, engine), notice_settings.sms_console_path)


@pytest.fixture
def dialog_engine(engine: sa.Engine, settings: Settings) -> DialogEngine:
    storage = LocalFileStorage(settings.files_dir)
    return make_dialog_engine(db=engine, settings=settings, storage=storage)


@pytest.fixture
def subscription(session: Session) -> Subscription:
    return add_subscription(session, mobile=MOBILE)


@pytest.fixture
def telegram_user(dialog_engine: DialogEngine) -> Subscriber:
    user = Subscriber(dialog_engine, user_id="5001", channel=Channel.TELEGRAM)
    user.say("/start")
    return user


@pytest.fixture
def shell_user(dialog_engine: DialogEngine) -> Subscriber:
    user = Subscriber(dialog_engine, user_id="local", channel=Channel.SHELL)
    user.say("/start")
    return user


@pytest.fixture
def staff(session: Session) -> Staff:
    member = Staff(full_name="کارشناس خدمات", phone="+989120000001", role=StaffRole.ADMIN)
    session.add(member)
    session.commit()
    return member


def walk_to_summary(user: Subscriber, subscription: Subscription) -> None:
    """The removal flow in a messenger up to its summary, with the ID card only."""
    user.press("menu:removal")
    user.say(subscription.bill_id)
    user.share_contact(MOBILE)
    user.press("removal_reason:not_needed")
    user.upload("id-card.jpg", JPEG, "image/jpeg")
    user.press("docs:done")
    user.press("property:none")
    user.press("removal:acknowledge")
    assert user.last.key == "removal.summary"


def file_by_contact(user: Subscriber, subscription: Subscription) -> str:
    """The whole removal flow in a messenger; returns the tracking code."""
    walk_to_summary(user, subscription)
    user.press("removal:confirm")
    assert user.keys[0] == "removal.filed", user.keys
    return user.answer.replies[0].text.params["code"].value


@dataclass
class Desk:
    """Staff moving a request on, as the staff commands would, with the test's session."""

    session: Session
    staff: Staff
    settings: Settings

    def request(self, code: str) -> ServiceRequest:
        self.session.expire_all()
        return self.session.exec(
            select(ServiceRequest).where(ServiceRequest.tracking_code == code)
        ).one()

    def request_for(self, payment: Payment) -> ServiceRequest:
        request = self.session.get(ServiceRequest, payment.request_id, populate_existing=True)
        assert request is not None
        return request

    def announce_fee(self, code: str, amount: int, now: datetime) -> str:
        payment = actions.announce_fee(
            self.session,
            self.request(code),
            self.staff,
            amount_rials=amount,
            now=now,
            settings=self.settings,
        )
        self.session.commit()
        return payment.reference

    def pay_at_desk(self, reference: str, now: datetime) -> None:
        actions.record_payment(
            self.session,
            reference=reference,
            method=PaymentMethod.IN_PERSON,
            provider_ref="receipt-1",
            actor=actions.staff_actor(self.staff),
            now=now,
            settings=self.settings,
        )
        self.session.commit()

    def announce_terms(self, code: str, now: datetime) -> None:
        request = self.request(code)
        actions.record_meter_test(
            self.session,
            request,
            self.staff,
            result=MeterTestResult.OK,
            reading=12_345,
            now=now,
            settings=self.settings,
        )
        actions.announce_terms(
            self.session,
            request,
            self.staff,
            terms="کنتور سالم است؛ هزینه‌ای جز بدهی مصرف ندارید.",
            now=now,
            settings=self.settings,
        )
        self.session.commit()

    def close_with_clearance(self, code: str, now: datetime, *, debt: int = 250_000) -> None:
        """From the terms announced to the clearance: accepted, collected at 12,400, the final
        statement (`debt`, paid at the bank when there is one) settled, closed."""
        session, staff, settings = self.session, self.staff, self.settings
        actor = actions.subscriber_actor(Channel.TELEGRAM)
        request = self.request(code)
        actions.answer_terms(session, request, accept=True, actor=actor, now=now, settings=settings)
        actions.collect(session, request, staff, final_reading=12_400, now=now, settings=settings)
        payment = actions.issue_statement(
            session, request, staff, amount_rials=debt, now=now, settings=settings
        )
        if payment is None:
            actions.settle(session, request, staff, now=now, settings=settings)
        else:
            actions.record_payment(
                session,
                reference=payment.reference,
                method=PaymentMethod.BANK,
                provider_ref="bank-77",
                actor=actions.staff_actor(staff),
                now=now,
                settings=settings,
            )
        actions.close(session, self.request(code), staff, now=now, settings=settings)
        session.commit()


@pytest.fixture
def desk(session: Session, staff: Staff, settings: Settings) -> Desk:
    return Desk(session, staff, settings)
