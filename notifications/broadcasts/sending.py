"""One sender of one broadcast: claims rows under a lease and sends them, each messenger call
through the token's limiter as bulk work, SMS by the gateway's bulk send."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from backend.broadcast_audience import Audience, add_sms_fallback
from backend.broadcast_deliveries import Claim, DeliveryStore, Row
from backend.constants import (
    MESSENGER_CHANNELS,
    BroadcastChannels,
    BroadcastStatus,
    BroadcastTopic,
    Channel,
    DeliveryState,
)
from backend.conversations import set_reachable
from backend.db import session_scope
from backend.settings import Settings
from channels.clients import messenger_clients
from channels.outcome import OutcomeKind
from channels.ratelimit import CallVoided, bulk
from channels.registry import messenger_bot
from channels.render import broadcast_message, render_for_channel
from channels.sms import OutgoingSms, SmsSource
from notifications.broadcasts.coordination import HEARTBEAT, Coordination
from notifications.broadcasts.progress import Progress

if TYPE_CHECKING:
    from channels.messengers import MessengerClients

log = logging.getLogger(__name__)
IDLE_POLL = 1.0  # seconds a sender waits for leased or backed-off rows to come free
NO_BOT = "no-bot"  # raw code: no token is configured for the channel


@dataclass(frozen=True)
class Job:
    """What a sender needs to know of a broadcast, read once."""

    id: int
    topic: BroadcastTopic
    message_key: str
    params: dict[str, Any]
    channels: BroadcastChannels
    audience: Audience

    def text(self, channel: Channel, locale: str, sms_parts: int) -> str:
        message = broadcast_message(self.message_key, self.params, locale)
        return render_for_channel(message, channel, locale, sms_parts)


class Sender:
    """One sender of one broadcast: a task per messenger and one for SMS, in one event loop."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: sa.Engine,
        store: DeliveryStore,
        coordination: Coordination,
        progress: Progress,
        sms: SmsSource,
        clock: Callable[[], datetime],
        job: Job,
        name: str,
        budget: float,
    ) -> None:
        self.settings = settings
        self.db = db
        self.store = store
        self.coordination = coordination
        self.progress = progress
        self.sms = sms
        self.clock = clock
        self.job = job
        self.name = name
        self.deadline = time.monotonic() + budget
        self.messengers_done = False

    async def run(self) -> bool:
        """True when the broadcast has nothing left (this sender's part of it is done)."""
        clients = messenger_clients(self.settings)
        beat = asyncio.create_task(self._heartbeat(clients))
        try:
            messengers = [self._messenger(channel, clients) for channel in MESSENGER_CHANNELS]
            sms = asyncio.create_task(self._sms())
            await asyncio.gather(*messengers)
            self.messengers_done = True
            await sms
        finally:
            beat.cancel()
            await asyncio.to_thread(self.coordination.gone, self.job.id, self.name)
        try:
            status = await asyncio.to_thread(self.store.status, self.job.id)
            if status == BroadcastStatus.CANCELLED:
                await asyncio.to_thread(self.store.cancel_rows, self.job.id)
                if self.coordination.turn(f"{self.job.id}:final", 3600):
                    await self.progress.show(self.job.id, final=True, clients=clients)
                return False
        finally:
            await clients.close()
        return time.monotonic() < self.deadline

    async def _heartbeat(self, clients: "MessengerClients") -> None:
        while True:
            await asyncio.to_thread(self.coordination.beat, self.job.id, self.name)
            await self.progress.tick(self.job.id, clients)
            await asyncio.sleep(min(HEARTBEAT / 3, self.settings.broadcast_progress_seconds))

    async def _claims(self, channel: Channel, size: int) -> AsyncIterator[Claim]:
        """Claims of the channel's rows until none is left, the budget ends or a cancel."""
        while time.monotonic() < self.deadline:
            status = await asyncio.to_thread(self.store.status, self.job.id)
            if status != BroadcastStatus.SENDING:
                return
            claim = await asyncio.to_thread(self.store.claim, self.job.id, channel, size)
            if claim.rows:
                yield claim
                continue
            due = await asyncio.to_thread(self.store.next_due, self.job.id, channel)
            if due is None and (channel != Channel.SMS or self.messengers_done):
                return
            wait = (due - self.clock()).total_seconds() if due else IDLE_POLL
            await asyncio.sleep(min(max(wait, 0.05), IDLE_POLL))

    async def _renewed(self, claim: Claim) -> None:
        left = (claim.lease - self.clock()).total_seconds()
        if left < self.settings.broadcast_lease_seconds / 2:
            await asyncio.to_thread(self.store.renew, claim)

    # --- messengers ---

    async def _messenger(self, channel: Channel, clients: "MessengerClients") -> None:
        configured = messenger_bot(self.settings, channel) is not None
        async for claim in self._claims(channel, self.settings.broadcast_chunk_size):
            for row in list(claim.rows):
                await self._renewed(claim)
                if row not in claim.rows:  # the lease was lost: someone else has it
                    continue
                sent = await self._send_one(channel, clients if configured else None, row, claim)
                if not sent:
                    break

    async def _send_one(
        self, channel: Channel, clients: "MessengerClients | None", row: Row, claim: Claim
    ) -> bool:
        """Sends one row (again after each 429); False when the claim is void (a cancel)."""
        job, store = self.job, self.store
        if clients is None:
            if not await asyncio.to_thread(store.mark_sending, job.id, [row.id], claim.lease):
                return False
            await asyncio.to_thread(self._failed_for_good, channel, row, NO_BOT, False)
            return True

        async def mark() -> bool:  # once the call holds its slot: at most once, one call wide
            return bool(await asyncio.to_thread(store.mark_sending, job.id, [row.id], claim.lease))

        text = job.text(channel, row.locale, self.settings.sms_max_parts)
        while True:
            try:
                with bulk(before_call=mark):
                    outcome = await clients.send_text(channel, row.address, text)
            except CallVoided:
                return False
            if outcome.kind == OutcomeKind.RETRY_AFTER:  # the limiter has paused the token
                await asyncio.to_thread(store.unmark, row.id, claim.lease)
                continue
            break
        if outcome.kind == OutcomeKind.TEMPORARY:
            log.info("broadcast %s row %s: %s, retried later", job.id, row.id, outcome.raw_code)
            await asyncio.to_thread(
                store.retry_later,
                row,
                outcome.raw_code,
                max_attempts=self.settings.broadcast_max_attempts,
                first=self.settings.broadcast_retry_seconds,
            )
        elif outcome.sent:
            await asyncio.to_thread(store.answer, row.id, DeliveryState.DELIVERED, "ok")
        else:
            await asyncio.to_thread(
                self._failed_for_good, channel, row, outcome.raw_code, outcome.unreachable
            )
        return True

    def _failed_for_good(self, channel: Channel, row: Row, code: str, unreachable: bool) -> None:
        """The row failed for good; a gone chat is marked so, and gets the SMS if chosen.

        All in one transaction with the answer: a sender killed before it commits leaves the
        row in doubt and queues nothing; after it, the SMS rows are queued like any others.
        """
        with session_scope(self.db) as session:
            self.store.answer(row.id, DeliveryState.PERMANENT_FAILURE, code, session=session)
            if unreachable:
                set_reachable(session, channel=channel, user_id=row.address, reachable=False)
            if self.job.channels == BroadcastChannels.MESSENGER_THEN_SMS:
                add_sms_fallback(
                    session,
                    self.job.id,
                    self.job.audience,
                    channel=channel,
                    user_id=row.address,
                    topic=self.job.topic,
                    default_locale=self.settings.default_locale,
                )

    # --- SMS ---

    async def _sms(self) -> None:
        async for claim in self._claims(Channel.SMS, self.settings.broadcast_sms_batch):
            await self._renewed(claim)
            await asyncio.to_thread(self._send_sms_batch, claim)

    def _send_sms_batch(self, claim: Claim) -> None:
        """One bulk call for the claim's rows; the database is not held during it."""
        job, store = self.job, self.store
        marked = store.mark_sending(job.id, [row.id for row in claim.rows], claim.lease)
        rows = [row for row in claim.rows if row.id in marked]
        if not rows:
            return
        messages = [
            OutgoingSms(
                to=row.address,
                text=job.text(Channel.SMS, row.locale, self.settings.sms_max_parts),
                reference=f"b{job.id}-{row.id}",
            )
            for row in rows
        ]
        with self.sms() as provider:
            results = provider.send_many(messages)
        for row, result in zip(rows, results, strict=True):
            if result.state == DeliveryState.TEMPORARY_FAILURE:
                store.retry_later(
                    row,
                    result.raw_code or "temporary",
                    max_attempts=self.settings.broadcast_max_attempts,
                    first=self.settings.broadcast_retry_seconds,
                )
            elif result.state == DeliveryState.PERMANENT_FAILURE:
                store.answer(row.id, DeliveryState.PERMANENT_FAILURE, result.raw_code or "failed")
            else:  # a gateway's "queued" is handed over all the same
                delivered = result.state == DeliveryState.DELIVERED
                state = DeliveryState.DELIVERED if delivered else DeliveryState.SENT
                store.answer(row.id, state, result.raw_code or "accepted")
