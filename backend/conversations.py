"""Persistence of dialog state: the per-user lock, redelivery guard and channel identities."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from backend.constants import Channel
from backend.models import ChannelIdentity, Conversation, Customer, ProcessedEvent


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


def claim_event(session: Session, *, channel: Channel, event_id: str, now: datetime) -> bool:
    """False when this delivery was already handled (the claim commits with the handling)."""
    return _insert_if_absent(
        session, ProcessedEvent, channel=channel, event_id=event_id, created_at=now
    )


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
