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
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
import sqlalchemy as sa
from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from redis.asyncio import Redis as AsyncRedis
from rq import Queue
from sqlmodel import Session, col

from backend.constants import (
    BroadcastChannels,
    BroadcastStatus,
    BroadcastTopic,
    Channel,
    DeliveryState,
)
from backend.conversations import set_reachable
from backend.db import session_scope
from backend.models import Broadcast, Conversation, utcnow
from backend.settings import Settings
from bot.session import DeskSession, RateLimited
from locales.values import Msg
from notifications.broadcasts.audience import Audience, add_sms_fallback, materialize
from notifications.broadcasts.dispatch import QUEUE_NAME, dispatch
from notifications.broadcasts.ratelimit import Limiter, LocalLimiter, RedisLimiter
from notifications.broadcasts.service import broadcast_message, delivery_counts
from notifications.broadcasts.store import Claim, DeliveryStore, Row
from notifications.render import render_for_channel
from notifications.senders import MESSENGERS, sms_provider
from notifications.sms import OutgoingSms, SmsProvider

log = logging.getLogger(__name__)
JOBS_MODULE = "notifications.broadcasts.jobs"
SEND_BUDGET = 15 * 60  # seconds a send job works before it hands over to a fresh one
HEARTBEAT = 10.0  # seconds a sender counts as alive after its last sign of life
START_GRACE = 60.0  # seconds a queued start or sender job counts as under way
IDLE_POLL = 1.0  # seconds a sender waits for leased or backed-off rows to come free
NO_BOT = "no-bot"  # raw code: no token is configured for the channel
UNREACHABLE = ("chat not found", "user is deactivated", "bot was blocked")


@dataclass(frozen=True)
class Job:
    """What a sender needs to know of a broadcast, read once."""

    id: int
    topic: BroadcastTopic
    message_key: str
    params: dict[str, Any]
    channels: BroadcastChannels

    def text(self, channel: Channel, locale: str, sms_parts: int) -> str:
        message = broadcast_message(self.message_key, self.params, locale)
        return render_for_channel(message, channel, locale, sms_parts)


class Coordination:
    """Sender heartbeats and progress turns: in Redis, or in this process's memory."""

    def __init__(self, connection: redis.Redis | None, clock: Callable[[], float]) -> None:
        self.redis = connection
        self.clock = clock
        self._local: dict[str, dict[str, float]] = {}

    def beat(self, broadcast_id: int, sender: str, seconds: float = HEARTBEAT) -> None:
        expires = self.clock() + seconds
        if self.redis is None:
            self._local.setdefault(f"senders:{broadcast_id}", {})[sender] = expires
            return
        key = f"bcast:{broadcast_id}:senders"
        pipe = self.redis.pipeline()
        pipe.zadd(key, {sender: expires})
        pipe.expire(key, int(seconds) + 60)
        pipe.execute()

    def gone(self, broadcast_id: int, sender: str) -> None:
        if self.redis is None:
            self._local.get(f"senders:{broadcast_id}", {}).pop(sender, None)
        else:
            self.redis.zrem(f"bcast:{broadcast_id}:senders", sender)

    def alive(self, broadcast_id: int) -> int:
        now = self.clock()
        if self.redis is None:
            senders = self._local.get(f"senders:{broadcast_id}", {})
            return sum(1 for expires in senders.values() if expires > now)
        key = f"bcast:{broadcast_id}:senders"
        self.redis.zremrangebyscore(key, "-inf", now)
        return int(self.redis.zcard(key))

    def turn(self, name: str, seconds: float) -> bool:
        """True for one caller per `seconds` (the progress message's editor, the reporter)."""
        if self.redis is None:
            turns = self._local.setdefault("turns", {})
            if turns.get(name, 0.0) > self.clock():
                return False
            turns[name] = self.clock() + seconds
            return True
        return bool(self.redis.set(f"bcast:{name}", "1", nx=True, px=int(seconds * 1000)))


