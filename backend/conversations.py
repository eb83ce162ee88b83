"""Persistence of dialog state: the per-user lock, redelivery guard and channel identities."""

from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from backend.constants import Channel
from backend.models import ChannelIdentity, Conversation, Customer, ProcessedEvent

# How long a handled event is remembered: beyond any platform's redelivery (Telegram keeps an
# unconfirmed update for 24 hours).
HANDLED_EVENTS_KEPT = timedelta(days=7)


def _insert_if_absent(session: Session, table: type[SQLModel], **values: object) -> bool:
    """Inserts a row unless its key exists; True when this call inserted it."""
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[session.get_bind().dialect.name]
    statement = (
        # SQLModel does not declare the `__table__` that every table model has.
        dialect.insert(table.__table__)  # type: ignore[attr-defined]
        .values(**values)
        .on_conflict_do_nothing()
        .returning(sa.literal_column("1"))  # rowcount is not reliable for INSERT on every driver
    )
    return session.execute(statement).first() is not None


def lock_conversation(
    session: Session, *, channel: Channel, user_id: str, locale: str, now: datetime, state: str
) -> Conversation:
    """The user's conversation, created if new, locked until the transaction ends.

    The row lock is what makes two events of one user run one after the other, in any process.
    """
    _insert_if_absent(
        session,
        Conversation,
        channel=channel,
        user_id=user_id,
        state=state,
        data={},
        locale=locale,
        updated_at=now,
    )
    query = (
        select(Conversation)
        .where(Conversation.channel == channel, Conversation.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(query).one()


def claim_event(
    session: Session,
    *,
    channel: Channel,
    event_id: str,
    now: datetime,
    window: timedelta | None = None,
) -> bool:
    """False when this delivery was already handled (the claim commits with the handling).

    With a `window`, the id is a digest of the message rather than the channel's own id: it
    names a repeat only within `window` of its handling, and is claimed anew after that.
    """
    if _insert_if_absent(
        session, ProcessedEvent, channel=channel, event_id=event_id, created_at=now
    ):
        return True
    if window is None:
        return False
    reclaimed = session.execute(
        sa.update(ProcessedEvent)
        .where(
            col(ProcessedEvent.channel) == channel,
            col(ProcessedEvent.event_id) == event_id,
            col(ProcessedEvent.created_at) <= now - window,
        )
        .values(created_at=now, answer=sa.null(), answered_at=None)
        .returning(sa.literal_column("1"))
    )
    return reclaimed.first() is not None


def keep_answer(
    session: Session, *, channel: Channel, event_id: str, answer: dict[str, Any]
) -> None:
    """Stores the answer with its claimed event, in the transaction of the handling."""
    session.execute(
        sa.update(ProcessedEvent)
        .where(col(ProcessedEvent.channel) == channel, col(ProcessedEvent.event_id) == event_id)
        .values(answer=answer)
    )


def unsent_answer(session: Session, *, channel: Channel, event_id: str) -> dict[str, Any] | None:
    """The answer of a handled event that is not known to have gone out; None once it did."""
    event = session.exec(
        select(ProcessedEvent).where(
            ProcessedEvent.channel == channel, ProcessedEvent.event_id == event_id
        )
    ).first()
    return event.answer if event is not None and event.answered_at is None else None


def mark_answered(session: Session, *, channel: Channel, event_id: str, now: datetime) -> None:
    """The event's answer went out: a redelivery gets nothing now."""
    session.execute(
        sa.update(ProcessedEvent)
        .where(
            col(ProcessedEvent.channel) == channel,
            col(ProcessedEvent.event_id) == event_id,
            col(ProcessedEvent.answered_at).is_(None),
        )
        .values(answered_at=now)
    )


def prune_processed_events(session: Session, *, before: datetime) -> int:
    """Forgets the events handled before `before`; how many were forgotten."""
    pruned = session.execute(
        sa.delete(ProcessedEvent).where(col(ProcessedEvent.created_at) < before)
    )
    return cast(sa.CursorResult[Any], pruned).rowcount


def ensure_identity(session: Session, *, channel: Channel, user_id: str, now: datetime) -> None:
    """Records the sender; one who writes to us can be written to again."""
    if not _insert_if_absent(
        session,
        ChannelIdentity,
        channel=channel,
        external_user_id=user_id,
        phone_verified=False,
        reachable=True,
        created_at=now,
    ):
        set_reachable(session, channel=channel, user_id=user_id, reachable=True)


def set_reachable(session: Session, *, channel: Channel, user_id: str, reachable: bool) -> None:
    """Marks whether messages to this identity get through (a blocked bot makes it False)."""
    session.execute(
        sa.update(ChannelIdentity)
        .where(
            col(ChannelIdentity.channel) == channel,
            col(ChannelIdentity.external_user_id) == user_id,
            col(ChannelIdentity.reachable) != reachable,
        )
        .values(reachable=reachable)
    )


def verify_phone(session: Session, *, channel: Channel, user_id: str, phone: str) -> bool:
    """Stores a phone the channel vouched for; links the customer whose mobile it is.

    True when a customer was found for it.
    """
    customers = session.exec(select(Customer.id).where(Customer.mobile == phone)).all()
    customer_id = customers[0] if len(customers) == 1 else None
    session.execute(
        sa.update(ChannelIdentity)
        .where(
            col(ChannelIdentity.channel) == channel,
            col(ChannelIdentity.external_user_id) == user_id,
        )
        .values(phone=phone, phone_verified=True, customer_id=customer_id)
    )
    return customer_id is not None


def save_conversation(session: Session, conversation: Conversation, *, now: datetime) -> None:
    conversation.updated_at = now
    # JSON columns are not change-tracked in place: mark the dict as changed.
    sa.orm.attributes.flag_modified(conversation, "data")
    session.add(conversation)
