"""Fixtures for staff tests: a subscriber's review and removal requests, the backend CLI, notices
sent by the real bot to the fake Bot API.

The dialog engine, a subscription, a subscriber and `hire` are shared fixtures (tests/conftest.py).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session

from backend.constants import Channel, DocumentType, RequestKind
from backend.models import Bill, Subscription, utcnow
from backend.service_requests import DraftDocument, file_request
from backend.settings import Settings
from backend.workdays import add_working_days
from dialogs.bill_review import CONFIRM, DONE
from tests.helpers.chat import ChatUser
from tests.helpers.filing import latest_bill, walk_to_documents
from tests.helpers.samples import METER_PHOTO as JPEG

TWO_PERSON_LIMIT = 100_000  # rials: small, so that corrections of the factory's bills cross it


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"two_person_limit_rials": TWO_PERSON_LIMIT})


@pytest.fixture
def subscriber(user: ChatUser) -> ChatUser:
    return user


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
