"""The inbound SMS webhook: `/sms/{provider}/{secret}`, answered the way the gateway expects."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from backend.settings import Settings
from bot.sms_desk import SmsDesk
from channels.sms import InvalidPushError

log = logging.getLogger(__name__)
# Threads of their own for the SMS desk, apart from the dialogs' (bot.web.HANDLER_THREADS): a
# look-up holds its thread while the gateway takes its reply (an HTTP call), waiting rather
# than computing. bench/interactive.py on a loaded machine: 24 threads shared with the
# dialogs answered 1.5 to 1.8 times the look-ups a second of the 8 they had.
SMS_THREADS = 16


def sms_webhook_path(settings: Settings, provider: str) -> str:
    problem = settings.secret_problem("sms_webhook_secret")
    if problem or settings.sms_webhook_secret is None:
        raise RuntimeError(f"the SMS webhook needs a strong secret: {problem}")
    return f"/sms/{provider}/{settings.sms_webhook_secret.get_secret_value()}"


def add_sms_routes(app: web.Application, desk: SmsDesk) -> None:
    """Serves the configured gateway's pushes; nothing without a strong SMS_WEBHOOK_SECRET
    (MIN_SECRET_CHARS at least: an empty or short one is refused with a warning).

    A wrong provider name or secret is simply not found. Pushes carry no signature: the secret
    path is what keeps strangers out.
    """
    settings = desk.settings
    if settings.sms_webhook_secret is None:
        return
    problem = settings.secret_problem("sms_webhook_secret")
    if problem:
        log.warning("the SMS webhook is not served: %s", problem)
        return
    with desk.provider() as provider:
        name = provider.name
    threads = ThreadPoolExecutor(SMS_THREADS, thread_name_prefix="sms")
    handler = _push(desk, threads)

    async def on_cleanup(_: web.Application) -> None:
        threads.shutdown(wait=False)

    app.on_cleanup.append(on_cleanup)
    # Named for the access log (bot.web.RouteAccessLog), which never logs the path or query.
    route = f"sms-push-{name}"
    app.router.add_get(sms_webhook_path(settings, name), handler, name=route)
    app.router.add_post(sms_webhook_path(settings, name), handler, name=route)


def _push(
    desk: SmsDesk, threads: ThreadPoolExecutor
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        params = dict(request.query)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        with desk.provider() as provider:
            try:
                sms = provider.parse_push(params)
            except (InvalidPushError, NotImplementedError) as error:
                log.warning("SMS push refused: %s", error)
                raise web.HTTPBadRequest() from None
            name, ack = provider.name, provider.push_ack or "ok"
        # Answered after handling: a failure answers 500 and the gateway pushes again. The
        # message id (or digest) recorded with the handling makes that push handled already:
        # it sends the answer kept with it if that did not go out, and nothing if it did.
        await asyncio.get_running_loop().run_in_executor(threads, desk.handle, sms, name)
        return web.Response(text=ack)

    return handle
