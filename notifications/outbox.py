"""The relay: plans deliveries for new outbox rows, then hands every due delivery to the queue.

A delivery is due while `next_attempt_at` is set and has passed. It is handed to the queue once:
the relay moves `next_attempt_at` a hand-over ahead (`NOTICE_HANDOVER_SECONDS`, long enough for
any backlog) and gives the job that moment as its token. The job that starts it takes the lease
(`NOTICE_LEASE_SECONDS`, see notifications.delivery) with a token of its own, so a job that dies
mid-send is handed over again once its lease runs out, a job lost with Redis's data once the
hand-over runs out, and a stale copy of a job finds its token outdated and does nothing. A
backlog behind a stopped worker is never handed over twice: each job waits its turn.
"""

import logging
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select

from backend.constants import Channel, DeliveryState
from backend.db import session_scope
from backend.models import Notice, NoticeDelivery
from channels.metrics import LEASE_EXPIRIES
from notifications.delivery import SENDING
from notifications.policy import plan_deliveries
from notifications.queue import JobCall, JobQueue, QueueUnavailable

log = logging.getLogger(__name__)
BATCH = 200  # rows per relay pass; the next pass takes the rest


def lease_token(moment: datetime) -> str:
    return moment.isoformat()


class Relay:
    def __init__(
        self,
        *,
        db: sa.Engine,
        queue: JobQueue,
        messengers: Collection[Channel],
        handover: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.queue = queue
        self.messengers = messengers
        self.handover = handover
        self.clock = clock

    def run_once(self) -> int:
        """One pass: plan new notices, hand due deliveries over; the number handed over."""
        self.plan()
        calls = self._lease_due()
        if not calls:
            return 0
        try:
            self.queue.submit(calls)
        except QueueUnavailable as error:
            log.warning("queue unavailable (%s); %d deliveries wait", error, len(calls))
            self._release(calls)
            return 0
        return len(calls)

    def plan(self) -> int:
        """Gives each notice not yet relayed its deliveries, in the notice's own transaction."""
        now = self.clock()
        with session_scope(self.db) as session:
            notices = session.exec(
                select(Notice)
                .where(col(Notice.relayed_at).is_(None))
                .order_by(col(Notice.id))
                .limit(BATCH)
                .with_for_update(skip_locked=True)  # another relay takes the others
            ).all()
            for notice in notices:
                plan_deliveries(session, notice, messengers=self.messengers, now=now)
                notice.relayed_at = now
                session.add(notice)
        return len(notices)

    def _lease_due(self) -> list[JobCall]:
        now = self.clock()
        leased_until = now + self.handover
        with session_scope(self.db) as session:
            due = session.exec(
                select(NoticeDelivery)
                .where(col(NoticeDelivery.next_attempt_at) <= now)
                .order_by(col(NoticeDelivery.next_attempt_at))
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            for delivery in due:
                if delivery.raw_code == SENDING or (
                    delivery.state == DeliveryState.QUEUED and delivery.attempts > 0
                ):
                    LEASE_EXPIRIES.inc()  # a job claimed it, then went silent past its lease
                delivery.next_attempt_at = leased_until
                session.add(delivery)
            return [JobCall("deliver", (d.id, lease_token(leased_until))) for d in due]

    def _release(self, calls: list[JobCall]) -> None:
        """Makes deliveries the queue refused due again at once, unless a job took them since."""
        now = self.clock()
        with session_scope(self.db) as session:
            for call in calls:
                delivery_id, token = call.args
                session.execute(
                    sa.update(NoticeDelivery)
                    .where(
                        col(NoticeDelivery.id) == delivery_id,
                        col(NoticeDelivery.next_attempt_at) == datetime.fromisoformat(token),
                    )
                    .values(next_attempt_at=now)
                )
