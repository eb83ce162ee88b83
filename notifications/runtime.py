"""The notice machinery put together from the settings: relay, delivery jobs, inbound SMS."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cached_property

import sqlalchemy as sa

from backend.models import utcnow
from backend.settings import Settings
from backend.storage import LocalFileStorage
from dialogs.app import make_dialog_engine
from notifications.delivery import Deliverer
from notifications.inbound import SmsDesk
from notifications.outbox import Relay
from notifications.queue import InlineQueue, JobCall, JobQueue, RqQueue, redis_connection
from notifications.ratelimit import MemoryRateCounter, RateCounter, RedisRateCounter
from notifications.senders import MESSENGERS, MessengerSender, sms_provider
from notifications.sms import SmsProvider

log = logging.getLogger(__name__)
PENDING_ROUNDS = 5  # in-process passes after an event: a fallback made in one goes in the next
# Two bills with their amounts, and the back and cancel choices, are what two SMS parts hold.
SMS_BILLS_SHOWN = 2


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
        self.messenger = MessengerSender(settings)
        self.deliverer = Deliverer(
            db=db, settings=settings, sms=self.sms, messenger=self.messenger, clock=clock
        )
        self.relay = Relay(
            db=db,
            queue=self.queue,
            messengers=[channel for channel in MESSENGERS if self.messenger.configured(channel)],
            lease=timedelta(seconds=settings.notice_lease_seconds),
            clock=clock,
        )

    @property
    def inline(self) -> bool:
        return isinstance(self.queue, InlineQueue)

    def sms(self) -> SmsProvider:
        return sms_provider(self.settings)

    def run(self, call: JobCall) -> None:
        """Runs one job here (what a worker does with it)."""
        jobs: dict[str, Callable[..., object]] = {
            "deliver": self.deliverer.deliver,
            "poll_reports": self.deliverer.poll_reports,
            "poll_inbound": self.poll_inbound,
        }
        jobs[call.name](*call.args)

    def run_pending(self) -> None:
        """Relays and, in-process, sends until nothing is due."""
        for _ in range(PENDING_ROUNDS):
            if not self.relay.run_once():
                return

    @cached_property
    def sms_desk(self) -> SmsDesk:
        counter: RateCounter = (
            RedisRateCounter(self.redis, self.settings.sms_rate_window_seconds)
            if self.redis is not None
            else MemoryRateCounter(self.settings.sms_rate_window_seconds)
        )
        shown = min(self.settings.latest_bills_shown, SMS_BILLS_SHOWN)
        dialogs = make_dialog_engine(
            db=self.db,
            settings=self.settings.model_copy(update={"latest_bills_shown": shown}),
            storage=LocalFileStorage(self.settings.files_dir),
        )
        return SmsDesk(
            db=self.db,
            settings=self.settings,
            dialogs=dialogs,
            provider=self.sms,
            counter=counter,
            clock=self.clock,
        )

    def poll_inbound(self) -> int:
        """Answers what arrived on a gateway that is polled (Kavenegar); push gateways give []."""
        with self.sms() as provider:
            messages, name = provider.receive(), provider.name
        for message in messages:
            self.sms_desk.handle(message, name)
        return len(messages)