class Broadcaster:
    def __init__(
        self,
        settings: Settings,
        db: sa.Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        sms: Callable[[], SmsProvider] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.sms = sms or (lambda: sms_provider(settings))
        lease = timedelta(seconds=settings.broadcast_lease_seconds)
        self.store = DeliveryStore(db, lease=lease, clock=clock)
        self.redis = redis.Redis.from_url(settings.redis_url) if settings.redis_url else None
        self.coordination = Coordination(self.redis, time.time)
        self._local_limiters: dict[Channel, LocalLimiter] = {}

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
        asyncio.run(self.staff_message(broadcast_id, final=False))
        self._run_senders(broadcast_id, senders)

    def resume(self) -> None:
        """The clock's round: starts due broadcasts; gives a sending one its missing senders."""
        now = self.clock()
        with session_scope(self.db) as session:
            due = session.scalars(
                sa.select(Broadcast.id).where(
                    col(Broadcast.status) == BroadcastStatus.SCHEDULED,
                    col(Broadcast.send_at) <= now,
                )
            ).all()
            sending = session.scalars(
                sa.select(Broadcast.id).where(col(Broadcast.status) == BroadcastStatus.SENDING)
            ).all()
        for broadcast_id in due:
            # One start a minute at most: a queued start job is not yet visible in the row.
            if self.coordination.turn(f"{broadcast_id}:start", START_GRACE):
                dispatch(self.settings, self.db, broadcast_id)
        for broadcast_id in sending:
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
        if self.redis is None:
            for sender in senders:
                self.send(broadcast_id, sender)
            return
        queue = self._queue()
        for sender in senders:
            queue.enqueue(
                f"{JOBS_MODULE}.send", broadcast_id, sender, job_timeout=SEND_BUDGET + 600
            )

    def _queue(self) -> Queue:
        return Queue(QUEUE_NAME, connection=self.redis)

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
            )
        budget = SEND_BUDGET if self.redis is not None else math.inf
        finished = asyncio.run(Sender(self, job, sender, budget).run())
        if finished:
            if self.store.finish(broadcast_id):
                asyncio.run(self.staff_message(broadcast_id, final=True))
        elif self.redis is not None and self.store.status(broadcast_id) == BroadcastStatus.SENDING:
            self._run_senders(broadcast_id, self._reserve_senders(broadcast_id, 1))

    def limiter(self, channel: Channel, token: str, connection: AsyncRedis | None) -> Limiter:
        rate = {
            Channel.TELEGRAM: self.settings.broadcast_telegram_rate,
            Channel.BALE: self.settings.broadcast_bale_rate,
        }[channel]
        reserve = self.settings.broadcast_interactive_reserve
        if connection is None:
            return self._local_limiters.setdefault(channel, LocalLimiter(rate, reserve))
        hold = self.settings.broadcast_lease_seconds
        return RedisLimiter(connection, token, limit=rate, reserve=reserve, hold=hold)

    def bot_config(self, channel: Channel) -> tuple[str, str] | None:
        """The token and API base of a messenger's bot; None when it has none."""
        settings = self.settings
        token, base = {
            Channel.TELEGRAM: (settings.telegram_bot_token, settings.telegram_api_base),
            Channel.BALE: (settings.bale_bot_token, settings.bale_api_base),
        }[channel]
        return (token.get_secret_value(), base) if token is not None else None

    # --- the staff's progress message ---

    async def staff_message(self, broadcast_id: int, *, final: bool) -> None:
        """Sends the progress message (first), edits it, and sends the final report."""
        found = await asyncio.to_thread(self._staff_view, broadcast_id, final)
        if found is None:
            return
        channel, chat, text, message_id = found
        config = self.bot_config(channel)
        assert config is not None
        bot = Bot(config[0], session=DeskSession(config[1]))
        connection = self.async_redis()
        limiter = self.limiter(channel, config[0], connection)
        parse_mode = MESSENGERS[channel].parse_mode
        try:
            slot = await limiter.acquire(chat, interactive=True)
            retry_after: float | None = None
            refused = False
            try:
                if message_id is None:
                    sent = await bot.send_message(int(chat), text, parse_mode=parse_mode)
                    await asyncio.to_thread(
                        self._remember_progress_message, broadcast_id, sent.message_id
                    )
                else:
                    await bot.edit_message_text(
                        text, chat_id=int(chat), message_id=message_id, parse_mode=parse_mode
                    )
                    if final:
                        await bot.send_message(int(chat), text, parse_mode=parse_mode)
            except (TelegramRetryAfter, RateLimited) as error:
                refused, retry_after = True, getattr(error, "retry_after", None)
                raise
            finally:  # a refusal pauses the token for the broadcast's own sends too
                await (limiter.refused(slot, retry_after) if refused else limiter.answered(slot))
        except TelegramAPIError as error:  # progress is a courtesy: the sending goes on
            log.info("broadcast %s: progress message not updated (%s)", broadcast_id, error)
        finally:
            await bot.session.close()
            if connection is not None:
                await connection.aclose()

    def _staff_view(
        self, broadcast_id: int, final: bool
    ) -> tuple[Channel, str, str, int | None] | None:
        """Where the staff's message goes and what it says; None when nowhere to send it."""
        with session_scope(self.db) as session:
            broadcast = session.get(Broadcast, broadcast_id)
            assert broadcast is not None
            channel = Channel(broadcast.progress_channel) if broadcast.progress_channel else None
            chat = broadcast.progress_chat_id
            if channel not in MESSENGERS or chat is None or self.bot_config(channel) is None:
                return None
            conversation = session.get(Conversation, (channel, chat))
            locale = conversation.locale if conversation else self.settings.default_locale
            message = self.progress_text(session, broadcast, final=final)
            text = render_for_channel(message, channel, locale, self.settings.sms_max_parts)
            return channel, chat, text, broadcast.progress_message_id

    def _remember_progress_message(self, broadcast_id: int, message_id: int) -> None:
        with session_scope(self.db) as session:
            session.execute(
                sa.update(Broadcast)
                .where(col(Broadcast.id) == broadcast_id)
                .values(progress_message_id=message_id)
            )

    def progress_text(self, session: Session, broadcast: Broadcast, *, final: bool) -> Msg:
        """Sent, failed, remaining, the rate since sending began and the time still needed."""
        now = self.clock()
        doubt = now - timedelta(seconds=self.settings.broadcast_lease_seconds)
        counts = delivery_counts(session, broadcast.id, doubt_before=doubt)
        done = counts.sent + counts.failed
        elapsed = max((now - broadcast.send_at).total_seconds(), 1.0)
        rate = done / elapsed
        eta = math.ceil(counts.remaining / rate / 60) if rate > 0 else 0
        params = {
            "id": broadcast.id,
            "status": Msg(f"broadcast.status.{broadcast.status}"),
            "sent": counts.sent,
            "failed": counts.failed,
            "cancelled": counts.cancelled,
            "remaining": counts.remaining,
            "in_doubt": counts.in_doubt,
            "rate": round(rate),
            "eta": eta,
        }
        return Msg("broadcast.report" if final else "broadcast.progress", params)

    def async_redis(self) -> AsyncRedis | None:
        url = self.settings.redis_url
        return AsyncRedis.from_url(url) if url else None

    async def progress(self, broadcast_id: int) -> None:
        """Updates the progress message if it is this process's turn."""
        every = self.settings.broadcast_progress_seconds
        if self.coordination.turn(f"{broadcast_id}:progress", every):
            await self.staff_message(broadcast_id, final=False)


