"""The notice machinery put together from the settings: the relay and the delivery jobs."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa

from backend.models import utcnow
from backend.settings import Settings
from channels.clients import blocking_sender
from channels.registry import messenger_bots
from channels.sms import SharedProvider
from notifications.delivery import Deliverer
from notifications.outbox import Relay
from notifications.queue import InlineQueue, JobCall, JobQueue, RqQueue, redis_connection

log = logging.getLogger(__name__)
PENDING_ROUNDS = 5  # in-process passes after an event: a fallback made in one goes in the next


class Notifier:
    """Without REDIS_URL every job runs in-process, at once, through the same code."""

    def __init__(
        self,
        settings: Settings,
        db: sa.Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        queue: JobQueue | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.redis = redis_connection(settings.redis_url) if settings.redis_url else None
        self.queue: JobQueue = queue or (
            RqQueue(self.redis) if self.redis is not None else InlineQueue(self.run)
        )
        self.sms = SharedProvider(settings)
        self.deliverer = Deliverer(
            db=db, settings=settings, sms=self.sms, messenger=blocking_sender(settings), clock=clock
        )
        self.relay = Relay(
            db=db,
            queue=self.queue,
            messengers=[bot.channel for bot in messenger_bots(settings)],
            handover=timedelta(seconds=settings.notice_handover_seconds),
            clock=clock,
        )

    @property
    def inline(self) -> bool:
        return isinstance(self.queue, InlineQueue)

    def run(self, call: JobCall) -> None:
        """Runs one job here (what a worker does with it)."""
        jobs: dict[str, Callable[..., object]] = {
            "deliver": self.deliverer.deliver,
            "poll_reports": self.deliverer.poll_reports,
        }
        jobs[call.name](*call.args)

    def run_pending(self) -> None:
        """Relays and, in-process, sends until nothing is due."""
        for _ in range(PENDING_ROUNDS):
            if not self.relay.run_once():
                return
