"""Fixtures for feedback tests: a subscriber's review filed in the chat and withdrawn (a final
request, so its question is queued), the supervisors' notices, the feedback rows."""

import pytest
from sqlmodel import Session, col, select

from backend.actions import subscriber_actor, withdraw
from backend.constants import Channel, NoticeKind
from backend.models import Feedback, Notice, Subscription, utcnow
from backend.settings import Settings
from tests.helpers.chat import ChatUser
from tests.helpers.filing import latest_bill, request_of
from tests.staff.conftest import file_review


def withdrawn(session: Session, code: str, settings: Settings) -> None:
    """The subscriber withdraws the request (a final transition: its question is queued)."""
    request = request_of(session, code)
    withdraw(
        session,
        request,
        actor=subscriber_actor(Channel.TELEGRAM),
        no_refund_acknowledged=False,
        now=utcnow(),
        settings=settings,
    )
    session.commit()


@pytest.fixture
def subscriber(user: ChatUser) -> ChatUser:
    return user


@pytest.fixture
def closed(
    subscriber: ChatUser, session: Session, subscription: Subscription, settings: Settings
) -> str:
    """A review filed in the subscriber's Telegram chat, then withdrawn: its tracking code."""
    code = file_review(subscriber, subscription, latest_bill(session, subscription))
    withdrawn(session, code, settings)
    return code


def notices(session: Session, kind: NoticeKind) -> list[Notice]:
    session.expire_all()
    query = select(Notice).where(Notice.kind == kind).order_by(col(Notice.id))
    return list(session.exec(query))


def feedback_of(session: Session, code: str) -> Feedback | None:
    session.expire_all()
    request = request_of(session, code)
    return session.exec(select(Feedback).where(Feedback.request_id == request.id)).first()
