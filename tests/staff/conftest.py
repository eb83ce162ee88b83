"""Fixtures for staff tests: the real dialog engine, subscribers, and staff bound by their phone."""

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from backend.constants import Channel, DocumentType, RequestKind, StaffRole
from backend.models import Bill, RequestEvent, ServiceRequest, Subscription, utcnow
from backend.service_requests import DraftDocument, file_request
from backend.settings import Settings
from backend.staff import add_staff
from backend.workdays import add_working_days
from dialogs.bill_review import CONFIRM, DONE
from dialogs.engine import DialogEngine
from dialogs.events import EventKind
from tests.dialogs.chat import ChatUser
from tests.dialogs.conftest import dialog_engine, subscription, user
from tests.dialogs.test_bill_review import JPEG, latest_bill, walk_to_documents

# The dialog tests' fixtures, shared: the engine on the test database, a subscription, a subscriber.
__all__ = ["dialog_engine", "subscription", "user"]

TWO_PERSON_LIMIT = 100_000  # rials: small, so that corrections of the factory's bills cross it


@dataclass
class StaffChat(ChatUser):
    """A member of staff in a messenger: binds by sharing their own contact, then types commands."""

    staff_id: int = 0
    phone: str = ""

    @property
    def actor(self) -> str:
        return f"staff:{self.staff_id}"

    def run(self, command: str) -> list[str]:
        """Sends a command; the keys of the replies."""
        self.say(command)
        return self.keys

    @property
    def heads(self) -> list[str]:
        """Each reply's key; for replies of several lines, the first line's."""
        return [
            key.params["first"].key if key.key == "staff.lines" else key.key
            for key in (reply.text for reply in self.answer.replies if self.answer)
        ]

    def share_contact(self, phone: str) -> None:
        self._send(kind=EventKind.CONTACT, phone=phone, contact_is_own=True)

    def bind(self) -> None:
        """The phone step: menu → register my mobile → share own contact (here as 09…)."""
        self.press("menu:phone")
        self.share_contact("0" + self.phone.removeprefix("+98"))


Hire = Callable[..., StaffChat]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"two_person_limit_rials": TWO_PERSON_LIMIT})


@pytest.fixture
def subscriber(user: ChatUser) -> ChatUser:
    return user


@pytest.fixture
def hire(dialog_engine: DialogEngine, session: Session) -> Hire:
    """Adds a staff member (what `python -m backend staff add` does) and binds their chat."""
    hired: list[StaffChat] = []

    def hire(role: StaffRole, name: str = "", *, bind: bool = True) -> StaffChat:
        number = len(hired) + 1
        phone = f"+98935000{number:04d}"
        staff = add_staff(session, full_name=name or f"کارمند {number}", phone=phone, role=role)
        session.commit()
        chat = StaffChat(dialog_engine, user_id=f"90{number:02d}", staff_id=staff.id, phone=phone)
        chat.say("/start")
        if bind:
            chat.bind()
        hired.append(chat)
        return chat

    return hire


def file_review(subscriber: ChatUser, subscription: Subscription, bill: Bill) -> str:
    """Files a bill review through the subscriber's dialog, with a photo; its tracking code."""
    walk_to_documents(subscriber, subscription, bill)
    subscriber.upload("meter.jpg", JPEG, "image/jpeg")
    subscriber.press(DONE)
    subscriber.press(CONFIRM)
    assert subscriber.keys[0] == "review.filed"
    assert subscriber.answer is not None
    return subscriber.answer.replies[0].text.params["code"].value


@pytest.fixture
def review(subscriber: ChatUser, session: Session, subscription: Subscription) -> str:
    """A review of the subscription's latest bill (585,000 rials), filed in the chat: its code."""
    return file_review(subscriber, subscription, latest_bill(session, subscription))


def file_removal(session: Session, subscription: Subscription, settings: Settings) -> str:
    """A removal request as the subscriber's dialog would file it, with the ID card (no fee is
    announced without it); its tracking code."""
    now = utcnow()
    id_card = DraftDocument("k", "0" * 64, 1, "image/jpeg", "id.jpg", DocumentType.ID_CARD)
    request = file_request(
        session,
        kind=RequestKind.CONNECTION_REMOVAL,
        channel=Channel.TELEGRAM,
        channel_user_id="1001",
        subscription_id=subscription.id,
        reason="demolition",
        description="ساختمان تخریب می‌شود.",
        documents=[id_card],
        now=now,
        deadline=add_working_days(now, settings.fee_announcement_working_days),
    )
    session.commit()
    return request.tracking_code


def request_of(session: Session, code: str) -> ServiceRequest:
    session.expire_all()
    return session.exec(select(ServiceRequest).where(ServiceRequest.tracking_code == code)).one()


def history_of(session: Session, code: str) -> list[tuple[str, str | None, str]]:
    """The request's history as (action, status it went to, actor)."""
    request = request_of(session, code)
    query = select(RequestEvent).where(RequestEvent.request_id == request.id)
    events = session.exec(query.order_by(col(RequestEvent.id))).all()
    return [(event.action, event.to_status, event.actor) for event in events]


def run_backend(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m backend ARGS` on the SQLite database in `tmp_path`."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'desk.db'}"}
    return subprocess.run(
        [sys.executable, "-m", "backend", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
