"""What became of a request's notices, for staff (`/notices CODE`)."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from backend.constants import Channel, DeliveryState, NoticeKind
from backend.identifiers import mask_mobile
from backend.models import Notice, NoticeDelivery


def shown_address(channel: Channel, address: str) -> str:
    """An address as logs and staff may see it: mobiles masked."""
    return mask_mobile(address) if channel == Channel.SMS else address


@dataclass(frozen=True)
class DeliveryStatus:
    """One channel of a notice. `address` has mobiles masked; `pending`: a send is still due."""

    channel: Channel
    address: str
    state: DeliveryState
    raw_code: str | None
    attempts: int
    last_error: str | None
    updated_at: datetime
    pending: bool


@dataclass(frozen=True)
class NoticeStatus:
    """A notice and its deliveries; none yet while the relay has not reached it."""

    notice_id: int
    kind: NoticeKind
    essential: bool
    created_at: datetime
    deliveries: list[DeliveryStatus]


def deliveries_of(session: Session, request_id: int) -> list[NoticeStatus]:
    """The request's notices, oldest first, each with its deliveries."""
    notices = session.exec(
        select(Notice).where(Notice.request_id == request_id).order_by(col(Notice.id))
    ).all()
    rows = session.exec(
        select(NoticeDelivery)
        .where(col(NoticeDelivery.notice_id).in_([notice.id for notice in notices]))
        .order_by(col(NoticeDelivery.id))
    ).all()
    by_notice: dict[int, list[DeliveryStatus]] = {}
    for row in rows:
        by_notice.setdefault(row.notice_id, []).append(
            DeliveryStatus(
                channel=row.channel,
                address=shown_address(row.channel, row.address),
                state=row.state,
                raw_code=row.raw_code,
                attempts=row.attempts,
                last_error=row.last_error,
                updated_at=row.updated_at,
                pending=row.next_attempt_at is not None,
            )
        )
    return [
        NoticeStatus(
            notice_id=notice.id,
            kind=notice.kind,
            essential=notice.essential,
            created_at=notice.created_at,
            deliveries=by_notice.get(notice.id, []),
        )
        for notice in notices
        if notice.id is not None  # always, once stored
    ]
