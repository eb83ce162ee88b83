"""The one place Bot API clients are made: an aiogram session that survives what real Bot APIs
send (Bale's thinner types, 429s, 5xx), every call through the token's limiter, and the one rule
that turns an answer or an error into an outcome."""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile, Update
from aiohttp import BytesPayload, FormData
from pydantic import ValidationError

from channels.metrics import BOT_API_CALLS
from channels.outcome import Outcome, OutcomeKind
from channels.ratelimit import CallVoided, Limiter, current_bulk
from channels.registry import MessengerBot

log = logging.getLogger(__name__)
_RESPONSE_TYPES: set[type] = set()

USER_KEYS = ("from", "user", "forward_from", "via_bot", "sender_user")
TIMED_MEDIA = ("voice", "audio", "video", "video_note", "animation")
# The field Bale leaves out of an object under each key, and the value aiogram may assume.
_MISSING: dict[str, tuple[str, object]] = {
    **{key: ("is_bot", False) for key in USER_KEYS},
    **{key: ("duration", 0) for key in TIMED_MEDIA},
    "callback_query": ("chat_instance", ""),
    "chat": ("type", "private"),
}
GONE = ("chat not found", "user is deactivated", "bot was blocked", "peer_id_invalid")
# Calls that send nothing to anyone: not counted against the token's rate.
# answerCallbackQuery only stops the tapped button's spinner: it is no message to a chat.
UNMETERED = frozenset(
    {"getUpdates", "getFile", "getMe", "getWebhookInfo", "setWebhook", "answerCallbackQuery"}
)


class RateLimited(TelegramAPIError):
    """A 429 that says not how long to wait (Bale's "bot limit exceed")."""


def _fill_defaults(node: Any) -> None:
    """Adds the fields Bale leaves out and aiogram requires, everywhere in a response.

    Only containers are visited, and not a keyboard echoed back (buttons name nobody): a sent
    menu's answer is mostly its buttons."""
    if isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                _fill_defaults(item)
        return
    for key, value in node.items():
        if isinstance(value, dict):
            missing = _MISSING.get(key)
            if missing is not None:
                value.setdefault(*missing)
            if key != "reply_markup":
                _fill_defaults(value)
        elif isinstance(value, list):
            _fill_defaults(value)


def _skip_unparsable(updates: list[Any]) -> list[Any]:
    """Keeps each update's id but drops what aiogram cannot parse: polling must move past it.

    aiogram warns about such an empty update ("unknown update type") and otherwise ignores it.
    """
    kept = []
    for update in updates:
        try:
            Update.model_validate(update)
        except ValidationError as error:
            update_id = update.get("update_id") if isinstance(update, dict) else None
            log.warning("skipping unparsable update %s: %s", update_id, error.errors()[:1])
            if not isinstance(update_id, int):
                continue
            update = {"update_id": update_id}
        kept.append(update)
    return kept


def tolerant_loads(content: str | bytes) -> Any:
    data = json.loads(content)
    if isinstance(data, dict | list):
        _fill_defaults(data)
    if isinstance(data, dict) and isinstance(data.get("result"), list):
        results = data["result"]
        if results and all(isinstance(item, dict) and "update_id" in item for item in results):
            data["result"] = _skip_unparsable(results)
    result = data.get("result") if isinstance(data, dict) else None
    if isinstance(result, dict) and set(result) == {"url"}:  # Bale's getWebhookInfo
        result.update(has_custom_certificate=False, pending_update_count=0)
    return data


class DeskSession(AiohttpSession):
    def __init__(self, api_base: str) -> None:
        super().__init__(api=TelegramAPIServer.from_base(api_base), json_loads=tolerant_loads)

    def build_form_data(  # type: ignore[override]  # aiohttp posts any payload it is given
        self, bot: Bot, method: TelegramMethod[TelegramType]
    ) -> FormData | BytesPayload:
        """A call without files as a JSON body, which Telegram and Bale both take; with files,
        aiogram's multipart form. Form-encoding quotes each byte of Persian text in Python: it
        was the largest single cost of sending an answer (bench/interactive.py)."""
        files: dict[str, InputFile] = {}
        fields = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None and prepared != "":  # what aiogram's form leaves out
                fields[key] = prepared
        if files:
            return super().build_form_data(bot, method)
        body = json.dumps(fields, ensure_ascii=False).encode()
        return BytesPayload(body, content_type="application/json")

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        try:
            response = super().check_response(bot, method, status_code, content)
        except ClientDecodeError as error:
            if status_code >= 500:  # a proxy's HTML error page: a server error all the same
                raise TelegramServerError(method, f"HTTP {status_code}") from error
            raise
        except TelegramAPIError as error:
            if status_code == 429 and not isinstance(error, TelegramRetryAfter):
                raise RateLimited(method, error.message) from error
            raise
        # aiogram parametrizes Response[...] on every call, and pydantic caches such classes
        # only weakly: held here, each is built once, not again after every collection.
        _RESPONSE_TYPES.add(type(response))
        return response


