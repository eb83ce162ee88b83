"""The inbound SMS webhook: `/sms/{provider}/{secret}`, answered the way the gateway expects."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from backend.settings import Settings
from notifications.runtime import Notifier
from notifications.sms import InvalidPushError

log = logging.getLogger(__name__)


def sms_webhook_path(settings: Settings, provider: str) -> str:
    if settings.sms_webhook_secret is None:
        raise RuntimeError("SMS_WEBHOOK_SECRET must be set for the SMS webhook")
    return f"/sms/{provider}/{settings.sms_webhook_secret.get_secret_value()}"


def add_sms_routes(app: web.Application, notifier: Notifier) -> None:
    """Serves the configured gateway's pushes; nothing without SMS_WEBHOOK_SECRET.

    A wrong provider name or secret is simply not found. Pushes carry no signature: the secret
    path is what keeps strangers out.
    """
    settings = notifier.settings
    if settings.sms_webhook_secret is None:
        return
    with notifier.sms() as provider:
        name = provider.name
    handler = _push(notifier)
    app.router.add_get(sms_webhook_path(settings, name), handler)
    app.router.add_post(sms_webhook_path(settings, name), handler)


def _push(notifier: Notifier) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        params = dict(request.query)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        with notifier.sms() as provider:
            try:
                sms = provider.parse_push(params)
            except (InvalidPushError, NotImplementedError) as error:
                log.warning("SMS push refused: %s", error)
                raise web.HTTPBadRequest() from None
            name, ack = provider.name, provider.push_ack or "ok"
        # Answered after handling: a failure answers 500, the gateway pushes again, and the
        # message id (or digest) recorded with the handling makes the second push a no-op.
        await asyncio.to_thread(notifier.sms_desk.handle, sms, name)
        return web.Response(text=ack)

    return handle
