"""The messenger bots: one Dispatcher for Telegram and Bale, by long polling or by webhooks."""

import hashlib
import hmac
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from aiogram import Bot, Dispatcher, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, CallbackQuery, Message, Update
from pydantic import SecretStr

from backend.db import get_engine
from backend.settings import Settings
from backend.storage import LocalFileStorage
from bot.messenger import BALE, TELEGRAM, Messenger, MessengerAdapter
from bot.session import make_bot
from dialogs.app import make_dialog_engine
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
    """A bot for each messenger whose token is set; none when neither is."""
    db = db or get_engine()
    storage = LocalFileStorage(settings.files_dir)
    dialogs = make_dialog_engine(db=db, settings=settings, storage=storage)
    configured: list[tuple[Messenger, SecretStr | None, str]] = [
        (TELEGRAM, settings.telegram_bot_token, settings.telegram_api_base),
        (BALE, settings.bale_bot_token, settings.bale_api_base),
    ]
    return [
        ChannelBot(
            bot=make_bot(token.get_secret_value(), api_base, settings.bot_api_attempts),
            adapter=MessengerAdapter(messenger=messenger, dialogs=dialogs, storage=storage, db=db),
        )
        for messenger, token, api_base in configured
        if token is not None
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
    if settings.webhook_secret is None:
        raise RuntimeError("WEBHOOK_SECRET must be set for webhooks")
    key = settings.webhook_secret.get_secret_value().encode()
    return hmac.new(key, f"{purpose}:{channel}".encode(), hashlib.sha256).hexdigest()


def webhook_path(settings: Settings, channel: str) -> str:
    return f"/webhook/{channel}/{webhook_secret(settings, channel, 'path')}"
