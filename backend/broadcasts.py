"""Broadcasts as staff handle them: compose, schedule, cancel, count; their message per locale."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.broadcast_audience import Audience
from backend.constants import BroadcastChannels, BroadcastStatus, BroadcastTopic, DeliveryState
from backend.models import Broadcast
from backend.models import BroadcastDelivery as Delivery
from backend.outage_schedule import schedule_broadcast

OUTAGE_KEY = "broadcast.outage"
TEXT_KEY = "broadcast.text"
OUTAGE_REASONS = ("maintenance", "development", "trees")  # broadcast.reason.<name>
CANCELLED = "cancelled"  # raw code of a delivery that a cancel stopped
LIVE = (BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING)


def outage_params(
    *, place: str, day: date, start: time, end: time, reason: str, reason_text: str = ""
) -> dict[str, Any]:
    """The planned-outage template's parameters, as stored (JSON)."""
    return {
        "place": place,
        "day": day.isoformat(),
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
        "reason": reason,
        "reason_text": reason_text,
    }


def create_broadcast(
    session: Session,
    *,
    topic: BroadcastTopic,
    message_key: str,
    params: dict[str, Any],
    audience: Audience,
    channels: BroadcastChannels,
    send_at: datetime,
    created_by: int | None,
    progress_to: tuple[str, str] | None,
    now: datetime,
    dispatch: Callable[[int], None],
) -> Broadcast:
    """A scheduled broadcast; `dispatch(id)` runs once the caller's transaction has committed."""
    broadcast = Broadcast(
        topic=topic,
        message_key=message_key,
        params=params,
        audience=audience.to_json(),
        channels=channels,
        status=BroadcastStatus.SCHEDULED,
        created_by=created_by,
        created_at=now,
        send_at=max(send_at, now),
        progress_channel=progress_to[0] if progress_to else None,
        progress_chat_id=progress_to[1] if progress_to else None,
    )
    session.add(broadcast)
    session.flush()
    if message_key == OUTAGE_KEY:  # kept as the schedule too, for «خاموشی‌های برنامه‌ریزی‌شده»
        schedule_broadcast(session, broadcast)
    broadcast_id = broadcast.id
    assert broadcast_id is not None
    # Jobs read the row, so they may only be queued once it is committed.
    sa.event.listen(session, "after_commit", lambda _: dispatch(broadcast_id), once=True)
    return broadcast


def cancel_broadcast(session: Session, broadcast_id: int, *, now: datetime) -> bool:
    """Stops a broadcast: nothing not yet handed to a channel is sent. False if it had ended."""
    ended = session.execute(
        sa.update(Broadcast)
        .where(col(Broadcast.id) == broadcast_id, col(Broadcast.status).in_(LIVE))
        .values(status=BroadcastStatus.CANCELLED, finished_at=now)
        .returning(col(Broadcast.id))
    ).first()
    if ended is None:
        return False
    cancel_queued(session, broadcast_id, now=now)
    return True


def cancel_queued(session: Session, broadcast_id: int, *, now: datetime) -> None:
    """Ends the queued rows of a cancelled broadcast.

    A sender marks a row before its call only while the row is queued and the broadcast
    sending: once a cancel commits, no queued row is ever sent. (Senders call this again for
    rows a 429 or a retry queued after the cancel.)
    """
    session.execute(
        sa.update(Delivery)
        .where(
            col(Delivery.broadcast_id) == broadcast_id, col(Delivery.state) == DeliveryState.QUEUED
        )
        .values(state=DeliveryState.PERMANENT_FAILURE, raw_code=CANCELLED, updated_at=now)
    )


@dataclass(frozen=True)
class Counts:
    """A broadcast's deliveries by outcome, all channels together."""

    sent: int = 0  # handed over (and, for messengers, in the chat)
    failed: int = 0
    cancelled: int = 0
    remaining: int = 0
    in_doubt: int = 0  # a sender died during the call: sent at most once, perhaps not at all

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.cancelled + self.remaining


def delivery_counts(session: Session, broadcast_id: int, *, doubt_before: datetime) -> Counts:
    """Counts by outcome; a row marked sent before `doubt_before` with no answer is in doubt."""
    unanswered = sa.and_(
        col(Delivery.state) == DeliveryState.SENT,
        col(Delivery.raw_code).is_(None),
        col(Delivery.updated_at) < doubt_before,
    )
    outcome = sa.case(
        (col(Delivery.state) == DeliveryState.QUEUED, "remaining"),
        (col(Delivery.raw_code) == CANCELLED, "cancelled"),
        (unanswered, "in_doubt"),
        (col(Delivery.state).in_([DeliveryState.SENT, DeliveryState.DELIVERED]), "sent"),
        else_="failed",
    )
    query = (
        sa.select(outcome, sa.func.count())
        .where(col(Delivery.broadcast_id) == broadcast_id)
        .group_by(outcome)
    )
    found: dict[str, int] = dict(session.execute(query).all())
    # In-doubt rows were handed over as far as anyone can tell: they count as sent too.
    return Counts(
        sent=found.get("sent", 0) + found.get("in_doubt", 0),
        failed=found.get("failed", 0),
        cancelled=found.get("cancelled", 0),
        remaining=found.get("remaining", 0),
        in_doubt=found.get("in_doubt", 0),
    )


def recent_broadcasts(session: Session, *, limit: int) -> list[Broadcast]:
    return list(session.exec(select(Broadcast).order_by(col(Broadcast.id).desc()).limit(limit)))