class RetryMiddleware(BaseRequestMiddleware):
    """Retries a call on 429 (as long as asked, else with backoff), 5xx and network errors."""

    def __init__(
        self,
        attempts: int,
        first_backoff: float = 2.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.attempts = attempts
        self.first_backoff = first_backoff
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        backoff = self.first_backoff
        failure: TelegramAPIError
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                failure, wait = error, float(error.retry_after)
            except (RateLimited, TelegramServerError, TelegramNetworkError) as error:
                failure, wait, backoff = error, backoff, backoff * 2
            if attempt == self.attempts:
                raise failure
            log.info("%s failed (%s); retry in %.0f s", method.__api_method__, failure, wait)
            await self.sleep(wait)
        raise ValueError("attempts must be at least 1")


class LimitMiddleware(BaseRequestMiddleware):
    """Takes a slot of the token's window for every call, interactive first, bulk after, and
    counts what became of the call."""

    def __init__(self, limiter: Limiter, channel: str) -> None:
        self.limiter = limiter
        self.channel = channel

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__ in UNMETERED:
            return await self._counted(method, make_request(bot, method))
        chat = getattr(method, "chat_id", None)
        bulk = current_bulk.get()
        slot = await self.limiter.acquire(
            str(chat) if chat is not None else None, interactive=bulk is None
        )
        if bulk is not None and bulk.before_call is not None and not await bulk.before_call():
            await self.limiter.answered(slot)
            raise CallVoided(method.__api_method__)
        try:
            response = await self._counted(method, make_request(bot, method))
        except TelegramRetryAfter as error:
            await self.limiter.refused(slot, float(error.retry_after))
            raise
        except RateLimited:
            await self.limiter.refused(slot, None)
            raise
        except BaseException:
            await self.limiter.answered(slot)
            raise
        await self.limiter.answered(slot)
        return response

    async def _counted(
        self, method: TelegramMethod[TelegramType], call: Awaitable[Response[TelegramType]]
    ) -> Response[TelegramType]:
        name = method.__api_method__
        try:
            response = await call
        except TelegramAPIError as error:
            BOT_API_CALLS.labels(self.channel, name, classify(error).kind).inc()
            raise
        BOT_API_CALLS.labels(self.channel, name, OutcomeKind.SENT).inc()
        return response


def make_bot(messenger: MessengerBot, limiter: Limiter, *, attempts: int = 1) -> Bot:
    """The client of one token. `attempts` > 1 retries 429, 5xx and network errors briefly (for
    interactive replies); jobs keep 1 and own their retries."""
    session = DeskSession(messenger.api_base)
    if attempts > 1:
        session.middleware(RetryMiddleware(attempts))
    # Inside the retries: each try takes a slot, and is counted.
    session.middleware(LimitMiddleware(limiter, messenger.channel))
    return Bot(messenger.token, session=session)


def classify(error: TelegramAPIError) -> Outcome:
    """The one rule for what a Bot API error means to whoever sent the call."""
    message = error.message
    if isinstance(error, TelegramRetryAfter):
        return Outcome(
            OutcomeKind.RETRY_AFTER, "429", retry_after=float(error.retry_after), error=message
        )
    if isinstance(error, RateLimited):
        return Outcome(OutcomeKind.RETRY_AFTER, "429", error=message)
    if isinstance(error, TelegramForbiddenError):  # blocked, or the account is deactivated
        return Outcome(OutcomeKind.UNREACHABLE, "403", error=message)
    if isinstance(error, TelegramMigrateToChat):  # a group became a supergroup: no subscriber
        return Outcome(OutcomeKind.UNREACHABLE, "400", error=message)
    if isinstance(error, TelegramBadRequest):
        gone = any(reason in message.lower() for reason in GONE)
        return Outcome(
            OutcomeKind.UNREACHABLE if gone else OutcomeKind.PERMANENT, "400", error=message
        )
    if isinstance(error, TelegramServerError | TelegramNetworkError | TelegramUnauthorizedError):
        # A bad token is the operator's to fix, not the chat's fault: try again later.
        return Outcome(OutcomeKind.TEMPORARY, type(error).__name__, error=message)
    return Outcome(OutcomeKind.PERMANENT, type(error).__name__, error=message)
