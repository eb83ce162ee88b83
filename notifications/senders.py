"""The channel senders a job calls with no database session open: messenger bots and SMS."""

import asyncio
import logging
from dataclasses import dataclass

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
)
from aiogram.types import InlineKeyboardMarkup
from pydantic import SecretStr

from backend.constants import Channel, DeliveryState
from backend.settings import Settings
from bot.messenger import BALE, TELEGRAM, Messenger
from bot.session import make_bot
from notifications.sms import SmsError, SmsPermanentError, SmsProvider, make_provider

log = logging.getLogger(__name__)
MESSENGERS: dict[Channel, Messenger] = {Channel.TELEGRAM: TELEGRAM, Channel.BALE: BALE}


@dataclass(frozen=True)
class Outcome:
    """What one send came to. `state` is None when it failed; `permanent` says how it failed.

    `unreachable` is True when the messenger says the chat is gone for good (blocked, not found).
    """

    raw_code: str
    state: DeliveryState | None = None
    provider_id: str | None = None
    permanent: bool = False
    unreachable: bool = False
    error: str | None = None


def sms_provider(settings: Settings) -> SmsProvider:
    """The SMS gateway the settings name, with its credentials."""
    name = settings.sms_provider.strip().lower()
    config: dict[str, object] = {"base_url": settings.sms_api_base} if settings.sms_api_base else {}
    if name == "console":
        config = {"path": settings.sms_console_path}
    elif name == "kavenegar":
        config.update(api_key=_secret(settings.kavenegar_api_key), sender=settings.sms_sender)
    elif name == "melipayamak":
        config.update(
            username=settings.melipayamak_username or "",
            password=_secret(settings.melipayamak_password),
            sender=settings.sms_sender,
        )
    return make_provider(name, **config)  # an unknown name is refused there


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""  # the adapter refuses ""


def send_sms(provider: SmsProvider, to: str, text: str, *, reference: str) -> Outcome:
    try:
        result = provider.send(to, text, reference=reference)
    except SmsError as error:
        return Outcome(
            raw_code=error.code or "error",
            permanent=isinstance(error, SmsPermanentError),
            error=str(error),
        )
    return Outcome(raw_code=result.raw_code, state=result.state, provider_id=result.provider_id)


class MessengerSender:
    """Sends a text to a Telegram or Bale chat from synchronous code, through the bots' tokens."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def configured(self, channel: Channel) -> bool:
        return self._token(channel) is not None

    def send(
        self,
        channel: Channel,
        chat_id: str,
        text: str,
        keyboard: InlineKeyboardMarkup | None = None,
    ) -> Outcome:
        try:
            message_id = asyncio.run(self._send(channel, chat_id, text, keyboard))
        except TelegramForbiddenError as error:  # blocked, or the account is deactivated
            return self._failed(error, permanent=True, unreachable=True)
        except TelegramBadRequest as error:
            gone = "chat not found" in error.message.lower()
            return self._failed(error, permanent=True, unreachable=gone)
        except TelegramMigrateToChat as error:  # a group became a supergroup: not a subscriber
            return self._failed(error, permanent=True, unreachable=True)
        except TelegramAPIError as error:  # 5xx, 429 and network errors left after the retries
            return self._failed(error, permanent=False)
        return Outcome(raw_code="ok", state=DeliveryState.SENT, provider_id=str(message_id))

    async def _send(
        self, channel: Channel, chat_id: str, text: str, keyboard: InlineKeyboardMarkup | None
    ) -> int:
        token = self._token(channel)
        if token is None:
            raise ValueError(f"no bot token for {channel}")
        settings = self._settings
        base = settings.telegram_api_base if channel == Channel.TELEGRAM else settings.bale_api_base
        bot = make_bot(token, base, settings.bot_api_attempts)
        try:
            message = await bot.send_message(
                int(chat_id), text, parse_mode=MESSENGERS[channel].parse_mode, reply_markup=keyboard
            )
        finally:
            await bot.session.close()
        return message.message_id

    def _token(self, channel: Channel) -> str | None:
        token = {
            Channel.TELEGRAM: self._settings.telegram_bot_token,
            Channel.BALE: self._settings.bale_bot_token,
        }.get(channel)
        return token.get_secret_value() if token is not None else None

    @staticmethod
    def _failed(error: TelegramAPIError, *, permanent: bool, unreachable: bool = False) -> Outcome:
        status = {
            TelegramForbiddenError: "403",
            TelegramBadRequest: "400",
        }.get(type(error), type(error).__name__)
        return Outcome(
            raw_code=status, permanent=permanent, unreachable=unreachable, error=error.message
        )
