"""Subscribers filing bill reviews through the real dialogs, and what the console SMS recorded."""

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.constants import Channel
from backend.models import Bill, Notice, NoticeDelivery, ServiceRequest, Subscription
from backend.settings import Settings
from backend.storage import LocalFileStorage
from dialogs.app import make_dialog_engine
from dialogs.bill_review import CONFIRM, DONE
from tests.helpers.chat import ChatUser


def file_review(
    db: sa.Engine,
    settings: Settings,
    session: Session,
    subscription: Subscription,
    *,
    channel: Channel = Channel.SHELL,
    user_id: str = "local",
) -> ServiceRequest:
    """Walks the bill review flow for the subscription's latest bill; returns the request."""
    engine = make_dialog_engine(
        db=db, settings=settings, storage=LocalFileStorage(settings.files_dir)
    )
    user = ChatUser(engine, user_id=user_id, channel=channel)
    user.say("/start")
    bill = session.exec(
        select(Bill)
        .where(Bill.subscription_id == subscription.id)
        .order_by(Bill.current_reading_date.desc())  # type: ignore[attr-defined]
    ).first()
    assert bill is not None
    user.press("menu:review")
    user.say(subscription.bill_id)
    user.press(f"bill:{bill.id}")
    user.press("reason:wrong_reading")
    user.say("رقم کنتور ۱۲۳۴۵ بود")
    user.press(DONE)
    user.press(CONFIRM)
    assert user.keys[0] == "review.filed"
    code = user.answer.replies[0].text.params["code"].value  # type: ignore[union-attr]
    session.expire_all()
    return session.exec(select(ServiceRequest).where(ServiceRequest.tracking_code == code)).one()


def console_sms(path: Path) -> list[dict[str, Any]]:
    """What the console provider sent, oldest first."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def deliveries(session: Session, request: ServiceRequest) -> dict[str, NoticeDelivery]:
    """The request's deliveries by channel (one notice: its receipt)."""
    session.expire_all()
    rows = session.exec(
        select(NoticeDelivery)
        .join(Notice, Notice.id == NoticeDelivery.notice_id)  # type: ignore[arg-type]
        .where(Notice.request_id == request.id)
    ).all()
    return {row.channel: row for row in rows}
