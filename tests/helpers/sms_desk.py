"""The SMS line in tests: its webhook served on 127.0.0.1, a phone texting it, the gateway's log.

The gateway is Melipayamak's SendSMS mocked with respx (the `gateway` fixture, tests/conftest.py);
every SMS the desk sends is one call to it.
"""

import asyncio

import respx
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from backend.settings import Settings
from bot.sms_web import add_sms_routes, sms_webhook_path
from bot.wiring import make_sms_desk
from channels.sms.text import parts_needed
from notifications.runtime import Notifier
from tests.helpers.answers import form

MELIPAYAMAK = "https://rest.payamak-panel.com/api/SendSMS"
SECRET = "sms-webhook-secret-0123456789abcdef"  # 32 characters at least


def sent(gateway: respx.MockRouter) -> list[dict[str, str]]:
    return [form(call.request) for call in gateway.calls]


class Phone:
    """A subscriber texting our line; each push goes through the webhook as the gateway sends it."""

    def __init__(self, webhook: "Webhook", number: str) -> None:
        self.webhook, self.number = webhook, number

    def text(self, body: str) -> str:
        """Pushes one SMS; the webhook's answer to the gateway."""
        params = {"from": "0" + self.number[3:], "to": "30004000123", "body": body}
        status, answer = self.webhook.get(self.webhook.path, params)
        assert status == 200
        return answer


class Webhook:
    """The SMS routes of the web app, served on 127.0.0.1 on a loop of their own."""

    def __init__(self, settings: Settings, db: sa.Engine) -> None:
        app = web.Application()
        add_sms_routes(app, make_sms_desk(Notifier(settings, db)))
        self.path = sms_webhook_path(settings, "melipayamak")
        self.loop = asyncio.new_event_loop()
        self.client = TestClient(TestServer(app, loop=self.loop), loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())

    def get(self, path: str, params: dict[str, str] | None = None) -> tuple[int, str]:
        async def call() -> tuple[int, str]:
            response = await self.client.get(path, params=params)
            return response.status, await response.text()

        return self.loop.run_until_complete(call())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()


def reply_to(gateway: respx.MockRouter, before: int, number: str) -> str:
    """The one SMS the desk sent after `before` calls, checked to be for `number`, in 2 parts."""
    [reply] = sent(gateway)[before:]
    assert reply["to"] == "0" + number[3:]
    assert parts_needed(reply["text"]) <= 2
    return reply["text"]
