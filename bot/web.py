"""The webhook server: one secret path per bot, Telegram's secret header, and /healthz."""

import hmac
import logging
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from aiogram import Dispatcher
from aiogram.types import Update
from aiohttp import web

from backend.constants import Channel
from backend.db import get_engine
from backend.settings import Settings
from bot.app import ChannelBot, set_command_menus, webhook_path, webhook_secret
from bot.payments_web import add_payment_routes
from bot.sms_web import add_sms_routes
from bot.wiring import make_sms_desk
from channels.botapi import tolerant_loads
from notifications.runtime import Notifier

log = logging.getLogger(__name__)
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def make_web_app(
    settings: Settings, dispatcher: Dispatcher, bots: list[ChannelBot]
) -> web.Application:
    app = web.Application()
    for channel_bot in bots:
        app.router.add_post(
            webhook_path(settings, channel_bot.channel), _webhook(settings, dispatcher, channel_bot)
        )
    # Any other webhook path, a guessed secret included, is simply not found.
    app.router.add_get("/healthz", _healthz)
    add_payment_routes(app, settings)
    add_sms_routes(app, make_sms_desk(Notifier(settings, get_engine())))

    async def on_startup(_: web.Application) -> None:
        await set_command_menus(bots)

    async def on_cleanup(_: web.Application) -> None:
        for channel_bot in bots:
            await channel_bot.bot.session.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def _webhook(
    settings: Settings, dispatcher: Dispatcher, channel_bot: ChannelBot
) -> Callable[[web.Request], Awaitable[web.Response]]:
    header_secret = webhook_secret(settings, channel_bot.channel, "header")
    checks_header = channel_bot.channel == Channel.TELEGRAM  # Bale sends no secret header

    async def handle(request: web.Request) -> web.Response:
        if checks_header and not hmac.compare_digest(
            request.headers.get(TELEGRAM_SECRET_HEADER, ""), header_secret
        ):
            raise web.HTTPForbidden()
        try:
            raw = tolerant_loads(await request.read())
            update = Update.model_validate(raw, context={"bot": channel_bot.bot})
        except (ValueError, UnicodeDecodeError) as error:  # ValidationError is a ValueError
            # Answered 200 all the same: the platform would otherwise send it again forever.
            log.warning("%s: skipping an unparsable update: %s", channel_bot.channel, error)
            return web.Response(text="ok")
        # Handled before answering: a failure answers 500 and the platform sends it again,
        # and the update_id recorded with the handling makes that second delivery a no-op.
        await dispatcher.feed_update(channel_bot.bot, update)
        return web.Response(text="ok")

    return handle


async def _healthz(_: web.Request) -> web.Response:
    with get_engine().connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    return web.Response(text="ok")
