"""Entry points: the bots by polling or webhooks, webhook registration, the terminal chat."""

import asyncio
import logging
import sys

from aiohttp import web

USAGE = """usage: python -m bot [polling | web | set-webhooks URL | shell]

  polling            the bots by long polling (the default; no public address needed)
  web                the web app: bot webhooks (WEBHOOK_SECRET), SMS webhook, payments (PORT)
  set-webhooks URL   register this server's public base URL with each bot
  shell              the terminal chat on the embedded default (no token needed)"""
NO_TOKEN = (
    "No bot token: set TELEGRAM_BOT_TOKEN and/or BALE_BOT_TOKEN (TELEGRAM_API_BASE and "
    "BALE_API_BASE point elsewhere); `python -m bot shell` needs none."
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
    from bot.app import make_channel_bots, make_dispatcher
    from bot.web import make_web_app

    settings = get_settings()
    bots = make_channel_bots(settings)
    if bots and settings.webhook_secret is None:
        print("Set WEBHOOK_SECRET (a long random string) for webhook mode.", file=sys.stderr)
        return 2
    if not bots:  # an SMS-only desk still needs the SMS webhook and the payment pages
        logging.getLogger(__name__).warning("no bot token: serving SMS and payments only")
    app = make_web_app(settings, make_dispatcher(bots), bots)
    web.run_app(app, host=settings.web_host, port=settings.port, print=None)
    return 0


async def _set_webhooks(base_url: str) -> int:
    from backend.constants import Channel
    from backend.settings import get_settings
    from bot.app import ALLOWED_UPDATES, make_channel_bots, webhook_path, webhook_secret

    settings = get_settings()
    bots = make_channel_bots(settings)
    if not bots or settings.webhook_secret is None:
        print(NO_TOKEN if not bots else "Set WEBHOOK_SECRET first.", file=sys.stderr)
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


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    command = argv[0] if argv else "polling"
    if command == "shell":
        from bot.shell import main as shell

        logging.getLogger().setLevel(logging.WARNING)  # the chat is what the user reads

        shell()
        return 0
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
