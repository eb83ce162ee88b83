"""The webhook server: one secret path per bot, Telegram's secret header, and /healthz; its
access log names routes, never paths."""

import asyncio
import gc
import hmac
import logging
import os
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from aiogram import Dispatcher
from aiogram.types import Update
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from pydantic import ValidationError

from backend.constants import Channel
from backend.db import POOL_SIZE, get_engine
from backend.settings import Settings
from bot.app import ChannelBot, set_command_menus, webhook_path, webhook_secret
from bot.payments_web import add_payment_routes
from bot.sms_web import add_sms_routes
from bot.wiring import make_sms_desk
from channels.botapi import tolerant_loads
from notifications.runtime import Notifier

log = logging.getLogger(__name__)
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTHZ_ROUTE = "healthz"
METRICS_ROUTE = "metrics"
UNKNOWN_ROUTE = "no route"  # nothing matched (404, 405): what was asked for is not logged either
_FIELD = re.compile(r"[a-z_]{1,40}|[0-9]{1,6}")  # a field's name or a list's index
# Threads the dialogs and the SMS desk run in, each with a connection of the pool while it
# handles an event. Measured with bench/interactive.py: 4 to 8 answered /start faster, with
# half the p99, than 12 or 20 (more threads fighting over the GIL); 8 leaves room for events
# that wait on a user's lock or a slow commit.
HANDLER_THREADS = min(8, POOL_SIZE - 1)


def webhook_route(channel: str) -> str:
    return f"webhook-{channel}"


class RouteAccessLog(AbstractAccessLogger):
    """One line a request: method, route name, status, duration.

    Never the path or the query: the webhook paths are the bots' credentials (Bale sends no
    secret header), the SMS webhook's path holds its secret, and a push by GET carries the
    sender's number and text in its query string. Every route is named where it is added.
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s: %s in %.0f ms", request.method, route_name(request), response.status, time * 1e3
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def route_name(request: web.BaseRequest) -> str:
    """The matched route's name, words apart ("webhook bale"); UNKNOWN_ROUTE for anything else."""
    # Read without the property, which asserts: a request refused before routing has none.
    match_info = getattr(request, "_match_info", None)
    name = match_info.route.name if match_info is not None else None
    return name.replace("-", " ") if name else UNKNOWN_ROUTE


def make_web_app(
    settings: Settings, dispatcher: Dispatcher, bots: list[ChannelBot]
) -> web.Application:
    app = web.Application()
    for channel_bot in bots:
        app.router.add_post(
            webhook_path(settings, channel_bot.channel),
            _webhook(settings, dispatcher, channel_bot),
            name=webhook_route(channel_bot.channel),
        )
    # Any other webhook path, a guessed secret included, is simply not found.
    app.router.add_get("/healthz", _healthz, name=HEALTHZ_ROUTE)
    app.router.add_get("/metrics", _metrics, name=METRICS_ROUTE)
    add_payment_routes(app, settings)
    add_sms_routes(app, make_sms_desk(Notifier(settings, get_engine())))

    async def on_startup(_: web.Application) -> None:
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(HANDLER_THREADS, thread_name_prefix="handler")
        )
        await set_command_menus(bots)

    async def on_cleanup(_: web.Application) -> None:
        for channel_bot in bots:
            await channel_bot.bot.session.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def freeze_startup_heap() -> None:
    """Called by a web process once its app is made, before it serves. What it built to start
    (modules, catalogs, models, the app) lives as long as it does: frozen out of the
    collector's reach, a full collection scans only what requests left since.
    bench/interactive.py: before, the 3 full collections of a run took 566 ms, the longest
    200 ms with every request waiting; after, 17 ms."""
    gc.collect()
    gc.freeze()


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
        # ValidationError is a ValueError; a body nested too deep for the parser is a
        # RecursionError.
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            # Answered 200 all the same: the platform would otherwise send it again forever.
            log.warning("%s: skipping an unparsable update: %s", channel_bot.channel, _why(error))
            return web.Response(text="ok")
        # Handled before answering: a failure answers 500 and the platform sends it again,
        # and the update_id recorded with the handling makes that second delivery a no-op.
        await dispatcher.feed_update(channel_bot.bot, update)
        return web.Response(text="ok")

    return handle


def _why(error: Exception) -> str:
    """What was wrong with an update, without any of its content (a validation error's message
    quotes the values it refused: texts, names, phone numbers)."""
    if isinstance(error, ValidationError):
        fields = sorted(
            {
                ".".join(str(part) if _FIELD.fullmatch(str(part)) else "?" for part in each["loc"])
                for each in error.errors()
            }
        )
        return f"{error.error_count()} invalid field(s): {', '.join(fields)}"[:300]
    return type(error).__name__


def metrics_body() -> bytes:
    """The Prometheus metrics (channels.metrics): figures, no personal data. Of this process,
    or, when the web app runs in several (bot.web_processes), of all of them summed."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR") is None:
        return generate_latest()
    registry = CollectorRegistry()  # made per scrape, as prometheus_client's docs ask
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


async def _metrics(_: web.Request) -> web.Response:
    return web.Response(body=metrics_body(), content_type="text/plain", charset="utf-8")


async def _healthz(_: web.Request) -> web.Response:
    with get_engine().connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    return web.Response(text="ok")
