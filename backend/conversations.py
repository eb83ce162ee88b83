"""Persistence of dialog state: the per-user lock, redelivery guard and channel identities."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from backend.constants import Channel
from backend.db import insert_on_conflict
from backend.models import ChannelIdentity, Conversation, Customer, ProcessedEvent, UTCDateTime

# How long a handled event is remembered: beyond any platform's redelivery (Telegram keeps an
# unconfirmed update for 24 hours).
HANDLED_EVENTS_KEPT = timedelta(days=7)


def _insert_if_absent(session: Session, table: type[SQLModel], **values: object) -> bool:
    """Inserts a row unless its key exists; True when this call inserted it."""
    statement: sa.Executable = (
        # SQLModel does not declare the `__table__` that every table model has.
        insert_on_conflict(session, table.__table__)  # type: ignore[attr-defined]
        .values(**values)
        .on_conflict_do_nothing()
        .returning(sa.literal_column("1"))  # rowcount is not reliable for INSERT on every driver
    )
    return session.execute(statement).first() is not None


# One round trip on PostgreSQL for what every event needs first: the conversation made if new
# and locked (ON CONFLICT DO UPDATE locks the row, as FOR UPDATE would, and gives back its latest
# committed version), the event claimed, and the sender's identity recorded. Each step selects
# from the one before, which fixes their order: the conversation is always locked before the
# claim, in every process, so two deliveries of one event cannot deadlock. The identity is
# written only when missing or unreachable: a known sender costs no write.
_OPEN_PG = """
WITH conv AS (
    INSERT INTO conversation AS c (channel, user_id, state, data, locale, updated_at)
    VALUES (:channel, :user_id, :state, '{{}}', :locale, :now)
    ON CONFLICT (channel, user_id) DO UPDATE SET updated_at = c.updated_at
    RETURNING c.state, c.data, c.locale, c.updated_at
), claim AS (
    {claim}
), added AS (
    INSERT INTO channel_identity
        (channel, external_user_id, phone_verified, reachable, created_at)
    SELECT :channel, :user_id, false, true, :now FROM claim
    ON CONFLICT (channel, external_user_id) DO NOTHING
), reached AS (
    UPDATE channel_identity SET reachable = true
    WHERE channel = :channel AND external_user_id = :user_id AND NOT reachable
        AND EXISTS (SELECT FROM claim)
)
SELECT conv.*, EXISTS (SELECT FROM claim) AS claimed FROM conv
"""
_CLAIM_PG = """INSERT INTO processed_event (channel, event_id, created_at)
    SELECT :channel, :event_id, :now FROM conv
    ON CONFLICT DO NOTHING
    RETURNING 1"""
_CONVERSATION_COLUMNS: dict[str, sa.types.TypeEngine[Any]] = {
    "state": sa.String(),
    "data": sa.JSON(),
    "locale": sa.String(),
    "updated_at": UTCDateTime(),
    "claimed": sa.Boolean(),
}


def _open_statement(claim: str) -> sa.TextualSelect:
    return (
        sa.text(_OPEN_PG.format(claim=claim))
        .bindparams(sa.bindparam("now", type_=UTCDateTime()))
        .columns(**_CONVERSATION_COLUMNS)
    )


_OPEN_EVENT = _open_statement(_CLAIM_PG)
_OPEN_UNNAMED = _open_statement("SELECT FROM conv")  # an event without an id is always new
_SELECT_CONVERSATION = sa.text(
    "SELECT state, data, locale, updated_at FROM conversation "
    "WHERE channel = :channel AND user_id = :user_id"
).columns(
    **{name: _CONVERSATION_COLUMNS[name] for name in ("state", "data", "locale", "updated_at")}
)
_SAVE = (
    "UPDATE conversation SET state = :state, data = :data, locale = :locale, updated_at = :now "
    "WHERE channel = :channel AND user_id = :user_id"
)
_SAVE_TYPES = (
    sa.bindparam("data", type_=sa.JSON()),
    sa.bindparam("now", type_=UTCDateTime()),
)
_SAVE_CONVERSATION = sa.text(_SAVE).bindparams(*_SAVE_TYPES)
# PostgreSQL: the answer is kept in the same statement (the handling's last round trip).
_SAVE_AND_KEEP_PG = sa.text(
    "WITH kept AS (UPDATE processed_event SET answer = :answer "
    "WHERE channel = :channel AND event_id = :event_id) " + _SAVE
).bindparams(*_SAVE_TYPES, sa.bindparam("answer", type_=sa.JSON()))


@dataclass
class OpenConversation:
    """A user's conversation as `open_event` read it, for the event to change and
    `save_conversation` to write back: a plain object, not a mapped row (building and setting
    a SQLModel instance was a fifth of the CPU of a whole `/start` transaction)."""

    channel: Channel
    user_id: str
    state: str
    data: dict[str, Any]
    locale: str
    updated_at: datetime


def open_event(
    session: Session,
    *,
    channel: Channel,
    user_id: str,
    event_id: str | None,
    window: timedelta | None,
    locale: str,
    state: str,
    now: datetime,
) -> tuple[OpenConversation, bool]:
    """The user's conversation, created if new and locked until the transaction ends, and
    whether the event is new (`claim_event`; an event without an id always is); a new event's
    sender is recorded (`ensure_identity`).

    The row lock is what makes two events of one user run one after the other, in any process.
    The conversation is not in the session: `save_conversation` writes it back.
    """
    values = {"channel": str(channel), "user_id": user_id, "event_id": event_id, "now": now}
    if session.get_bind().dialect.name == "postgresql":
        statement = _OPEN_EVENT if event_id else _OPEN_UNNAMED
        row = session.execute(statement, {**values, "locale": locale, "state": state}).one()
        claimed = bool(row.claimed)
    else:  # SQLite: the transaction's BEGIN IMMEDIATE is the lock
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
        row = session.execute(_SELECT_CONVERSATION, values).one()
        claimed = not event_id or _claim(session, channel=channel, event_id=event_id, now=now)
        if claimed:
            ensure_identity(session, channel=channel, user_id=user_id, now=now)
    if not claimed and event_id and window is not None:
        claimed = _reclaim(session, channel=channel, event_id=event_id, now=now, window=window)
        if claimed:
            ensure_identity(session, channel=channel, user_id=user_id, now=now)
    conversation = OpenConversation(
        channel=channel,
        user_id=user_id,
        state=row.state,
        data=row.data,
        locale=row.locale,
        updated_at=row.updated_at,
    )
    return conversation, claimed


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
    if _claim(session, channel=channel, event_id=event_id, now=now):
        return True
    if window is None:
        return False
    return _reclaim(session, channel=channel, event_id=event_id, now=now, window=window)


def _claim(session: Session, *, channel: Channel, event_id: str, now: datetime) -> bool:
    return _insert_if_absent(
        session, ProcessedEvent, channel=channel, event_id=event_id, created_at=now
    )


def _reclaim(
    session: Session, *, channel: Channel, event_id: str, now: datetime, window: timedelta
) -> bool:
    """Claims a digest id again once `window` has passed since its handling."""
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


# Built once: this runs after every answer sent (for several at once, bot.messenger).
_MARK_ANSWERED = sa.text(
    "UPDATE processed_event SET answered_at = :now "
    "WHERE channel = :channel AND event_id IN :event_ids AND answered_at IS NULL"
).bindparams(sa.bindparam("now", type_=UTCDateTime()), sa.bindparam("event_ids", expanding=True))


def mark_answered(
    session: Session | sa.Connection,
    *,
    channel: Channel,
    event_ids: Sequence[str],
    now: datetime,
) -> None:
    """The events' answers went out: a redelivery gets nothing now."""
    values = {"channel": str(channel), "event_ids": list(event_ids), "now": now}
    session.execute(_MARK_ANSWERED, values)


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


def save_conversation(
    session: Session,
    conversation: OpenConversation,
    *,
    now: datetime,
    event_id: str | None = None,
    answer: dict[str, Any] | None = None,
) -> None:
    """Writes the conversation `open_event` gave back; with the event's answer, keeps that
    with the claimed event too (as `keep_answer` does)."""
    conversation.updated_at = now
    values = {
        "channel": str(conversation.channel),
        "user_id": conversation.user_id,
        "state": conversation.state,
        "data": conversation.data,
        "locale": conversation.locale,
        "now": now,
    }
    if event_id is None or answer is None:
        session.execute(_SAVE_CONVERSATION, values)
    elif session.get_bind().dialect.name == "postgresql":
        session.execute(_SAVE_AND_KEEP_PG, {**values, "event_id": event_id, "answer": answer})
    else:
        session.execute(_SAVE_CONVERSATION, values)
        keep_answer(session, channel=conversation.channel, event_id=event_id, answer=answer)
