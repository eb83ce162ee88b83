"""Entry points: the bots by polling or webhooks, webhook registration, the clock, the terminal
chat."""

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from backend.settings import Settings

USAGE = """usage: python -m bot [polling | web | set-webhooks URL | clock | shell | export |
  tavanir]

  polling            the bots by long polling (the default; no public address needed)
  web                the web app: bot webhooks (WEBHOOK_SECRET), SMS webhook, payments (PORT)
  clock              the notice relay, periodic jobs, broadcast rounds, polled inbound SMS
  set-webhooks URL   register this server's public base URL with each bot
  shell              the terminal chat on the embedded default (no token needed)
  export …           a period's requests, steps, compliance and CSAT (--help for the options)
  tavanir MONTH      the monthly summary for Tavanir: a sheet and an image"""
NO_TOKEN = (
    "No bot token: set TELEGRAM_BOT_TOKEN and/or BALE_BOT_TOKEN (TELEGRAM_API_BASE and "
    "BALE_API_BASE point elsewhere); `python -m bot shell` needs none."
)
SHELL_IN_PRODUCTION = (
    "The terminal chat is the development run (demo data, codes printed on the screen): "
    "it does not run with ENVIRONMENT=production."
)


async def _polling() -> int:
    from backend.settings import get_settings
    from bot.app import ALLOWED_UPDATES, make_channel_bots, make_dispatcher, set_command_menus

    bots = make_channel_bots(get_settings())
    if not bots:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    await set_command_menus(bots)
    dispatcher = make_dispatcher(bots)
    await dispatcher.start_polling(
        *(channel_bot.bot for channel_bot in bots), allowed_updates=ALLOWED_UPDATES
    )
    return 0


def _web() -> int:
    from backend.settings import get_settings

    settings = get_settings()
    if settings.web_processes > 1:
        from bot.web_processes import serve

        # Before the metrics are imported here: the workers are forked from this process.
        with serve(settings) as run:
            return _checked_web(settings, run)
    return _checked_web(settings, None)


def _checked_web(settings: "Settings", run: Callable[[], int] | None) -> int:
    """Refuses weak secrets, then serves in this process, or through `run`'s workers."""
    from bot.app import make_channel_bots, make_dispatcher
    from bot.web import RouteAccessLog, freeze_startup_heap, make_web_app

    bots = make_channel_bots(settings)
    if bots and (problem := settings.secret_problem("webhook_secret")):
        print(f"Webhook mode needs a strong secret: {problem}", file=sys.stderr)
        return 2
    if not bots:  # an SMS-only desk still needs the SMS webhook and the payment pages
        logging.getLogger(__name__).warning("no bot token: serving SMS and payments only")
    if run is not None:
        return run()
    app = make_web_app(settings, make_dispatcher(bots), bots)
    freeze_startup_heap()
    # The access log names the route, never the path (webhook paths are secrets).
    web.run_app(
        app,
        host=settings.web_host,
        port=settings.port,
        print=None,
        access_log_class=RouteAccessLog,
    )
    return 0


async def _set_webhooks(base_url: str) -> int:
    from backend.constants import Channel
    from backend.settings import get_settings
    from bot.app import ALLOWED_UPDATES, make_channel_bots, webhook_path, webhook_secret

    settings = get_settings()
    bots = make_channel_bots(settings)
    problem = settings.secret_problem("webhook_secret")
    if not bots or problem:
        print(NO_TOKEN if not bots else f"Set a strong secret first: {problem}", file=sys.stderr)
        return 2
    for channel_bot in bots:
        channel = channel_bot.channel
        url = base_url.rstrip("/") + webhook_path(settings, channel)
        if channel == Channel.TELEGRAM:
            secret = webhook_secret(settings, channel, "header")
            await channel_bot.bot.set_webhook(
                url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
            )
        else:  # Bale takes the URL alone
            await channel_bot.bot.set_webhook(url)
        await channel_bot.bot.session.close()
        print(f"{channel}: webhook set")
    return 0


def _production_refusal(command: str) -> str | None:
    """Why `command` may not run with these settings (ENVIRONMENT=production), or None."""
    from backend.settings import Environment, UnsafeSettings, get_settings, require_safe

    if command == "shell":
        if get_settings().environment == Environment.PRODUCTION:
            return SHELL_IN_PRODUCTION
        return None
    try:
        require_safe()
    except UnsafeSettings as error:
        return str(error)
    return None


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs every request at INFO: a line per SMS on the busiest path, with a URL that
    # some gateways fill with the recipient's number (Kavenegar's key in it is masked).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    command = argv[0] if argv else "polling"
    from backend.services import startup_problem

    if (problem := startup_problem()) is not None:
        print(problem, file=sys.stderr)
        return 2
    if command in ("shell", "polling", "web", "set-webhooks"):
        refusal = _production_refusal(command)
        if refusal is not None:
            print(refusal, file=sys.stderr)
            return 2
    if command == "shell":
        from bot.shell import main as shell

        logging.getLogger().setLevel(logging.WARNING)  # the chat is what the user reads

        shell()
        return 0
    if command == "clock":
        from bot.clock import main as clock

        return clock()
    if command in ("export", "tavanir"):
        from bot.reports_cli import main as reports

        return reports(argv)
    if command == "polling":
        return asyncio.run(_polling())
    if command == "web":
        return _web()
    if command == "set-webhooks" and len(argv) == 2:
        return asyncio.run(_set_webhooks(argv[1]))
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
