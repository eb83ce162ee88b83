"""A broadcast's delivery rows as senders move them: claim, mark, answer; each step commits.

A row goes queued → (claimed: still queued, `updated_at` is the claim's lease) → sent (marked
just before the call) → delivered, or a failure, or back to queued (429: at once; 5xx and
network errors: not before a backoff). A lease that runs out (its sender died waiting) frees the
row for anyone. A row marked sent whose answer was never recorded stays sent: the sender died
during the call and nobody can ask the platform whether the message arrived, so it is not sent
again — at most once. The window is one HTTP call (a few milliseconds); a sender that dies
anywhere else (most of its life is waiting for the rate limiter) leaves only queued rows.
Every mark is fenced by the claim's lease and the broadcast still sending: after a cancel or a
lost lease a row is never sent.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import sqlalchemy as sa
from sqlmodel import Session, col

from backend.broadcasts import cancel_queued
from backend.constants import BroadcastStatus, Channel, DeliveryState
from backend.db import session_scope
from backend.models import Broadcast, UTCDateTime
from backend.models import BroadcastDelivery as Delivery


@dataclass(frozen=True)
class Row:
    id: int
    address: str
    locale: str
    attempts: int


@dataclass
class Claim:
    """Rows one sender holds until `lease`; renewed while it works through them."""

    lease: datetime
    rows: list[Row]


def _sending(broadcast_id: int) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        col(Broadcast.id) == broadcast_id, col(Broadcast.status) == BroadcastStatus.SENDING
    )


class DeliveryStore:
    def __init__(self, db: sa.Engine, *, lease: timedelta, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.lease = lease
        self.clock = clock

    def status(self, broadcast_id: int) -> BroadcastStatus | None:
        with session_scope(self.db) as session:
            return session.scalar(
                sa.select(col(Broadcast.status)).where(col(Broadcast.id) == broadcast_id)
            )

    def claim(self, broadcast_id: int, channel: Channel, size: int) -> Claim:
        """Up to `size` claimable rows of a channel, oldest first, leased to the caller."""
        now = self.clock()
        lease = now + self.lease
        claimable = (
            sa.select(col(Delivery.id))
            .where(
                col(Delivery.broadcast_id) == broadcast_id,
                col(Delivery.state) == DeliveryState.QUEUED,
                col(Delivery.channel) == channel,
                sa.or_(col(Delivery.updated_at).is_(None), col(Delivery.updated_at) <= now),
            )
            .order_by(col(Delivery.id))
            .limit(size)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite serializes writers anyway
        )
        with session_scope(self.db) as session:
            claimed = session.execute(
                sa.update(Delivery)
                .where(col(Delivery.id).in_(claimable.scalar_subquery()))
                .values(updated_at=lease)
                .returning(
                    col(Delivery.id),
                    col(Delivery.address),
                    col(Delivery.locale),
                    col(Delivery.attempts),
                )
            ).all()
        return Claim(lease, sorted((Row(*row) for row in claimed), key=lambda row: row.id))

    def renew(self, claim: Claim) -> None:
        """Extends the claim's lease; rows it no longer holds drop out of it."""
        lease = self.clock() + self.lease
        with session_scope(self.db) as session:
            kept = session.scalars(
                sa.update(Delivery)
                .where(
                    col(Delivery.id).in_([row.id for row in claim.rows]),
                    col(Delivery.state) == DeliveryState.QUEUED,
                    col(Delivery.updated_at) == claim.lease,
                )
                .values(updated_at=lease)
                .returning(col(Delivery.id))
            ).all()
        claim.lease = lease
        claim.rows = [row for row in claim.rows if row.id in set(kept)]

    def mark_sending(self, broadcast_id: int, row_ids: list[int], lease: datetime) -> set[int]:
        """Marks rows sent just before the call; those left out are not ours, or cancelled."""
        with session_scope(self.db) as session:
            marked = session.scalars(
                sa.update(Delivery)
                .where(
                    col(Delivery.id).in_(row_ids),
                    col(Delivery.state) == DeliveryState.QUEUED,
                    col(Delivery.updated_at) == lease,
                    _sending(broadcast_id),
                )
                .values(state=DeliveryState.SENT, updated_at=self.clock())
                .returning(col(Delivery.id))
            ).all()
        # The model types ids optional (unset before an INSERT); RETURNING gives stored ones.
        return set(cast("Sequence[int]", marked))

    def unmark(self, row_id: int, lease: datetime) -> None:
        """The platform refused the call (429): the row is queued again, still ours."""
        self._answer(row_id, state=DeliveryState.QUEUED, updated_at=lease)

    def answer(
        self, row_id: int, state: DeliveryState, raw_code: str, session: Session | None = None
    ) -> None:
        self._answer(row_id, state=state, raw_code=raw_code, session=session)

    def retry_later(self, row: Row, raw_code: str, *, max_attempts: int, first: float) -> None:
        """A 5xx or network error: queued again after a doubling pause, or failed for good."""
        attempts = row.attempts + 1
        if attempts >= max_attempts:
            self._answer(row.id, state=DeliveryState.TEMPORARY_FAILURE, raw_code=raw_code)
            return
        due = self.clock() + timedelta(seconds=first * 2 ** (attempts - 1))
        self._answer(
            row.id, state=DeliveryState.QUEUED, raw_code=raw_code, attempts=attempts, updated_at=due
        )

    def _answer(self, row_id: int, *, session: Session | None = None, **values: object) -> None:
        values.setdefault("updated_at", self.clock())
        statement = (
            sa.update(Delivery)
            .where(col(Delivery.id) == row_id, col(Delivery.state) == DeliveryState.SENT)
            .values(**values)
        )
        if session is not None:
            session.execute(statement)
            return
        with session_scope(self.db) as own:
            own.execute(statement)

    def next_due(self, broadcast_id: int, channel: Channel | None = None) -> datetime | None:
        """When a row of the channel may next be claimable; None when nothing is left to do.

        A row in flight counts too: its call may yet be refused and queued again.
        """
        now = self.clock()
        in_flight = sa.and_(
            col(Delivery.state) == DeliveryState.SENT,
            col(Delivery.raw_code).is_(None),
            col(Delivery.updated_at) > now - self.lease,
        )
        pending = sa.or_(col(Delivery.state) == DeliveryState.QUEUED, in_flight)
        query = sa.select(
            sa.func.min(
                sa.case((in_flight, now), else_=col(Delivery.updated_at)), type_=UTCDateTime
            ),
            sa.func.count(),
        ).where(col(Delivery.broadcast_id) == broadcast_id, pending)
        if channel is not None:
            query = query.where(col(Delivery.channel) == channel)
        with session_scope(self.db) as session:
            soonest, count = session.execute(query).one()
        if not count:
            return None
        return max(soonest or now, now)

    def cancel_rows(self, broadcast_id: int) -> None:
        with session_scope(self.db) as session:
            cancel_queued(session, broadcast_id, now=self.clock())

    def finish(self, broadcast_id: int) -> bool:
        """Marks a broadcast with nothing left to do done; True for the one caller that did."""
        now = self.clock()
        if self.next_due(broadcast_id) is not None:
            return False
        with session_scope(self.db) as session:
            left = sa.exists().where(
                col(Delivery.broadcast_id) == broadcast_id,
                col(Delivery.state) == DeliveryState.QUEUED,
            )
            return (
                session.execute(
                    sa.update(Broadcast)
                    .where(
                        col(Broadcast.id) == broadcast_id,
                        col(Broadcast.status) == BroadcastStatus.SENDING,
                        ~left,
                    )
                    .values(status=BroadcastStatus.DONE, finished_at=now)
                    .returning(col(Broadcast.id))
                ).first()
                is not None
            )