class Sender:
    """One sender of one broadcast: a task per messenger and one for SMS, in one event loop."""

    def __init__(self, broadcaster: Broadcaster, job: Job, name: str, budget: float) -> None:
        self.b = broadcaster
        self.store = broadcaster.store
        self.settings = broadcaster.settings
        self.job = job
        self.name = name
        self.deadline = time.monotonic() + budget
        self.messengers_done = False

    async def run(self) -> bool:
        """True when the broadcast has nothing left (this sender's part of it is done)."""
        connection = self.b.async_redis()
        async with AsyncExitStack() as stack:
            if connection is not None:
                stack.push_async_callback(connection.aclose)
            beat = asyncio.create_task(self._heartbeat())
            try:
                messengers = [self._messenger(channel, connection) for channel in MESSENGERS]
                sms = asyncio.create_task(self._sms())
                await asyncio.gather(*messengers)
                self.messengers_done = True
                await sms
            finally:
                beat.cancel()
                await asyncio.to_thread(self.b.coordination.gone, self.job.id, self.name)
        status = await asyncio.to_thread(self.store.status, self.job.id)
        if status == BroadcastStatus.CANCELLED:
            await asyncio.to_thread(self.store.cancel_rows, self.job.id)
            if self.b.coordination.turn(f"{self.job.id}:final", 3600):
                await self.b.staff_message(self.job.id, final=True)
            return False
        return time.monotonic() < self.deadline

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.to_thread(self.b.coordination.beat, self.job.id, self.name)
            await self.b.progress(self.job.id)
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
            wait = (due - self.b.clock()).total_seconds() if due else IDLE_POLL
            await asyncio.sleep(min(max(wait, 0.05), IDLE_POLL))

    async def _renewed(self, claim: Claim) -> None:
        left = (claim.lease - self.b.clock()).total_seconds()
        if left < self.settings.broadcast_lease_seconds / 2:
            await asyncio.to_thread(self.store.renew, claim)

    # --- messengers ---

    async def _messenger(self, channel: Channel, connection: AsyncRedis | None) -> None:
        config = self.b.bot_config(channel)
        bot = Bot(config[0], session=DeskSession(config[1])) if config else None
        limiter = self.b.limiter(channel, config[0], connection) if config else None
        try:
            async for claim in self._claims(channel, self.settings.broadcast_chunk_size):
                for row in list(claim.rows):
                    await self._renewed(claim)
                    if row not in claim.rows:  # the lease was lost: someone else has it
                        continue
                    if not await self._send_one(channel, bot, limiter, row, claim):
                        break
        finally:
            if bot is not None:
                await bot.session.close()

    async def _send_one(
        self, channel: Channel, bot: Bot | None, limiter: Limiter | None, row: Row, claim: Claim
    ) -> bool:
        """Sends one row (again after each 429); False when the claim is void (a cancel)."""
        job, store = self.job, self.store
        while True:
            slot = await limiter.acquire(row.address) if limiter else None
            if not await asyncio.to_thread(store.mark_sending, job.id, [row.id], claim.lease):
                if slot is not None and limiter is not None:
                    await limiter.answered(slot)
                return False
            if bot is None or limiter is None or slot is None:
                await asyncio.to_thread(self._failed_for_good, channel, row, NO_BOT, False)
                return True
            text = job.text(channel, row.locale, self.settings.sms_max_parts)
            try:
                await bot.send_message(
                    int(row.address), text, parse_mode=MESSENGERS[channel].parse_mode
                )
            except TelegramRetryAfter as error:
                await limiter.refused(slot, error.retry_after)
                await asyncio.to_thread(store.unmark, row.id, claim.lease)
                continue
            except RateLimited:
                await limiter.refused(slot, None)
                await asyncio.to_thread(store.unmark, row.id, claim.lease)
                continue
            except (TelegramServerError, TelegramNetworkError) as error:
                await limiter.answered(slot)
                log.info("broadcast %s row %s: %s, retried later", job.id, row.id, error)
                await asyncio.to_thread(
                    store.retry_later,
                    row,
                    type(error).__name__,
                    max_attempts=self.settings.broadcast_max_attempts,
                    first=self.settings.broadcast_retry_seconds,
                )
                return True
            except (TelegramForbiddenError, TelegramBadRequest) as error:
                await limiter.answered(slot)
                gone = isinstance(error, TelegramForbiddenError) or any(
                    reason in error.message.lower() for reason in UNREACHABLE
                )
                code = "403" if isinstance(error, TelegramForbiddenError) else "400"
                await asyncio.to_thread(self._failed_for_good, channel, row, code, gone)
                return True
            except TelegramAPIError as error:
                await limiter.answered(slot)
                await asyncio.to_thread(
                    store.answer, row.id, DeliveryState.PERMANENT_FAILURE, type(error).__name__
                )
                return True
            await limiter.answered(slot)
            await asyncio.to_thread(store.answer, row.id, DeliveryState.DELIVERED, "ok")
            return True

    def _failed_for_good(self, channel: Channel, row: Row, code: str, unreachable: bool) -> None:
        """The row failed for good; a gone chat is marked so, and gets the SMS if chosen."""
        with session_scope(self.b.db) as session:
            self.store.answer(row.id, DeliveryState.PERMANENT_FAILURE, code, session=session)
            if unreachable:
                set_reachable(session, channel=channel, user_id=row.address, reachable=False)
            if self.job.channels == BroadcastChannels.MESSENGER_THEN_SMS:
                add_sms_fallback(
                    session, self.job.id, channel=channel, user_id=row.address, topic=self.job.topic
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
        with self.b.sms() as provider:
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
