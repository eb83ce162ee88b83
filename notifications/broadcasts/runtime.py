"""Runs broadcasts: starts due ones, sends them in parallel senders, keeps staff informed.

With REDIS_URL the senders are RQ jobs (`rq worker broadcasts`) sharing the rate limiters
and their heartbeats in Redis, and `resume` (the clock) restarts the senders of a broadcast
whose workers died; without it everything runs here, in-process, through the same code.
"""

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import cast

import sqlalchemy as sa
from sqlmodel import col

from backend.broadcast_audience import Audience, materialize
from backend.broadcast_deliveries import DeliveryStore
from backend.constants import (
    BroadcastStatus,
)
from backend.db import session_scope
from backend.models import Broadcast, utcnow
from backend.settings import Settings
from channels.sms import SharedProvider, SmsSource
from notifications.broadcasts.coordination import Coordination
from notifications.broadcasts.progress import Progress
from notifications.broadcasts.sending import Job, Sender
from notifications.queue import InlineQueue, JobCall, JobQueue, RqQueue, redis_connection

log = logging.getLogger(__name__)
QUEUE_NAME = "broadcasts"
JOBS_MODULE = "notifications.broadcasts.jobs"
SEND_BUDGET = 15 * 60  # seconds a send job works before it hands over to a fresh one
START_GRACE = 60.0  # seconds a queued start or sender job counts as under way


class Broadcaster:
    def __init__(
        self,
        settings: Settings,
        db: sa.Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        sms: SmsSource | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.sms = sms or SharedProvider(settings)
        lease = timedelta(seconds=settings.broadcast_lease_seconds)
        self.store = DeliveryStore(db, lease=lease, clock=clock)
        self.redis = redis_connection(settings.redis_url) if settings.redis_url else None
        self.coordination = Coordination(self.redis, time.time)
        self.progress = Progress(settings, db, self.coordination, clock)
        self.queue: JobQueue = (
            RqQueue(self.redis, QUEUE_NAME, jobs_module=JOBS_MODULE, timeout=SEND_BUDGET + 600)
            if self.redis is not None
            else InlineQueue(self.run)
        )

    def run(self, call: JobCall) -> None:
        """Runs one job here (what a worker does with it)."""
        jobs: dict[str, Callable[..., object]] = {"start": self.start, "send": self.send}
        jobs[call.name](*call.args)

    def dispatch(self, broadcast_id: int) -> None:
        """Starts a committed broadcast now if it is due (a later one waits for the clock)."""
        self.queue.submit([JobCall("start", (broadcast_id,))])

    # --- starting and resuming ---

    def start(self, broadcast_id: int) -> None:
        """Writes the delivery rows of a due broadcast, then gets its senders going."""
        now = self.clock()
        with session_scope(self.db) as session:
            # The row lock makes a second start wait, then find the broadcast already sending.
            broadcast = session.get(Broadcast, broadcast_id, with_for_update=True)
            if broadcast is None or broadcast.status != BroadcastStatus.SCHEDULED:
                return
            if broadcast.send_at > now:
                return
            started = time.monotonic()
            materialize(
                session,
                broadcast_id,
                Audience.from_json(broadcast.audience),
                broadcast.channels,
                broadcast.topic,
                default_locale=self.settings.default_locale,
            )
            broadcast.status = BroadcastStatus.SENDING
            session.add(broadcast)
            # Alive before the commit, so that the clock does not add senders of its own.
            senders = self._reserve_senders(broadcast_id, self.settings.broadcast_senders)
        took = time.monotonic() - started
        log.info("broadcast %s: recipients written in %.1f s", broadcast_id, took)
        self.progress.show_now(broadcast_id, final=False)
        self._run_senders(broadcast_id, senders)

    def resume(self) -> None:
        """The clock's round: starts due broadcasts; gives a sending one its missing senders."""
        now = self.clock()
        with session_scope(self.db) as session:
            due = session.scalars(
                sa.select(col(Broadcast.id)).where(
                    col(Broadcast.status) == BroadcastStatus.SCHEDULED,
                    col(Broadcast.send_at) <= now,
                )
            ).all()
            sending = session.scalars(
                sa.select(col(Broadcast.id)).where(col(Broadcast.status) == BroadcastStatus.SENDING)
            ).all()
        # The model types ids optional (unset before an INSERT); selected ones are stored.
        for broadcast_id in cast("Sequence[int]", due):
            # One start a minute at most: a queued start job is not yet visible in the row.
            if self.coordination.turn(f"{broadcast_id}:start", START_GRACE):
                self.dispatch(broadcast_id)
        for broadcast_id in cast("Sequence[int]", sending):
            missing = self.settings.broadcast_senders - self.coordination.alive(broadcast_id)
            if missing > 0:
                log.info("broadcast %s: %d sender(s) missing, starting them", broadcast_id, missing)
                self._run_senders(broadcast_id, self._reserve_senders(broadcast_id, missing))

    def _reserve_senders(self, broadcast_id: int, count: int) -> list[str]:
        """Names for new senders, counted alive while they wait in the queue."""
        if self.redis is None:
            return [uuid.uuid4().hex]  # one is enough in a single process
        senders = [uuid.uuid4().hex for _ in range(count)]
        for sender in senders:
            self.coordination.beat(broadcast_id, sender, seconds=START_GRACE)
        return senders

    def _run_senders(self, broadcast_id: int, senders: list[str]) -> None:
        self.queue.submit([JobCall("send", (broadcast_id, sender)) for sender in senders])

    # --- sending ---

    def send(self, broadcast_id: int, sender: str) -> None:
        """One sender's work: until nothing is left, or its time is up (then a fresh one)."""
        with session_scope(self.db) as session:
            broadcast = session.get(Broadcast, broadcast_id)
            if broadcast is None or broadcast.status != BroadcastStatus.SENDING:
                return
            assert broadcast.id is not None
            job = Job(
                broadcast.id,
                broadcast.topic,
                broadcast.message_key,
                broadcast.params,
                broadcast.channels,
                Audience.from_json(broadcast.audience),
            )
        budget = SEND_BUDGET if self.redis is not None else math.inf
        finished = asyncio.run(
            Sender(
                settings=self.settings,
                db=self.db,
                store=self.store,
                coordination=self.coordination,
                progress=self.progress,
                sms=self.sms,
                clock=self.clock,
                job=job,
                name=sender,
                budget=budget,
            ).run()
        )
        if finished:
            if self.store.finish(broadcast_id):
                self.progress.show_now(broadcast_id, final=True)
        elif self.redis is not None and self.store.status(broadcast_id) == BroadcastStatus.SENDING:
            self._run_senders(broadcast_id, self._reserve_senders(broadcast_id, 1))
