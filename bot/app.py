"""The messenger bots: one Dispatcher for Telegram and Bale, by long polling or by webhooks."""

import hashlib
import hmac
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from aiogram import Bot, Dispatcher, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, CallbackQuery, Message, Update

from backend.db import get_engine
from backend.settings import Settings
from backend.storage import LocalFileStorage
from bot.messenger import MessengerAdapter
from bot.wiring import make_dialogs
from channels.messengers import MessengerClients
from channels.registry import messenger_bots
from locales.catalogs import LOCALES, translate

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]
COMMANDS = ("start", "help", "cancel", "status", "notices", "language")


@dataclass(frozen=True)
class ChannelBot:
    bot: Bot
    adapter: MessengerAdapter

    @property
    def channel(self) -> str:
        return self.adapter.messenger.channel


def make_channel_bots(settings: Settings, db: sa.Engine | None = None) -> list[ChannelBot]:
    """A bot for each messenger whose token is set; none when no token is. Replies may retry a
    call briefly (`BOT_API_ATTEMPTS`); every call passes the token's limiter, first in line."""
    db = db or get_engine()
    storage = LocalFileStorage(settings.files_dir)
    dialogs = make_dialogs(settings, db, storage)
    clients = MessengerClients(settings, attempts=settings.bot_api_attempts)
    return [
        ChannelBot(
            bot=clients.bot(configured.channel),
            adapter=MessengerAdapter(
                messenger=configured.messenger, dialogs=dialogs, storage=storage, db=db
            ),
        )
        for configured in messenger_bots(settings)
    ]


def make_dispatcher(bots: list[ChannelBot]) -> Dispatcher:
    adapters = {channel_bot.bot.id: channel_bot.adapter for channel_bot in bots}
    router = Router()

    @router.message()
    async def on_message(message: Message, bot: Bot, event_update: Update) -> None:
        await adapters[bot.id].on_message(bot, message, event_update.update_id)

    @router.callback_query()
    async def on_callback(query: CallbackQuery, bot: Bot, event_update: Update) -> None:
        await adapters[bot.id].on_callback(bot, query, event_update.update_id)

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


async def set_command_menus(bots: list[ChannelBot]) -> None:
    """The command menu, in each language; a platform without it is only logged."""
    for channel_bot in bots:
        for locale in LOCALES:
            commands = [
                BotCommand(command=name, description=translate(f"command.{name}", locale))
                for name in COMMANDS
            ]
            language = None if locale == LOCALES[0] else locale
            try:
                await channel_bot.bot.set_my_commands(commands, language_code=language)
            except TelegramAPIError as error:
                log.warning("%s: no command menu (%s)", channel_bot.channel, error)
                break


def webhook_secret(settings: Settings, channel: str, purpose: str) -> str:
    """A per-bot secret derived from WEBHOOK_SECRET: for the URL path, or Telegram's header."""
    problem = settings.secret_problem("webhook_secret")
    if problem or settings.webhook_secret is None:
        raise RuntimeError(f"webhooks need a strong secret: {problem}")
    key = settings.webhook_secret.get_secret_value().encode()
    return hmac.new(key, f"{purpose}:{channel}".encode(), hashlib.sha256).hexdigest()


def webhook_path(settings: Settings, channel: str) -> str:
    return f"/webhook/{channel}/{webhook_secret(settings, channel, 'path')}"
