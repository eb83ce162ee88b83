"""The process's Bot API clients, one per configured token, made on first use and reused, and
the sending of a text through them with the one error rule."""

import asyncio
import logging
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from redis.asyncio import Redis as AsyncRedis

from backend.constants import Channel, DeliveryState
from backend.settings import Settings
from channels.botapi import classify, make_bot
from channels.keyboards import inline_keyboard
from channels.outcome import Outcome, sent
from channels.ratelimit import Limiter, LocalLimiter, RedisLimiter
from channels.registry import MessengerBot, messenger_bot
from channels.render import split_text
from channels.replies import Button

log = logging.getLogger(__name__)
T = TypeVar("T")
# Without Redis the limiter of a token lives in the process; every client of the token shares it.
_local_limiters: dict[str, LocalLimiter] = {}


class MessengerClients:
    """For code that runs in one event loop (the bots, broadcast senders). `attempts` > 1 lets
    a call retry briefly (interactive replies); jobs keep 1 and own their retries."""

    def __init__(self, settings: Settings, *, attempts: int = 1) -> None:
        self.settings = settings
        self._attempts = attempts
        self._bots: dict[Channel, Bot] = {}
        self._redis: AsyncRedis | None = None

    def configured(self, channel: Channel) -> MessengerBot | None:
        return messenger_bot(self.settings, channel)

    def bot(self, channel: Channel) -> Bot:
        if channel not in self._bots:
            configured = self.configured(channel)
            if configured is None:
                raise ValueError(f"no bot token for {channel}")
            self._bots[channel] = make_bot(
                configured, self._limiter(configured), attempts=self._attempts
            )
        return self._bots[channel]

    def _limiter(self, configured: MessengerBot) -> Limiter:
        if self.settings.redis_url is None:
            return _local_limiters.setdefault(configured.token, LocalLimiter(configured.rate))
        if self._redis is None:
            self._redis = AsyncRedis.from_url(self.settings.redis_url)
        hold = self.settings.broadcast_lease_seconds  # a call whose process died frees then
        return RedisLimiter(self._redis, configured.token, limit=configured.rate, hold=hold)

    async def send_text(
        self,
        channel: Channel,
        chat_id: str,
        text: str,
        *,
        buttons: Sequence[Sequence[Button]] = (),
        locale: str = "",
    ) -> Outcome:
        """Sends `text` (in parts when longer than the messenger takes; the buttons go with the
        last), and says what came of it. The first part that fails ends the send."""
        configured = self.configured(channel)
        if configured is None:
            raise ValueError(f"no bot token for {channel}")
        bot = self.bot(channel)
        parts = split_text(text, configured.messenger.max_text)
        message_id = 0
        try:
            for number, part in enumerate(parts, start=1):
                last = number == len(parts)
                message = await bot.send_message(
                    int(chat_id),
                    part,
                    parse_mode=configured.messenger.parse_mode,
                    reply_markup=inline_keyboard(buttons, locale) if last else None,
                )
                message_id = message.message_id
        except TelegramAPIError as error:
            return classify(error)
        return sent("ok", state=DeliveryState.SENT, provider_id=str(message_id))

    async def edit_text(
        self, channel: Channel, chat_id: str, message_id: int, text: str
    ) -> Outcome:
        configured = self.configured(channel)
        if configured is None:
            raise ValueError(f"no bot token for {channel}")
        try:
            await self.bot(channel).edit_message_text(
                text,
                chat_id=int(chat_id),
                message_id=message_id,
                parse_mode=configured.messenger.parse_mode,
            )
        except TelegramAPIError as error:
            return classify(error)
        return sent("ok", state=DeliveryState.SENT, provider_id=str(message_id))

    async def close(self) -> None:
        for bot in self._bots.values():
            await bot.session.close()
        self._bots.clear()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


class BlockingMessengers:
    """The same clients for synchronous code (notice jobs): they live on an event loop of their
    own, in a thread started on first use, so a session is reused from one send to the next."""

    def __init__(self, settings: Settings) -> None:
        self.clients = MessengerClients(settings)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def configured(self, channel: Channel) -> bool:
        return self.clients.configured(channel) is not None

    def send_text(
        self,
        channel: Channel,
        chat_id: str,
        text: str,
        *,
        buttons: Sequence[Sequence[Button]] = (),
        locale: str = "",
    ) -> Outcome:
        return self._run(
            self.clients.send_text(channel, chat_id, text, buttons=buttons, locale=locale)
        )

    def _run(self, call: Coroutine[Any, Any, T]) -> T:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(
                    target=self._loop.run_forever, name="messengers", daemon=True
                ).start()
        return asyncio.run_coroutine_threadsafe(call, self._loop).result()

    def close(self) -> None:
        if self._loop is None:
            return
        self._run(self.clients.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop = None
