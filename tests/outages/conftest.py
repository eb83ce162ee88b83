"""Fixtures for outage tests: a followed bill ID, schedule entries, notices of a kind."""

from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from backend.constants import NoticeKind, OutageSource
from backend.models import Notice, PlannedOutage, Subscription
from tests.helpers.chat import ChatUser


def follow(user: ChatUser, subscription: Subscription) -> None:
    user.press("menu:follow")
    user.press("fol:add")
    user.say(subscription.bill_id)
    assert user.keys[0] == "follow.added", user.keys
    user.say("/menu")


def add_outage(
    session: Session, *, starts_at: datetime, hours: int = 3, **where: str
) -> PlannedOutage:
    outage = PlannedOutage(
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        reason="maintenance",
        source=OutageSource.IMPORT,
        **where,
    )
    session.add(outage)
    session.commit()
    return outage


def notices(session: Session, kind: NoticeKind) -> list[Notice]:
    session.expire_all()
    return list(session.exec(select(Notice).where(Notice.kind == kind).order_by(col(Notice.id))))


@pytest.fixture
def follower(user: ChatUser, subscription: Subscription) -> ChatUser:
    follow(user, subscription)
    return user
